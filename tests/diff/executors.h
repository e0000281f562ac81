// The three executors a snippet runs on, each behind the same call:
// run(code, initial state) -> RunResult.
//
//  PopekExecutor   Popek's interpreter on tests/core/interp_fixture.h in flat
//                  32-bit protected mode at CPL 3 (as the snippet runs natively).
//                  It drives the interpreter's public per-instruction API
//                  (fetch_decode_cached + the handler table, as step() does)
//                  so a guest fault comes back as data (vector and faulting
//                  EIP) instead of being delivered through an IDT the harness
//                  does not model.
//  UnicornExecutor Unicorn 2 in UC_MODE_32 (CPL 0, flat segments), same memory
//                  layout, #DE and friends reported through an interrupt hook.
//  NativeExecutor  the real CPU, through tests/native/native_runner (a 32-bit
//                  static Linux program spoken to over pipes).
//
// Popek and Unicorn can also report the flag state along their executed path
// (FlagTracker), which decides which flags a comparison may ignore.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "tests/diff/diff_types.h"
#include "tests/diff/flag_tracker.h"

struct uc_struct;
struct uc_context;

namespace popek::test {
struct InterpFixture;
}

namespace popek::diff {

class PopekExecutor {
 public:
  PopekExecutor();
  ~PopekExecutor();
  // `path` receives the address of every instruction executed (REP
  // iterations that re-execute the same instruction are listed once per step).
  RunResult run(const std::vector<uint8_t>& code, const GuestState& init, FlagTracker* flags = nullptr,
                std::vector<uint32_t>* path = nullptr);
  uint64_t steps() const { return steps_; }

 private:
  std::unique_ptr<test::InterpFixture> fx_;
  uint64_t steps_ = 0;
};

class UnicornExecutor {
 public:
  UnicornExecutor();
  ~UnicornExecutor();
  RunResult run(const std::vector<uint8_t>& code, const GuestState& init, FlagTracker* flags = nullptr,
                std::vector<uint32_t>* path = nullptr);

 private:
  static void on_interrupt(uc_struct* uc, uint32_t intno, void* self);
  static void on_code(uc_struct* uc, uint64_t address, uint32_t size, void* self);
  void commit_pending();
  uc_struct* uc_ = nullptr;
  uc_context* pristine_ = nullptr;
  int intno_ = -1;
  FlagTracker* flags_ = nullptr;
  std::vector<uint32_t>* path_ = nullptr;
  std::vector<uint8_t> code_;
  DecodedInsn pending_;  // the instruction Unicorn is executing
  uint32_t pending_regs_[8] = {};
  bool has_pending_ = false;
  bool crash_avoided_ = false;
  uint32_t undecodable_at_ = 0;  // first instruction Zydis (P6 rules) rejects
};

class NativeExecutor {
 public:
  NativeExecutor();
  ~NativeExecutor();
  // False (with the reason) when the runner is not built or cannot start.
  bool available() const { return pid_ > 0; }
  const std::string& why_unavailable() const { return why_; }
  RunResult run(const std::vector<uint8_t>& code, const GuestState& init);

 private:
  void stop();
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string why_;
};

}  // namespace popek::diff
