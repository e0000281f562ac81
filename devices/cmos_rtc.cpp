#include "devices/cmos_rtc.h"

#include <algorithm>
#include <ctime>

namespace popek {

namespace {

constexpr uint64_t kTimeBaseHz = 32'768;
constexpr uint64_t kSecondsPerDay = 86'400;
// The first update after the divider leaves reset comes half a second later.
constexpr uint64_t kFirstUpdateDelayNs = CmosRtc::kNsPerSecond / 2;

// Days since 1970-01-01 of a proleptic Gregorian date (era-based, valid for
// negative years too).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                              // 0..399
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // 0..365
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;     // 0..146096
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Month length as the chip counts it: a leap year is any year divisible by
// four in its two-digit year register (right for 1901..2099).
int days_in_month(int month, int year) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 31;
  if (month == 2 && year % 4 == 0) return 29;
  return kDays[month - 1];
}

// Boot device letter to the nibble QEMU stores (0 = unknown).
int boot_device_nibble(char c) {
  switch (c) {
    case 'a': return 1;  // floppy
    case 'c': return 2;  // hard disk
    case 'd': return 3;  // CD-ROM
    case 'n': return 4;  // network
    default: return 0;
  }
}

}  // namespace

int64_t CmosRtc::to_epoch(const DateTime& t) {
  return days_from_civil(t.year, t.month, t.day) * static_cast<int64_t>(kSecondsPerDay) +
         t.hour * 3600 + t.minute * 60 + t.second;
}

CmosRtc::DateTime CmosRtc::from_epoch(int64_t seconds) {
  const int64_t days = floor_div(seconds, static_cast<int64_t>(kSecondsPerDay));
  const int64_t rem = seconds - days * static_cast<int64_t>(kSecondsPerDay);
  DateTime t;
  int64_t year = 0;
  civil_from_days(days, &year, &t.month, &t.day);
  t.year = static_cast<int>(year);
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>(rem / 60 % 60);
  t.second = static_cast<int>(rem % 60);
  // 1970-01-01 was a Thursday (day 5 when Sunday is 1).
  t.day_of_week = static_cast<int>(((days + 4) % 7 + 7) % 7) + 1;
  return t;
}

uint32_t CmosRtc::periodic_ticks(unsigned rs) {
  rs &= 0x0F;
  if (rs == 0) return 0;
  // Rates 1 and 2 repeat rates 8 and 9 (256 Hz and 128 Hz) with a 32 kHz base.
  if (rs <= 2) return 1u << (rs + 6);
  return 1u << (rs - 1);
}

CmosRtc::CmosRtc(VirtualClock& clock, std::optional<int64_t> base_time)
    : clock_(clock),
      update_timer_(clock, [this] {
        sync();
        update_irq();
        reschedule();
      }),
      periodic_timer_(clock, [this] {
        sync();
        update_irq();
        reschedule();
      }) {
  // Power-on register values as QEMU sets them: 32.768 kHz divider, 1024 Hz
  // periodic rate, 24-hour BCD, no interrupts enabled.
  ram_[kRegA] = 0x26;
  ram_[kRegB] = kB24Hour;
  divider_origin_ns_ = clock_.now();
  next_update_ns_ = divider_origin_ns_ + kNsPerSecond;
  const int64_t base = base_time ? *base_time : static_cast<int64_t>(std::time(nullptr));
  set_time(from_epoch(base));
  update_checksum();
}

void CmosRtc::attach(IoBus& bus) { bus.register_ports(kIndexPort, 2, this); }

void CmosRtc::reset() {
  sync();
  ram_[kRegB] &= static_cast<uint8_t>(~(kBPie | kBAie | kBUie | kBSqwe));
  flags_ = 0;
  index_ = 0;
  nmi_masked_ = false;
  update_irq();
  reschedule();
}

void CmosRtc::ignored(std::string_view what) {
  ++ignored_writes_;
  if (log_) log_(what);
}

// ----------------------------------------------------------------------------
// Time base
// ----------------------------------------------------------------------------

bool CmosRtc::divider_running() const { return (ram_[kRegA] & kADividerMask) <= 0x20; }

bool CmosRtc::updating() const { return divider_running() && !(ram_[kRegB] & kBSet); }

uint64_t CmosRtc::periodic_edges_by(uint64_t ns) const {
  const uint32_t ticks = periodic_ticks(ram_[kRegA]);
  if (ticks == 0 || ns < divider_origin_ns_) return 0;
  const unsigned __int128 elapsed = ns - divider_origin_ns_;
  return static_cast<uint64_t>(elapsed * kTimeBaseHz /
                               (static_cast<unsigned __int128>(kNsPerSecond) * ticks));
}

