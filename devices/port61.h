// Port 0x61, "system control port B" of the PC/AT: the speaker controls and
// a few status bits. Owned and attached by Pit8254, whose channel 2 it gates
// and reads.
//
//   bit 0  R/W  timer 2 gate (GATE input of PIT channel 2)
//   bit 1  R/W  speaker data enable (speaker = bit 1 AND timer 2 OUT)
//   bit 2  R/W  parity check disable (stored only; no parity errors occur)
//   bit 3  R/W  I/O channel check disable (stored only)
//   bit 4  R    refresh request toggle: flips every ~15.085 us of virtual time
//   bit 5  R    timer 2 OUT
//   bit 6  R    I/O channel check (always 0)
//   bit 7  R    RAM parity error (always 0)
// Writes to bits 7..4 are ignored, as on the AT (bit 7 there clears a latched
// parity error, which never occurs here).
#pragma once
#include <cstdint>

#include "core/clock.h"
#include "core/io_bus.h"

namespace popek {

class Pit8254;

class SystemControlPortB : public IoDevice {
 public:
  static constexpr uint16_t kPort = 0x61;
  // One DRAM refresh every 15.085 us (PIT channel 1 at count 18 on the AT).
  static constexpr uint64_t kRefreshToggleNs = 15'085;

  SystemControlPortB(VirtualClock& clock, Pit8254& pit);
  void attach(IoBus& bus);
  void reset();

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  bool timer2_gate() const { return control_ & 0x01; }
  bool speaker_data_enabled() const { return control_ & 0x02; }
  // The speaker cone's drive level right now (bit 1 AND timer 2 OUT).
  bool speaker_level();

 private:
  VirtualClock& clock_;
  Pit8254& pit_;
  uint8_t control_ = 0;  // bits 3..0 as last written (see the table above)
};

}  // namespace popek
