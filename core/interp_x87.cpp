// Placeholder: the x87 instruction group's handlers are being written.
#include "core/interpreter.h"

namespace popek {
void register_x87_handlers(HandlerTable&) {}
}  // namespace popek