uint64_t CmosRtc::periodic_edge_time(uint64_t k) const {
  const uint32_t ticks = periodic_ticks(ram_[kRegA]);
  const unsigned __int128 num = static_cast<unsigned __int128>(k) * ticks * kNsPerSecond;
  return divider_origin_ns_ + static_cast<uint64_t>((num + kTimeBaseHz - 1) / kTimeBaseHz);
}

void CmosRtc::sync() {
  if (!divider_running()) return;
  const uint64_t now_ns = clock_.now();
  // Should the virtual clock ever be rewound (VirtualClock::reset), keep the
  // phase anchors within reach instead of stalling until time catches up.
  if (next_update_ns_ > now_ns + kNsPerSecond) next_update_ns_ = now_ns + kNsPerSecond;
  if (divider_origin_ns_ > now_ns) {
    divider_origin_ns_ = now_ns;
    periodic_seen_ = 0;
  }
  if (now_ns >= next_update_ns_) {
    uint64_t n = (now_ns - next_update_ns_) / kNsPerSecond + 1;
    next_update_ns_ += n * kNsPerSecond;
    if (!(ram_[kRegB] & kBSet)) {
      // Whole days first (no alarm can be missed: any alarm that can match
      // at all matches within the final day, which is counted second by second).
      while (n > 2 * kSecondsPerDay) {
        advance_date();
        n -= kSecondsPerDay;
      }
      bool alarm = false;
      for (; n > 0; --n) {
        advance_one_second();
        if (alarm_matches()) alarm = true;
      }
      flags_ |= kCUf;
      if (alarm) flags_ |= kCAf;
    }
  }
  if (periodic_ticks(ram_[kRegA]) != 0) {
    const uint64_t edges = periodic_edges_by(now_ns);
    if (edges > periodic_seen_) flags_ |= kCPf;
    periodic_seen_ = edges;
  }
}

void CmosRtc::advance_one_second() {
  if (++time_.second < 60) return;
  time_.second = 0;
  if (++time_.minute < 60) return;
  time_.minute = 0;
  if (++time_.hour < 24) return;
  time_.hour = 0;
  advance_date();
}

void CmosRtc::advance_date() {
  time_.day_of_week = time_.day_of_week >= 7 ? 1 : time_.day_of_week + 1;
  if (++time_.day <= days_in_month(time_.month, time_.year)) return;
  time_.day = 1;
  if (++time_.month <= 12) return;
  time_.month = 1;
  if (++time_.year <= 99) return;
  time_.year = 0;
  time_.century = time_.century >= 99 ? 0 : time_.century + 1;
}

bool CmosRtc::alarm_matches() const {
  // An alarm byte with both top bits set is "don't care".
  auto match = [](uint8_t alarm, uint8_t now) { return (alarm & 0xC0) == 0xC0 || alarm == now; };
  return match(ram_[kSecondsAlarm], encode(time_.second)) &&
         match(ram_[kMinutesAlarm], encode(time_.minute)) &&
         match(ram_[kHoursAlarm], encode_hour(time_.hour));
}

// ----------------------------------------------------------------------------
// Register formats
// ----------------------------------------------------------------------------

uint8_t CmosRtc::encode(int value) const {
  if (value < 0) value = 0;
  if (ram_[kRegB] & kBBinary) return static_cast<uint8_t>(value);
  const int v = value % 100;
  return static_cast<uint8_t>((v / 10) << 4 | (v % 10));
}

int CmosRtc::decode(uint8_t value) const {
  if (ram_[kRegB] & kBBinary) return value;
  return (value >> 4) * 10 + (value & 0x0F);
}

uint8_t CmosRtc::encode_hour(int hour) const {
  if (ram_[kRegB] & kB24Hour) return encode(hour);
  // 12-hour mode: 1..12 with bit 7 set for PM.
  const int h12 = hour % 12 == 0 ? 12 : hour % 12;
  return static_cast<uint8_t>(encode(h12) | (hour % 24 >= 12 ? 0x80 : 0x00));
}

void CmosRtc::render_time(uint8_t index, uint8_t* out) const {
  switch (index) {
    case kSeconds: *out = encode(time_.second); break;
    case kMinutes: *out = encode(time_.minute); break;
    case kHours: *out = encode_hour(time_.hour); break;
    case kDayOfWeek: *out = encode(time_.day_of_week); break;
    case kDayOfMonth: *out = encode(time_.day); break;
    case kMonth: *out = encode(time_.month); break;
    case kYear: *out = encode(time_.year); break;
    case kCentury: *out = encode(time_.century); break;
    default: *out = ram_[index & 0x7F]; break;
  }
}

