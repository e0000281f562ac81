// IoBus: the x86 I/O port space. Devices register port ranges; an access
// with no device behind it reads as all ones and writes are dropped.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace popek {

// Anything that answers port I/O. `size` is 1, 2 or 4 bytes. A device that
// registered with wide=false only ever sees 1-byte accesses: the bus splits
// wider ones into consecutive byte accesses, as the ISA bus does.
class IoDevice {
 public:
  virtual ~IoDevice() = default;
  virtual uint32_t io_read(uint16_t port, unsigned size) = 0;
  virtual void io_write(uint16_t port, unsigned size, uint32_t value) = 0;
};

class IoBus {
 public:
  IoBus();
  void register_ports(uint16_t first, unsigned count, IoDevice* device, bool wide = false);
  void unregister_ports(uint16_t first, unsigned count);
  uint32_t read(uint16_t port, unsigned size);
  void write(uint16_t port, unsigned size, uint32_t value);

 private:
  struct Slot {
    IoDevice* device = nullptr;
    bool wide = false;
  };
  std::vector<Slot> slots_;  // 65536 entries
};

}  // namespace popek
