// The i440FX PCI and memory controller (PMC, host bridge at 00.0) and the
// PIIX3 PCI-to-ISA bridge (function 0 at 01.0), as SeaBIOS and QEMU's "pc"
// machine know them.
//
// i440FX (8086:1237, class 06/00/00): of its many DRAM controller registers
// only the ones firmware relies on are modelled:
//   0x59-0x5F PAM0-PAM6 Programmable Attribute Map. Each nibble covers one
//             segment: bit 0 (RE) reads come from DRAM, bit 1 (WE) writes go
//             to DRAM; with a bit clear the access goes to PCI (the ROM).
//             PAM0 bits 5:4 cover 0xF0000-0xFFFFF (its low nibble is
//             reserved); PAM1..PAM6 low/high nibbles cover the 16 KiB
//             segments 0xC0000, 0xC4000, ... 0xEC000.
//   0x72      SMRAM control: stored (bits 6:3 and the fixed 010b in 2:0);
//             D_LCK (bit 4) locks D_OPEN (bit 6) and itself until reset.
//             No SMRAM decoding: there is no SMM in the CPU model.
//   0x50-0x58 PMCCFG/DETURBO/DBC/DRT/DRAMC/DRAMT and 0x60-0x67 DRB,
//             0x70-0x71, 0x78-0x79: plain storage so that firmware sees its
//             writes; they have no effect.
// The machine applies PAM settings to the memory map through on_pam_change.
//
// PIIX3 function 0 (8086:7000, class 06/01/00):
//   0x4C      IORT ISA I/O recovery timer (stored)
//   0x4E-0x4F XBCS X-bus chip select (stored)
//   0x60-0x63 PIRQRC[A:D] PIRQ route control: bit 7 IRQROUTEN (1 = not
//             routed), bits 3:0 the ISA IRQ. IRQ 0, 1, 2, 8 and 13 are
//             reserved; a PIRQ routed there is treated as not routed.
//   0x69      TOM top of memory (stored), 0x6A-0x6B MSTAT (stored)
//   0x70      MBIRQ0 motherboard IRQ route (stored), 0x76-0x77 MBDMA (stored)
//   0x80      APICBASE, 0x82 DLC, 0xA0-0xAF SMI/power management (stored)
//   I/O 0xCF9 Reset control register: bit 1 SRST (hard reset), bit 2 RCPU
//             (a 0-to-1 transition resets the system). Both kinds invoke
//             the machine's reset callback.
// The ELCR (0x4D0/0x4D1) lives in the PIC model.
//
// PCI INTx routing: a device in slot S asserting INTn# (n = 1..4 for A..D)
// drives PIRQ[(S + n - 1) & 3], the standard swizzle of the PIIX-based
// boards and of QEMU's i440FX. Each PIRQ is the OR of every source on it,
// and each ISA IRQ the OR of every PIRQ routed to it; the result goes to the
// machine's IRQ sink only when it changes.
//
// Wiring, as the machine is expected to do it:
//   PciBus pci; I440fxHostBridge host; Piix3IsaBridge isa(
//       [&pic](int irq, bool level) { pic.set_irq(irq, level); });
//   pci.attach(io); isa.attach(io);               // 0xCF8/0xCFC, 0xCF9
//   pci.add(0, 0, &host); pci.add(1, 0, &isa); pci.add(1, 1, &ide);
//   host.on_pam_change(...remap 0xC0000-0xFFFFF ROM/RAM...); host.announce_pam();
//   isa.on_reset_request(...machine reset...);
//   some_pci_device.intx().connect(isa.intx_input(slot, some_pci_device.interrupt_pin()));
// PCI interrupts are level triggered: the firmware sets the routed IRQs'
// ELCR bits in the PIC.
#pragma once
#include <array>
#include <cstdint>
#include <functional>

#include "core/io_bus.h"
#include "devices/pci_bus.h"

