// Which EFLAGS bits hold architecturally undefined values at the end of a
// run, tracked along the executed path.
//
// Zydis's cpu_flags give each instruction's static flag effect; this class
// refines it with the operands actually seen (a shift or rotate by a masked
// count of 0 writes nothing, a count of 1 defines OF, SHL/SHR by at least the
// operand width leaves CF undefined, REP CMPS/SCAS with a zero count writes
// nothing, ...). A flag is undefined from the instruction that leaves it so
// until a later one defines it.
//
// Two further masks ride along the same way:
//  - emulated: flags left undefined by instructions Popek emulates in C++
//    rather than running on the host (the BCD group), whose undefined flags
//    may legitimately differ from the real CPU's;
//  - unicorn: flags Unicorn is known to compute wrongly after particular
//    instructions (known_disagreements.h), masked only when such an
//    instruction was the last to write them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "decoder/decoder.h"

namespace popek::diff {

struct FlagEffect {
  uint32_t defined = 0;    // flags written with defined values
  uint32_t undefined = 0;  // flags written with undefined values
};

// The dynamic flag effect of `d` given the registers before it executes.
FlagEffect flag_effect(const DecodedInsn& d, const uint32_t regs[8]);

// True for the instructions Popek emulates in C++ (not encodable in 64-bit mode).
bool is_emulated_flag_insn(ZydisMnemonic m);

// Arithmetic flags whose incoming values `d` uses (Jcc, SETcc, CMOVcc, ADC,
// PUSHF, LAHF, RCL, DAA, ...). CMPS/SCAS under REPE/REPNE test only the ZF
// they produce themselves, so they consume nothing.
uint32_t flags_consumed(const DecodedInsn& d);

// Flags the known-disagreement table says Unicorn gets wrong after `d`.
uint32_t unicorn_known_bad_flags(const DecodedInsn& d);
// True when the table says Unicorn cannot run `d`'s form.
bool unicorn_cannot_run(const DecodedInsn& d);

class FlagTracker {
 public:
  void reset() { *this = FlagTracker{}; }
  // Before `d` executes: notes forms Unicorn cannot run.
  void on_started(const DecodedInsn& d);
  // After `d` completed (not when it faulted), with the registers before it.
  void on_executed(const DecodedInsn& d, const uint32_t regs[8]);
  uint32_t undefined() const { return undefined_; }
  uint32_t emulated_undefined() const { return emulated_; }
  uint32_t unicorn_unreliable() const { return unicorn_; }
  // False once an instruction consumed an undefined flag (or one Unicorn is
  // known to get wrong): from there on Unicorn may legitimately differ, so
  // the run is compared with the real CPU only.
  bool unicorn_comparable() const { return !consumed_; }
  // False once an instruction consumed a flag left undefined by an emulated
  // (BCD) instruction: Popek's documented choice may differ from the CPU's,
  // so what follows is not compared with the real CPU.
  bool native_comparable() const { return !consumed_emulated_; }
  // Known-disagreement entries that applied (for reports).
  const std::vector<std::string>& unicorn_notes() const { return notes_; }

 private:
  uint32_t undefined_ = 0;
  uint32_t emulated_ = 0;
  uint32_t unicorn_ = 0;
  bool consumed_ = false;
  bool consumed_emulated_ = false;
  std::vector<std::string> notes_;
};

}  // namespace popek::diff
