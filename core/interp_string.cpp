// Placeholder: the string instruction group's handlers are being written.
#include "core/interpreter.h"

namespace popek {
void register_string_handlers(HandlerTable&) {}
}  // namespace popek
