// The identity and model-specific-register model of core/cpuid_msr.cpp,
// for callers outside the interpreter's handlers: the translator runs
// CPUID, RDMSR and WRMSR through these without Interpreter::step().
#pragma once
#include <cstdint>

namespace popek {

class Interpreter;

// CPUID leaf `leaf` (the guest's EAX): out = EAX EBX ECX EDX.
void cpuid_values(uint32_t leaf, uint32_t out[4]);
// RDMSR/WRMSR of MSR `msr` on the interpreter's CPU; false when the MSR
// does not exist or the value is invalid (the instruction raises #GP(0)).
// The CPL check is the caller's.
bool msr_read(const Interpreter& in, uint32_t msr, uint64_t& value);
bool msr_write(Interpreter& in, uint32_t msr, uint64_t value);

}  // namespace popek
