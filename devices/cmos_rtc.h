// The Motorola MC146818 real-time clock and its 128 bytes of CMOS RAM, as
// found on every PC/AT: index port 0x70, data port 0x71, interrupt on IRQ 8.
//
//   port 0x70 (write)  bits 6..0: register index; bit 7: NMI mask (1 = NMI
//                      disabled). The mask is a PC glue-logic latch, not part
//                      of the chip; the machine reads it with nmi_masked().
//   port 0x70 (read)   0xFF: the AT's index latch is write-only.
//   port 0x71          the register or RAM byte at the index.
//
// Register map (index: meaning):
//   0x00 seconds  0x01 seconds alarm  0x02 minutes  0x03 minutes alarm
//   0x04 hours    0x05 hours alarm    0x06 day of week (1 = Sunday)
//   0x07 day of month  0x08 month  0x09 year (00..99)
//   0x0A register A   bit 7 UIP (read-only): an update cycle is imminent or
//                     in progress; bits 6..4 DV2..0: divider (010 = 32.768
//                     kHz, normal; 11x = divider held in reset); bits 3..0
//                     RS3..0: periodic interrupt rate (0 = off).
//   0x0B register B   bit 7 SET: updates inhibited, the guest may set the
//                     time (setting it clears UIE); bit 6 PIE periodic,
//                     bit 5 AIE alarm, bit 4 UIE update-ended interrupt
//                     enables; bit 3 SQWE square wave (stored only); bit 2
//                     DM: 1 = binary, 0 = BCD; bit 1 24/12: 1 = 24-hour;
//                     bit 0 DSE daylight saving (stored only, see below).
//   0x0C register C   (read-only, cleared by reading) bit 7 IRQF = any
//                     enabled flag set (drives IRQ 8); bit 6 PF periodic;
//                     bit 5 AF alarm; bit 4 UF update ended; bits 3..0 zero.
//   0x0D register D   (read-only) bit 7 VRT: battery good, always 1.
//   0x0E..0x7F        battery-backed RAM; 0x32 is the century by convention
//                     and is kept by the clock as QEMU does (see below).
//
// Timekeeping. The clock starts from the host's wall clock (UTC) or from a
// fixed time given to the constructor (deterministic runs), and from then on
// advances with *virtual* time: an update cycle happens at every virtual
// second boundary while the divider runs and SET is clear. Nothing ticks per
// instruction: the registers are brought up to date lazily when read, and
// Timers on the VirtualClock are armed only while an interrupt (PIE, or
// UIE/AIE) is enabled.
//
// Where this model departs from the datasheet, and why:
//  - The time is held as binary fields and rendered in the current DM and
//    24/12 format on each read (as QEMU does); changing DM or 24/12 thus
//    converts the time instead of leaving stale digits. Guest writes are
//    decoded in the format in effect at the time of the write.
//  - Divider settings 000 and 001 (4.19 MHz and 1.05 MHz time bases) count
//    as running at 32.768 kHz, as in QEMU; 011, 10x and 11x stop the clock.
//  - UIP reads 1 during the 2228 us before each second boundary (the 244 us
//    setup time plus the 1984 us update cycle); the registers change at the
//    boundary, all at once, so they are never seen half-updated.
//  - DSE is stored but no daylight-saving jumps are made (guests and
//    firmware in practice keep it clear; QEMU ignores it too).
//  - The century byte 0x32 follows the year: it is rendered in the current
//    DM format and carried when the year wraps 99 -> 00, and a guest write to
//    it sets the century. The chip has no century register; this is the
//    IBM convention QEMU and SeaBIOS use.
//  - The periodic interrupt phase is counted from the moment the divider was
//    last released from reset (or from power-on).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/io_bus.h"
#include "core/irq.h"

namespace popek {

class CmosRtc : public IoDevice {
 public:
  static constexpr uint16_t kIndexPort = 0x70;
  static constexpr uint16_t kDataPort = 0x71;
  static constexpr unsigned kRamSize = 128;
  static constexpr uint64_t kNsPerSecond = 1'000'000'000;
  // UIP rises 244 us (8 cycles of 32.768 kHz) before the update cycle, which
  // itself lasts 1984 us (65 cycles); the new time appears at its end.
  static constexpr uint64_t kUipWindowNs = 244'141 + 1'983'643;

