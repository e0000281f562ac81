// Comparing two runs and describing the difference: registers, the
// compared EFLAGS bits (minus a mask of flags the comparison may ignore),
// the data and stack areas, and how each run ended (end of snippet, fault
// vector and EIP, or out of steps).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tests/diff/diff_types.h"

namespace popek::diff {

struct Mismatch {
  std::string what;  // "EAX", "EFLAGS.CF", "data[0x4123]", "end", "fault vector"...
  uint32_t a = 0;    // value in the first (reference) run
  uint32_t b = 0;    // value in the second run
};

std::vector<Mismatch> compare_runs(const RunResult& a, const RunResult& b, uint32_t ignore_flags);

std::string flag_names(uint32_t flags);  // "CF ZF OF"
std::string format_state(const GuestState& s);  // registers and EFLAGS
std::string format_end(const RunResult& r);     // "end at 0x00010023" / "fault #DE at ..."
std::string format_mismatches(const std::vector<Mismatch>& m, const char* a_name, const char* b_name,
                              size_t max_lines = 40);

// Family of an instruction mnemonic for the statistics ("alu", "shift", ...).
std::string family_of(const std::string& mnemonic);

}  // namespace popek::diff
