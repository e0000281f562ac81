// The PC/AT interrupt controller pair: two Intel 8259A PICs, the master at
// ports 0x20/0x21 and the slave at 0xA0/0xA1, with the slave's INT output
// wired to the master's IR2, plus the PIIX edge/level control registers
// (ELCR) at 0x4D0/0x4D1.
//
// Where this model departs from the 8259A datasheet, and why:
//  - An edge-triggered request stays latched in the IRR after its input falls
//    again, until the INTA cycle that services it (as QEMU does). Devices
//    signal with IrqLine::pulse(), so dropping the request on the falling
//    edge would lose every pulsed interrupt. A *level*-triggered request that
//    disappears before INTA yields the datasheet's spurious IR7 (vector
//    base+7, no ISR bit set); on the slave that is IRQ 15, with the master's
//    ISR bit 2 set, as on real hardware.
//  - The cascade input (master IR2) is driven by the slave's INT output and
//    not by set_irq(2). On the AT bus the ISA IRQ2 pin is rewired to IRQ 9,
//    so nothing drives IR2 directly; set_irq(2) is logged and ignored. While
//    the slave's INT is high the master's IR2 request is re-latched after
//    every INTA/EOI, so a slave request that is still pending is never lost
//    for want of a new edge.
//  - MCS-80/85 mode (ICW4.uPM = 0, or no ICW4) is accepted but the chip still
//    answers INTA with an 8086-style vector; the CPU is always x86.
//  - Buffered mode and the M/S bit of ICW4 are stored and otherwise ignored:
//    the pair is hard-wired as master and slave.
//  - Special mask mode follows the datasheet: while it is on, in-service
//    levels do not inhibit other levels; a level is inhibited only by its own
//    mask bit and its own ISR bit.
//  - Trigger mode of an input is level when either ICW1.LTIM or its ELCR bit
//    says so (ISA boards use LTIM, PIIX chipsets the ELCR).
#pragma once
#include <cstdint>
#include <functional>
#include <string_view>

#include "core/io_bus.h"
#include "core/irq.h"

namespace popek {

// One 8259A. The pair drives two of them; this class knows nothing about
// ports or the other chip except for the cascade bookkeeping the pair does.
class Pic8259 {
 public:
  explicit Pic8259(bool master);
  void reset();

  // Port interface of the chip: `a0` is address line A0 (0 = command port
  // 0x20/0xA0, 1 = data port 0x21/0xA1). Returns a description of an ignored
  // write, or nullptr.
  const char* write(bool a0, uint8_t value);
  uint8_t read(bool a0);

  // Input pin `ir` (0..7) at `level`.
  void set_input(int ir, bool level);
  // ELCR bits for this chip (1 = level triggered).
  void set_elcr(uint8_t value) { elcr_ = value; refresh_level_inputs(); }
  uint8_t elcr() const { return elcr_; }

  // The INT output: an unmasked request outranks everything in service.
  bool int_output() const { return highest_request() >= 0; }
  // The level the INTA cycle would service, or -1 (spurious).
  int highest_request() const;
  // INTA: marks `ir` in service (or performs the automatic EOI) and clears
  // its edge latch. The caller got `ir` from highest_request().
  void acknowledge(int ir);
  uint8_t vector(int ir) const { return static_cast<uint8_t>(vector_base_ | ir); }
  uint8_t vector_base() const { return vector_base_; }

  // True when IR `ir` has a slave attached (ICW3, cascade mode only).
  bool is_cascade_input(int ir) const { return is_master_ && !single_ && (icw3_ >> ir & 1); }
  // Used by the pair to latch the cascade input from the slave's INT output.
  void set_cascade_request(int ir, bool slave_int);

  uint8_t irr() const { return irr_; }
  uint8_t isr() const { return isr_; }
  uint8_t imr() const { return imr_; }
  bool initialized() const { return init_step_ == InitStep::Ready && icw1_seen_; }
  bool auto_eoi() const { return auto_eoi_; }
  bool special_mask_mode() const { return special_mask_; }
  bool special_fully_nested() const { return special_fully_nested_; }
  int lowest_priority() const { return lowest_priority_; }

 private:
  enum class InitStep : uint8_t { Ready, ExpectIcw2, ExpectIcw3, ExpectIcw4 };

  const char* write_command(uint8_t value);
  const char* write_data(uint8_t value);
  void write_icw1(uint8_t value);
  const char* write_ocw2(uint8_t value);
  void write_ocw3(uint8_t value);
  uint8_t poll();
  bool level_triggered(int ir) const { return ltim_ || (elcr_ >> ir & 1); }
  void refresh_level_inputs();
  // Priority rank of `ir`: 0 is the highest, 7 the lowest.
  int rank(int ir) const { return (ir - lowest_priority_ - 1) & 7; }
  // Highest-priority set bit of `bits`, or -1.
  int highest_of(uint8_t bits) const;
  void end_of_interrupt(int ir, bool rotate);

