#include "translator/verify_engine.h"

#include <cstdio>
#include <cstring>
#include <sstream>

namespace popek::dbt {

namespace {

constexpr uint32_t kLegacyHoleStart = 0xa0000;
constexpr uint32_t kLegacyHoleEnd = 0x100000;

std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}

}  // namespace

// ---------------------------------------------------------------- outside world

class VerifyEngine::RecordingPorts : public IoDevice {
 public:
  RecordingPorts(IoBus& real, std::deque<IoEvent>& log) : real_(real), log_(log) {}
  uint32_t io_read(uint16_t port, unsigned size) override {
    const uint32_t v = real_.read(port, size);
    log_.push_back({false, port, static_cast<uint8_t>(size), v});
    return v;
  }
  void io_write(uint16_t port, unsigned size, uint32_t value) override {
    real_.write(port, size, value);
    log_.push_back({true, port, static_cast<uint8_t>(size), value});
  }

 private:
  IoBus& real_;
  std::deque<IoEvent>& log_;
};

class VerifyEngine::ReplayPorts : public IoDevice {
 public:
  ReplayPorts(std::deque<IoEvent>& log, std::string& mismatch) : log_(log), mismatch_(mismatch) {}
  uint32_t io_read(uint16_t port, unsigned size) override {
    if (!expect(false, port, size, 0)) return 0xffffffffu;
    const uint32_t v = log_.front().value;
    log_.pop_front();
    return v;
  }
  void io_write(uint16_t port, unsigned size, uint32_t value) override {
    if (expect(true, port, size, value)) log_.pop_front();
  }

 private:
  bool expect(bool write, uint16_t port, unsigned size, uint32_t value) {
    std::ostringstream o;
    if (log_.empty()) {
      o << "interpreter " << (write ? "wrote" : "read") << " port " << std::hex << port << " (size " << size
        << "); the translator did not";
    } else {
      const IoEvent& e = log_.front();
      if (e.write == write && e.port == port && e.size == size && (!write || e.value == value)) return true;
      o << std::hex << "interpreter " << (write ? "wrote" : "read") << " port " << port << " size " << size;
      if (write) o << " value " << value;
      o << "; translator " << (e.write ? "wrote" : "read") << " port " << e.port << " size " << int(e.size);
      if (e.write) o << " value " << e.value;
    }
    if (mismatch_.empty()) mismatch_ = o.str();
    return false;
  }
  std::deque<IoEvent>& log_;
  std::string& mismatch_;
};

class VerifyEngine::RecordingController : public InterruptController {
 public:
  RecordingController(InterruptController* real, std::deque<uint8_t>& log) : real_(real), log_(log) {}
  bool intr_pending() const override { return real_ && real_->intr_pending(); }
  uint8_t acknowledge() override {
    const uint8_t v = real_ ? real_->acknowledge() : 0;
    log_.push_back(v);
    return v;
  }

 private:
  InterruptController* real_;
  std::deque<uint8_t>& log_;
};

class VerifyEngine::ReplayController : public InterruptController {
 public:
  explicit ReplayController(std::deque<uint8_t>& log) : log_(log) {}
  bool intr_pending() const override { return !log_.empty(); }
  uint8_t acknowledge() override {
    if (log_.empty()) return 0;
    const uint8_t v = log_.front();
    log_.pop_front();
    return v;
  }

 private:
  std::deque<uint8_t>& log_;
};

// A range of the shadow's physical space with no RAM of its own: each page
// reads from the shadow's RAM copy when the machine currently backs it with
// RAM, else through to the machine's memory (ROM, MMIO, holes).
class VerifyEngine::ShadowMemoryWindow : public MmioDevice {
 public:
  ShadowMemoryWindow(PhysicalMemory& machine, PhysicalMemory& shadow, uint32_t base,
                     std::unordered_set<uint32_t>& dirty)
      : machine_(machine), shadow_(shadow), base_(base), dirty_(dirty) {}
  uint32_t mmio_read(uint32_t offset, unsigned size) override {
    const uint32_t pa = base_ + offset;
    if (!ram_backed(pa)) return machine_.read(pa, size);
    uint32_t v = 0;
    std::memcpy(&v, shadow_.ram() + pa, size);
    return v;
  }
  void mmio_write(uint32_t offset, unsigned size, uint32_t value) override {
    const uint32_t pa = base_ + offset;
    if (!ram_backed(pa)) return;  // the machine's side performed it
    std::memcpy(shadow_.ram() + pa, &value, size);
    dirty_.insert(pa >> 12);
  }

