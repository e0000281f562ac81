// Where Unicorn 2.0.1 (QEMU TCG) is known to disagree with the real CPU on
// state the architecture defines. Each entry names one instruction form and
// either the flags Unicorn computes wrongly after it (masked only while that
// instruction is their last writer) or that Unicorn cannot run the form at
// all (the run is then compared with the real CPU only). The same list, with
// the evidence, is in docs/differential-testing.md.
//
// An entry belongs here only when the native runner confirms it: Unicorn
// differs from the real CPU while Popek agrees with the real CPU.
#pragma once
#include <cstdint>
#include <vector>

#include "decoder/decoder.h"

namespace popek::diff {

struct KnownDisagreement {
  ZydisMnemonic mnemonic;
  unsigned operand_width;  // 8, 16, 32, or 0 for any
  int lock;                // 1: only with LOCK, 0: only without, -1: either
  int modrm_reg;           // ModRM.reg the form has, or -1
  uint32_t flags;          // EFLAGS bits Unicorn computes wrongly
  bool unrunnable;         // Unicorn faults on (or mis-executes) the whole form
  const char* reason;
};

const std::vector<KnownDisagreement>& unicorn_known_disagreements();
bool matches(const KnownDisagreement& k, const DecodedInsn& d);

}  // namespace popek::diff
