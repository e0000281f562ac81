// Placeholder: the arith instruction group's handlers are being written.
#include "core/interpreter.h"

namespace popek {
void register_arith_handlers(HandlerTable&) {}
}  // namespace popek