 private:
  bool ram_backed(uint32_t pa) {
    return pa < machine_.ram_size() && machine_.host_ptr_read(pa) == machine_.ram() + pa;
  }
  PhysicalMemory& machine_;
  PhysicalMemory& shadow_;
  uint32_t base_;
  std::unordered_set<uint32_t>& dirty_;
};

// ---------------------------------------------------------------- setup

VerifyEngine::VerifyEngine(Interpreter& machine_interp, const VerifyOptions& options)
    : machine_(machine_interp),
      mem_(machine_interp.mem),
      options_(options),
      shadow_mem_(machine_interp.mem.ram_size()),
      shadow_clock_(true, machine_interp.clock.ns_per_insn()) {
  recording_ports_ = std::make_unique<RecordingPorts>(machine_.io, io_log_);
  recording_bus_.register_ports(0, 0x10000, recording_ports_.get(), true);
  recording_intc_ = std::make_unique<RecordingController>(machine_.intc, vector_log_);
  dbt_ = std::make_unique<DbtEngine>(machine_.cpu, mem_, recording_bus_, machine_.clock, recording_intc_.get(),
                                     options.dbt);
  dbt_->interpreter().hooks = machine_.hooks;

  const uint32_t ram = mem_.ram_size();
  std::memcpy(shadow_mem_.ram(), mem_.ram(), ram);
  if (ram > kLegacyHoleStart) {
    window_low_ = std::make_unique<ShadowMemoryWindow>(mem_, shadow_mem_, kLegacyHoleStart, shadow_dirty_pages_);
    shadow_mem_.map_mmio(kLegacyHoleStart, kLegacyHoleEnd - kLegacyHoleStart, window_low_.get());
  }
  if (ram) {
    window_high_ = std::make_unique<ShadowMemoryWindow>(mem_, shadow_mem_, ram, shadow_dirty_pages_);
    shadow_mem_.map_mmio(ram, static_cast<uint32_t>(0x100000000ull - ram), window_high_.get());
  }
  // Every RAM page of the shadow reports its writes (the code-page hook).
  shadow_mem_.set_code_write_hook(&VerifyEngine::shadow_write_hook, this);
  for (uint32_t p = 0; p < (ram >> 12); ++p)
    if (shadow_mem_.host_ptr_write(p << 12)) shadow_mem_.protect_code_page(p);

  replay_ports_ = std::make_unique<ReplayPorts>(io_log_, io_mismatch_);
  replay_bus_.register_ports(0, 0x10000, replay_ports_.get(), true);
  replay_intc_ = std::make_unique<ReplayController>(vector_log_);
  shadow_ = std::make_unique<Interpreter>(shadow_cpu_, shadow_mem_, replay_bus_, shadow_clock_, replay_intc_.get());
  shadow_clock_.retire(machine_.clock.retired());
  resync();
}

void VerifyEngine::resync() {
  shadow_cpu_ = machine_.cpu;
  std::memcpy(shadow_mem_.ram(), mem_.ram(), mem_.ram_size());
  shadow_->mmu.flush(true);
  dbt_->flush();
  shadow_dirty_pages_.clear();
  io_log_.clear();
  vector_log_.clear();
  io_mismatch_.clear();
  diverged_ = false;
  report_.clear();
}

VerifyEngine::~VerifyEngine() = default;

void VerifyEngine::shadow_write_hook(void* self, uint32_t pa, unsigned) {
  static_cast<VerifyEngine*>(self)->shadow_dirty_pages_.insert(pa >> 12);
}

// ---------------------------------------------------------------- run

