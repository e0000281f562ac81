// Guest faults. Inside the interpreter a fault unwinds the current
// instruction as a C++ exception (GuestFault) caught by the step loop, which
// then delivers it through the IDT/IVT. Nothing throws through translated
// code: translator helpers catch at their boundary and return data. The hot
// page-fault paths (instruction fetch, the translator's TLB fill) do not
// throw at all: Mmu::try_translate returns the fault as data and
// Interpreter::fault_step delivers it.
#pragma once
#include <cstdint>

namespace popek {

namespace vec {
constexpr uint8_t DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
                  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18;
}

// Whether the exception pushes an error code (in protected mode).
constexpr bool vector_has_error_code(uint8_t v) {
  return v == vec::DF || v == vec::TS || v == vec::NP || v == vec::SS || v == vec::GP ||
         v == vec::PF || v == vec::AC;
}

struct GuestFault {
  uint8_t vector;
  bool has_error;
  uint32_t error_code;
};

[[noreturn]] inline void raise_fault(uint8_t vector) {
  throw GuestFault{vector, vector_has_error_code(vector), 0};
}
[[noreturn]] inline void raise_fault(uint8_t vector, uint32_t error_code) {
  throw GuestFault{vector, true, error_code};
}

// Thrown (not a guest fault) when the machine must stop executing the
// current instruction stream: a triple fault. The run loop resets or exits.
struct TripleFault {};

}  // namespace popek
