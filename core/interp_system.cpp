// Placeholder: system instruction handlers (being written).
#include "core/interpreter.h"

namespace popek {
void register_system_handlers(HandlerTable&) {}

void Interpreter::fpu_check_available(bool) {
  if (cpu.cr0 & (cr0::EM | cr0::TS)) raise_fault(vec::NM);
}

void Interpreter::on_cr_write(int, uint32_t) { mmu.flush(true); }

bool Interpreter::io_permitted(uint16_t, unsigned) { return true; }
uint32_t Interpreter::io_in(uint16_t port, unsigned size) {
  if (!io_permitted(port, size)) raise_fault(vec::GP, 0);
  return io.read(port, size);
}
void Interpreter::io_out(uint16_t port, unsigned size, uint32_t value) {
  if (!io_permitted(port, size)) raise_fault(vec::GP, 0);
  io.write(port, size, value);
}
}  // namespace popek