VerifyResult VerifyEngine::run(uint64_t max_steps, const std::function<bool()>& should_stop) {
  VerifyResult r;
  CpuState& cpu = machine_.cpu;
  while (r.steps < max_steps && !diverged_) {
    if (should_stop && should_stop()) {
      r.stop = DbtStop::Requested;
      break;
    }
    shadow_cpu_.nmi_pending = cpu.nmi_pending;
    shadow_cpu_.a20_enabled = cpu.a20_enabled;
    shadow_mem_.set_a20(mem_.a20());
    const uint32_t eip = cpu.eip;
    const uint16_t cs = cpu.seg[CS].selector;
    before_ = cpu;
    const DispatchUnit u = dbt_->dispatch(max_steps - r.steps);
    for (uint64_t i = 0; i < u.steps; ++i) shadow_->step();
    ++units_;
    r.steps += u.steps;
    if (!compare_after(u, eip, cs)) break;
    if (!u.block && u.step_result == StepResult::Halted) {
      r.stop = DbtStop::Halted;
      break;
    }
    if (u.step_result == StepResult::TripleFault || u.exit == ExitReason::TripleFault) {
      r.stop = DbtStop::TripleFault;
      break;
    }
    if (u.exit == ExitReason::HostError) {
      r.stop = DbtStop::HostError;
      break;
    }
  }
  // The whole RAM once more when the run stops for a reason of its own
  // (halt, exit request, fault), or when a full interval of units went by
  // since the last whole comparison: a machine calls run() once per timer
  // slice, and comparing all of RAM after every slice would dominate.
  const bool slice_end = r.stop == DbtStop::Budget && units_ - units_at_full_compare_ < options_.full_compare_interval;
  if (!diverged_ && !slice_end) {
    units_at_full_compare_ = units_;
    if (!compare_all_ram()) report_ = "at the end of the run:\n" + report_;
  }
  r.diverged = diverged_;
  return r;
}

// ---------------------------------------------------------------- comparison

std::string VerifyEngine::describe_unit(const DispatchUnit& u, uint32_t eip, uint16_t cs) const {
  std::ostringstream o;
  o << "first divergence after the " << (u.block ? "translated block" : "interpreter step") << " at "
    << hex32(cs).substr(4) << ":" << hex32(eip) << " (" << u.steps << " steps, unit " << units_ << ")\n";
  const CpuState& c = before_;
  o << "state before: eax " << hex32(c.regs[EAX]) << " ecx " << hex32(c.regs[ECX]) << " edx " << hex32(c.regs[EDX])
    << " ebx " << hex32(c.regs[EBX]) << " esp " << hex32(c.regs[ESP]) << " ebp " << hex32(c.regs[EBP]) << " esi "
    << hex32(c.regs[ESI]) << " edi " << hex32(c.regs[EDI]) << " eflags " << hex32(c.eflags) << "\n";
  if (u.block) o << dbt_->disassemble(*u.block);
  if (u.block && u.steps != u.block->insn_count)
    o << "(the unit ran " << u.steps << " steps: it left the block early or went on into chained blocks)\n";
  return o.str();
}

