#include "devices/debug_ports.h"

namespace popek {

void DebugPorts::attach(IoBus& bus) {
  bus.register_ports(0xe9, 1, this);
  bus.register_ports(0x402, 1, this);
  bus.register_ports(0xf4, 1, this);
  bus.register_ports(0x8900, 1, this);
}

uint32_t DebugPorts::io_read(uint16_t port, unsigned) {
  // Presence check: Bochs-aware guests read 0xE9 back from port 0xE9, and
  // SeaBIOS reads it from 0x402 (QEMU's isa-debugcon) before logging there.
  if (port == 0xe9 || port == 0x402) return 0xe9;
  return 0xff;
}

void DebugPorts::io_write(uint16_t port, unsigned, uint32_t value) {
  switch (port) {
    case 0xe9:
    case 0x402:
      out_(static_cast<char>(value & 0xff));
      break;
    case 0xf4:
      exit_(static_cast<int>(((value & 0xff) << 1) | 1));
      break;
    case 0x8900: {
      static constexpr char kWord[] = "Shutdown";
      char c = static_cast<char>(value & 0xff);
      if (c == kWord[shutdown_match_]) {
        if (++shutdown_match_ == sizeof kWord - 1) {
          shutdown_match_ = 0;
          exit_(0);
        }
      } else {
        shutdown_match_ = (c == kWord[0]) ? 1 : 0;
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace popek
