// Placeholder: the datamove instruction group's handlers are being written.
#include "core/interpreter.h"

namespace popek {
void register_datamove_handlers(HandlerTable&) {}
}  // namespace popek
