#include "devices/pit8254.h"

namespace popek {

namespace {
constexpr uint64_t kNsPerSecond = 1'000'000'000;
}  // namespace

uint64_t Pit8254::tick_at(uint64_t ns) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * kInputHz / kNsPerSecond);
}

uint64_t Pit8254::ns_at_tick(uint64_t tick) {
  return static_cast<uint64_t>(
      (static_cast<unsigned __int128>(tick) * kNsPerSecond + kInputHz - 1) / kInputHz);
}

// ----------------------------------------------------------------------------
// Counting-element formulas. For a running segment, e = t - base ticks have
// elapsed since the counting element was loaded with `count` (N).
//   mode 0/1: CE = N - e (wrapping); OUT low until e = N (mode 1 only after a trigger)
//   mode 4/5: CE = N - e (wrapping); OUT low only at e = N
//   mode 2:   period N, CE = N .. 1; OUT low while CE = 1
//   mode 3:   period N, high for ceil(N/2) ticks then low for floor(N/2);
//             CE counts down by two from N (even) or N-1 (odd) in each half
// ----------------------------------------------------------------------------

uint32_t Pit8254::Channel::count_at(const Segment& s, uint64_t t) const {
  const uint32_t m = modulus();
  if (!s.running) return s.count % m;
  const uint64_t e = t - s.base;
  const uint64_t n = s.count;
  switch (mode()) {
    case 2: return static_cast<uint32_t>((n - e % n) % m);
    case 3: {
      const uint64_t high = (n + 1) / 2;
      const uint64_t j = (e + (s.start_low ? high : 0)) % n;
      const uint64_t step = j < high ? j : j - high;
      const uint64_t top = (n & 1) ? n - 1 : n;
      return static_cast<uint32_t>((top - 2 * step) % m);
    }
    default: return static_cast<uint32_t>((n + m - e % m) % m);
  }
}

bool Pit8254::Channel::out_at(const Segment& s, uint64_t t) const {
  if (!s.running) return s.out;
  const uint64_t e = t - s.base;
  const uint64_t n = s.count;
  switch (mode()) {
    case 0:
    case 1: return !s.armed || e >= n;
    case 4:
    case 5: return !(s.armed && e == n);
    case 2: return e % n != n - 1;
    default: {  // mode 3
      const uint64_t high = (n + 1) / 2;
      return (e + (s.start_low ? high : 0)) % n < high;
    }
  }
}

std::optional<uint64_t> Pit8254::Channel::next_out_change(const Segment& s, uint64_t t) const {
  if (!s.running) return std::nullopt;
  const uint64_t e = t - s.base;
  const uint64_t n = s.count;
  switch (mode()) {
    case 0:
    case 1:
      if (s.armed && e < n) return s.base + n;
      return std::nullopt;
    case 4:
    case 5:
      if (!s.armed || e > n) return std::nullopt;
      return e < n ? s.base + n : s.base + n + 1;
    case 2: {
      if (n < 2) return std::nullopt;  // count 1: OUT stays low
      const uint64_t j = e % n;
      return j < n - 1 ? t + (n - 1 - j) : t + 1;
    }
    default: {  // mode 3
      const uint64_t high = (n + 1) / 2;
      if (n / 2 == 0) return std::nullopt;  // count 1: OUT stays high
      const uint64_t j = (e + (s.start_low ? high : 0)) % n;
      return j < high ? t + (high - j) : t + (n - j);
    }
  }
}

bool Pit8254::Channel::rises_between(const Segment& s, uint64_t after, uint64_t upto) const {
  if (!s.running || upto <= after) return false;
  const uint64_t ea = after - s.base;
  const uint64_t eb = upto - s.base;
  const uint64_t n = s.count;
  switch (mode()) {
    case 0:
    case 1: return s.armed && ea < n && n <= eb;
    case 4:
    case 5: return s.armed && ea < n + 1 && n + 1 <= eb;
    case 2: return n >= 2 && eb / n > ea / n;  // rises where the count reloads
    default: {                                 // mode 3: rises where a high half begins
      if (n / 2 == 0) return false;
      const uint64_t off = s.start_low ? (n + 1) / 2 : 0;
      return (eb + off) / n > (ea + off) / n;
    }
  }
}

