// Interrupt wiring between devices and the CPU, without either knowing the other.
#pragma once
#include <cstdint>
#include <functional>

namespace popek {

// An output interrupt line of a device. The owner of the line (the machine)
// connects it to an interrupt controller input; the device only drives levels.
class IrqLine {
 public:
  IrqLine() = default;
  explicit IrqLine(std::function<void(bool)> sink) : sink_(std::move(sink)) {}
  void connect(std::function<void(bool)> sink) { sink_ = std::move(sink); }
  void set(bool level) {
    if (sink_) sink_(level);
  }
  void raise() { set(true); }
  void lower() { set(false); }
  // An edge-triggered pulse (raise then lower), as ISA devices often produce.
  void pulse() {
    set(true);
    set(false);
  }

 private:
  std::function<void(bool)> sink_;
};

// What the CPU sees of the interrupt controller: is INTR asserted, and the
// vector an INTA cycle returns.
class InterruptController {
 public:
  virtual ~InterruptController() = default;
  virtual bool intr_pending() const = 0;
  virtual uint8_t acknowledge() = 0;
};

}  // namespace popek
