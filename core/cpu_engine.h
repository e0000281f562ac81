// CpuEngine: what the machine's run loop drives to execute guest code. The
// reference interpreter's step loop is the default; the translator and the
// lockstep verifier (translator/) plug in through this interface, so core
// does not depend on the translator.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace popek {

struct EngineRun {
  uint64_t steps = 0;   // steps executed (instructions, delivered events)
  bool halted = false;  // the CPU is in HLT waiting for an interrupt
  bool failed = false;  // the engine stopped for good (divergence, host error)
  std::string message;  // why it failed
};

class CpuEngine {
 public:
  virtual ~CpuEngine() = default;
  // Runs up to `budget` steps, returning early when `should_stop()` is true.
  virtual EngineRun run(uint64_t budget, const std::function<bool()>& should_stop) = 0;
  // Instructions retired since the engine was created.
  virtual uint64_t retired() const = 0;
  // The machine was reset: drop anything derived from guest state.
  virtual void after_reset() = 0;
  // Engine counters as a JSON object text ("{}" when there are none).
  virtual std::string stats_json() const { return "{}"; }
  // The engine's own consistency checks (the translation cache's): the
  // problems, one per line; empty when there are none or nothing to check.
  virtual std::string self_check() { return {}; }
  virtual const char* name() const = 0;
};

}  // namespace popek
