#include "core/machine.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "devices/acpi_pm.h"
#include "devices/ata_disk.h"
#include "devices/atapi_cdrom.h"
#include "devices/cdrom_image.h"
#include "devices/cmos_rtc.h"
#include "devices/disk_image.h"
#include "devices/fw_cfg.h"
#include "devices/i440fx.h"
#include "devices/ide.h"
#include "devices/pci_bus.h"
#include "devices/i8042.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/uart16550.h"
#include "devices/vga.h"
#include "devices/vga_pci.h"

namespace popek {

namespace {
constexpr uint32_t kShadowBase = 0xC0000;  // PAM-controlled area: 0xC0000-0xFFFFF
constexpr uint32_t kShadowPages = (0x100000 - kShadowBase) >> PhysicalMemory::kPageShift;

// The i440FX as QEMU presents it: SeaBIOS recognises a QEMU machine (and then
// reads the RAM size from the CMOS and uses fw_cfg) by the host bridge's
// subsystem ID 1af4:1100.
class QemuI440fx : public I440fxHostBridge {
 public:
  QemuI440fx() { set_subsystem(0x1af4, 0x1100); }
};

}  // namespace

I440fxHostBridge& Machine::host_bridge() { return *host_; }

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
  // PCI: i440FX host bridge 00.0, PIIX3 ISA bridge 01.0, PIIX3 IDE 01.1.
  pci_ = std::make_unique<PciBus>();
  pci_->attach(io_);
  host_ = std::make_unique<QemuI440fx>();
  isa_ = std::make_unique<Piix3IsaBridge>([this](int irq, bool level) { pic_->set_irq(irq, level); });
  isa_->attach(io_);
  isa_->on_reset_request([this] { request_reset(); });
  ide_ = std::make_unique<PiixIde>();
  ide_->attach(io_);
  ide_->irq14().connect(pic_->input(14));
  ide_->irq15().connect(pic_->input(15));
  pci_->add(0, 0, host_.get());
  pci_->add(1, 0, isa_.get());
  pci_->add(1, 1, ide_.get());
  host_->on_pam_change([this](uint32_t base, uint32_t size, bool re, bool we) { apply_pam(base, size, re, we); });

  // VGA at 00:02.0 as in QEMU: legacy ports and 0xA0000-0xBFFFF always
  // decode; the framebuffer BAR and the ROM BAR follow the PCI registers.
  if (config.vga) {
    vga_ = std::make_unique<Vga>(clock_, config.vga_vram_bytes);
    vga_->attach(io_);
    mem_.map_mmio(Vga::kLegacyBase, Vga::kLegacySize, &vga_->legacy_memory());
    uint32_t rom_bar = 0;
    if (!config.vga_bios.empty()) {
      rom_bar = vga_rom_bar_size(config.vga_bios);
      vga_rom_ = config.vga_bios;
      // Whole pages, so the ROM can be mapped page by page without copying.
      vga_rom_.resize(std::max<uint32_t>(rom_bar, PhysicalMemory::kPageSize), 0);
    }
    vga_pci_ = std::make_unique<VgaPci>(vga_->vram_size(), rom_bar);
    vga_pci_->on_bar_change([this](int bar, PciFunction::BarMapping old_base, PciFunction::BarMapping new_base) {
      vga_bar_changed(bar, old_base, new_base);
    });
    pci_->add(2, 0, vga_pci_.get());
  }

  fw_cfg_ = std::make_unique<FwCfg>();
  fw_cfg_->attach(io_);
  setup_fw_cfg();
  // ACPI soft-off (S5) ends the run with status 0, like QEMU's poweroff.
  acpi_pm_ = std::make_unique<AcpiPm>(clock_, [this] { request_exit(0); });
  acpi_pm_->attach(io_);

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
  shadow_rom_.assign(kShadowPages, nullptr);
  const auto& rom = config_.bios;
  if (rom.empty()) return;
  uint32_t size = static_cast<uint32_t>(rom.size());
  // The whole image at the top of 4 GiB, and its last 128 KiB (or all of a
  // smaller image) just below 1 MiB, as the PC chipset decodes it.
  high_rom_base_ = static_cast<uint32_t>(0x100000000ull - size);
  mem_.map_rom(high_rom_base_, rom.data(), size);
  high_rom_ = mem_.page_read_pointer(high_rom_base_ >> PhysicalMemory::kPageShift);
  uint32_t low = size < 128 * 1024 ? size : 128 * 1024;
  mem_.map_rom(0x100000 - low, rom.data() + (size - low), low);
  // Remember the low ROM pages: the PAM registers switch between them and
  // the RAM underneath (apply_pam).
  for (uint32_t i = 0; i < low >> PhysicalMemory::kPageShift; ++i) {
    uint32_t page = ((0x100000 - low) >> PhysicalMemory::kPageShift) + i;
    shadow_rom_[page - (kShadowBase >> PhysicalMemory::kPageShift)] = mem_.page_read_pointer(page);
  }
}

