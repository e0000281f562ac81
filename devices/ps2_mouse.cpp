#include "devices/ps2_mouse.h"

#include <algorithm>
#include <cstdlib>

namespace popek {

namespace {
constexpr int kAccumulatorLimit = 1 << 20;  // keeps host sums far from overflow
int saturating_add(int a, int b) {
  return std::clamp(a + std::clamp(b, -kAccumulatorLimit, kAccumulatorLimit), -kAccumulatorLimit,
                    kAccumulatorLimit);
}
}  // namespace

Ps2Mouse::Ps2Mouse() : Ps2Device(kQueueCapacity) {}

void Ps2Mouse::set_defaults() {
  rate_ = 100;
  resolution_ = 2;
  scaling21_ = false;
  reporting_ = false;
}

void Ps2Mouse::reset() {
  clear_output();
  set_defaults();
  id_ = 0;
  remote_ = false;
  wrap_ = false;
  dx_ = dy_ = dz_ = 0;
  rate_history_[0] = rate_history_[1] = rate_history_[2] = 0;
  pending_ = Pending::None;
  last_sent_ = kPs2Ack;
}

void Ps2Mouse::send(std::initializer_list<uint8_t> bytes) {
  clear_output();
  for (uint8_t b : bytes) last_sent_ = b;
  respond(bytes);
}

int Ps2Mouse::scale(int d) const {
  if (!scaling21_ || remote_) return d;
  // 2:1 scaling: 0,1,1,3,6,9 for |d| = 0..5, then 2*|d|.
  static constexpr int kSmall[6] = {0, 1, 1, 3, 6, 9};
  const int a = std::abs(d);
  const int s = a < 6 ? kSmall[a] : 2 * a;
  return d < 0 ? -s : s;
}

void Ps2Mouse::make_packet(uint8_t out[4], size_t* len) {
  int dx = scale(dx_), dy = scale(dy_);
  uint8_t b0 = 0x08 | (buttons_ & kLeft ? 0x01 : 0) | (buttons_ & kRight ? 0x02 : 0) |
               (buttons_ & kMiddle ? 0x04 : 0);
  if (dx > 255 || dx < -256) {
    b0 |= 0x40;
    dx = std::clamp(dx, -256, 255);
  }
  if (dy > 255 || dy < -256) {
    b0 |= 0x80;
    dy = std::clamp(dy, -256, 255);
  }
  if (dx < 0) b0 |= 0x10;
  if (dy < 0) b0 |= 0x20;
  out[0] = b0;
  out[1] = static_cast<uint8_t>(dx);
  out[2] = static_cast<uint8_t>(dy);
  *len = 3;
  if (id_ == 3) {
    out[3] = static_cast<uint8_t>(std::clamp(dz_, -8, 7));
    *len = 4;
  } else if (id_ == 4) {
    out[3] = static_cast<uint8_t>((std::clamp(dz_, -8, 7) & 0x0F) |
                                  (buttons_ & kButton4 ? 0x10 : 0) |
                                  (buttons_ & kButton5 ? 0x20 : 0));
    *len = 4;
  }
  dx_ = dy_ = dz_ = 0;
}

void Ps2Mouse::stream_packet() {
  if (remote_ || !reporting_ || wrap_) return;
  uint8_t p[4];
  size_t n = 0;
  make_packet(p, &n);
  if (space() < n) {
    ignored("ps2 mouse: queue full, packet dropped");
    return;
  }
  for (size_t i = 0; i < n; ++i) push_raw(p[i]);
  last_sent_ = p[n - 1];
  notify();
}

void Ps2Mouse::mouse_motion(int dx, int dy, int dz) {
  dx_ = saturating_add(dx_, dx);
  dy_ = saturating_add(dy_, dy);
  dz_ = saturating_add(dz_, dz);
  stream_packet();
}

void Ps2Mouse::mouse_buttons(uint8_t mask) {
  mask &= kLeft | kRight | kMiddle | kButton4 | kButton5;
  if (mask == buttons_) return;
  buttons_ = mask;
  stream_packet();
}

void Ps2Mouse::receive(uint8_t byte) {
  if (wrap_ && byte != 0xEC && byte != 0xFF) {
    respond({byte});  // wrap mode echoes
    last_sent_ = byte;
    return;
  }
  if (byte == 0xFF) pending_ = Pending::None;  // reset is honoured even mid-command
  if (pending_ != Pending::None) {
    const Pending p = pending_;
    pending_ = Pending::None;
    if (p == Pending::SampleRate) {
      static constexpr uint8_t kRates[] = {10, 20, 40, 60, 80, 100, 200};
      if (std::find(std::begin(kRates), std::end(kRates), byte) == std::end(kRates)) {
        ignored("ps2 mouse: invalid sample rate");
        send({kPs2Resend});
        return;
      }
      rate_ = byte;
      rate_history_[0] = rate_history_[1];
      rate_history_[1] = rate_history_[2];
      rate_history_[2] = byte;
      // The IntelliMouse knocks.
      if (rate_history_[0] == 200 && rate_history_[1] == 100 && rate_history_[2] == 80 &&
          id_ == 0) {
        id_ = 3;
      } else if (rate_history_[0] == 200 && rate_history_[1] == 200 &&
                 rate_history_[2] == 80 && id_ == 3) {
        id_ = 4;
      }
      send({kPs2Ack});
      return;
    }
    if (p == Pending::Resolution) {
      if (byte > 3) {
        ignored("ps2 mouse: invalid resolution");
        send({kPs2Resend});
        return;
      }
      resolution_ = byte;
      send({kPs2Ack});
      return;
    }
  }
  // Commands answered by more (or other) than a plain ACK return early; the
  // rest fall through to the one ACK after the switch.
  switch (byte) {
    case 0xFF:  // reset
      reset();
      send({kPs2Ack, kPs2SelfTestPassed, 0x00});
      return;
    case 0xFE:  // resend
      respond({last_sent_});
      return;
    case 0xF2:  // get device ID
      send({kPs2Ack, id_});
      return;
    case 0xEB: {  // read data
      uint8_t p[4];
      size_t n = 0;
      make_packet(p, &n);
      clear_output();
      push_raw(kPs2Ack);
      for (size_t i = 0; i < n; ++i) push_raw(p[i]);
      last_sent_ = p[n - 1];
      notify();
      return;
    }
    case 0xE9: {  // status request
      const uint8_t status = static_cast<uint8_t>(
          (remote_ ? 0x40 : 0) | (reporting_ ? 0x20 : 0) | (scaling21_ ? 0x10 : 0) |
          (buttons_ & kLeft ? 0x04 : 0) | (buttons_ & kMiddle ? 0x02 : 0) |
          (buttons_ & kRight ? 0x01 : 0));
      send({kPs2Ack, status, resolution_, rate_});
      return;
    }
    case 0xF6:  // set defaults
      set_defaults();
      dx_ = dy_ = dz_ = 0;
      break;
    case 0xF5: reporting_ = false; break;  // disable reporting
    case 0xF4:  // enable reporting
      reporting_ = true;
      dx_ = dy_ = dz_ = 0;
      break;
    case 0xF3: pending_ = Pending::SampleRate; break;
    case 0xF0:  // remote mode
    case 0xEA:  // stream mode
      remote_ = byte == 0xF0;
      dx_ = dy_ = dz_ = 0;
      break;
    case 0xEE: wrap_ = true; break;   // wrap mode
    case 0xEC: wrap_ = false; break;  // reset wrap mode
    case 0xE8: pending_ = Pending::Resolution; break;
    case 0xE7: scaling21_ = true; break;   // scaling 2:1
    case 0xE6: scaling21_ = false; break;  // scaling 1:1
    default:
      ignored("ps2 mouse: unknown command");
      send({kPs2Resend});
      return;
  }
  send({kPs2Ack});
}

}  // namespace popek