uint64_t Pit8254::Channel::next_cycle_boundary(const Segment& s, uint64_t t, bool* start_low) const {
  const uint64_t e = t - s.base;
  const uint64_t n = s.count;
  if (mode() == 2) {
    *start_low = false;
    return s.base + (e / n + 1) * n;  // the next reload
  }
  const uint64_t high = (n + 1) / 2;
  const uint64_t j = (e + (s.start_low ? high : 0)) % n;
  *start_low = j < high;  // the next half-cycle is the low one
  return j < high ? t + (high - j) : t + (n - j);
}

void Pit8254::Channel::advance(uint64_t t) {
  if (t <= synced_tick) return;
  while (next && next->base <= t) {
    const uint64_t p = next->base;  // always > synced_tick
    if (rises_between(cur, synced_tick, p - 1)) rose = true;
    const bool before = out_at(cur, p - 1);
    cur = *next;
    next.reset();
    if (!before && out_at(cur, p)) rose = true;
    if (cur.from_count_register) null_count = false;
    synced_tick = p;
  }
  if (rises_between(cur, synced_tick, t)) rose = true;
  synced_tick = t;
}

Pit8254::Segment Pit8254::Channel::frozen_now(uint64_t t, bool out) const {
  Segment s;
  s.base = t;
  s.count = count_at(cur, t);
  s.loaded = cur.loaded;
  s.armed = cur.armed && (!cur.running || t - cur.base < cur.count);
  s.out = out;
  return s;
}

uint16_t Pit8254::Channel::encode(uint32_t count) const {
  if (!bcd) return static_cast<uint16_t>(count);
  count %= 10000;
  return static_cast<uint16_t>((count / 1000) << 12 | (count / 100 % 10) << 8 |
                               (count / 10 % 10) << 4 | count % 10);
}

uint16_t Pit8254::Channel::current_count_encoded() const {
  return encode(count_at(cur, synced_tick));
}

// ----------------------------------------------------------------------------
// The chip
// ----------------------------------------------------------------------------

Pit8254::Pit8254(VirtualClock& clock)
    : clock_(clock), irq0_timer_(clock, [this] { sync(channels_[0]); }), port61_(clock, *this) {
  reset();
}

void Pit8254::attach(IoBus& bus) {
  bus.register_ports(kBase, 4, this);
  port61_.attach(bus);
}

void Pit8254::reset() {
  const uint64_t t = now_tick();
  for (int i = 0; i < kChannels; ++i) {
    Channel& c = channels_[i];
    IrqLine line = std::move(c.out_line);
    const bool reported = c.reported_out;
    c = Channel{};
    c.out_line = std::move(line);
    c.reported_out = reported;
    c.gate = (i != 2);
    c.synced_tick = t;
    c.cur.base = t;
    update_irq(c);
  }
  port61_.reset();
}

void Pit8254::ignored(std::string_view what) {
  ++ignored_writes_;
  if (log_) log_(what);
}

void Pit8254::sync(Channel& c) {
  c.advance(now_tick());
  update_irq(c);
}

void Pit8254::update_irq(Channel& c) {
  const bool out = c.current_out();
  if (c.rose) {
    // Edges passed while nobody looked: replay one rising edge so that an
    // edge-triggered PIC input still sees it.
    if (c.reported_out) c.out_line.set(false);
    c.out_line.set(true);
    if (!out) c.out_line.set(false);
  } else if (out != c.reported_out) {
    c.out_line.set(out);
  }
  c.reported_out = out;
  c.rose = false;
  if (&c == &channels_[0]) schedule_irq0();
}

void Pit8254::schedule_irq0() {
  const Channel& c = channels_[0];
  std::optional<uint64_t> when = c.next_out_change(c.cur, c.synced_tick);
  if (c.next && (!when || *when >= c.next->base)) {
    // The scheduled load comes first: OUT changes at the load itself, or
    // later within the loaded segment.
    const uint64_t p = c.next->base;
    if (c.out_at(c.cur, p - 1) != c.out_at(*c.next, p))
      when = p;
    else
      when = c.next_out_change(*c.next, p);
  }
  if (when)
    irq0_timer_.arm_at(ns_at_tick(*when));
  else
    irq0_timer_.cancel();
}

