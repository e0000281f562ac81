// VerifyEngine (--engine verify): runs the machine with the translator and,
// block by block, a shadow copy of the CPU and RAM with the interpreter, and
// stops at the first difference.
//
// How the shadow sees the outside world:
//  - I/O ports: the translator side runs on a recording bus (every port
//    forwards to the machine's real bus and is logged); the shadow replays
//    the logged reads in order and checks that it makes the same reads and
//    writes (port, size, value). Devices therefore see each access once.
//  - Interrupt vectors: the translator side's controller is a recording
//    wrapper of the machine's; the shadow's controller hands out the
//    recorded vectors.
//  - RAM: the shadow has its own copy. Pages the machine does not back with
//    RAM (ROM, MMIO, holes) are read through from the machine's memory and
//    the shadow's writes to them are dropped (the machine performed them).
//  - NMI requests and the A20 gate are copied from the machine before each
//    block.
// Compared after every block: the whole CpuState, and every RAM page the
// shadow wrote. Every `full_compare_interval` blocks, and when a run ends
// other than by its step budget (halt, stop request, triple fault), all of
// RAM is compared, which also catches a translated store the shadow did not
// make. (A machine calls run() once per timer slice; comparing all of RAM
// at each slice's end would dominate the run.)
//
// Limitations: an MMIO read with side effects is performed twice (once per
// side); the shadow's clock follows retired steps only, so RDTSC and the PIT
// agree only in deterministic mode and until the machine first idles in HLT.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/interpreter.h"
#include "translator/dbt_engine.h"

namespace popek::dbt {

struct VerifyOptions {
  DbtOptions dbt;
  uint64_t full_compare_interval = 4096;  // blocks between whole-RAM comparisons
};

struct VerifyResult {
  uint64_t steps = 0;
  DbtStop stop = DbtStop::Budget;
  bool diverged = false;
};

class VerifyEngine {
 public:
  // `machine_interp` is the machine's interpreter: its CPU state, memory,
  // I/O bus, clock, interrupt controller and hooks are the machine's.
  explicit VerifyEngine(Interpreter& machine_interp, const VerifyOptions& options = {});
  ~VerifyEngine();
  VerifyEngine(const VerifyEngine&) = delete;
  VerifyEngine& operator=(const VerifyEngine&) = delete;

  // Like DbtEngine::run; stops at the first divergence (diverged = true,
  // report() says where and what).
  VerifyResult run(uint64_t max_steps, const std::function<bool()>& should_stop = {});
  // Copies the machine's CPU state and RAM into the shadow and drops all
  // translations: call after anything that changes the machine behind the
  // engine's back (a reset, loading an image into RAM).
  void resync();
  bool diverged() const { return diverged_; }
  const std::string& report() const { return report_; }
  uint64_t blocks_compared() const { return units_; }

  DbtEngine& dbt() { return *dbt_; }
  // The shadow's CPU state (tests use it to inject a difference).
  CpuState& shadow_cpu() { return shadow_cpu_; }

  struct IoEvent {
    bool write;
    uint16_t port;
    uint8_t size;
    uint32_t value;
  };

 private:
  class RecordingPorts;
  class ReplayPorts;
  class RecordingController;
  class ReplayController;
  class ShadowMemoryWindow;

  bool compare_after(const DispatchUnit& u, uint32_t eip_before, uint16_t cs_before);
  bool compare_all_ram();
  std::string describe_unit(const DispatchUnit& u, uint32_t eip_before, uint16_t cs_before) const;
  static void shadow_write_hook(void* self, uint32_t pa, unsigned size);

  Interpreter& machine_;
  PhysicalMemory& mem_;
  VerifyOptions options_;

  // Translator side: the machine's CPU and memory, recording bus and controller.
  std::unique_ptr<RecordingPorts> recording_ports_;
  IoBus recording_bus_;
  std::unique_ptr<RecordingController> recording_intc_;
  std::unique_ptr<DbtEngine> dbt_;

  // Shadow side.
  CpuState shadow_cpu_{};
  PhysicalMemory shadow_mem_;
  std::unique_ptr<ShadowMemoryWindow> window_low_, window_high_;
  std::unique_ptr<ReplayPorts> replay_ports_;
  IoBus replay_bus_;
  std::unique_ptr<ReplayController> replay_intc_;
  VirtualClock shadow_clock_;
  std::unique_ptr<Interpreter> shadow_;

  std::deque<IoEvent> io_log_;
  std::deque<uint8_t> vector_log_;
  std::string io_mismatch_;
  std::unordered_set<uint32_t> shadow_dirty_pages_;
  CpuState before_{};  // the machine's CPU before the current unit, for the report
  uint64_t units_ = 0;
  uint64_t units_at_full_compare_ = 0;
  bool diverged_ = false;
  std::string report_;
};

}  // namespace popek::dbt