namespace popek {

class I440fxHostBridge : public PciFunction {
 public:
  static constexpr uint8_t kPam0 = 0x59;
  static constexpr uint8_t kPam6 = 0x5F;
  static constexpr uint8_t kSmram = 0x72;
  static constexpr int kPamSegments = 13;  // 0xF0000 (64 KiB) + 12 × 16 KiB from 0xC0000

  // Called for each segment whose RAM read/write enables change.
  using PamChange = std::function<void(uint32_t segment_base, uint32_t size, bool read_enable_ram,
                                       bool write_enable_ram)>;

  I440fxHostBridge();

  void on_pam_change(PamChange callback) { pam_change_ = std::move(callback); }
  // Reports every segment's current state through the callback (the machine
  // calls this once after wiring, to establish the power-on mapping).
  void announce_pam() const;

  struct PamSegment {
    uint32_t base;
    uint32_t size;
    bool read_ram;
    bool write_ram;
  };
  // Segment i (0 = 0xF0000, 1.. = 0xC0000 + 0x4000 * (i - 1)).
  PamSegment pam_segment(int i) const;
  uint8_t smram() const { return config8(kSmram); }

 protected:
  void config_written(uint8_t offset, unsigned size, uint32_t old_dword) override;
  void reset_registers() override;

 private:
  // Segment i's two PAM bits (RE = bit 0, WE = bit 1) taken from `pam`, the
  // seven PAM bytes.
  static unsigned pam_bits(const std::array<uint8_t, 7>& pam, int i);
  std::array<uint8_t, 7> pam_bytes() const;
  void notify_pam(const std::array<uint8_t, 7>& before);

  PamChange pam_change_;
  bool smram_locked_ = false;  // D_LCK was written as 1 since the last reset
};

class Piix3IsaBridge : public PciFunction, public IoDevice {
 public:
  static constexpr uint8_t kPirqRouteBase = 0x60;  // PIRQRCA..PIRQRCD
  static constexpr uint8_t kPirqDisabled = 0x80;   // IRQROUTEN
  static constexpr uint16_t kResetControlPort = 0xCF9;
  static constexpr int kPirqs = 4;

  using IsaIrqSink = std::function<void(int irq, bool level)>;

  // `isa_irq` receives ISA IRQ level changes caused by PCI interrupts.
  explicit Piix3IsaBridge(IsaIrqSink isa_irq = {});

  // Registers the reset control register at 0xCF9.
  void attach(IoBus& bus);
  void set_isa_irq_sink(IsaIrqSink sink) { isa_irq_ = std::move(sink); }
  // Invoked when the guest requests a system reset through 0xCF9.
  void on_reset_request(std::function<void()> callback) { reset_request_ = std::move(callback); }

  // The ISA IRQ PIRQ `pirq` (0..3 = A..D) is steered to, or -1 if not routed.
  int pirq_to_irq(int pirq) const;
  // Device-side INTx: `device` is the PCI slot (0..31), `pin` 1..4 (INTA#..INTD#).
  void set_pci_intx(int device, int pin, bool level);
  // A sink for a PciFunction's intx() line in slot `device`, pin `pin`.
  std::function<void(bool)> intx_input(int device, int pin);
  // The level of PIRQ `pirq` (OR of its sources).
  bool pirq_level(int pirq) const;
  bool isa_irq_level(int irq) const { return irq >= 0 && irq < 16 && (driven_ >> irq & 1); }

  // IoDevice: the reset control register.
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 protected:
  void config_written(uint8_t offset, unsigned size, uint32_t old_dword) override;
  void reset_registers() override;

 private:
  // Derives every ISA IRQ level from the INTx sources and the routing.
  void update_irq();

  IsaIrqSink isa_irq_;
  std::function<void()> reset_request_;
  std::array<uint8_t, pci::kDevices> intx_asserted_{};  // per slot: bit n-1 = INTn# asserted
  uint16_t driven_ = 0;          // ISA IRQ levels last sent to the sink
  uint8_t reset_control_ = 0;    // 0xCF9: bit 1 SRST, bit 2 RCPU (bit 3 FULL_RST stored)
};

}  // namespace popek
