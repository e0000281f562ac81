#include "devices/acpi_pm.h"

#include <cstdio>

namespace popek {

void AcpiPm::reset() {
  sts_ = 0;
  en_ = 0;
  cnt_ = kSciEn;
}

uint32_t AcpiPm::timer() const {
  const unsigned __int128 ticks = static_cast<unsigned __int128>(clock_.now()) * kTimerHz / 1000000000u;
  return static_cast<uint32_t>(ticks) & 0xffffffu;
}

uint8_t AcpiPm::read_byte(unsigned offset) const {
  switch (offset) {
    case 0: return static_cast<uint8_t>(sts_);
    case 1: return static_cast<uint8_t>(sts_ >> 8);
    case 2: return static_cast<uint8_t>(en_);
    case 3: return static_cast<uint8_t>(en_ >> 8);
    case 4: return static_cast<uint8_t>(cnt_);
    case 5: return static_cast<uint8_t>(cnt_ >> 8);
    case 8: case 9: case 10: case 11: return static_cast<uint8_t>(timer() >> (8 * (offset - 8)));
    default: return 0;
  }
}

void AcpiPm::write_byte(unsigned offset, uint8_t value) {
  switch (offset) {
    case 0: sts_ &= static_cast<uint16_t>(~value); break;
    case 1: sts_ &= static_cast<uint16_t>(~(value << 8)); break;
    case 2: en_ = static_cast<uint16_t>((en_ & 0xff00) | value); break;
    case 3: en_ = static_cast<uint16_t>((en_ & 0x00ff) | (value << 8)); break;
    case 4: cnt_ = static_cast<uint16_t>((cnt_ & 0xff00) | value | kSciEn); break;
    case 5: cnt_ = static_cast<uint16_t>((cnt_ & 0x00ff) | (value << 8)); break;
    default: break;  // the timer is read-only
  }
}

uint32_t AcpiPm::io_read(uint16_t port, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    unsigned offset = static_cast<unsigned>(port - kBase) + i;
    v |= uint32_t(offset < kPortCount ? read_byte(offset) : 0xff) << (8 * i);
  }
  return v;
}

void AcpiPm::io_write(uint16_t port, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    unsigned offset = static_cast<unsigned>(port - kBase) + i;
    if (offset < kPortCount) write_byte(offset, static_cast<uint8_t>(value >> (8 * i)));
  }
  if (cnt_ & kSlpEn) {
    const unsigned type = (cnt_ & kSlpTypMask) >> kSlpTypShift;
    cnt_ &= static_cast<uint16_t>(~kSlpEn);  // SLP_EN is write-only
    if (type == kSoftOffType) {
      if (power_off_) power_off_();
    } else {
      std::fprintf(stderr, "popek: ACPI sleep type %u is not supported (only S5 soft-off); ignored\n", type);
    }
  }
}

}  // namespace popek
