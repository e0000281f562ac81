// PCI bus 0 with configuration mechanism #1, and the PciFunction base class
// every PCI device model derives from.
//
// Configuration mechanism #1 (PCI Local Bus Specification 2.1, 3.2.2.3.2):
//   0xCF8 CONFIG_ADDRESS, 32-bit accesses only:
//     bit 31     enable: data-port accesses become configuration cycles
//     bits 30:24 reserved, read as 0
//     bits 23:16 bus number (only bus 0 exists; other buses read all ones)
//     bits 15:11 device number (0..31)
//     bits 10:8  function number (0..7)
//     bits 7:2   dword register number
//     bits 1:0   reserved, read as 0 (type 0 cycle)
//   0xCFC-0xCFF CONFIG_DATA: byte, word or dword accesses; the low two port
//     bits select the byte within the addressed dword.
//
// Where this model departs from the specification, and why:
//  - Byte and word accesses to 0xCF8 are not configuration accesses (as on
//    the 440FX, which passes them on as ordinary I/O); the bus registers only
//    port 0xCF8 itself, so 0xCF9 (the PIIX3 reset control register) stays free
//    for its owner. A byte access at 0xCF8 reads 0xFF and is ignored.
//  - A data-port access that runs past 0xCFF only reaches bytes inside the
//    dword; the rest read as 0xFF and are dropped.
//  - There are no PCI-to-PCI bridges: every bus other than 0 is empty.
//  - Capabilities lists and 64-bit BARs are not modelled (they read as
//    zero); a device that needs one can add it by overriding
//    config_read/config_write. The expansion ROM BAR (0x30) is available
//    through define_rom_bar() and reported as BAR index pci::kRomBar.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "core/io_bus.h"
#include "core/irq.h"

namespace popek {

// Standard type 0 configuration header offsets.
namespace pci {
constexpr uint8_t kVendorId = 0x00;       // 16 bits, read-only
constexpr uint8_t kDeviceId = 0x02;       // 16 bits, read-only
constexpr uint8_t kCommand = 0x04;        // 16 bits
constexpr uint8_t kStatus = 0x06;         // 16 bits, error bits write-1-to-clear
constexpr uint8_t kRevision = 0x08;       // read-only
constexpr uint8_t kProgIf = 0x09;         // class code: programming interface, read-only
constexpr uint8_t kSubclass = 0x0A;       // class code: subclass, read-only
constexpr uint8_t kClass = 0x0B;          // class code: base class, read-only
constexpr uint8_t kCacheLineSize = 0x0C;  // read/write, no effect
constexpr uint8_t kLatencyTimer = 0x0D;   // read/write, no effect
constexpr uint8_t kHeaderType = 0x0E;     // bit 7 multi-function, bits 6:0 layout (0)
constexpr uint8_t kBist = 0x0F;           // not supported: reads 0
constexpr uint8_t kBar0 = 0x10;           // six 32-bit BARs, 0x10-0x27
constexpr uint8_t kSubsystemVendorId = 0x2C;
constexpr uint8_t kSubsystemId = 0x2E;
constexpr uint8_t kRomAddress = 0x30;     // expansion ROM BAR: bits 31:11 address, bit 0 enable
constexpr uint8_t kInterruptLine = 0x3C;  // read/write scratch for the OS (ISA IRQ number)
constexpr uint8_t kInterruptPin = 0x3D;   // read-only: 0 none, 1..4 = INTA#..INTD#

// Command register bits.
constexpr uint16_t kCommandIo = 1u << 0;            // I/O space decode enable
constexpr uint16_t kCommandMemory = 1u << 1;        // memory space decode enable
constexpr uint16_t kCommandBusMaster = 1u << 2;     // may initiate bus cycles (DMA)
constexpr uint16_t kCommandParity = 1u << 6;        // parity error response (stored only)
constexpr uint16_t kCommandSerr = 1u << 8;          // SERR# enable (stored only)
constexpr uint16_t kCommandIntxDisable = 1u << 10;  // INTx# assertion disabled

// Status register bits.
constexpr uint16_t kStatusInterrupt = 1u << 3;  // read-only: INTx# requested (before the disable bit)
constexpr uint16_t kStatusErrorBits = 0xF900;   // parity/abort/SERR bits: write 1 to clear

constexpr int kBarCount = 6;
constexpr int kRomBar = 6;    // BAR index used for the expansion ROM in BAR APIs and callbacks
constexpr int kBarSlots = 7;  // six BARs plus the expansion ROM
constexpr int kDevices = 32;
constexpr int kFunctions = 8;
}  // namespace pci

// One PCI function's configuration space and the standard header semantics.
// The 256 bytes live in config_; write_mask_ says which bits a guest may
// write, w1c_mask_ which bits it clears by writing 1. A device model sets up
// its header in its constructor (through the protected setters), marks its
// device-specific registers writable, and reacts to writes in config_written.
class PciFunction {
 public:
  enum class BarKind : uint8_t { None, Io, Memory, Rom };
  // A BAR's decoded address, or nullopt when the BAR is not decoded (decode
  // disabled in the command register, address 0, the all-ones sizing value,
  // an I/O address beyond 64 KiB, or for the ROM BAR its enable bit clear).
  using BarMapping = std::optional<uint32_t>;
  using BarChange = std::function<void(int bar, BarMapping old_base, BarMapping new_base)>;