bool VerifyEngine::compare_after(const DispatchUnit& u, uint32_t eip, uint16_t cs) {
  const CpuState& a = shadow_cpu_;  // interpreter
  const CpuState& b = machine_.cpu;  // translator
  std::ostringstream o;
  if (!io_mismatch_.empty()) o << "I/O: " << io_mismatch_ << "\n";
  if (!io_log_.empty()) o << "I/O: the translator made " << io_log_.size() << " port access(es) the interpreter did not\n";
  static const char* names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
  for (int r = 0; r < 8; ++r)
    if (a.regs[r] != b.regs[r]) o << names[r] << ": interpreter " << hex32(a.regs[r]) << " translator " << hex32(b.regs[r]) << "\n";
  if (a.eip != b.eip) o << "eip: interpreter " << hex32(a.eip) << " translator " << hex32(b.eip) << "\n";
  if (a.eflags != b.eflags)
    o << "eflags: interpreter " << hex32(a.eflags) << " translator " << hex32(b.eflags) << " (differing bits "
      << hex32(a.eflags ^ b.eflags) << ")\n";
  static const char* segs[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
  for (int s = 0; s < 6; ++s)
    if (std::memcmp(&a.seg[s], &b.seg[s], sizeof(SegmentCache)))
      o << segs[s] << ": interpreter " << hex32(a.seg[s].selector).substr(4) << " base " << hex32(a.seg[s].base)
        << " limit " << hex32(a.seg[s].limit) << " attr " << hex32(a.seg[s].attr).substr(4) << ", translator "
        << hex32(b.seg[s].selector).substr(4) << " base " << hex32(b.seg[s].base) << " limit "
        << hex32(b.seg[s].limit) << " attr " << hex32(b.seg[s].attr).substr(4) << "\n";
  if (a.cr0 != b.cr0 || a.cr2 != b.cr2 || a.cr3 != b.cr3 || a.cr4 != b.cr4)
    o << "cr0/cr2/cr3/cr4: interpreter " << hex32(a.cr0) << " " << hex32(a.cr2) << " " << hex32(a.cr3) << " "
      << hex32(a.cr4) << ", translator " << hex32(b.cr0) << " " << hex32(b.cr2) << " " << hex32(b.cr3) << " "
      << hex32(b.cr4) << "\n";
  if (a.cpl != b.cpl || a.halted != b.halted || a.inhibit_irq != b.inhibit_irq || a.in_nmi != b.in_nmi)
    o << "cpl/halted/inhibit/in_nmi: interpreter " << int(a.cpl) << "/" << int(a.halted) << "/" << int(a.inhibit_irq)
      << "/" << int(a.in_nmi) << ", translator " << int(b.cpl) << "/" << int(b.halted) << "/" << int(b.inhibit_irq)
      << "/" << int(b.in_nmi) << "\n";
  if (o.str().empty() && std::memcmp(&a, &b, sizeof(CpuState)))
    o << "other CPU state differs (descriptor tables, debug registers, x87, MSRs)\n";
  // RAM pages the interpreter wrote.
  for (uint32_t page : shadow_dirty_pages_) {
    const uint32_t base = page << 12;
    if (base >= mem_.ram_size()) continue;
    const uint8_t* x = shadow_mem_.ram() + base;
    const uint8_t* y = mem_.ram() + base;
    if (!std::memcmp(x, y, 4096)) continue;
    int shown = 0;
    for (uint32_t i = 0; i < 4096 && shown < 16; ++i)
      if (x[i] != y[i]) {
        o << "memory " << hex32(base + i) << ": interpreter " << hex32(x[i]).substr(6) << " translator "
          << hex32(y[i]).substr(6) << "\n";
        ++shown;
      }
  }
  shadow_dirty_pages_.clear();
  io_mismatch_.clear();
  io_log_.clear();
  vector_log_.clear();
  if (o.str().empty() && options_.full_compare_interval && units_ % options_.full_compare_interval == 0) {
    units_at_full_compare_ = units_;
    if (!compare_all_ram()) return false;
  }
  if (o.str().empty()) return true;
  diverged_ = true;
  report_ = describe_unit(u, eip, cs) + o.str();
  return false;
}

bool VerifyEngine::compare_all_ram() {
  const uint32_t ram = mem_.ram_size();
  for (uint32_t base = 0; base < ram; base += 4096) {
    // In the legacy hole only pages the machine backs with RAM are guest memory.
    if (base >= kLegacyHoleStart && base < kLegacyHoleEnd && mem_.host_ptr_read(base) != mem_.ram() + base) continue;
    if (!std::memcmp(shadow_mem_.ram() + base, mem_.ram() + base, 4096)) continue;
    for (uint32_t i = 0; i < 4096; ++i)
      if (shadow_mem_.ram()[base + i] != mem_.ram()[base + i]) {
        diverged_ = true;
        report_ = "memory " + hex32(base + i) + ": interpreter " + hex32(shadow_mem_.ram()[base + i]).substr(6) +
                  " translator " + hex32(mem_.ram()[base + i]).substr(6) +
                  " (found by the whole-RAM comparison; the store happened since the last one, " +
                  std::to_string(options_.full_compare_interval) + " blocks at most)\n";
        return false;
      }
  }
  return true;
}

}  // namespace popek::dbt