  // Register indexes.
  enum Reg : uint8_t {
    kSeconds = 0x00,
    kSecondsAlarm = 0x01,
    kMinutes = 0x02,
    kMinutesAlarm = 0x03,
    kHours = 0x04,
    kHoursAlarm = 0x05,
    kDayOfWeek = 0x06,
    kDayOfMonth = 0x07,
    kMonth = 0x08,
    kYear = 0x09,
    kRegA = 0x0A,
    kRegB = 0x0B,
    kRegC = 0x0C,
    kRegD = 0x0D,
    // PC/AT CMOS layout (what SeaBIOS and other BIOSes read).
    kFloppyTypes = 0x10,
    kHardDiskTypes = 0x12,
    kEquipment = 0x14,
    kBaseMemLow = 0x15,
    kBaseMemHigh = 0x16,
    kExtMemLow = 0x17,
    kExtMemHigh = 0x18,
    kChecksumHigh = 0x2E,
    kChecksumLow = 0x2F,
    kExtMem2Low = 0x30,   // copy of 0x17/0x18
    kExtMem2High = 0x31,
    kCentury = 0x32,
    kMemAbove16mLow = 0x34,  // RAM between 16 MiB and 4 GiB, 64 KiB units
    kMemAbove16mHigh = 0x35,
    kBootFlag1 = 0x38,  // bits 7..4: third boot device; bit 0: skip floppy signature check
    kBootFlag2 = 0x3D,  // bits 3..0: first boot device; bits 7..4: second
    kMemAbove4g0 = 0x5B,  // RAM above 4 GiB, 64 KiB units, three bytes
    kMemAbove4g1 = 0x5C,
    kMemAbove4g2 = 0x5D,
    kCpuCount = 0x5F,  // number of CPUs minus one
  };

  // Register A/B/C/D bits.
  static constexpr uint8_t kAUip = 0x80;
  static constexpr uint8_t kADividerMask = 0x70;
  static constexpr uint8_t kARateMask = 0x0F;
  static constexpr uint8_t kBSet = 0x80;
  static constexpr uint8_t kBPie = 0x40;
  static constexpr uint8_t kBAie = 0x20;
  static constexpr uint8_t kBUie = 0x10;
  static constexpr uint8_t kBSqwe = 0x08;
  static constexpr uint8_t kBBinary = 0x04;
  static constexpr uint8_t kB24Hour = 0x02;
  static constexpr uint8_t kBDse = 0x01;
  static constexpr uint8_t kCIrqf = 0x80;
  static constexpr uint8_t kCPf = 0x40;
  static constexpr uint8_t kCAf = 0x20;
  static constexpr uint8_t kCUf = 0x10;
  static constexpr uint8_t kDVrt = 0x80;

  // A broken-down UTC time. Fields are binary.
  struct DateTime {
    int year = 2000;  // full year, e.g. 2026
    int month = 1;    // 1..12
    int day = 1;      // 1..31
    int hour = 0;     // 0..23
    int minute = 0;   // 0..59
    int second = 0;   // 0..59
    int day_of_week = 7;  // 1 = Sunday .. 7 = Saturday
  };
  // Seconds since 1970-01-01 00:00:00 UTC <-> broken-down time (proleptic
  // Gregorian, valid for any year representable here).
  static int64_t to_epoch(const DateTime& t);
  static DateTime from_epoch(int64_t seconds);

  // `base_time`: seconds since the Unix epoch to start from (deterministic
  // mode passes a fixed value, e.g. to_epoch({2026,1,1})); nullopt takes the
  // host's wall clock. Either way the clock then advances with virtual time.
  explicit CmosRtc(VirtualClock& clock, std::optional<int64_t> base_time = std::nullopt);
  CmosRtc(const CmosRtc&) = delete;
  CmosRtc& operator=(const CmosRtc&) = delete;

  // Registers ports 0x70-0x71.
  void attach(IoBus& bus);
  // The chip's RESET pin (machine reset): clears PIE, AIE, UIE, SQWE and the
  // flags in register C and lowers IRQ 8. Time and RAM are kept, as they are
  // battery backed. The NMI mask is cleared and the index set to 0.
  void reset();

  // IRQ 8 output (level = register C IRQF); the machine connects it to the PIC.
  IrqLine& irq() { return irq_; }
  // Port 0x70 bit 7 as last written: true = NMI disabled.
  bool nmi_masked() const { return nmi_masked_; }

