// Debug and exit ports used by test ROMs and firmware:
//   0xE9  Bochs/QEMU debug console (write: a byte of output; read: 0xE9)
//   0x402 SeaBIOS debug log port (same console)
//   0xF4  isa-debug-exit: writing v requests exit with status (v << 1) | 1
//   0x8900 Bochs/APM shutdown port: the string "Shutdown" requests exit 0
#pragma once
#include <functional>
#include <string>

#include "core/io_bus.h"

namespace popek {

class DebugPorts : public IoDevice {
 public:
  using Output = std::function<void(char)>;
  using ExitRequest = std::function<void(int status)>;
  DebugPorts(Output out, ExitRequest exit) : out_(std::move(out)), exit_(std::move(exit)) {}
  void attach(IoBus& bus);
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;
  void reset() { shutdown_match_ = 0; }

 private:
  Output out_;
  ExitRequest exit_;
  size_t shutdown_match_ = 0;
};

// System control port A (0x92): bit 1 is the fast A20 gate, bit 0 a fast
// reset (pulsing it to 1 resets the CPU).
class Port92 : public IoDevice {
 public:
  Port92(std::function<void(bool)> set_a20, std::function<bool()> get_a20,
         std::function<void()> reset_cpu)
      : set_a20_(std::move(set_a20)), get_a20_(std::move(get_a20)), reset_(std::move(reset_cpu)) {}
  void attach(IoBus& bus) { bus.register_ports(0x92, 1, this); }
  uint32_t io_read(uint16_t, unsigned) override { return get_a20_() ? 0x02 : 0x00; }
  void io_write(uint16_t, unsigned, uint32_t value) override {
    set_a20_(value & 2);
    if (value & 1) reset_();
  }

 private:
  std::function<void(bool)> set_a20_;
  std::function<bool()> get_a20_;
  std::function<void()> reset_;
};

}  // namespace popek
