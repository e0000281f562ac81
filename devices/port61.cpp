#include "devices/port61.h"

#include "devices/pit8254.h"

namespace popek {

SystemControlPortB::SystemControlPortB(VirtualClock& clock, Pit8254& pit)
    : clock_(clock), pit_(pit) {}

void SystemControlPortB::attach(IoBus& bus) { bus.register_ports(kPort, 1, this); }

void SystemControlPortB::reset() {
  control_ = 0;
  pit_.set_gate(2, false);
}

uint32_t SystemControlPortB::io_read(uint16_t /*port*/, unsigned /*size*/) {
  uint8_t value = control_ & 0x0F;
  if ((clock_.now() / kRefreshToggleNs) & 1) value |= 0x10;
  if (pit_.out(2)) value |= 0x20;
  return value;
}

void SystemControlPortB::io_write(uint16_t /*port*/, unsigned /*size*/, uint32_t value) {
  control_ = static_cast<uint8_t>(value & 0x0F);
  pit_.set_gate(2, control_ & 0x01);
}

bool SystemControlPortB::speaker_level() { return speaker_data_enabled() && pit_.out(2); }

}  // namespace popek
