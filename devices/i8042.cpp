#include "devices/i8042.h"

namespace popek {

namespace {
constexpr uint8_t kPowerOnCommandByte = I8042::kCmdKbdInt | I8042::kCmdAuxInt;  // as QEMU
constexpr uint8_t kPowerOnOutputPort = 0xCF;  // reset high, A20 on, clock/data lines high
}  // namespace

I8042::I8042(std::function<void(bool)> set_a20, std::function<void()> request_reset)
    : set_a20_(std::move(set_a20)), request_reset_(std::move(request_reset)) {
  keyboard_.set_output_notify([this] { service(); });
  mouse_.set_output_notify([this] { service(); });
  ram_[0] = kPowerOnCommandByte;
}

void I8042::attach(IoBus& bus) {
  bus.register_ports(kDataPort, 1, this);
  bus.register_ports(kCommandPort, 1, this);
}

void I8042::set_log(std::function<void(std::string_view)> log) {
  log_ = log;
  keyboard_.set_log(log);
  mouse_.set_log(std::move(log));
}

void I8042::reset() {
  keyboard_.reset();
  mouse_.reset();
  for (uint8_t& b : ram_) b = 0;
  ram_[0] = kPowerOnCommandByte;
  output_port_ = kPowerOnOutputPort;
  output_ = 0;
  obf_ = false;
  auxb_ = false;
  a2_ = false;
  pending_ = 0;
  xlate_break_ = false;
  replies_.clear();
  update_irq();
}

void I8042::ignored(std::string_view what) {
  ++ignored_writes_;
  if (log_) log_(what);
}

uint8_t I8042::output_port() const {
  uint8_t v = output_port_ & static_cast<uint8_t>(~(kOutKbdObf | kOutAuxObf));
  if (obf_ && !auxb_) v |= kOutKbdObf;
  if (obf_ && auxb_) v |= kOutAuxObf;
  return v;
}

void I8042::reply(uint8_t byte, bool aux) {
  if (replies_.size() >= kMaxReplies) {
    ignored("i8042: reply queue full, reply dropped");
    return;
  }
  replies_.push_back(Reply{byte, aux});
  service();
}

void I8042::service() {
  while (!obf_) {
    if (!replies_.empty()) {
      output_ = replies_.front().byte;
      auxb_ = replies_.front().aux;
      replies_.pop_front();
      obf_ = true;
      break;
    }
    if (!(ram_[0] & kCmdKbdDisable) && keyboard_.has_output()) {
      uint8_t b = keyboard_.pop_output();
      if (ram_[0] & kCmdXlate) {
        if (b == 0xF0) {  // break prefix: folded into bit 7 of the next byte
          xlate_break_ = true;
          continue;
        }
        b = Ps2Keyboard::translate_to_set1(b);
        if (xlate_break_) b |= 0x80;
        xlate_break_ = false;
      }
      output_ = b;
      auxb_ = false;
      obf_ = true;
      break;
    }
    if (!(ram_[0] & kCmdAuxDisable) && mouse_.has_output()) {
      output_ = mouse_.pop_output();
      auxb_ = true;
      obf_ = true;
      break;
    }
    break;
  }
  update_irq();
}

void I8042::update_irq() {
  const bool kbd = obf_ && !auxb_ && (ram_[0] & kCmdKbdInt);
  const bool aux = obf_ && auxb_ && (ram_[0] & kCmdAuxInt);
  if (kbd != irq1_level_) {
    irq1_level_ = kbd;
    irq1_.set(kbd);
  }
  if (aux != irq12_level_) {
    irq12_level_ = aux;
    irq12_.set(aux);
  }
}

uint32_t I8042::io_read(uint16_t port, unsigned) {
  if (port == kDataPort) {
    const uint8_t v = output_;  // reading an empty buffer returns the last byte
    obf_ = false;
    update_irq();
    service();
    return v;
  }
  if (port == kCommandPort) {
    uint8_t s = kStatusInh;
    if (obf_) s |= kStatusObf;
    if (ram_[0] & kCmdSys) s |= kStatusSys;
    if (a2_) s |= kStatusA2;
    if (obf_ && auxb_) s |= kStatusAuxb;
    return s;
  }
  return 0xFF;
}

void I8042::io_write(uint16_t port, unsigned, uint32_t value) {
  const uint8_t v = static_cast<uint8_t>(value);
  if (port == kCommandPort) {
    a2_ = true;
    command(v);
  } else if (port == kDataPort) {
    a2_ = false;
    data(v);
  } else {
    ignored("i8042: write to a port it does not own");
  }
}

void I8042::write_output_port(uint8_t value) {
  const uint8_t old = output_port_;
  output_port_ = value;
  if ((old ^ value) & kOutA20) {
    if (set_a20_) set_a20_(value & kOutA20);
  }
  if (!(value & kOutReset)) {
    // The reset line is pulled low: the CPU resets; the line itself returns
    // high as the machine reset re-initialises the controller's outputs.
    output_port_ |= kOutReset;
    if (request_reset_) request_reset_();
  }
}

void I8042::command(uint8_t value) {
  pending_ = 0;  // a new command abandons a pending one
  if (value >= 0x20 && value <= 0x3F) {  // read RAM (0x20: command byte)
    reply(ram_[value & 0x1F]);
    return;
  }
  if (value >= 0x60 && value <= 0x7F) {  // write RAM: the next data byte
    pending_ = value;
    return;
  }
  if (value >= 0xF0) {  // pulse output port bits 3..0 low where the command has 0s
    if (!(value & 0x01)) {
      if (request_reset_) request_reset_();
    }
    return;
  }
  switch (value) {
    case 0xA7:  // disable mouse interface
      ram_[0] |= kCmdAuxDisable;
      break;
    case 0xA8:  // enable mouse interface
      ram_[0] &= static_cast<uint8_t>(~kCmdAuxDisable);
      service();
      break;
    case 0xA9:  // mouse interface test: 0 = no error
      reply(0x00);
      break;
    case 0xAA:  // controller self test
      ram_[0] |= kCmdSys;
      reply(0x55);
      break;
    case 0xAB:  // keyboard interface test
      reply(0x00);
      break;
    case 0xAD:  // disable keyboard interface
      ram_[0] |= kCmdKbdDisable;
      break;
    case 0xAE:  // enable keyboard interface
      ram_[0] &= static_cast<uint8_t>(~kCmdKbdDisable);
      service();
      break;
    case 0xC0:  // read input port: bit 7 keyboard not locked, rest 0
      reply(0x80);
      break;
    case 0xD0:  // read output port
      reply(output_port());
      break;
    case 0xD1:  // write output port
    case 0xD2:  // write keyboard output buffer
    case 0xD3:  // write mouse output buffer
    case 0xD4:  // write to mouse
      pending_ = value;
      break;
    case 0xE0:  // read test inputs (keyboard/mouse clock and data lines)
      reply(0x00);
      break;
    default:
      ignored("i8042: unknown or unsupported controller command");
      break;
  }
}

void I8042::data(uint8_t value) {
  const uint8_t cmd = pending_;
  pending_ = 0;
  if (cmd >= 0x60 && cmd <= 0x7F) {
    if (cmd == 0x60) {
      ram_[0] = value & 0x7F;  // bit 7 is reserved and reads 0
      if (value & 0x80) ignored("i8042: command byte bit 7 set");
      xlate_break_ = false;
      service();  // interfaces may have been enabled, IRQ enables changed
    } else {
      ram_[cmd & 0x1F] = value;
    }
    return;
  }
  switch (cmd) {
    case 0xD1:
      write_output_port(value);
      return;
    case 0xD2:
      reply(value, false);
      return;
    case 0xD3:
      reply(value, true);
      return;
    case 0xD4:
      ram_[0] &= static_cast<uint8_t>(~kCmdAuxDisable);
      mouse_.receive(value);
      service();
      return;
    default:
      // No pending command: the byte goes to the keyboard.
      ram_[0] &= static_cast<uint8_t>(~kCmdKbdDisable);
      keyboard_.receive(value);
      service();
      return;
  }
}

}  // namespace popek
