// The Intel 8254 programmable interval timer: three 16-bit down counters at
// ports 0x40-0x42 and the control word register at 0x43, clocked at
// 1.193182 MHz. Channel 0 OUT drives IRQ0, channel 1 (DRAM refresh on old
// PCs) is unconnected, channel 2 is the speaker timer, gated from port 0x61
// bit 0 with its OUT readable at port 0x61 bit 5 (see devices/port61.h; the
// PIT owns that port).
//
// Time is derived lazily from VirtualClock::now(): a counter is brought up
// to date only when it is accessed, when its gate changes, or when the
// channel 0 timer fires at the next OUT edge. Within one "segment" (the span
// between two loads of the counting element) the count and OUT are closed
// formulas of the elapsed CLK ticks, so nothing is ticked per instruction.
//
// Where this model departs from the datasheet, and why:
//  - CLK ticks are counted from virtual time zero; a gate edge or a count
//    write is taken to happen at the tick in progress, and the load it causes
//    at the next tick ("on the next CLK pulse").
//  - If the channel 0 timer fires late (a realtime host or a coarse step of
//    virtual time), the OUT edges missed in between collapse into one IRQ0
//    edge rather than a burst: lost ticks, as on an overloaded real PC.
//  - Mode 0/4 gate changes take effect at the tick in progress, without the
//    datasheet's extra CLK for the gate to be sampled.
//  - Reads of a live two-byte count are not atomic (the datasheet's caveat):
//    the LSB and MSB come from the count at the time of each read.
//  - Power-on state is undefined on the chip; here every channel starts in
//    mode 0, LSB-then-MSB, binary, not counting, with OUT low, so IRQ0 stays
//    quiet until the firmware programs channel 0.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/io_bus.h"
#include "core/irq.h"
#include "devices/port61.h"

namespace popek {

class Pit8254 : public IoDevice {
 public:
  static constexpr uint64_t kInputHz = 1'193'182;  // CLK of all three counters
  static constexpr uint16_t kBase = 0x40;          // counters 0x40-0x42, control 0x43
  static constexpr uint16_t kControlPort = 0x43;
  static constexpr int kChannels = 3;

  explicit Pit8254(VirtualClock& clock);
  Pit8254(const Pit8254&) = delete;
  Pit8254& operator=(const Pit8254&) = delete;

  // Registers 0x40-0x43 and port 0x61.
  void attach(IoBus& bus);
  void reset();

  // Channel 0 OUT; the machine connects it to the PIC's IRQ 0 input.
  IrqLine& irq0() { return channels_[0].out_line; }
  // GATE inputs. Channels 0 and 1 are tied high on a PC; channel 2 follows
  // port 0x61 bit 0.
  void set_gate(int channel, bool level);
  bool gate(int channel) const { return channels_[channel].gate; }
  // OUT of `channel` at the current virtual time.
  bool out(int channel);
  SystemControlPortB& port61() { return port61_; }

  // IoDevice (byte accesses only).
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  // Receives a message for each guest write that was ignored or is illegal.
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }
  uint64_t ignored_writes() const { return ignored_writes_; }

  // CLK ticks elapsed at virtual time `ns`, and the first ns of tick `tick`.
  static uint64_t tick_at(uint64_t ns);
  static uint64_t ns_at_tick(uint64_t tick);

 private:
  // The counting element's behaviour between two loads. While `running`,
  // the count and OUT at tick t are formulas of e = t - base; while frozen
  // they are `count` and `out`.
  struct Segment {
    uint64_t base = 0;       // tick at which the counting element held `count`
    uint32_t count = 0;      // initial count 1..modulus, or the held value when frozen
    bool running = false;    // the counting element moves with CLK
    bool loaded = false;     // holds a guest-written count (false: idle after a control word)
    bool armed = false;      // modes 0/1/4/5: the terminal count still lies ahead
    bool start_low = false;  // mode 3: the segment begins with the low half-cycle
    bool out = false;        // OUT while frozen
    bool from_count_register = false;  // becoming current clears NULL COUNT
  };