void CmosRtc::write_time_field(uint8_t index, uint8_t value) {
  switch (index) {
    case kSeconds: time_.second = decode(value); break;
    case kMinutes: time_.minute = decode(value); break;
    case kHours:
      if (ram_[kRegB] & kB24Hour) {
        time_.hour = decode(value);
      } else {
        time_.hour = decode(value & 0x7F) % 12 + (value & 0x80 ? 12 : 0);
      }
      break;
    case kDayOfWeek: time_.day_of_week = decode(value); break;
    case kDayOfMonth: time_.day = decode(value); break;
    case kMonth: time_.month = decode(value); break;
    case kYear: time_.year = decode(value); break;
    case kCentury: time_.century = decode(value); break;
    default: break;
  }
}

// ----------------------------------------------------------------------------
// Register access
// ----------------------------------------------------------------------------

namespace {
// The time and date bytes, kept by the clock rather than in plain RAM.
bool is_time_field(uint8_t index) {
  switch (index) {
    case CmosRtc::kSeconds:
    case CmosRtc::kMinutes:
    case CmosRtc::kHours:
    case CmosRtc::kDayOfWeek:
    case CmosRtc::kDayOfMonth:
    case CmosRtc::kMonth:
    case CmosRtc::kYear:
    case CmosRtc::kCentury:
      return true;
    default:
      return false;
  }
}
}  // namespace

uint8_t CmosRtc::read_register(uint8_t index) {
  index &= 0x7F;
  if (is_time_field(index)) {
    sync();
    uint8_t v = 0;
    render_time(index, &v);
    return v;
  }
  switch (index) {
    case kRegA: {
      sync();
      const bool uip = updating() && clock_.now() + kUipWindowNs >= next_update_ns_;
      return static_cast<uint8_t>((ram_[kRegA] & 0x7F) | (uip ? kAUip : 0));
    }
    case kRegC: {
      sync();
      const uint8_t v = static_cast<uint8_t>(flags_ | (irqf() ? kCIrqf : 0));
      // Reading C clears every flag and releases IRQ 8.
      flags_ = 0;
      update_irq();
      reschedule();
      return v;
    }
    case kRegD: return kDVrt;
    default: return ram_[index];
  }
}

void CmosRtc::write_register(uint8_t index, uint8_t value) {
  index &= 0x7F;
  if (is_time_field(index)) {
    sync();
    write_time_field(index, value);
    return;
  }
  switch (index) {
    case kRegA: {
      sync();
      const bool was_running = divider_running();
      ram_[kRegA] = value & 0x7F;  // UIP is read-only
      const uint64_t now_ns = clock_.now();
      if (divider_running() && !was_running) {
        divider_origin_ns_ = now_ns;
        next_update_ns_ = now_ns + kFirstUpdateDelayNs;
      }
      // The rate may have changed: count periodic edges afresh from now on.
      periodic_seen_ = periodic_edges_by(now_ns);
      break;
    }
    case kRegB:
      sync();
      // Setting SET aborts any update in progress and clears UIE.
      if (value & kBSet) value &= static_cast<uint8_t>(~kBUie);
      if (value & kBDse) ignored("cmos: DSE set; no daylight-saving adjustments are made");
      ram_[kRegB] = value;
      break;
    case kRegC:
    case kRegD:
      ignored("cmos: write to read-only register C/D");
      return;
    default:
      ram_[index] = value;
      return;
  }
  update_irq();
  reschedule();
}

bool CmosRtc::irqf() const {
  const uint8_t b = ram_[kRegB];
  return (flags_ & kCPf && b & kBPie) || (flags_ & kCAf && b & kBAie) ||
         (flags_ & kCUf && b & kBUie);
}

void CmosRtc::update_irq() {
  const bool level = irqf();
  if (level != irq_level_) {
    irq_level_ = level;
    irq_.set(level);
  }
}

void CmosRtc::reschedule() {
  const uint8_t b = ram_[kRegB];
  if (updating() && (b & (kBUie | kBAie))) {
    update_timer_.arm_at(next_update_ns_);
  } else {
    update_timer_.cancel();
  }
  if (divider_running() && (b & kBPie) && periodic_ticks(ram_[kRegA]) != 0) {
    periodic_timer_.arm_at(periodic_edge_time(periodic_seen_ + 1));
  } else {
    periodic_timer_.cancel();
  }
}

uint32_t CmosRtc::io_read(uint16_t port, unsigned) {
  if (port == kDataPort) return read_register(index_);
  return 0xFF;  // the index latch is write-only on the AT
}

void CmosRtc::io_write(uint16_t port, unsigned, uint32_t value) {
  if (port == kIndexPort) {
    index_ = static_cast<uint8_t>(value & 0x7F);
    nmi_masked_ = value & 0x80;
    return;
  }
  if (port == kDataPort) {
    write_register(index_, static_cast<uint8_t>(value));
    return;
  }
  ignored("cmos: write to a port it does not own");
}

// ----------------------------------------------------------------------------
// Host-side setup
// ----------------------------------------------------------------------------

