#include "core/io_bus.h"

namespace popek {

IoBus::IoBus() : slots_(65536) {}

void IoBus::register_ports(uint16_t first, unsigned count, IoDevice* device, bool wide) {
  for (unsigned i = 0; i < count && first + i < 65536u; ++i) slots_[first + i] = Slot{device, wide};
}

void IoBus::unregister_ports(uint16_t first, unsigned count) {
  for (unsigned i = 0; i < count && first + i < 65536u; ++i) slots_[first + i] = Slot{};
}

uint32_t IoBus::read(uint16_t port, unsigned size) {
  const Slot& s = slots_[port];
  if (s.device && (s.wide || size == 1)) return s.device->io_read(port, size);
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    const Slot& b = slots_[static_cast<uint16_t>(port + i)];
    uint32_t byte = b.device ? (b.device->io_read(static_cast<uint16_t>(port + i), 1) & 0xff) : 0xff;
    value |= byte << (8 * i);
  }
  return value;
}

void IoBus::write(uint16_t port, unsigned size, uint32_t value) {
  const Slot& s = slots_[port];
  if (s.device && (s.wide || size == 1)) {
    s.device->io_write(port, size, value);
    return;
  }
  for (unsigned i = 0; i < size; ++i) {
    const Slot& b = slots_[static_cast<uint16_t>(port + i)];
    if (b.device) b.device->io_write(static_cast<uint16_t>(port + i), 1, (value >> (8 * i)) & 0xff);
  }
}

}  // namespace popek