void Pit8254::set_gate(int channel, bool level) {
  if (channel < 0 || channel >= kChannels) return;
  Channel& c = channels_[channel];
  if (c.gate == level) return;
  c.advance(now_tick());
  const uint64_t t = c.synced_tick;
  c.gate = level;
  switch (c.mode()) {
    case 0:
    case 4:  // GATE enables counting; OUT is unaffected
      if (!level) {
        if (c.cur.running) c.cur = c.frozen_now(t, c.current_out());
      } else if (!c.cur.running && c.cur.loaded) {
        c.cur.running = true;
        c.cur.base = t;
      }
      if (c.next) c.next->running = level;
      break;
    case 2:
    case 3:  // GATE low stops counting with OUT high; a rising edge reloads
      if (!level) {
        c.cur = c.frozen_now(t, true);
        c.next.reset();
      } else if (c.count_written) {
        Segment load;
        load.base = t + 1;
        load.count = c.count_register;
        load.running = load.loaded = true;
        load.from_count_register = true;
        c.next = load;
      }
      break;
    default:  // modes 1 and 5: a rising edge triggers a load
      if (level && c.count_written) {
        Segment load;
        load.base = t + 1;
        load.count = c.count_register;
        load.running = load.loaded = load.armed = true;
        load.from_count_register = true;
        c.next = load;
      }
      break;
  }
  update_irq(c);
}

bool Pit8254::out(int channel) {
  if (channel < 0 || channel >= kChannels) return false;
  Channel& c = channels_[channel];
  sync(c);
  return c.current_out();
}

uint32_t Pit8254::io_read(uint16_t port, unsigned /*size*/) {
  if (port >= kBase && port < kBase + kChannels) return read_counter(channels_[port - kBase]);
  return 0xFF;  // the control word register cannot be read
}

void Pit8254::io_write(uint16_t port, unsigned /*size*/, uint32_t value) {
  const uint8_t byte = static_cast<uint8_t>(value);
  if (port >= kBase && port < kBase + kChannels)
    write_counter(channels_[port - kBase], byte);
  else if (port == kControlPort)
    write_control(byte);
  else
    ignored("pit: write to a port it does not own");
}

void Pit8254::write_control(uint8_t value) {
  const int select = value >> 6;  // SC1..SC0
  if (select == 3) {
    read_back(value);
    return;
  }
  Channel& c = channels_[select];
  if (((value >> 4) & 3) == 0)
    latch_count(c);  // RW = 00: counter latch command
  else
    program_channel(c, value);
}

void Pit8254::program_channel(Channel& c, uint8_t value) {
  c.advance(now_tick());
  const uint64_t t = c.synced_tick;
  const uint32_t held = c.count_at(c.cur, t);
  c.mode_bits = (value >> 1) & 7;
  c.access = (value >> 4) & 3;
  c.bcd = value & 1;
  c.write_msb_next = c.read_msb_next = false;
  c.count_latched = c.status_latched = false;
  c.count_written = false;
  c.null_count = true;
  c.next.reset();
  // The control logic resets: counting stops (the counting element keeps its
  // value) and OUT goes to the mode's initial level.
  Segment idle;
  idle.base = t;
  idle.count = held % c.modulus();
  idle.out = c.mode() != 0;
  c.cur = idle;
  update_irq(c);
}

void Pit8254::read_back(uint8_t value) {
  if (value & 0x01) ignored("pit: read-back command with reserved bit 0 set");
  const bool count = !(value & 0x20);   // COUNT is active low
  const bool status = !(value & 0x10);  // STATUS is active low
  for (int i = 0; i < kChannels; ++i) {
    if (!(value & (2 << i))) continue;  // CNT0..CNT2 in bits 1..3
    if (count) latch_count(channels_[i]);
    if (status) latch_status(channels_[i]);
  }
}

