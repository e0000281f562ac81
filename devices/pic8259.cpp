#include "devices/pic8259.h"

#include <string>

namespace popek {

namespace {
// PIIX ELCR bits that are reserved (IRQ 0, 1, 2 on the master; IRQ 8 and 13
// on the slave) and always read as zero.
constexpr uint8_t kElcrMasterWritable = 0xF8;
constexpr uint8_t kElcrSlaveWritable = 0xDE;
}  // namespace

// ----------------------------------------------------------------------------
// One 8259A
// ----------------------------------------------------------------------------

Pic8259::Pic8259(bool master) : is_master_(master) {}

void Pic8259::reset() {
  // Input pin levels (pins_) belong to the devices driving them and survive
  // a reset; everything else returns to its power-on value.
  irr_ = isr_ = imr_ = elcr_ = 0;
  init_step_ = InitStep::Ready;
  icw1_seen_ = icw4_needed_ = single_ = ltim_ = false;
  vector_base_ = icw3_ = 0;
  x86_mode_ = auto_eoi_ = buffered_ = buffered_master_ = special_fully_nested_ = false;
  lowest_priority_ = 7;
  rotate_on_auto_eoi_ = read_isr_ = poll_pending_ = special_mask_ = false;
}

int Pic8259::highest_of(uint8_t bits) const {
  if (!bits) return -1;
  for (int i = 0; i < 8; ++i) {
    int ir = (lowest_priority_ + 1 + i) & 7;
    if (bits >> ir & 1) return ir;
  }
  return -1;
}

int Pic8259::highest_request() const {
  uint8_t requests = static_cast<uint8_t>(irr_ & ~imr_);
  if (special_mask_) {
    // Special mask mode: other in-service levels do not inhibit; a level's
    // own ISR bit still does.
    return highest_of(static_cast<uint8_t>(requests & ~isr_));
  }
  int request = highest_of(requests);
  if (request < 0) return -1;
  uint8_t in_service = isr_;
  // Special fully nested mode: a slave may interrupt again while its cascade
  // level is in service, so that the slave's own priorities apply.
  if (special_fully_nested_ && is_cascade_input(request))
    in_service = static_cast<uint8_t>(in_service & ~(1u << request));
  int serviced = highest_of(in_service);
  if (serviced >= 0 && rank(serviced) <= rank(request)) return -1;
  return request;
}

void Pic8259::acknowledge(int ir) {
  const uint8_t bit = static_cast<uint8_t>(1u << ir);
  // INTA consumes the edge latch. A level-triggered IRR bit keeps following
  // its pin, so a request still held high is seen again after the EOI.
  if (!level_triggered(ir)) irr_ = static_cast<uint8_t>(irr_ & ~bit);
  if (auto_eoi_) {
    if (rotate_on_auto_eoi_) lowest_priority_ = ir;
  } else {
    isr_ = static_cast<uint8_t>(isr_ | bit);
  }
}

void Pic8259::set_input(int ir, bool level) {
  const uint8_t bit = static_cast<uint8_t>(1u << ir);
  const bool was_high = pins_ & bit;
  pins_ = static_cast<uint8_t>(level ? (pins_ | bit) : (pins_ & ~bit));
  if (level_triggered(ir)) {
    irr_ = static_cast<uint8_t>(level ? (irr_ | bit) : (irr_ & ~bit));
  } else if (level && !was_high) {
    irr_ = static_cast<uint8_t>(irr_ | bit);
  }
}

void Pic8259::set_cascade_request(int ir, bool slave_int) {
  const uint8_t bit = static_cast<uint8_t>(1u << ir);
  pins_ = static_cast<uint8_t>(slave_int ? (pins_ | bit) : (pins_ & ~bit));
  if (level_triggered(ir)) {
    irr_ = static_cast<uint8_t>(slave_int ? (irr_ | bit) : (irr_ & ~bit));
  } else if (slave_int) {
    // Re-latched while the slave still requests (see the header).
    irr_ = static_cast<uint8_t>(irr_ | bit);
  }
}

void Pic8259::refresh_level_inputs() {
  for (int ir = 0; ir < 8; ++ir) {
    if (!level_triggered(ir)) continue;
    const uint8_t bit = static_cast<uint8_t>(1u << ir);
    irr_ = static_cast<uint8_t>((pins_ & bit) ? (irr_ | bit) : (irr_ & ~bit));
  }
}

const char* Pic8259::write(bool a0, uint8_t value) {
  return a0 ? write_data(value) : write_command(value);
}

const char* Pic8259::write_command(uint8_t value) {
  if (value & 0x10) {
    write_icw1(value);
    return nullptr;
  }
  if (init_step_ != InitStep::Ready) {
    // An OCW in the middle of initialization: the datasheet does not define
    // it. Abandon the sequence and treat the byte as the OCW it looks like.
    init_step_ = InitStep::Ready;
  }
  if (value & 0x08) {
    write_ocw3(value);
    return (value & 0x80) ? "OCW3 with reserved bit 7 set" : nullptr;
  }
  return write_ocw2(value);
}

void Pic8259::write_icw1(uint8_t value) {
  icw1_seen_ = true;
  icw4_needed_ = value & 0x01;  // IC4
  single_ = value & 0x02;       // SNGL
  // Bit 2 (ADI, call address interval) and bits 7..5 (MCS-80 vector
  // address) have no meaning for an x86 CPU.
  ltim_ = value & 0x08;  // LTIM
  // Initialization resets the edge-sense circuit, the masks, the ISR, the
  // priority order, special mask mode and the register-read selection.
  irr_ = 0;
  isr_ = 0;
  imr_ = 0;
  lowest_priority_ = 7;
  special_mask_ = false;
  read_isr_ = false;
  poll_pending_ = false;
  rotate_on_auto_eoi_ = false;
  refresh_level_inputs();
  if (!icw4_needed_) {
    // Without ICW4 every ICW4 function is cleared.
    x86_mode_ = false;
    auto_eoi_ = false;
    buffered_ = false;
    buffered_master_ = false;
    special_fully_nested_ = false;
  }
  init_step_ = InitStep::ExpectIcw2;
}

const char* Pic8259::write_data(uint8_t value) {
  switch (init_step_) {
    case InitStep::ExpectIcw2:
      // In 8086 mode bits 2..0 are replaced by the IR number.
      vector_base_ = value & 0xF8;
      init_step_ = !single_ ? InitStep::ExpectIcw3
                            : (icw4_needed_ ? InitStep::ExpectIcw4 : InitStep::Ready);
      return nullptr;
    case InitStep::ExpectIcw3:
      icw3_ = value;
      init_step_ = icw4_needed_ ? InitStep::ExpectIcw4 : InitStep::Ready;
      if (!is_master_ && (value & 0xF8)) return "slave ICW3 with bits 7..3 set";
      return nullptr;
    case InitStep::ExpectIcw4:
      x86_mode_ = value & 0x01;              // uPM
      auto_eoi_ = value & 0x02;              // AEOI
      buffered_master_ = value & 0x04;       // M/S
      buffered_ = value & 0x08;              // BUF
      special_fully_nested_ = value & 0x10;  // SFNM
      init_step_ = InitStep::Ready;
      if (value & 0xE0) return "ICW4 with reserved bits 7..5 set";
      if (!x86_mode_) return "ICW4 selects MCS-80/85 mode; answering with 8086 vectors";
      return nullptr;
    case InitStep::Ready:
      imr_ = value;  // OCW1
      return nullptr;
  }
  return nullptr;
}

void Pic8259::end_of_interrupt(int ir, bool rotate) {
  if (ir < 0) return;
  isr_ = static_cast<uint8_t>(isr_ & ~(1u << ir));
  if (rotate) lowest_priority_ = ir;
}

const char* Pic8259::write_ocw2(uint8_t value) {
  const int level = value & 0x07;  // L2..L0
  switch (value >> 5) {            // R, SL, EOI
    case 0b001: end_of_interrupt(highest_of(isr_), false); break;  // non-specific EOI
    case 0b011: end_of_interrupt(level, false); break;             // specific EOI
    case 0b101: end_of_interrupt(highest_of(isr_), true); break;   // rotate on non-specific EOI
    case 0b100: rotate_on_auto_eoi_ = true; break;                 // rotate in AEOI mode (set)
    case 0b000: rotate_on_auto_eoi_ = false; break;                // rotate in AEOI mode (clear)
    case 0b111: end_of_interrupt(level, true); break;              // rotate on specific EOI
    case 0b110: lowest_priority_ = level; break;                   // set priority
    case 0b010: break;                                             // no operation
  }
  if ((value >> 5) != 0b011 && (value >> 5) != 0b111 && (value >> 5) != 0b110 && level != 0)
    return "OCW2 with level bits set on a command that ignores them";
  return nullptr;
}

void Pic8259::write_ocw3(uint8_t value) {
  if (value & 0x40) special_mask_ = value & 0x20;  // ESMM enables SMM
  if (value & 0x04) poll_pending_ = true;          // P: poll command
  if (value & 0x02) read_isr_ = value & 0x01;      // RR enables RIS
}

uint8_t Pic8259::poll() {
  // A poll is an INTA without the vector: it services the highest request.
  int ir = highest_request();
  if (ir < 0) return 0x00;
  acknowledge(ir);
  return static_cast<uint8_t>(0x80 | ir);
}

uint8_t Pic8259::read(bool a0) {
  if (poll_pending_) {
    poll_pending_ = false;
    return poll();
  }
  if (!a0) return read_isr_ ? isr_ : irr_;
  return imr_;
}

// ----------------------------------------------------------------------------
// The cascaded pair
// ----------------------------------------------------------------------------

Pic8259Pair::Pic8259Pair() : master_(true), slave_(false) {}

void Pic8259Pair::attach(IoBus& bus) {
  bus.register_ports(kMasterBase, 2, this);
  bus.register_ports(kSlaveBase, 2, this);
  bus.register_ports(kElcrBase, 2, this);
}

void Pic8259Pair::reset() {
  master_.reset();
  slave_.reset();
  update_irq();
}

void Pic8259Pair::ignored(std::string_view what) {
  ++ignored_writes_;
  if (log_) log_(what);
}

void Pic8259Pair::set_irq(int irq, bool level) {
  if (irq < 0 || irq > 15) {
    ignored("pic: set_irq on a line that does not exist");
    return;
  }
  if (irq == kCascadeIr) {
    ignored("pic: IRQ2 is the cascade input; use IRQ9");
    return;
  }
  if (irq < 8)
    master_.set_input(irq, level);
  else
    slave_.set_input(irq - 8, level);
  update_irq();
}

std::function<void(bool)> Pic8259Pair::input(int irq) {
  return [this, irq](bool level) { set_irq(irq, level); };
}

bool Pic8259Pair::intr_pending() const { return master_.int_output(); }

uint8_t Pic8259Pair::acknowledge() {
  const int ir = master_.highest_request();
  if (ir < 0) return master_.vector(7);  // spurious IRQ 7: no ISR bit is set
  master_.acknowledge(ir);
  uint8_t vector;
  if (master_.is_cascade_input(ir)) {
    const int slave_ir = slave_.highest_request();
    if (slave_ir < 0) {
      vector = slave_.vector(7);  // spurious IRQ 15; the master's IR2 stays in service
    } else {
      slave_.acknowledge(slave_ir);
      vector = slave_.vector(slave_ir);
    }
  } else {
    vector = master_.vector(ir);
  }
  update_irq();
  return vector;
}

uint32_t Pic8259Pair::io_read(uint16_t port, unsigned /*size*/) {
  uint8_t value = 0xFF;
  switch (port) {
    case kMasterBase:
    case kMasterBase + 1: value = master_.read(port & 1); break;
    case kSlaveBase:
    case kSlaveBase + 1: value = slave_.read(port & 1); break;
    case kElcrBase: value = master_.elcr(); break;
    case kElcrBase + 1: value = slave_.elcr(); break;
    default: break;
  }
  update_irq();  // a poll read acts as an INTA
  return value;
}

void Pic8259Pair::io_write(uint16_t port, unsigned /*size*/, uint32_t value) {
  const uint8_t byte = static_cast<uint8_t>(value);
  const char* problem = nullptr;
  switch (port) {
    case kMasterBase:
    case kMasterBase + 1: problem = master_.write(port & 1, byte); break;
    case kSlaveBase:
    case kSlaveBase + 1: problem = slave_.write(port & 1, byte); break;
    case kElcrBase:
      if (byte & ~kElcrMasterWritable) problem = "ELCR1: IRQ 0-2 cannot be level triggered";
      master_.set_elcr(byte & kElcrMasterWritable);
      break;
    case kElcrBase + 1:
      if (byte & ~kElcrSlaveWritable) problem = "ELCR2: IRQ 8 and 13 cannot be level triggered";
      slave_.set_elcr(byte & kElcrSlaveWritable);
      break;
    default: problem = "write to a port it does not own"; break;
  }
  if (problem) ignored(std::string("pic: ") + problem);
  update_irq();
}

void Pic8259Pair::update_irq() {
  master_.set_cascade_request(kCascadeIr, slave_.int_output());
  const bool level = master_.int_output();
  if (level != intr_level_) {
    intr_level_ = level;
    intr_line_.set(level);
  }
}

}  // namespace popek