  struct Channel {
    // --- Programmed by the control word ---
    uint8_t mode_bits = 0;  // M2..M0 as written (6 and 7 alias modes 2 and 3)
    uint8_t access = 3;     // RW1..RW0: 1 = LSB only, 2 = MSB only, 3 = LSB then MSB
    bool bcd = false;       // BCD: count in four decimal digits (modulus 10000)
    // --- Count register (CR) and its write sequence ---
    uint32_t count_register = 0;  // last complete initial count, 1..modulus
    uint8_t pending_lsb = 0;      // LSB of an LSB-then-MSB write awaiting its MSB
    bool write_msb_next = false;  // write flip-flop: next data byte is the MSB
    bool count_written = false;   // a count was written since the control word
    bool null_count = true;       // status bit 6: CR not yet moved to the counting element
    // --- Output latch (OL), status latch and the read sequence ---
    uint16_t output_latch = 0;   // count frozen by a latch command, in the counting format
    bool count_latched = false;  // OL holds a value not yet fully read
    uint8_t status_latch = 0;    // status byte frozen by read-back
    bool status_latched = false; // status_latch not yet read
    bool read_msb_next = false;  // read flip-flop: next read returns the MSB
    // --- Inputs and outputs ---
    bool gate = true;           // GATE input level
    IrqLine out_line;           // OUT pin consumer (IRQ0 for channel 0)
    bool reported_out = false;  // last level driven on out_line
    bool rose = false;          // OUT had a rising edge since the last report
    // --- Counting element ---
    Segment cur;                 // in effect at synced_tick
    std::optional<Segment> next; // scheduled load (next CLK, or end of a mode 2/3 cycle)
    uint64_t synced_tick = 0;    // tick up to which cur/next and `rose` are current

    int mode() const { return mode_bits > 5 ? mode_bits - 4 : mode_bits; }
    uint32_t modulus() const { return bcd ? 10000u : 65536u; }
    uint32_t count_at(const Segment& s, uint64_t t) const;
    bool out_at(const Segment& s, uint64_t t) const;
    // First tick after t at which OUT changes within `s`, or none.
    std::optional<uint64_t> next_out_change(const Segment& s, uint64_t t) const;
    bool rises_between(const Segment& s, uint64_t after, uint64_t upto) const;
    // Tick at which a count written now takes effect in a running mode 2/3
    // segment; sets *start_low for mode 3.
    uint64_t next_cycle_boundary(const Segment& s, uint64_t t, bool* start_low) const;
    void advance(uint64_t t);
    Segment frozen_now(uint64_t t, bool out) const;
    bool current_out() const { return out_at(cur, synced_tick); }
    uint16_t current_count_encoded() const;
    uint16_t encode(uint32_t count) const;
  };

  uint64_t now_tick() const { return tick_at(clock_.now()); }
  void sync(Channel& c);
  // Drives out_line from the OUT level and edges, and re-arms the IRQ0 timer.
  void update_irq(Channel& c);
  void schedule_irq0();
  void write_control(uint8_t value);
  void program_channel(Channel& c, uint8_t value);
  void read_back(uint8_t value);
  void latch_count(Channel& c);
  void latch_status(Channel& c);
  void write_counter(Channel& c, uint8_t value);
  uint32_t decode_count(const Channel& c, uint16_t value);
  void load_new_count(Channel& c, uint64_t t);
  uint8_t read_counter(Channel& c);
  void ignored(std::string_view what);

  VirtualClock& clock_;
  Channel channels_[kChannels];
  Timer irq0_timer_;  // fires at the next channel 0 OUT change
  SystemControlPortB port61_;
  std::function<void(std::string_view)> log_;
  uint64_t ignored_writes_ = 0;
};

}  // namespace popek
