// Placeholder: the logic instruction group's handlers are being written.
#include "core/interpreter.h"

namespace popek {
void register_logic_handlers(HandlerTable&) {}
}  // namespace popek