  PciFunction(uint16_t vendor, uint16_t device, uint8_t base_class, uint8_t subclass,
              uint8_t prog_if, uint8_t revision = 0);
  virtual ~PciFunction() = default;
  PciFunction(const PciFunction&) = delete;
  PciFunction& operator=(const PciFunction&) = delete;

  // Guest accesses. `offset` + `size` never crosses a dword boundary (the
  // bus guarantees it); size is 1, 2 or 4.
  virtual uint32_t config_read(uint8_t offset, unsigned size);
  virtual void config_write(uint8_t offset, unsigned size, uint32_t value);
  // Returns the registers to their power-on values (command 0, BARs 0,
  // interrupt line 0, device registers via reset_registers()). BAR change
  // callbacks fire for mappings that go away.
  void reset();

  // --- Owner-side view ---
  uint16_t vendor_id() const { return config16(pci::kVendorId); }
  uint16_t device_id() const { return config16(pci::kDeviceId); }
  uint16_t command() const { return config16(pci::kCommand); }
  bool io_enabled() const { return command() & pci::kCommandIo; }
  bool memory_enabled() const { return command() & pci::kCommandMemory; }
  bool bus_master_enabled() const { return command() & pci::kCommandBusMaster; }
  uint8_t interrupt_line() const { return config_[pci::kInterruptLine]; }
  uint8_t interrupt_pin() const { return config_[pci::kInterruptPin]; }
  BarKind bar_kind(int bar) const;
  uint32_t bar_size(int bar) const;
  // The programmed base address of `bar` (type bits stripped), regardless of
  // decode enables.
  uint32_t bar_address(int bar) const;
  BarMapping bar_mapping(int bar) const;
  // Called whenever a BAR's decoded mapping changes (address or decode enable).
  void on_bar_change(BarChange callback) { bar_change_ = std::move(callback); }

  // INTx# output. The owner drives its interrupt request here; the line
  // follows it unless the command register's INTx disable bit is set, and
  // status bit 3 reflects the request. The machine connects intx() to the
  // ISA bridge's routing (Piix3::intx_input).
  void set_intx(bool level);
  IrqLine& intx() { return intx_line_; }

  // Raw access for owners and tests (no masks, no side effects).
  uint8_t config8(uint8_t offset) const { return config_[offset]; }
  uint16_t config16(uint8_t offset) const;
  uint32_t config32(uint8_t offset) const;

  // Header type bit 7; set by PciBus when another function shares the slot.
  void set_multi_function(bool on);
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }

 protected:
  // Declares BAR `bar` (0..5) as an I/O (size >= 4) or 32-bit memory
  // (size >= 16) BAR of `size` bytes; size is rounded up to a power of two.
  void define_bar(int bar, BarKind kind, uint32_t size, bool prefetchable = false);
  // Declares the expansion ROM BAR (size >= 2 KiB, rounded up to a power of
  // two). Its mapping needs bit 0 and the command register's memory enable.
  void define_rom_bar(uint32_t size);
  void set_interrupt_pin(uint8_t pin);  // 0 none, 1..4 INTA#..INTD#
  void set_subsystem(uint16_t vendor, uint16_t device);
  // Makes [offset, offset+count) guest-writable with `mask` per byte.
  void set_writable(uint8_t offset, unsigned count, uint8_t mask = 0xFF);
  void set_config8(uint8_t offset, uint8_t value) { config_[offset] = value; }
  void set_config16(uint8_t offset, uint16_t value);
  void set_config32(uint8_t offset, uint32_t value);

  // Hook after a guest write changed bytes [offset, offset+size), with the
  // dword's old contents for comparison.
  virtual void config_written(uint8_t offset, unsigned size, uint32_t old_dword) {
    (void)offset;
    (void)size;
    (void)old_dword;
  }
  // Device-specific power-on values of registers beyond the standard header.
  virtual void reset_registers() {}
  void log(std::string_view message) const {
    if (log_) log_(message);
  }

 private:
  struct Bar {
    BarKind kind = BarKind::None;
    uint32_t size = 0;
    uint8_t type_bits = 0;  // low bits: I/O = 01b, memory = prefetchable << 3
  };
  void refresh_bar_mappings();
  void update_intx();

  std::array<uint8_t, 256> config_{};      // the configuration space
  std::array<uint8_t, 256> write_mask_{};  // 1 = bit writable by the guest
  std::array<uint8_t, 256> w1c_mask_{};    // 1 = bit cleared by writing 1
  static uint8_t bar_offset(int bar) {
    return static_cast<uint8_t>(bar == pci::kRomBar ? pci::kRomAddress : pci::kBar0 + 4 * bar);
  }

  std::array<Bar, pci::kBarSlots> bars_{};
  std::array<BarMapping, pci::kBarSlots> mapped_{};  // last mapping reported
  BarChange bar_change_;
  bool intx_request_ = false;  // owner's INTx# request
  bool intx_level_ = false;    // level last driven on intx_line_
  IrqLine intx_line_;
  std::function<void(std::string_view)> log_;
};

// PCI bus 0 behind configuration mechanism #1.
class PciBus : public IoDevice {
 public:
  static constexpr uint16_t kAddressPort = 0xCF8;
  static constexpr uint16_t kDataPort = 0xCFC;  // 0xCFC-0xCFF

  PciBus() = default;
  PciBus(const PciBus&) = delete;
  PciBus& operator=(const PciBus&) = delete;

  // Registers 0xCF8 (dword accesses) and 0xCFC-0xCFF.
  void attach(IoBus& bus);
  // Clears CONFIG_ADDRESS and resets every function.
  void reset();

  // Places `fn` (not owned) at device `device` (0..31), function `function`
  // (0..7). Returns false when the slot is out of range or taken. Function 0
  // gets the multi-function header bit once any other function is added.
  bool add(int device, int function, PciFunction* fn);
  PciFunction* function(int device, int function) const;

  // Configuration cycles by bus/device/function, as the data port performs
  // them (also used by tests and by firmware-less setup code).
  uint32_t config_read(int bus, int device, int function, uint8_t offset, unsigned size);
  void config_write(int bus, int device, int function, uint8_t offset, unsigned size, uint32_t value);

  uint32_t config_address() const { return config_address_; }

  // IoDevice.
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  static constexpr uint32_t kAddressEnable = 1u << 31;
  static constexpr uint32_t kAddressWritable = 0x80FFFFFC;  // reserved bits read as 0

  std::array<std::array<PciFunction*, pci::kFunctions>, pci::kDevices> slots_{};
  uint32_t config_address_ = 0;  // CONFIG_ADDRESS (0xCF8)
};

}  // namespace popek