// Pages the firmware image covers switch between the ROM and the RAM below
// it; the others in 0xC0000-0xFFFFF stay plain RAM whatever PAM says (there
// are no option ROMs on the PCI side yet, and test ROMs smaller than 128 KiB
// keep using that RAM as before).
void Machine::apply_pam(uint32_t base, uint32_t size, bool read_ram, bool write_ram) {
  for (uint32_t pa = base; pa < base + size && pa < 0x100000; pa += PhysicalMemory::kPageSize) {
    if (pa < kShadowBase) continue;
    uint32_t page = pa >> PhysicalMemory::kPageShift;
    uint8_t* ram = pa < mem_.ram_size() ? mem_.ram() + pa : nullptr;
    const uint8_t* rom = shadow_rom_[page - (kShadowBase >> PhysicalMemory::kPageShift)];
    if (!rom) mem_.set_page_access(page, ram, ram);
    else mem_.set_page_access(page, read_ram ? ram : rom, write_ram ? ram : nullptr);
  }
}

// fw_cfg items SeaBIOS reads (docs/platform.md lists them).
void Machine::setup_fw_cfg() {
  FwCfg& f = *fw_cfg_;
  f.set_u64(FwCfg::kRamSize, mem_.ram_size());
  f.set_u16(FwCfg::kNbCpus, 1);
  f.set_u16(FwCfg::kMaxCpus, 1);
  f.set_u16(FwCfg::kNoGraphic, 0);
  f.set_u16(FwCfg::kBootMenu, config_.boot_menu ? 1 : 0);
  const uint32_t wait_ms = static_cast<uint32_t>(config_.boot_fail_wait_ms);  // le32, -1 = forever
  std::vector<uint8_t> wait(4);
  for (int i = 0; i < 4; ++i) wait[i] = static_cast<uint8_t>(wait_ms >> (8 * i));
  f.add_file("etc/boot-fail-wait", std::move(wait));
  // One e820 entry {le64 address, le64 length, le32 type 1 = RAM}: all of RAM
  // from 0, as QEMU reports it (SeaBIOS carves out the legacy holes itself).
  std::vector<uint8_t> e820;
  auto put = [&e820](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) e820.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put(0, 8);
  put(mem_.ram_size(), 8);
  put(1, 4);
  f.add_file("etc/e820", std::move(e820));
}

void Machine::attach_hard_disk(int index, std::unique_ptr<DiskImage> image) {
  if (index != 0 && index != 1) return;
  if (!image) {
    ide_->primary().set_device(index, nullptr);
    return;
  }
  ide_->primary().set_device(index, std::make_unique<AtaDisk>(std::move(image), index ? "POPEK-HDB" : "POPEK-HDA"));
}

void Machine::vga_bar_changed(int bar, std::optional<uint32_t> old_base, std::optional<uint32_t> new_base) {
  (void)new_base;
  if (bar != VgaPci::kFramebufferBar && bar != pci::kRomBar) return;
  if (old_base) restore_default_pages(*old_base, vga_pci_->bar_size(bar));
  // Map both BARs as they are now, the ROM last, so that it wins where a
  // guest made them overlap.
  constexpr uint32_t kPage = PhysicalMemory::kPageSize;
  if (auto lfb = vga_pci_->bar_mapping(VgaPci::kFramebufferBar)) {
    // VRAM mapped like RAM: reads and writes need no device call, so
    // framebuffer drawing runs at memory speed under both engines.
    const uint32_t size = vga_pci_->bar_size(VgaPci::kFramebufferBar);
    for (uint64_t off = 0; off < size && uint64_t{*lfb} + off < 0x100000000ull; off += kPage) {
      uint8_t* p = off < vga_->vram_size() ? vga_->vram() + off : nullptr;
      mem_.set_page_access(static_cast<uint32_t>((*lfb + off) >> PhysicalMemory::kPageShift), p, p);
    }
  }
  if (auto rom = vga_pci_->bar_mapping(pci::kRomBar)) {
    const uint32_t size = vga_pci_->bar_size(pci::kRomBar);
    for (uint64_t off = 0; off < size && uint64_t{*rom} + off < 0x100000000ull; off += kPage) {
      const uint8_t* p = off < vga_rom_.size() ? vga_rom_.data() + off : nullptr;
      mem_.set_page_access(static_cast<uint32_t>((*rom + off) >> PhysicalMemory::kPageShift), p, nullptr);
    }
  }
}

