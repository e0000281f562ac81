#include "devices/uart16550.h"

namespace popek {

namespace {
constexpr uint64_t kNsPerSecond = 1'000'000'000;
constexpr uint8_t kLineErrorBits = Uart16550::kLsrOe | Uart16550::kLsrPe | Uart16550::kLsrFe |
                                   Uart16550::kLsrBi;
}  // namespace

Uart16550::Uart16550(VirtualClock& clock, uint16_t base, int irq_number, Output output)
    : clock_(clock),
      base_(base),
      irq_number_(irq_number),
      output_(std::move(output)),
      timeout_timer_(clock, [this] {
        if (fifo_enabled_ && !rx_.empty()) timeout_pending_ = true;
        update_irq();
      }) {
  msr_status_ = modem_status();
}

void Uart16550::attach(IoBus& bus) { bus.register_ports(base_, 8, this); }

void Uart16550::reset() {
  ier_ = 0;
  lcr_ = 0;
  mcr_ = 0;
  fifo_enabled_ = false;
  fcr_high_ = 0;
  rx_.clear();
  line_errors_ = 0;
  msr_deltas_ = 0;
  msr_status_ = modem_status();
  thre_pending_ = false;
  timeout_pending_ = false;
  timeout_timer_.cancel();
  update_irq();
}

void Uart16550::ignored(std::string_view what) {
  ++ignored_writes_;
  if (log_) log_(what);
}

uint64_t Uart16550::char_time_ns() const {
  const unsigned word = 5 + (lcr_ & 0x03);
  const unsigned parity = (lcr_ & 0x08) ? 1 : 0;
  const unsigned stop_half_bits = (lcr_ & 0x04) ? (word == 5 ? 3 : 4) : 2;
  const uint64_t half_bits = 2 * (1 + word + parity) + stop_half_bits;
  const uint64_t divisor = divisor_ ? divisor_ : 65536;  // 0 acts as 65536
  return half_bits * divisor * 16 * kNsPerSecond / (kInputClockHz * 2);
}

// ----------------------------------------------------------------------------
// Receive side
// ----------------------------------------------------------------------------

bool Uart16550::can_receive() const {
  if (mcr_ & kMcrLoop) return false;
  return rx_.size() < (fifo_enabled_ ? kFifoSize : 1);
}

void Uart16550::rx_push(uint8_t byte, uint8_t errors) {
  const size_t depth = fifo_enabled_ ? kFifoSize : 1;
  if (rx_.size() >= depth) {
    line_errors_ |= kLsrOe;
    // 16450 mode: the new character overwrites RBR. FIFO mode: it is lost
    // in the shift register and the FIFO is kept.
    if (!fifo_enabled_) rx_.back() = RxChar{byte, errors};
  } else {
    if (rx_.empty()) line_errors_ |= errors;  // at the top of the FIFO at once
    rx_.push_back(RxChar{byte, errors});
  }
  restart_timeout();
  update_irq();
}

uint8_t Uart16550::rx_pop() {
  if (rx_.empty()) return last_rx_;  // an empty receiver repeats the last byte read
  const uint8_t b = rx_.front().byte;
  last_rx_ = b;
  rx_.pop_front();
  if (!rx_.empty()) line_errors_ |= rx_.front().errors;
  restart_timeout();
  return b;
}

void Uart16550::receive(uint8_t byte) {
  if (mcr_ & kMcrLoop) {
    ignored("uart: host input dropped in loopback mode");
    return;
  }
  rx_push(byte, 0);
}

void Uart16550::receive_break() {
  if (mcr_ & kMcrLoop) return;
  rx_push(0x00, kLsrBi);
}

void Uart16550::restart_timeout() {
  timeout_pending_ = false;
  if (fifo_enabled_ && !rx_.empty()) {
    timeout_timer_.arm_after(4 * char_time_ns());
  } else {
    timeout_timer_.cancel();
  }
}

// ----------------------------------------------------------------------------
// Transmit side and modem control
// ----------------------------------------------------------------------------

void Uart16550::transmit(uint8_t byte) {
  if (mcr_ & kMcrLoop) {
    rx_push(byte, 0);
  } else if (output_) {
    output_(byte);
  }
  // THR and the shift register are empty again at once.
  thre_pending_ = true;
}

uint8_t Uart16550::modem_status() const {
  if (!(mcr_ & kMcrLoop)) return host_modem_;
  uint8_t s = 0;
  if (mcr_ & kMcrRts) s |= kMsrCts;
  if (mcr_ & kMcrDtr) s |= kMsrDsr;
  if (mcr_ & kMcrOut1) s |= kMsrRi;
  if (mcr_ & kMcrOut2) s |= kMsrDcd;
  return s;
}

void Uart16550::set_modem_status(uint8_t status) {
  const uint8_t changed = status ^ msr_status_;
  if (changed & kMsrCts) msr_deltas_ |= kMsrDcts;
  if (changed & kMsrDsr) msr_deltas_ |= kMsrDdsr;
  if ((msr_status_ & kMsrRi) && !(status & kMsrRi)) msr_deltas_ |= kMsrTeri;  // trailing edge
  if (changed & kMsrDcd) msr_deltas_ |= kMsrDdcd;
  msr_status_ = status;
}

void Uart16550::set_modem_inputs(bool cts, bool dsr, bool ri, bool dcd) {
  host_modem_ = static_cast<uint8_t>((cts ? kMsrCts : 0) | (dsr ? kMsrDsr : 0) |
                                     (ri ? kMsrRi : 0) | (dcd ? kMsrDcd : 0));
  set_modem_status(modem_status());
  update_irq();
}

void Uart16550::write_mcr(uint8_t value) {
  if (value & 0xE0) ignored("uart: MCR bits 7..5 are reserved");
  const bool was_loop = mcr_ & kMcrLoop;
  mcr_ = value & 0x1F;
  if (was_loop != static_cast<bool>(mcr_ & kMcrLoop)) {
    // Entering or leaving loopback switches the MSR source; the switch
    // itself is not a line event.
    msr_status_ = modem_status();
  } else {
    set_modem_status(modem_status());
  }
}

void Uart16550::write_fcr(uint8_t value) {
  const bool enable = value & kFcrEnable;
  if (enable != fifo_enabled_) {
    // Switching between 16450 and FIFO mode empties both FIFOs.
    rx_.clear();
    fifo_enabled_ = enable;
  }
  if (value & kFcrClearRx) rx_.clear();
  // The TX FIFO is always empty (instant transmission); bit 2 has nothing to clear.
  fcr_high_ = value & 0xC8;
  restart_timeout();
}

// ----------------------------------------------------------------------------
// Registers and interrupts
// ----------------------------------------------------------------------------

uint8_t Uart16550::lsr() const {
  uint8_t v = line_errors_ | kLsrThre | kLsrTemt;
  if (!rx_.empty()) v |= kLsrDr;
  if (fifo_enabled_) {
    for (const RxChar& c : rx_) {
      if (c.errors) {
        v |= kLsrFifoError;
        break;
      }
    }
  }
  return v;
}

uint8_t Uart16550::pending_interrupt() const {
  if ((ier_ & kIerLine) && (line_errors_ & kLineErrorBits)) return kIirLine;
  if (ier_ & kIerRx) {
    static constexpr size_t kTrigger[4] = {1, 4, 8, 14};
    const size_t trigger = fifo_enabled_ ? kTrigger[fcr_high_ >> 6] : 1;
    if (rx_.size() >= trigger) return kIirRx;
    if (timeout_pending_ && !rx_.empty()) return kIirTimeout;
  }
  if ((ier_ & kIerThre) && thre_pending_) return kIirThre;
  if ((ier_ & kIerModem) && (msr_deltas_ & 0x0F)) return kIirModem;
  return kIirNone;
}

void Uart16550::update_irq() {
  const bool level = pending_interrupt() != kIirNone && (mcr_ & kMcrOut2);
  if (level != irq_level_) {
    irq_level_ = level;
    irq_.set(level);
  }
}

uint8_t Uart16550::read_register(uint8_t reg) {
  const bool dlab = lcr_ & kLcrDlab;
  switch (reg) {
    case kRbrThr:
      if (dlab) return static_cast<uint8_t>(divisor_);
      return rx_pop();
    case kIer:
      if (dlab) return static_cast<uint8_t>(divisor_ >> 8);
      return ier_;
    case kIirFcr: {
      const uint8_t id = pending_interrupt();
      // Reading IIR while it reports THR empty acknowledges that interrupt.
      if (id == kIirThre) thre_pending_ = false;
      return static_cast<uint8_t>(id | (fifo_enabled_ ? kIirFifoBits : 0));
    }
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr: {
      const uint8_t v = lsr();
      line_errors_ = 0;
      return v;
    }
    case kMsr: {
      const uint8_t v = static_cast<uint8_t>(msr_status_ | msr_deltas_);
      msr_deltas_ = 0;
      return v;
    }
    case kScr: return scr_;
    default: return 0xFF;
  }
}

void Uart16550::write_register(uint8_t reg, uint8_t value) {
  const bool dlab = lcr_ & kLcrDlab;
  switch (reg) {
    case kRbrThr:
      if (dlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0xFF00) | value);
      } else {
        transmit(value);
      }
      break;
    case kIer:
      if (dlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0x00FF) | value << 8);
      } else {
        // Enabling the THRE interrupt with THR empty raises it at once.
        if ((value & kIerThre) && !(ier_ & kIerThre)) thre_pending_ = true;
        if (value & 0xF0) ignored("uart: IER bits 7..4 are reserved");
        ier_ = value & 0x0F;
      }
      break;
    case kIirFcr:
      write_fcr(value);
      break;
    case kLcr:
      lcr_ = value;
      break;
    case kMcr:
      write_mcr(value);
      break;
    case kLsr:
    case kMsr:
      // Factory test writes on the real chip; nothing a guest needs.
      ignored("uart: write to LSR/MSR ignored");
      return;
    case kScr:
      scr_ = value;
      return;
    default:
      return;
  }
  update_irq();
}

uint32_t Uart16550::io_read(uint16_t port, unsigned) {
  const uint16_t offset = static_cast<uint16_t>(port - base_);
  if (offset >= 8) return 0xFF;
  const uint8_t v = read_register(static_cast<uint8_t>(offset));
  update_irq();
  return v;
}

void Uart16550::io_write(uint16_t port, unsigned, uint32_t value) {
  const uint16_t offset = static_cast<uint16_t>(port - base_);
  if (offset >= 8) {
    ignored("uart: write to a port it does not own");
    return;
  }
  write_register(static_cast<uint8_t>(offset), static_cast<uint8_t>(value));
}

}  // namespace popek
