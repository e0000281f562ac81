#include "core/machine.h"

#include <chrono>
#include <cstdio>

#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/uart16550.h"

namespace popek {

std::string validate_bios(const std::vector<uint8_t>& image) {
  if (image.empty()) return "file is empty";
  if (image.size() < 64 * 1024) return "too small (" + std::to_string(image.size()) + " bytes; a BIOS ROM is 64 KiB to 256 KiB)";
  if (image.size() > 256 * 1024) return "too large (" + std::to_string(image.size()) + " bytes; a BIOS ROM is 64 KiB to 256 KiB)";
  if (image.size() % 4096) return "size " + std::to_string(image.size()) + " is not a multiple of 4 KiB";
  return {};
}

Machine::Machine(const MachineConfig& config)
    : config_(config),
      mem_(config.ram_mb * 1024u * 1024u),
      clock_(config.deterministic, config.ns_per_insn) {
  pic_ = std::make_unique<Pic8259Pair>();
  pic_->attach(io_);
  pit_ = std::make_unique<Pit8254>(clock_);
  pit_->attach(io_);
  pit_->irq0().connect(pic_->input(0));

  std::optional<int64_t> rtc_time = config.rtc_base_time;
  if (!rtc_time && config.deterministic) rtc_time = CmosRtc::to_epoch({2026, 1, 1, 0, 0, 0});
  cmos_ = std::make_unique<CmosRtc>(clock_, rtc_time);
  cmos_->attach(io_);
  cmos_->irq().connect(pic_->input(8));

  i8042_ = std::make_unique<I8042>([this](bool on) { set_a20(on); }, [this] { request_reset(); });
  i8042_->attach(io_);
  i8042_->irq1().connect(pic_->input(1));
  i8042_->irq12().connect(pic_->input(12));

  const uint16_t uart_base[2] = {Uart16550::kCom1Base, Uart16550::kCom2Base};
  const int uart_irq[2] = {Uart16550::kCom1Irq, Uart16550::kCom2Irq};
  for (int i = 0; i < 2; ++i) {
    uart_[i] = std::make_unique<Uart16550>(clock_, uart_base[i], uart_irq[i], config.serial[i]);
    uart_[i]->attach(io_);
    uart_[i]->irq().connect(pic_->input(uart_irq[i]));
  }
  debug_ports_ = std::make_unique<DebugPorts>(
      [this](char c) {
        if (config_.debugcon) config_.debugcon(c);
      },
      [this](int status) { request_exit(status); });
  debug_ports_->attach(io_);
  port92_ = std::make_unique<Port92>([this](bool on) { set_a20(on); }, [this] { return mem_.a20(); },
                                     [this] { request_reset(); });
  port92_->attach(io_);
  interp_ = std::make_unique<Interpreter>(cpu_, mem_, io_, clock_, pic_.get());
  interp_->hooks.on_triple_fault = [this] { request_reset(); };
  map_firmware();
  reset();
}

Machine::~Machine() = default;

void Machine::map_firmware() {
  const auto& rom = config_.bios;
  if (rom.empty()) return;
  uint32_t size = static_cast<uint32_t>(rom.size());
  // The whole image at the top of 4 GiB, and its last 128 KiB (or all of a
  // smaller image) just below 1 MiB, as the PC chipset decodes it.
  mem_.map_rom(static_cast<uint32_t>(0x100000000ull - size), rom.data(), size);
  uint32_t low = size < 128 * 1024 ? size : 128 * 1024;
  mem_.map_rom(0x100000 - low, rom.data() + (size - low), low);
}

void Machine::set_a20(bool enabled) {
  mem_.set_a20(enabled);
  cpu_.a20_enabled = enabled;
  interp_->mmu.flush(true);
}

void Machine::reset() {
  interp_->reset();
  set_a20(true);
  pic_->reset();
  pit_->reset();
  cmos_->reset();
  cmos_->set_memory_size(mem_.ram_size());
  cmos_->set_equipment(CmosRtc::equipment_byte(0, true, true));
  i8042_->reset();
  for (auto& u : uart_) u->reset();
  debug_ports_->reset();
  reset_requested_ = false;
}

void Machine::request_exit(int status) {
  if (!exit_requested_) {
    exit_requested_ = true;
    exit_status_ = status;
  }
}

RunOutcome Machine::run(const RunLimits& limits) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const uint64_t start_retired = interp_->retired();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  auto outcome = [&](StopReason r) {
    RunOutcome o;
    o.reason = r;
    o.exit_status = exit_status_;
    o.instructions = interp_->retired() - start_retired;
    o.seconds = elapsed();
    return o;
  };

  uint64_t iterations = 0;
  while (!exit_requested_) {
    uint64_t done = interp_->retired() - start_retired;
    if (limits.max_instructions && done >= limits.max_instructions) return outcome(StopReason::MaxInstructions);
    uint64_t cap = 10000;
    if (limits.max_instructions) cap = std::min<uint64_t>(cap, limits.max_instructions - done);
    uint64_t budget = clock_.budget(cap);
    bool halted = false;
    for (uint64_t i = 0; i < budget && !exit_requested_ && !reset_requested_; ++i) {
      StepResult r = interp_->step();
      if (r == StepResult::Halted) {
        halted = true;
        break;
      }
    }
    clock_.run_expired();
    if (reset_requested_) {
      if (config_.no_reboot) {
        std::fprintf(stderr, "popek: machine reset requested (triple fault or reset); exiting (--no-reboot)\n");
        exit_status_ = 0;
        return outcome(StopReason::Reset);
      }
      ++resets_;
      reset();
      continue;
    }
    if (halted && !exit_requested_) {
      bool can_wake = (cpu_.eflags & flag::IF) || cpu_.nmi_pending;
      if (!can_wake) return outcome(StopReason::HaltedForever);
      if (!pic_->intr_pending() && !clock_.advance_to_next_deadline())
        return outcome(StopReason::HaltedForever);
      clock_.run_expired();
    }
    if ((++iterations & 15) == 0 && limits.timeout_seconds > 0 && elapsed() > limits.timeout_seconds)
      return outcome(StopReason::Timeout);
  }
  return outcome(StopReason::Exit);
}

}  // namespace popek