void Machine::restore_default_pages(uint32_t base, uint32_t size) {
  mem_.unmap(base, size);  // RAM where there is RAM, else nothing
  const uint64_t end = uint64_t{base} + size;
  auto overlaps = [&](uint64_t b, uint64_t e) { return base < e && end > b; };
  if (vga_ && overlaps(Vga::kLegacyBase, Vga::kLegacyBase + Vga::kLegacySize))
    mem_.map_mmio(Vga::kLegacyBase, Vga::kLegacySize, &vga_->legacy_memory());
  if (overlaps(kShadowBase, 0x100000)) host_->announce_pam();
  if (high_rom_ && overlaps(high_rom_base_, 0x100000000ull)) {
    const uint64_t first = std::max<uint64_t>(base, high_rom_base_);
    for (uint64_t pa = first & ~uint64_t{PhysicalMemory::kPageSize - 1}; pa < end && pa < 0x100000000ull;
         pa += PhysicalMemory::kPageSize)
      mem_.set_page_access(static_cast<uint32_t>(pa >> PhysicalMemory::kPageShift), high_rom_ + (pa - high_rom_base_),
                           nullptr);
  }
}

Machine::DeviceLock::DeviceLock(Machine& m) : m_(m) {
  m_.lock_waiters_.fetch_add(1);
  m_.device_mutex_.lock();
  m_.lock_waiters_.fetch_sub(1);
}

Machine::DeviceLock::~DeviceLock() { m_.device_mutex_.unlock(); }

bool Machine::render_screen(Framebuffer& out) {
  if (!vga_) {
    out.width = out.height = 0;
    out.pixels.clear();
    return false;
  }
  DeviceLock lock(*this);
  vga_->render(out);
  return true;
}

std::string Machine::screen_text() {
  if (!vga_) return {};
  DeviceLock lock(*this);
  return vga_->text_screen_utf8();
}

bool Machine::flush_disks() {
  bool ok = true;
  for (int i = 0; i < 2; ++i) {
    if (auto* disk = dynamic_cast<AtaDisk*>(ide_->primary().device(i))) ok = disk->image().flush() && ok;
  }
  return ok;
}

void Machine::attach_cdrom(std::unique_ptr<CdromImage> medium) {
  ide_->secondary().set_device(0, std::make_unique<AtapiCdrom>(std::move(medium)));
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
  cmos_->set_boot_order(config_.boot_order);
  i8042_->reset();
  for (auto& u : uart_) u->reset();
  pci_->reset();  // also the PAM registers: 0xC0000-0xFFFFF reads the ROM again
  host_->announce_pam();
  fw_cfg_->reset();
  acpi_pm_->reset();
  debug_ports_->reset();
  if (vga_) vga_->reset();
  reset_requested_ = false;
}

void Machine::request_exit(int status) {
  if (!exit_requested_) {
    exit_requested_ = true;
    exit_status_ = status;
  }
}

uint64_t Machine::retired() const { return engine_ ? engine_->retired() : interp_->retired(); }

RunOutcome Machine::run(const RunLimits& limits) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const uint64_t start_retired = retired();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  auto outcome = [&](StopReason r, std::string message = {}) {
    RunOutcome o;
    o.reason = r;
    o.message = std::move(message);
    o.exit_status = exit_status_;
    o.instructions = retired() - start_retired;
    o.seconds = elapsed();
    return o;
  };
  const std::function<bool()> should_stop = [this] { return exit_requested_ || reset_requested_; };

  uint64_t iterations = 0;
  uint64_t next_sample = limits.sample_every;
  while (!exit_requested_) {
    // Hand the device lock to a thread waiting for it (render_screen), then
    // hold it for this slice. std::mutex is not fair, so without the wait
    // this loop could take it back before the waiter wakes.
    while (lock_waiters_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    std::lock_guard<std::mutex> slice_lock(device_mutex_);
    uint64_t done = retired() - start_retired;
    if (limits.max_instructions && done >= limits.max_instructions) return outcome(StopReason::MaxInstructions);
    uint64_t cap = 10000;
    if (limits.max_instructions) cap = std::min<uint64_t>(cap, limits.max_instructions - done);
    uint64_t budget = clock_.budget(cap);
    bool halted = false;
    if (engine_) {
      EngineRun r = engine_->run(budget, should_stop);
      if (r.failed) return outcome(StopReason::EngineFailure, r.message);
      halted = r.halted;
    } else {
      for (uint64_t i = 0; i < budget && !should_stop(); ++i) {
        if (interp_->step() == StepResult::Halted) {
          halted = true;
          break;
        }
      }
    }
    clock_.run_expired();
    if (limits.slice_hook) limits.slice_hook();
    if (next_sample && limits.sample && retired() - start_retired >= next_sample) {
      uint64_t now = retired() - start_retired;
      limits.sample(now);
      next_sample = (now / limits.sample_every + 1) * limits.sample_every;
    }
    if (reset_requested_) {
      if (config_.no_reboot) {
        std::fprintf(stderr, "popek: machine reset requested (triple fault or reset); exiting (--no-reboot)\n");
        exit_status_ = 0;
        return outcome(StopReason::Reset);
      }
      ++resets_;
      reset();
      if (reset_hook_) reset_hook_();
      if (engine_) engine_->after_reset();
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
