// Placeholder: the control instruction group's handlers are being written.
#include "core/interpreter.h"

namespace popek {
void register_control_handlers(HandlerTable&) {}
}  // namespace popek
