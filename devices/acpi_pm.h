// ACPI fixed-hardware power management registers, laid out as the PIIX4's
// PM I/O block (QEMU's PIIX4 PM at base 0x600):
//   base+0  PM1a_STS (16 bits, write 1 to clear)  base+2 PM1a_EN (16 bits)
//   base+4  PM1a_CNT (16 bits)                    base+8 PM_TMR (32 bits, 24 used)
// Only what a guest needs to power the machine off and to read the ACPI PM
// timer: SCI_EN always reads 1 (ACPI mode is fixed; the FADT has no SMI_CMD),
// writing SLP_EN with SLP_TYP = kSoftOffType (the value the DSDT's \_S5
// package gives) calls the power-off callback. No SCI is ever raised: the
// timer-overflow and button events are not modelled. The loader's ACPI tables
// (core/linux_boot_acpi.cpp) describe this block.
#pragma once
#include <cstdint>
#include <functional>

#include "core/clock.h"
#include "core/io_bus.h"

namespace popek {

class AcpiPm : public IoDevice {
 public:
  static constexpr uint16_t kBase = 0x600;
  static constexpr unsigned kPortCount = 12;
  static constexpr uint16_t kPm1aEvt = kBase, kPm1aCnt = kBase + 4, kPmTmr = kBase + 8;
  static constexpr uint32_t kTimerHz = 3579545;  // the ACPI PM timer's fixed rate
  static constexpr unsigned kSoftOffType = 0;   // SLP_TYP of S5 (PIIX4: "soft off")
  static constexpr uint16_t kSciEn = 1u << 0, kSlpTypShift = 10, kSlpTypMask = 7u << 10, kSlpEn = 1u << 13;

  AcpiPm(VirtualClock& clock, std::function<void()> power_off)
      : clock_(clock), power_off_(std::move(power_off)) {}
  void attach(IoBus& bus) { bus.register_ports(kBase, kPortCount, this, true); }
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;
  void reset();
  // The PM timer's 24-bit count now.
  uint32_t timer() const;

 private:
  uint8_t read_byte(unsigned offset) const;
  void write_byte(unsigned offset, uint8_t value);

  VirtualClock& clock_;
  std::function<void()> power_off_;
  uint16_t sts_ = 0, en_ = 0, cnt_ = kSciEn;
};

}  // namespace popek