  // IoDevice (byte accesses only).
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  // --- Host-side setup, for the machine before the BIOS runs ---
  // RAM size bytes as QEMU's pc_cmos_init sets them: 0x15/0x16 base memory
  // in KiB (at most 640), 0x17/0x18 and 0x30/0x31 memory above 1 MiB in KiB
  // (at most 65535, i.e. ~64 MiB), 0x34/0x35 memory between 16 MiB and
  // 4 GiB in 64 KiB units, 0x5B..0x5D memory above 4 GiB in 64 KiB units.
  void set_memory_size(uint64_t below_4g_bytes, uint64_t above_4g_bytes = 0);
  // Equipment byte 0x14: bit 0 floppy present, bits 7..6 floppies - 1,
  // bit 1 FPU present, bit 2 PS/2 mouse, bits 5..4 primary display (00 =
  // EGA/VGA with its own BIOS).
  void set_equipment(uint8_t value);
  // What QEMU puts there: FPU and PS/2 mouse, plus the floppy drive bits.
  static uint8_t equipment_byte(int floppy_drives, bool fpu = true, bool ps2_mouse = true);
  // Boot order as QEMU's "-boot order=": up to three of 'a' (floppy),
  // 'c' (hard disk), 'd' (CD-ROM), 'n' (network), encoded into 0x3D and 0x38
  // as nibbles 1, 2, 3, 4. `floppy_signature_check` false sets 0x38 bit 0.
  // Returns false (and leaves the bytes alone) for an unknown letter or more
  // than three devices.
  bool set_boot_order(std::string_view order, bool floppy_signature_check = true);
  // 0x5F: number of CPUs minus one, as SeaBIOS reads it.
  void set_cpu_count(unsigned cpus);
  // Century byte 0x32: sets the century of the running clock.
  void set_century(int century);
  // Any RAM byte (index 0x0E..0x7F); bytes in 0x10..0x2D keep the checksum
  // up to date. Clock registers are rejected (returns false).
  bool set_byte(uint8_t index, uint8_t value);
  // The value a guest would read at `index` now (RAM or a clock register),
  // without side effects on register C.
  uint8_t byte(uint8_t index);
  // Recomputes the 16-bit checksum 0x2E (high) / 0x2F (low) over 0x10..0x2D.
  void update_checksum();

  // The current time as the clock holds it.
  DateTime now();
  // Sets the running clock (as a guest would with SET), from the host.
  void set_time(const DateTime& t);

  // Receives a message for each guest write that was ignored.
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }
  uint64_t ignored_writes() const { return ignored_writes_; }

  // Period of the periodic interrupt for rate select `rs` (1..15) in units
  // of the 32.768 kHz time base; 0 for rs = 0.
  static uint32_t periodic_ticks(unsigned rs);

 private:
  // The time fields as the chip counts them. Guest writes may leave values
  // out of range; counting still terminates because every carry test is >=.
  struct Clock {
    int second = 0, minute = 0, hour = 0;  // hour 0..23
    int day_of_week = 1, day = 1, month = 1;
    int year = 0;     // 0..99 (register 9)
    int century = 20; // byte 0x32
  };

  bool divider_running() const;  // DV allows the time base to run
  bool updating() const;         // divider running and SET clear
  // Applies the update cycles (and PF edges) due by now.
  void sync();
  void advance_one_second();
  void advance_date();  // one day: day of week, date, month, year, century
  bool alarm_matches() const;
  void render_time(uint8_t index, uint8_t* out) const;
  uint8_t read_register(uint8_t index);
  void write_register(uint8_t index, uint8_t value);
  void write_time_field(uint8_t index, uint8_t value);
  uint8_t encode(int value) const;
  int decode(uint8_t value) const;
  uint8_t encode_hour(int hour) const;
  bool irqf() const;  // register C bit 7: an enabled flag is set
  // Sets IRQF from the flags and enables and drives IRQ 8.
  void update_irq();
  // Arms/cancels the update and periodic timers to match the state.
  void reschedule();
  // Number of periodic edges at or before virtual time `ns`.
  uint64_t periodic_edges_by(uint64_t ns) const;
  uint64_t periodic_edge_time(uint64_t k) const;
  void ignored(std::string_view what);

  VirtualClock& clock_;
  IrqLine irq_;
  Timer update_timer_;    // next update cycle, while UIE or AIE is enabled
  Timer periodic_timer_;  // next periodic edge, while PIE is enabled
  std::array<uint8_t, kRamSize> ram_{};  // RAM bytes and registers A, B (C/D and time derive elsewhere)
  Clock time_;
  uint8_t index_ = 0;         // port 0x70 bits 6..0
  bool nmi_masked_ = false;   // port 0x70 bit 7
  uint8_t flags_ = 0;         // register C bits PF, AF, UF (IRQF is derived)
  bool irq_level_ = false;    // last level driven on irq_
  uint64_t next_update_ns_ = 0;      // virtual time of the next update cycle
  uint64_t divider_origin_ns_ = 0;   // when the divider last left reset
  uint64_t periodic_seen_ = 0;       // periodic edges already folded into PF
  std::function<void(std::string_view)> log_;
  uint64_t ignored_writes_ = 0;
};

}  // namespace popek
