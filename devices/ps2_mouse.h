// A PS/2 mouse on the 8042's auxiliary port, with the IntelliMouse (wheel,
// ID 3) and IntelliMouse Explorer (wheel + buttons 4/5, ID 4) extensions.
//
// Commands (host -> mouse; all ACKed with 0xFA unless noted):
//   0xFF reset: ACK, 0xAA, 0x00 (ID); defaults, stream mode, reporting off
//   0xFE resend: the last byte sent again (no ACK)
//   0xF6 set defaults (100 samples/s, 4 counts/mm, 1:1, reporting off)
//   0xF5 disable reporting;  0xF4 enable reporting (stream mode)
//   0xF3 <rate> sample rate (10..200; others rejected with 0xFE). The
//        sequence 200,100,80 turns on the wheel (ID 3); then 200,200,80
//        turns on the 5-button wheel mode (ID 4)
//   0xF2 get ID: ACK, ID (0, 3 or 4)
//   0xF0 remote mode;  0xEA stream mode;  0xEB read data: ACK + one packet
//   0xEE wrap mode (echo every byte but 0xEC and 0xFF);  0xEC leave wrap mode
//   0xE9 status: ACK, then [0 remote enabled scaling21 0 left middle right]
//        (bits 6..0), resolution, sample rate
//   0xE8 <res> resolution 0..3 (1, 2, 4, 8 counts/mm)
//   0xE7 scaling 2:1;  0xE6 scaling 1:1
//   anything else: 0xFE (resend request), logged
//
// Packet (stream mode on movement or button change, or 0xEB):
//   byte 0: bit 0 left, bit 1 right, bit 2 middle, bit 3 always 1,
//           bit 4 X sign, bit 5 Y sign, bit 6 X overflow, bit 7 Y overflow
//   byte 1: X movement (low 8 bits of the 9-bit two's complement value)
//   byte 2: Y movement (positive = up, the PS/2 convention)
//   byte 3 (ID 3): Z (wheel) as a 4-bit signed value, sign-extended
//   byte 3 (ID 4): bits 3..0 Z, bit 4 button 4, bit 5 button 5
// A movement beyond the 9-bit range -256..255 is clamped to it and flags
// the axis's overflow bit.
//
// Departures, and why: packets are produced per host event rather than at
// the sample rate (the rate is stored and reported only); in stream mode a
// packet that does not fit in the bounded queue is dropped whole, so the
// stream never loses its framing.
#pragma once
#include <cstdint>

#include "devices/ps2_device.h"

namespace popek {

class Ps2Mouse : public Ps2Device {
 public:
  static constexpr size_t kQueueCapacity = 64;  // 16 four-byte packets
  // Host button bits.
  static constexpr uint8_t kLeft = 0x01;
  static constexpr uint8_t kRight = 0x02;
  static constexpr uint8_t kMiddle = 0x04;
  static constexpr uint8_t kButton4 = 0x08;
  static constexpr uint8_t kButton5 = 0x10;

  Ps2Mouse();
  void receive(uint8_t byte) override;
  void reset() override;

  // Host movement since the last call: dx right, dy up, dz wheel (positive
  // = towards the user, as the IntelliMouse reports).
  void mouse_motion(int dx, int dy, int dz = 0);
  // Host button state (kLeft | kRight | ...).
  void mouse_buttons(uint8_t mask);

  uint8_t device_id() const { return id_; }
  bool reporting() const { return reporting_; }
  bool remote_mode() const { return remote_; }
  uint8_t sample_rate() const { return rate_; }
  uint8_t resolution() const { return resolution_; }
  bool scaling_2to1() const { return scaling21_; }

 private:
  enum class Pending : uint8_t { None, SampleRate, Resolution };
  void set_defaults();
  void send(std::initializer_list<uint8_t> bytes);
  // Builds a packet from the accumulated movement and clears it.
  void make_packet(uint8_t out[4], size_t* len);
  void stream_packet();
  int scale(int d) const;

  uint8_t id_ = 0;          // 0 standard, 3 wheel, 4 wheel + 5 buttons
  bool reporting_ = false;  // F4/F5 data reporting
  bool remote_ = false;     // F0 remote mode (else stream mode)
  bool wrap_ = false;       // EE wrap (echo) mode
  bool scaling21_ = false;  // E7 2:1 scaling (stream mode only)
  uint8_t rate_ = 100;      // F3 samples/s
  uint8_t resolution_ = 2;  // E8 0..3: 1, 2, 4, 8 counts/mm
  uint8_t buttons_ = 0;     // current host button state
  int dx_ = 0, dy_ = 0, dz_ = 0;  // movement not yet reported
  uint8_t rate_history_[3] = {0, 0, 0};  // last three sample rates, newest last
  Pending pending_ = Pending::None;
  uint8_t last_sent_ = kPs2Ack;
};

}  // namespace popek