  const bool is_master_;  // wiring: this chip is the master (ICW3 lists slaves) or a slave (ICW3 is its ID)

  // --- Registers ---
  uint8_t irr_ = 0;  // Interrupt Request Register: one bit per IR awaiting service.
  uint8_t isr_ = 0;  // In-Service Register: IRs acknowledged and not yet EOI'd.
  uint8_t imr_ = 0;  // Interrupt Mask Register (OCW1): 1 = IR inhibited.
  uint8_t pins_ = 0;  // Current level on each IR input pin (for edge detection).
  uint8_t elcr_ = 0;  // PIIX ELCR: 1 = IR is level triggered.

  // --- Initialization (ICW1..ICW4) ---
  InitStep init_step_ = InitStep::Ready;  // which ICW the data port expects next
  bool icw1_seen_ = false;                // the guest has initialized the chip at least once
  bool icw4_needed_ = false;              // ICW1.IC4: an ICW4 follows
  bool single_ = false;                   // ICW1.SNGL: no slaves, no ICW3
  bool ltim_ = false;                     // ICW1.LTIM: all IRs level triggered
  uint8_t vector_base_ = 0;               // ICW2 bits 7..3: vector of IR0
  uint8_t icw3_ = 0;                      // ICW3: master = slave-present bits, slave = its ID
  bool x86_mode_ = false;                 // ICW4.uPM: 8086/88 mode (else MCS-80/85)
  bool auto_eoi_ = false;                 // ICW4.AEOI: EOI performed at the end of INTA
  bool buffered_ = false;                 // ICW4.BUF: buffered mode (stored only)
  bool buffered_master_ = false;          // ICW4.M/S: master in buffered mode (stored only)
  bool special_fully_nested_ = false;     // ICW4.SFNM: a cascade IR may interrupt itself

  // --- Operation (OCW2, OCW3) ---
  int lowest_priority_ = 7;          // IR with the lowest priority; IR+1 is the highest
  bool rotate_on_auto_eoi_ = false;  // OCW2 R=1,SL=0,EOI=0: rotate in AEOI mode
  bool read_isr_ = false;            // OCW3 RR/RIS: command-port reads return ISR (else IRR)
  bool poll_pending_ = false;        // OCW3.P: the next read is a poll (acts as INTA)
  bool special_mask_ = false;        // OCW3 ESMM/SMM: special mask mode
};

class Pic8259Pair : public InterruptController, public IoDevice {
 public:
  static constexpr uint16_t kMasterBase = 0x20;
  static constexpr uint16_t kSlaveBase = 0xA0;
  static constexpr uint16_t kElcrBase = 0x4D0;
  static constexpr int kCascadeIr = 2;  // master input the slave drives

  Pic8259Pair();

  // Registers 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1.
  void attach(IoBus& bus);
  void reset();

  // Drives input `irq` (0..15; 8..15 are the slave's IR0..7).
  void set_irq(int irq, bool level);
  // A sink for an IrqLine wired to input `irq`.
  std::function<void(bool)> input(int irq);

  // InterruptController.
  bool intr_pending() const override;
  uint8_t acknowledge() override;

  // IoDevice (byte accesses only).
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  // Optional notification whenever INTR changes level, so a run loop can
  // leave a block early. The CPU still polls intr_pending().
  IrqLine& intr_output() { return intr_line_; }
  // Receives a message for each guest write that was ignored.
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }
  uint64_t ignored_writes() const { return ignored_writes_; }

  // Debug views: slave in the high byte.
  uint16_t irr() const { return static_cast<uint16_t>(master_.irr() | slave_.irr() << 8); }
  uint16_t isr() const { return static_cast<uint16_t>(master_.isr() | slave_.isr() << 8); }
  uint16_t imr() const { return static_cast<uint16_t>(master_.imr() | slave_.imr() << 8); }
  const Pic8259& master() const { return master_; }
  const Pic8259& slave() const { return slave_; }

 private:
  // Derives the cascade input and the INTR output from the register state.
  void update_irq();
  void ignored(std::string_view what);

  Pic8259 master_;
  Pic8259 slave_;
  IrqLine intr_line_;
  bool intr_level_ = false;  // last level driven on intr_line_
  std::function<void(std::string_view)> log_;
  uint64_t ignored_writes_ = 0;
};

}  // namespace popek
