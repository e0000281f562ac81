// The PIIX3 IDE controller (PCI function 01.1, 8086:7010, class 01/01/80) in
// legacy ("compatibility") mode: two IDE channels, each with a command block
// of eight registers and a one-register control block, and two devices
// (master and slave) per channel.
//
//   primary   0x1F0-0x1F7, 0x3F6, IRQ 14
//   secondary 0x170-0x177, 0x376, IRQ 15
//   (0x3F7/0x377 belong to the floppy controller and are not claimed)
//
// Command block (offset from the base):
//   0 data        16-bit PIO data (32-bit accesses move two words)
//   1 R error     / W features
//   2 sector count
//   3 LBA 7:0     (CHS: sector number)
//   4 LBA 15:8    (CHS: cylinder low)
//   5 LBA 23:16   (CHS: cylinder high)
//   6 device/head bit 6 LBA, bit 4 DEV (0 master, 1 slave), bits 3:0 head
//                 or LBA 27:24; bits 7 and 5 are obsolete and read back as written
//   7 R status    (reading clears the device's pending interrupt)
//     W command
// Control block:
//   R alternate status (no side effects)
//   W device control: bit 1 nIEN (1 = INTRQ disabled), bit 2 SRST (software
//     reset while 1), bit 7 HOB (48-bit only; stored and ignored)
//
// Where this model departs from the ATA specification, and why:
//  - Both devices latch every command block write (as on real hardware), but
//    there is one copy of the command block per channel: after a command on
//    one device, reading the registers with the other device selected shows
//    the first device's outputs. Status and error are per device.
//  - Commands complete synchronously: BSY is never observed except while
//    SRST is held. PIO data is available as soon as the command is written.
//  - With the selected device absent, registers 1-5 and 7 read 0 and
//    commands to it are ignored (as QEMU does; SeaBIOS and Linux probe this
//    way). The device register always reads the latched value.
//  - The PCI command register's I/O enable and the IDETIM decode-enable bits
//    (0x40-0x43) are stored but do not gate the legacy ports, so a guest
//    started without firmware (direct kernel boot) still sees its disks.
//  - Bus-master IDE (BAR 4) is not implemented; BAR 4 reads 0 and drivers
//    fall back to PIO.
//  - Devices are IdeDevice subclasses: AtaDisk (devices/ata_disk.h) and the
//    ATAPI CD-ROM AtapiCdrom (devices/atapi_cdrom.h), which takes its 12-byte
//    command packet through write_data() and reports the byte count in
//    LBA 15:8/23:16.
//
// Wiring, as the machine is expected to do it:
//   PiixIde ide; ide.attach(io); pci.add(1, 1, &ide);
//   ide.irq14().connect(pic.input(14)); ide.irq15().connect(pic.input(15));
//   DiskImage::OpenResult r = DiskImage::open(path, snapshot ? Mode::Snapshot : Mode::ReadWrite);
//   if (!r.image) { report r.error; }  // e.g. "disk.img: size 1000 is not a multiple of 512 bytes"
//   ide.primary().set_device(0, std::make_unique<AtaDisk>(std::move(r.image)));   // --hda
//   ide.primary().set_device(1, ...);                                            // --hdb
//   ide.secondary().set_device(0, std::make_unique<AtapiCdrom>(std::move(iso)));  // --cdrom
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "core/io_bus.h"
#include "core/irq.h"
#include "devices/pci_bus.h"

namespace popek {

namespace ata {
// Status register bits.
constexpr uint8_t kStatusErr = 0x01;   // ERR: the error register holds the reason
constexpr uint8_t kStatusDrq = 0x08;   // DRQ: the device is ready for a PIO data transfer
constexpr uint8_t kStatusDsc = 0x10;   // DSC: seek complete (obsolete, always set when idle)
constexpr uint8_t kStatusDf = 0x20;    // DF: device fault
constexpr uint8_t kStatusDrdy = 0x40;  // DRDY: ready to accept commands
constexpr uint8_t kStatusBsy = 0x80;   // BSY: the device owns the command block
// Error register bits.
constexpr uint8_t kErrorAbrt = 0x04;   // ABRT: command aborted (unsupported or invalid)
constexpr uint8_t kErrorIdnf = 0x10;   // IDNF: address not found (out of range)
constexpr uint8_t kErrorUnc = 0x40;    // UNC: uncorrectable data error (host I/O failed)
// Device/head register bits.
constexpr uint8_t kDeviceLba = 0x40;
constexpr uint8_t kDeviceSlave = 0x10;
// Device control register bits.
constexpr uint8_t kControlNien = 0x02;
constexpr uint8_t kControlSrst = 0x04;
constexpr uint8_t kControlHob = 0x80;
// Diagnostic code in the error register after reset/diagnostics: device passed.
constexpr uint8_t kDiagnosticPassed = 0x01;
}  // namespace ata

// The command block registers as last written by the host or set by a device.
struct AtaRegisters {
  uint8_t feature = 0;       // features (write side of register 1)
  uint8_t sector_count = 0;  // register 2
  uint8_t lba_low = 0;       // register 3: LBA 7:0 / sector number
  uint8_t lba_mid = 0;       // register 4: LBA 15:8 / cylinder low
  uint8_t lba_high = 0;      // register 5: LBA 23:16 / cylinder high
  uint8_t device = 0;        // register 6: device/head
};

// One device on an IDE channel (an ATA disk or an ATAPI CD-ROM).
// The channel routes register accesses to the selected device and derives
// INTRQ from interrupt_pending().
class IdeDevice {
 public:
  virtual ~IdeDevice() = default;
  // Hardware reset (hard = true) or the end of an SRST pulse: abandon any
  // command, load the signature into `regs`, status ready, error = 0x01.
  virtual void reset(AtaRegisters& regs, bool hard) = 0;
  // A command written to the command register while this device is selected.
  virtual void execute(uint8_t command, AtaRegisters& regs) = 0;
  // Host accesses to the data register (size 1, 2 or 4).
  virtual uint32_t read_data(unsigned size, AtaRegisters& regs) = 0;
  virtual void write_data(unsigned size, uint32_t value, AtaRegisters& regs) = 0;

