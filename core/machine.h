// Machine: one complete PC. It owns the CPU state, memory, I/O bus, virtual
// clock, devices and the execution engine; there are no globals, so several
// machines can live in one process (tests and --engine verify rely on it).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/cpu_engine.h"
#include "core/cpu_state.h"
#include "core/interpreter.h"
#include "core/io_bus.h"
#include "core/physical_memory.h"
#include "devices/debug_ports.h"
#include "devices/vga.h"

namespace popek {

class Pic8259Pair;
class Pit8254;
class CmosRtc;
class I8042;
class Uart16550;
class PciBus;
class I440fxHostBridge;
class Piix3IsaBridge;
class PiixIde;
class FwCfg;
class AcpiPm;
class DiskImage;
class VgaPci;
class CdromImage;

enum class EngineKind { Interp, Dbt, Verify };

struct MachineConfig {
  uint32_t ram_mb = 32;
  std::vector<uint8_t> bios;           // 64 KiB .. 256 KiB, multiple of 4 KiB... see validate_bios()
  bool deterministic = false;          // clock driven by retired instructions
  uint64_t ns_per_insn = 10;           // deterministic mode: virtual time per instruction
  EngineKind engine = EngineKind::Interp;
  bool no_reboot = false;              // triple fault / reset request ends the run
  std::function<void(char)> debugcon;  // port 0xE9/0x402 output; null discards
  std::function<void(uint8_t)> serial[2];  // COM1/COM2 transmitted bytes; null discards
  // RTC start time in Unix seconds; unset: the host's clock (a fixed time is
  // used in deterministic mode so runs are reproducible).
  std::optional<int64_t> rtc_base_time;
  // CMOS boot order as QEMU's -boot order= ("c" hard disk, "d" CD-ROM, "a" floppy).
  std::string boot_order = "c";
  // SeaBIOS's "etc/boot-fail-wait" (fw_cfg): milliseconds before it reboots
  // after "No bootable device"; -1 (QEMU's default) waits forever.
  int32_t boot_fail_wait_ms = -1;
  bool boot_menu = false;  // fw_cfg boot-menu item: SeaBIOS offers its F12 menu
  // The VGA (QEMU's stdvga: PCI 00:02.0, 1234:1111); false: no display adapter.
  bool vga = true;
  // Its video memory (QEMU's vgamem_mb), rounded to 64 KiB, at least 256 KiB.
  uint32_t vga_vram_bytes = Vga::kDefaultVramSize;
  // Its PCI expansion ROM (SeaVGABIOS), checked with validate_vga_bios();
  // empty: no ROM BAR, so firmware finds no VGA BIOS.
  std::vector<uint8_t> vga_bios;
};

enum class StopReason { Exit, MaxInstructions, Timeout, HaltedForever, Reset, EngineFailure };

struct RunLimits {
  uint64_t max_instructions = 0;  // 0: no limit
  double timeout_seconds = 0;     // 0: no limit (host wall time)
  // Called on the running thread between run slices (every few thousand
  // instructions, and while the CPU idles in HLT): the frontend's point to
  // feed input, take frames and stop the run (request_exit).
  std::function<void()> slice_hook;
  // --stats-interval: `sample` is called after the first slice that ends at
  // or past each multiple of `sample_every` instructions retired in this run
  // (slices are at most 10,000 instructions), with the count so far.
  uint64_t sample_every = 0;
  std::function<void(uint64_t)> sample;
};

struct RunOutcome {
  StopReason reason;
  std::string message;  // EngineFailure: what the engine reported
  int exit_status = 0;
  uint64_t instructions = 0;
  double seconds = 0;
};

// Checks a firmware image; returns an empty string if it is usable, else the problem.
std::string validate_bios(const std::vector<uint8_t>& image);

class Machine {
 public:
  explicit Machine(const MachineConfig& config);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  void reset();
  // Runs the machine on the calling thread, holding the device lock (see
  // render_screen) slice by slice: callbacks it makes (debugcon, serial)
  // must not take DeviceLock or call render_screen/screen_text.
  RunOutcome run(const RunLimits& limits);
  // Replaces the interpreter's step loop with another engine (null restores it).
  void set_engine(std::unique_ptr<CpuEngine> engine) { engine_ = std::move(engine); }
  CpuEngine* engine() { return engine_.get(); }
  // Instructions retired by whichever engine runs the machine.
  uint64_t retired() const;
  void request_exit(int status);
  void request_reset() { reset_requested_ = true; }
  // Called by run() when the guest resets the machine (and no_reboot is
  // off), after reset() and before the engine drops its translations: the
  // point where a direct kernel boot loads the kernel again (--kernel).
  // The hook may call request_exit() to end the run instead.
  void set_reset_hook(std::function<void()> hook) { reset_hook_ = std::move(hook); }

  CpuState& cpu() { return cpu_; }
  PhysicalMemory& memory() { return mem_; }
  IoBus& io() { return io_; }
  VirtualClock& clock() { return clock_; }
  Interpreter& interpreter() { return *interp_; }
  Pic8259Pair& pic() { return *pic_; }
  Pit8254& pit() { return *pit_; }
  CmosRtc& cmos() { return *cmos_; }
  I8042& i8042() { return *i8042_; }
  Uart16550& uart(int index) { return *uart_[index]; }
  PciBus& pci() { return *pci_; }
  I440fxHostBridge& host_bridge();
  Piix3IsaBridge& isa_bridge() { return *isa_; }
  PiixIde& ide() { return *ide_; }
  FwCfg& fw_cfg() { return *fw_cfg_; }
  bool has_vga() const { return vga_ != nullptr; }
  Vga& vga() { return *vga_; }  // only when has_vga()
  VgaPci& vga_pci() { return *vga_pci_; }  // only when has_vga()

