// Placeholder: the stack instruction group's handlers are being written.
#include "core/interpreter.h"

namespace popek {
void register_stack_handlers(HandlerTable&) {}
}  // namespace popek