void CmosRtc::set_memory_size(uint64_t below_4g_bytes, uint64_t above_4g_bytes) {
  constexpr uint64_t kMiB = 1024 * 1024;
  const uint64_t base_kib = std::min<uint64_t>(below_4g_bytes / 1024, 640);
  ram_[kBaseMemLow] = static_cast<uint8_t>(base_kib);
  ram_[kBaseMemHigh] = static_cast<uint8_t>(base_kib >> 8);
  const uint64_t ext_kib =
      std::min<uint64_t>(below_4g_bytes > kMiB ? (below_4g_bytes - kMiB) / 1024 : 0, 65535);
  ram_[kExtMemLow] = ram_[kExtMem2Low] = static_cast<uint8_t>(ext_kib);
  ram_[kExtMemHigh] = ram_[kExtMem2High] = static_cast<uint8_t>(ext_kib >> 8);
  const uint64_t above_16m = std::min<uint64_t>(
      below_4g_bytes > 16 * kMiB ? (below_4g_bytes - 16 * kMiB) / 65536 : 0, 65535);
  ram_[kMemAbove16mLow] = static_cast<uint8_t>(above_16m);
  ram_[kMemAbove16mHigh] = static_cast<uint8_t>(above_16m >> 8);
  const uint64_t above_4g = std::min<uint64_t>(above_4g_bytes / 65536, 0xFFFFFF);
  ram_[kMemAbove4g0] = static_cast<uint8_t>(above_4g);
  ram_[kMemAbove4g1] = static_cast<uint8_t>(above_4g >> 8);
  ram_[kMemAbove4g2] = static_cast<uint8_t>(above_4g >> 16);
  update_checksum();
}

void CmosRtc::set_equipment(uint8_t value) {
  ram_[kEquipment] = value;
  update_checksum();
}

uint8_t CmosRtc::equipment_byte(int floppy_drives, bool fpu, bool ps2_mouse) {
  uint8_t v = 0;
  if (floppy_drives >= 1) v |= 0x01;  // floppy present, ready for boot
  if (floppy_drives >= 2) v |= 0x40;  // bits 7..6: drives - 1
  if (fpu) v |= 0x02;
  if (ps2_mouse) v |= 0x04;
  return v;
}

bool CmosRtc::set_boot_order(std::string_view order, bool floppy_signature_check) {
  if (order.size() > 3) return false;
  int nibble[3] = {0, 0, 0};
  for (size_t i = 0; i < order.size(); ++i) {
    nibble[i] = boot_device_nibble(order[i]);
    if (nibble[i] == 0) return false;
  }
  ram_[kBootFlag2] = static_cast<uint8_t>(nibble[1] << 4 | nibble[0]);
  ram_[kBootFlag1] = static_cast<uint8_t>(nibble[2] << 4 | (floppy_signature_check ? 0 : 1));
  return true;
}

void CmosRtc::set_cpu_count(unsigned cpus) {
  ram_[kCpuCount] = static_cast<uint8_t>(cpus == 0 ? 0 : cpus - 1);
}

void CmosRtc::set_century(int century) {
  sync();
  time_.century = century;
}

bool CmosRtc::set_byte(uint8_t index, uint8_t value) {
  if (index < 0x0E || index >= kRamSize || index == kCentury) return false;
  ram_[index] = value;
  if (index >= 0x10 && index <= 0x2D) update_checksum();
  return true;
}

uint8_t CmosRtc::byte(uint8_t index) {
  index &= 0x7F;
  switch (index) {
    case kRegA:
    case kRegD:
      return read_register(index);
    case kRegC:
      sync();
      return static_cast<uint8_t>(flags_ | (irqf() ? kCIrqf : 0));
    default: {
      sync();
      uint8_t v = 0;
      render_time(index, &v);
      return v;
    }
  }
}

void CmosRtc::update_checksum() {
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2D; ++i) sum += ram_[i];
  ram_[kChecksumHigh] = static_cast<uint8_t>(sum >> 8);
  ram_[kChecksumLow] = static_cast<uint8_t>(sum);
}

CmosRtc::DateTime CmosRtc::now() {
  sync();
  DateTime t;
  t.year = time_.century * 100 + time_.year;
  t.month = time_.month;
  t.day = time_.day;
  t.hour = time_.hour;
  t.minute = time_.minute;
  t.second = time_.second;
  t.day_of_week = time_.day_of_week;
  return t;
}

void CmosRtc::set_time(const DateTime& t) {
  sync();
  time_.second = t.second;
  time_.minute = t.minute;
  time_.hour = t.hour;
  time_.day_of_week = t.day_of_week;
  time_.day = t.day;
  time_.month = t.month;
  const int year = t.year < 0 ? 0 : t.year;
  time_.year = year % 100;
  time_.century = year / 100 % 100;
}

}  // namespace popek