  // --- Display and thread safety ---
  // run() executes on one thread. Another thread (a window frontend) may
  // call render_screen() or take device_lock() at any time: run() holds the
  // same mutex while the CPU executes a slice (at most 10000 instructions,
  // usually much less) and hands it over between slices to a waiting thread.
  // Guest writes to the VBE linear framebuffer go straight to VRAM (it is
  // mapped like RAM), so a picture may show a frame being drawn (tearing),
  // never freed or out-of-bounds memory.
  //
  // Renders the current picture into `out` (resized as needed; reusing one
  // Framebuffer across frames avoids allocation). Returns false, leaving
  // `out` empty, when the machine has no VGA. Thread-safe as above; the
  // cost is one pass over the visible pixels (about 1 ms for 720x400 text).
  bool render_screen(Framebuffer& out);
  // The text-mode screen as UTF-8 lines (Vga::text_screen_utf8); empty in
  // graphics modes or without a VGA. Thread-safe as above.
  std::string screen_text();
  // The mutex run() holds while the CPU runs: lock it to touch devices
  // (inject keys, read registers) from another thread. Use DeviceLock.
  class DeviceLock {
   public:
    explicit DeviceLock(Machine& m);
    ~DeviceLock();
    DeviceLock(const DeviceLock&) = delete;
    DeviceLock& operator=(const DeviceLock&) = delete;

   private:
    Machine& m_;
  };
  AcpiPm& acpi_pm() { return *acpi_pm_; }
  // Installs a hard disk on the primary IDE channel: index 0 master
  // (--hda), 1 slave (--hdb). Takes effect at once (call before run()).
  void attach_hard_disk(int index, std::unique_ptr<DiskImage> image);
  // Makes the guest's disk writes durable (power-off): fdatasync on
  // write-through images. Returns false if any image failed to sync.
  bool flush_disks();
  // Installs an ATAPI CD-ROM drive as the secondary channel's master, as
  // QEMU's -cdrom (null `medium`: an empty drive). Call before run().
  void attach_cdrom(std::unique_ptr<CdromImage> medium);
  const MachineConfig& config() const { return config_; }
  uint64_t resets() const { return resets_; }

 private:
  void map_firmware();
  void setup_fw_cfg();
  void set_a20(bool enabled);
  // Applies an i440FX PAM segment setting to the 0xC0000-0xFFFFF shadow area.
  void apply_pam(uint32_t base, uint32_t size, bool read_ram, bool write_ram);
  // Follows the VGA's PCI BARs: the framebuffer (VRAM mapped like RAM) and
  // the expansion ROM (the VGA BIOS, read-only).
  void vga_bar_changed(int bar, std::optional<uint32_t> old_base, std::optional<uint32_t> new_base);
  // Gives [base, base+size) back what lies there without PCI BARs: RAM or
  // nothing, the VGA window, the PAM-controlled shadow area, the high
  // firmware copy.
  void restore_default_pages(uint32_t base, uint32_t size);

  MachineConfig config_;
  CpuState cpu_{};
  PhysicalMemory mem_;
  IoBus io_;
  VirtualClock clock_;
  std::unique_ptr<Pic8259Pair> pic_;
  std::unique_ptr<Pit8254> pit_;
  std::unique_ptr<CmosRtc> cmos_;
  std::unique_ptr<I8042> i8042_;
  std::unique_ptr<Uart16550> uart_[2];
  std::unique_ptr<PciBus> pci_;
  std::unique_ptr<I440fxHostBridge> host_;
  std::unique_ptr<Piix3IsaBridge> isa_;
  std::unique_ptr<PiixIde> ide_;
  std::unique_ptr<FwCfg> fw_cfg_;
  std::unique_ptr<Vga> vga_;
  std::unique_ptr<VgaPci> vga_pci_;
  std::vector<uint8_t> vga_rom_;  // config_.vga_bios padded to the ROM BAR size
  std::mutex device_mutex_;
  std::atomic<int> lock_waiters_{0};  // threads waiting in DeviceLock
  std::unique_ptr<AcpiPm> acpi_pm_;  // ACPI PM1/PM timer block (S5 power-off)
  // ROM pages of the firmware's low mapping, per 4 KiB page of
  // 0xC0000-0xFFFFF (nullptr where the image does not reach: plain RAM).
  std::vector<const uint8_t*> shadow_rom_;
  const uint8_t* high_rom_ = nullptr;  // the firmware's copy below 4 GiB (contiguous pages)
  uint32_t high_rom_base_ = 0;
  std::unique_ptr<DebugPorts> debug_ports_;
  std::unique_ptr<Port92> port92_;
  std::unique_ptr<Interpreter> interp_;
  std::unique_ptr<CpuEngine> engine_;
  bool exit_requested_ = false;
  int exit_status_ = 0;
  bool reset_requested_ = false;
  uint64_t resets_ = 0;
  std::function<void()> reset_hook_;
};

}  // namespace popek
