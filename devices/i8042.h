// The Intel 8042 keyboard controller of the PC/AT (PS/2 variant with an
// auxiliary port), owning a PS/2 keyboard and a PS/2 mouse.
//
//   port 0x60 read   output buffer (clears OBF)
//   port 0x60 write  data: the parameter of a pending controller command,
//                    else a byte for the keyboard
//   port 0x64 read   status register:
//                      bit 0 OBF   output buffer full
//                      bit 1 IBF   input buffer full (always 0: writes are
//                                  processed at once)
//                      bit 2 SYS   system flag (command byte bit 2)
//                      bit 3 A2    last write was to 0x64 (command)
//                      bit 4 INH   1 = keyboard not inhibited (key lock off)
//                      bit 5 AUXB  the output buffer holds mouse data
//                      bit 6 TO    timeout (never set: devices answer at once)
//                      bit 7 PERR  parity error (never set)
//   port 0x64 write  controller command
//
// Command byte (RAM byte 0; 0x20 reads it, 0x60 writes it):
//   bit 0 IRQ 1 on keyboard data;  bit 1 IRQ 12 on mouse data
//   bit 2 SYS flag;  bit 3 ignore keyboard lock (stored only)
//   bit 4 keyboard interface disabled;  bit 5 mouse interface disabled
//   bit 6 XLATE: translate keyboard set-2 bytes to set 1;  bit 7 reserved (0)
//
// Output port (0xD0 reads it, 0xD1 writes it):
//   bit 0 system reset (0 = reset the CPU: request_reset)
//   bit 1 A20 gate (set_a20)
//   bit 4 output buffer full with keyboard data (IRQ 1), read-only
//   bit 5 output buffer full with mouse data (IRQ 12), read-only
//   bits 7..6 keyboard data/clock, bits 3..2 mouse data/clock (stored)
//
// Other commands: 0x21..0x3F / 0x61..0x7F read/write controller RAM, 0xA7 /
// 0xA8 disable/enable mouse, 0xA9 mouse interface test (0x00), 0xAA self
// test (0x55; sets SYS), 0xAB keyboard interface test (0x00), 0xAD / 0xAE
// disable/enable keyboard, 0xC0 read input port, 0xD2 / 0xD3 write the next
// byte into the output buffer as keyboard / mouse data, 0xD4 send the next
// byte to the mouse, 0xE0 read test inputs (0x00), 0xF0..0xFF pulse output
// port bits 3..0 low for each 0 bit in the command (bit 0 = reset). Others
// are logged and ignored.
//
// Departures, and why:
//  - Writing a byte to a device (0x60 data, or 0xD4) re-enables that
//    device's interface, as QEMU does; some guests rely on it.
//  - The output buffer is refilled from the devices as soon as it is read,
//    with no 8042 firmware delay; controller replies take precedence over
//    device bytes, the keyboard over the mouse.
//  - On reset the output port reads 0xCF (A20 on, as QEMU starts), but
//    set_a20 is not called: the machine resets its own A20 state.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>

#include "core/io_bus.h"
#include "core/irq.h"
#include "devices/ps2_keyboard.h"
#include "devices/ps2_mouse.h"

namespace popek {

class I8042 : public IoDevice {
 public:
  static constexpr uint16_t kDataPort = 0x60;
  static constexpr uint16_t kCommandPort = 0x64;

  // Status register bits.
  static constexpr uint8_t kStatusObf = 0x01;
  static constexpr uint8_t kStatusIbf = 0x02;
  static constexpr uint8_t kStatusSys = 0x04;
  static constexpr uint8_t kStatusA2 = 0x08;
  static constexpr uint8_t kStatusInh = 0x10;
  static constexpr uint8_t kStatusAuxb = 0x20;
  static constexpr uint8_t kStatusTimeout = 0x40;
  static constexpr uint8_t kStatusParity = 0x80;
  // Command byte bits.
  static constexpr uint8_t kCmdKbdInt = 0x01;
  static constexpr uint8_t kCmdAuxInt = 0x02;
  static constexpr uint8_t kCmdSys = 0x04;
  static constexpr uint8_t kCmdIgnoreLock = 0x08;
  static constexpr uint8_t kCmdKbdDisable = 0x10;
  static constexpr uint8_t kCmdAuxDisable = 0x20;
  static constexpr uint8_t kCmdXlate = 0x40;
  // Output port bits.
  static constexpr uint8_t kOutReset = 0x01;
  static constexpr uint8_t kOutA20 = 0x02;
  static constexpr uint8_t kOutKbdObf = 0x10;
  static constexpr uint8_t kOutAuxObf = 0x20;

  // `set_a20` is called when the guest changes output port bit 1;
  // `request_reset` when it pulls the reset line (0xD1 bit 0 = 0, 0xFE, ...).
  I8042(std::function<void(bool)> set_a20, std::function<void()> request_reset);
  I8042(const I8042&) = delete;
  I8042& operator=(const I8042&) = delete;

  // Registers ports 0x60 and 0x64.
  void attach(IoBus& bus);
  // Controller, keyboard and mouse back to their power-on state.
  void reset();

  IrqLine& irq1() { return irq1_; }
  IrqLine& irq12() { return irq12_; }
  Ps2Keyboard& keyboard() { return keyboard_; }
  Ps2Mouse& mouse() { return mouse_; }

  // Host input, forwarded to the devices.
  void key_event(KeyCode key, bool pressed) { keyboard_.key_event(key, pressed); }
  void mouse_motion(int dx, int dy, int dz = 0) { mouse_.mouse_motion(dx, dy, dz); }
  void mouse_buttons(uint8_t mask) { mouse_.mouse_buttons(mask); }

  uint8_t command_byte() const { return ram_[0]; }
  uint8_t output_port() const;
  bool a20() const { return output_port_ & kOutA20; }

  // IoDevice (byte accesses only).
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  void set_log(std::function<void(std::string_view)> log);
  uint64_t ignored_writes() const { return ignored_writes_; }

 private:
  struct Reply {
    uint8_t byte;
    bool aux;  // delivered as mouse data (AUXB, IRQ 12)
  };
  void command(uint8_t value);
  void data(uint8_t value);
  void write_output_port(uint8_t value);
  void reply(uint8_t byte, bool aux = false);
  // Refills an empty output buffer from the replies and the devices.
  void service();
  // Derives IRQ 1 and IRQ 12 from OBF, AUXB and the command byte.
  void update_irq();
  void ignored(std::string_view what);

  std::function<void(bool)> set_a20_;
  std::function<void()> request_reset_;
  Ps2Keyboard keyboard_;
  Ps2Mouse mouse_;
  IrqLine irq1_;
  IrqLine irq12_;
  bool irq1_level_ = false;
  bool irq12_level_ = false;

  uint8_t ram_[32] = {};       // controller RAM; byte 0 is the command byte
  uint8_t output_port_ = 0xCF; // see the table above (bits 5..4 derived)
  uint8_t output_ = 0;         // output buffer
  bool obf_ = false;           // output buffer full
  bool auxb_ = false;          // output buffer holds mouse data
  bool a2_ = false;            // last write went to the command port
  uint8_t pending_ = 0;        // command awaiting its data byte (0 = none)
  bool xlate_break_ = false;   // translation saw F0: the next byte is a break
  std::deque<Reply> replies_;  // controller replies not yet in the output buffer
  static constexpr size_t kMaxReplies = 4;
  std::function<void(std::string_view)> log_;
  uint64_t ignored_writes_ = 0;
};

}  // namespace popek