  uint8_t status() const { return status_; }
  uint8_t error() const { return error_; }
  bool interrupt_pending() const { return intrq_; }
  void clear_interrupt() { intrq_ = false; }
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }

 protected:
  void log(std::string_view message) const {
    if (log_) log_(message);
  }
  uint8_t status_ = ata::kStatusDrdy | ata::kStatusDsc;  // status register
  uint8_t error_ = ata::kDiagnosticPassed;               // error register
  bool intrq_ = false;                                   // interrupt pending (INTRQ before nIEN)

 private:
  std::function<void(std::string_view)> log_;
};

// One IDE channel: command block at `command_base`, control block at `control_port`.
class IdeChannel : public IoDevice {
 public:
  IdeChannel(uint16_t command_base, uint16_t control_port);
  IdeChannel(const IdeChannel&) = delete;
  IdeChannel& operator=(const IdeChannel&) = delete;

  void attach(IoBus& bus);
  // Hardware reset of the channel and its devices.
  void reset();
  // Installs (or removes, with nullptr) the master (0) or slave (1) device.
  void set_device(int index, std::unique_ptr<IdeDevice> device);
  IdeDevice* device(int index) const { return index == 0 || index == 1 ? devices_[index].get() : nullptr; }
  // INTRQ of the channel; the machine wires it to the PIC (IRQ 14 or 15).
  IrqLine& irq() { return irq_line_; }
  bool irq_level() const { return irq_level_; }
  const AtaRegisters& registers() const { return regs_; }
  uint8_t device_control() const { return control_; }
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  int selected_index() const { return regs_.device & ata::kDeviceSlave ? 1 : 0; }
  IdeDevice* selected() const { return devices_[selected_index()].get(); }
  bool any_device() const { return devices_[0] || devices_[1]; }
  uint8_t read_register(unsigned reg);
  void write_register(unsigned reg, uint8_t value);
  void write_control(uint8_t value);
  void execute_diagnostic();
  // Derives the INTRQ output from the selected device and nIEN.
  void update_irq();
  void log(std::string_view message) const {
    if (log_) log_(message);
  }

  const uint16_t command_base_;
  const uint16_t control_port_;
  std::array<std::unique_ptr<IdeDevice>, 2> devices_;
  AtaRegisters regs_;
  uint8_t control_ = 0;  // device control register (nIEN, SRST, HOB)
  IrqLine irq_line_;
  bool irq_level_ = false;  // level last driven on irq_line_
  std::function<void(std::string_view)> log_;
};

// PIIX3 IDE function: the PCI header plus the two legacy channels.
class PiixIde : public PciFunction {
 public:
  static constexpr uint16_t kPrimaryBase = 0x1F0;
  static constexpr uint16_t kPrimaryControl = 0x3F6;
  static constexpr uint16_t kSecondaryBase = 0x170;
  static constexpr uint16_t kSecondaryControl = 0x376;

  PiixIde();
  // Registers both channels' legacy ports.
  void attach(IoBus& bus);
  IdeChannel& channel(int index) { return index == 0 ? primary_ : secondary_; }
  IdeChannel& primary() { return primary_; }
  IdeChannel& secondary() { return secondary_; }
  IrqLine& irq14() { return primary_.irq(); }
  IrqLine& irq15() { return secondary_.irq(); }

 protected:
  // Reset of the PCI function (PciFunction::reset) also resets both channels.
  void reset_registers() override;

 private:
  IdeChannel primary_;
  IdeChannel secondary_;
};

}  // namespace popek