void Pit8254::latch_count(Channel& c) {
  if (c.count_latched) return;  // a second latch before the read is ignored
  sync(c);
  c.output_latch = c.current_count_encoded();
  c.count_latched = true;
  c.read_msb_next = false;
}

void Pit8254::latch_status(Channel& c) {
  if (c.status_latched) return;
  sync(c);
  c.status_latch = static_cast<uint8_t>(c.current_out() << 7 | c.null_count << 6 | c.access << 4 |
                                        c.mode_bits << 1 | (c.bcd ? 1 : 0));
  c.status_latched = true;
}

uint32_t Pit8254::decode_count(const Channel& c, uint16_t value) {
  if (!c.bcd) return value ? value : 65536u;
  uint32_t count = 0;
  bool valid = true;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const uint32_t digit = (value >> shift) & 0xF;
    valid = valid && digit <= 9;
    count = count * 10 + digit;
  }
  if (!valid) ignored("pit: BCD count with a digit above 9");
  count %= 10000;
  return count ? count : 10000u;
}

void Pit8254::write_counter(Channel& c, uint8_t value) {
  c.advance(now_tick());
  const uint64_t t = c.synced_tick;
  uint16_t word;
  switch (c.access) {
    case 1: word = value; break;
    case 2: word = static_cast<uint16_t>(value << 8); break;
    default:
      if (!c.write_msb_next) {
        c.pending_lsb = value;
        c.write_msb_next = true;
        if (c.mode() == 0) {
          // Mode 0: the first byte stops counting and drops OUT at once.
          c.cur = c.frozen_now(t, false);
          c.cur.loaded = false;
          c.next.reset();
          update_irq(c);
        }
        return;
      }
      c.write_msb_next = false;
      word = static_cast<uint16_t>(c.pending_lsb | value << 8);
      break;
  }
  c.count_register = decode_count(c, word);
  c.count_written = true;
  c.null_count = true;
  load_new_count(c, t);
  update_irq(c);
}

void Pit8254::load_new_count(Channel& c, uint64_t t) {
  Segment load;
  load.base = t + 1;  // the count moves to the counting element on the next CLK
  load.count = c.count_register;
  load.loaded = load.armed = true;
  load.from_count_register = true;
  switch (c.mode()) {
    case 0:
      c.cur = c.frozen_now(t, false);
      c.cur.loaded = false;
      load.running = c.gate;
      load.out = false;
      c.next = load;
      break;
    case 4:
      load.running = c.gate;
      load.out = true;
      c.next = load;
      break;
    case 2:
    case 3:
      if (c.count_register == 1) ignored("pit: count of 1 is illegal in modes 2 and 3");
      load.running = true;
      if (c.cur.running && c.cur.loaded) {
        // Counting in progress: the new count takes over at the end of the
        // current cycle (mode 2) or half-cycle (mode 3).
        bool start_low = false;
        load.base = c.next_cycle_boundary(c.cur, t, &start_low);
        load.start_low = start_low;
        c.next = load;
      } else if (c.gate) {
        c.next = load;
      }
      break;
    default:  // modes 1 and 5 wait for a rising edge on GATE
      break;
  }
}

uint8_t Pit8254::read_counter(Channel& c) {
  if (c.status_latched) {
    c.status_latched = false;
    return c.status_latch;
  }
  uint16_t value;
  if (c.count_latched) {
    value = c.output_latch;
  } else {
    sync(c);
    value = c.current_count_encoded();
  }
  uint8_t byte;
  switch (c.access) {
    case 1:
      byte = static_cast<uint8_t>(value);
      c.count_latched = false;
      break;
    case 2:
      byte = static_cast<uint8_t>(value >> 8);
      c.count_latched = false;
      break;
    default:
      if (!c.read_msb_next) {
        byte = static_cast<uint8_t>(value);
        c.read_msb_next = true;
      } else {
        byte = static_cast<uint8_t>(value >> 8);
        c.read_msb_next = false;
        c.count_latched = false;
      }
      break;
  }
  return byte;
}

}  // namespace popek
