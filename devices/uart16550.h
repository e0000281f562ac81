// The National Semiconductor 16550A UART, as on PC serial ports (COM1 at
// 0x3F8 / IRQ 4, COM2 at 0x2F8 / IRQ 3). Eight registers from the base port:
//
//   +0 read   RBR  receive buffer (DLAB = 0); DLL divisor low (DLAB = 1)
//   +0 write  THR  transmit holding (DLAB = 0); DLL (DLAB = 1)
//   +1        IER  (DLAB = 0) bit 0 ERBFI received data / character
//                  timeout, bit 1 ETBEI THR empty, bit 2 ELSI line status,
//                  bit 3 EDSSI modem status; bits 7..4 read 0.
//                  DLM divisor high (DLAB = 1)
//   +2 read   IIR  bit 0: 0 = interrupt pending; bits 3..1 source:
//                  011 line status, 010 received data, 110 character
//                  timeout, 001 THR empty, 000 modem status; bits 7..6 =
//                  11 while the FIFOs are enabled
//   +2 write  FCR  bit 0 FIFO enable (changing it clears both FIFOs), bit 1
//                  clear RX FIFO, bit 2 clear TX FIFO, bit 3 DMA mode
//                  (stored only), bits 7..6 RX trigger level 1/4/8/14
//   +3        LCR  bits 1..0 word length 5..8, bit 2 stop bits (1 / 1.5-2),
//                  bit 3 parity enable, bit 4 even parity, bit 5 stick
//                  parity, bit 6 break, bit 7 DLAB
//   +4        MCR  bit 0 DTR, bit 1 RTS, bit 2 OUT1, bit 3 OUT2 (gates the
//                  interrupt onto the IRQ line, as on PC boards), bit 4 LOOP;
//                  bits 7..5 read 0
//   +5        LSR  bit 0 DR data ready, bit 1 OE overrun, bit 2 PE parity,
//                  bit 3 FE framing, bit 4 BI break, bit 5 THRE, bit 6 TEMT,
//                  bit 7 an error character is in the RX FIFO. Reading
//                  clears OE/PE/FE/BI.
//   +6        MSR  bit 0 DCTS, bit 1 DDSR, bit 2 TERI, bit 3 DDCD (deltas,
//                  cleared by reading), bit 4 CTS, bit 5 DSR, bit 6 RI,
//                  bit 7 DCD
//   +7        SCR  scratch
//
// Interrupt priority: line status > received data / character timeout >
// THR empty > modem status.
//
// Host side: transmitted bytes go to an output callback (the frontend wires
// stdout, a file or nothing); host input enters with receive() while
// can_receive() says there is room.
//
// Where this model departs from the chip, and why:
//  - Transmission is instant: a THR write reaches the output callback (or,
//    in loopback, the RX side) at once, so THRE and TEMT are set again
//    straight away and a THRE interrupt follows every write while ETBEI is
//    on. Guests see an infinitely fast line; nothing is lost because the
//    host side never pushes back. Word length, parity and stop bits are
//    stored and used only to time the character timeout.
//  - Received bytes carry no parity/framing errors; receive_break() injects
//    a break (a 0x00 character flagged BI), the one error a host can cause.
//  - The character timeout fires 4 character times (at the programmed
//    divisor and frame) after the last byte was received or read, while the
//    RX FIFO holds data, on the VirtualClock.
//  - Setting ETBEI while THR is empty raises a THRE interrupt at once (as
//    QEMU and most 16550 clones do; drivers rely on it to start output).
//  - OUT2 gates the IRQ from its register bit, also in loopback mode.
//  - In loopback mode host input is refused (the receiver is disconnected
//    from the line); MSR reads CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>

#include "core/clock.h"
#include "core/io_bus.h"
#include "core/irq.h"

namespace popek {

class Uart16550 : public IoDevice {
 public:
  static constexpr uint16_t kCom1Base = 0x3F8;
  static constexpr int kCom1Irq = 4;
  static constexpr uint16_t kCom2Base = 0x2F8;
  static constexpr int kCom2Irq = 3;
  static constexpr size_t kFifoSize = 16;
  static constexpr uint64_t kInputClockHz = 1'843'200;  // 16x the 115200 baud maximum

  // Register offsets.
  enum Reg : uint8_t { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };
  // IER bits.
  static constexpr uint8_t kIerRx = 0x01;
  static constexpr uint8_t kIerThre = 0x02;
  static constexpr uint8_t kIerLine = 0x04;
  static constexpr uint8_t kIerModem = 0x08;
  // IIR values (bits 3..0).
  static constexpr uint8_t kIirNone = 0x01;
  static constexpr uint8_t kIirLine = 0x06;
  static constexpr uint8_t kIirRx = 0x04;
  static constexpr uint8_t kIirTimeout = 0x0C;
  static constexpr uint8_t kIirThre = 0x02;
  static constexpr uint8_t kIirModem = 0x00;
  static constexpr uint8_t kIirFifoBits = 0xC0;
  // FCR bits.
  static constexpr uint8_t kFcrEnable = 0x01;
  static constexpr uint8_t kFcrClearRx = 0x02;
  static constexpr uint8_t kFcrClearTx = 0x04;
  static constexpr uint8_t kFcrDma = 0x08;
  // LCR bits.
  static constexpr uint8_t kLcrDlab = 0x80;
  // MCR bits.
  static constexpr uint8_t kMcrDtr = 0x01;
  static constexpr uint8_t kMcrRts = 0x02;
  static constexpr uint8_t kMcrOut1 = 0x04;
  static constexpr uint8_t kMcrOut2 = 0x08;
  static constexpr uint8_t kMcrLoop = 0x10;
  // LSR bits.
  static constexpr uint8_t kLsrDr = 0x01;
  static constexpr uint8_t kLsrOe = 0x02;
  static constexpr uint8_t kLsrPe = 0x04;
  static constexpr uint8_t kLsrFe = 0x08;
  static constexpr uint8_t kLsrBi = 0x10;
  static constexpr uint8_t kLsrThre = 0x20;
  static constexpr uint8_t kLsrTemt = 0x40;
  static constexpr uint8_t kLsrFifoError = 0x80;
  // MSR bits.
  static constexpr uint8_t kMsrDcts = 0x01;
  static constexpr uint8_t kMsrDdsr = 0x02;
  static constexpr uint8_t kMsrTeri = 0x04;
  static constexpr uint8_t kMsrDdcd = 0x08;
  static constexpr uint8_t kMsrCts = 0x10;
  static constexpr uint8_t kMsrDsr = 0x20;
  static constexpr uint8_t kMsrRi = 0x40;
  static constexpr uint8_t kMsrDcd = 0x80;

  using Output = std::function<void(uint8_t)>;

  // `base`: first of the eight ports; `irq_number`: the ISA IRQ the machine
  // should wire irq() to (4 for COM1, 3 for COM2), kept for its reference.
  Uart16550(VirtualClock& clock, uint16_t base, int irq_number, Output output = {});
  Uart16550(const Uart16550&) = delete;
  Uart16550& operator=(const Uart16550&) = delete;

  // Registers the eight ports from base().
  void attach(IoBus& bus);
  // Master reset: IER, IIR, FCR, LCR, MCR cleared, FIFOs emptied, LSR =
  // THRE|TEMT. The divisor latch and SCR are kept (the MR pin leaves them).
  void reset();

  IrqLine& irq() { return irq_; }
  int irq_number() const { return irq_number_; }
  uint16_t base() const { return base_; }

  // --- Host side ---
  void set_output(Output output) { output_ = std::move(output); }
  // True when a byte from the host would be stored without overrun.
  bool can_receive() const;
  // A byte from the host line. Without room it is lost and OE is set.
  void receive(uint8_t byte);
  // A break condition on the line: a 0x00 character flagged BI.
  void receive_break();
  // Modem status inputs from the host (used outside loopback mode).
  // Defaults: CTS, DSR and DCD asserted, RI not.
  void set_modem_inputs(bool cts, bool dsr, bool ri, bool dcd);

  uint16_t divisor() const { return divisor_; }
  uint8_t line_control() const { return lcr_; }
  uint8_t modem_control() const { return mcr_; }
  bool fifo_enabled() const { return fifo_enabled_; }
  // One character time at the current divisor and frame, in ns.
  uint64_t char_time_ns() const;

  // IoDevice (byte accesses only).
  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }
  uint64_t ignored_writes() const { return ignored_writes_; }

 private:
  struct RxChar {
    uint8_t byte;
    uint8_t errors;  // LSR PE/FE/BI bits that arrived with it
  };
  uint8_t read_register(uint8_t reg);
  void write_register(uint8_t reg, uint8_t value);
  void transmit(uint8_t byte);
  void rx_push(uint8_t byte, uint8_t errors);
  uint8_t rx_pop();
  void write_fcr(uint8_t value);
  void write_mcr(uint8_t value);
  // MSR status bits (7..4) from the host inputs or, in loopback, MCR.
  uint8_t modem_status() const;
  void set_modem_status(uint8_t status);
  uint8_t lsr() const;
  // Highest-priority pending interrupt as IIR bits 3..0.
  uint8_t pending_interrupt() const;
  // Drives the IRQ line: an interrupt pending and OUT2 set.
  void update_irq();
  void restart_timeout();
  void ignored(std::string_view what);

  VirtualClock& clock_;
  const uint16_t base_;
  const int irq_number_;
  Output output_;
  IrqLine irq_;
  bool irq_level_ = false;
  Timer timeout_timer_;  // character timeout, while the RX FIFO holds data

  uint16_t divisor_ = 12;  // DLM:DLL (12 = 9600 baud)
  uint8_t ier_ = 0;        // IER bits 3..0
  uint8_t lcr_ = 0;        // LCR as written
  uint8_t mcr_ = 0;        // MCR bits 4..0
  uint8_t scr_ = 0;        // scratch register
  bool fifo_enabled_ = false;   // FCR bit 0
  uint8_t fcr_high_ = 0;        // FCR bits 7..6 (trigger) and bit 3 (DMA) as written
  std::deque<RxChar> rx_;       // RX FIFO (depth 1 in 16450 mode)
  uint8_t last_rx_ = 0;         // RBR value once the receiver is empty
  uint8_t line_errors_ = 0;     // latched LSR OE/PE/FE/BI, cleared by reading LSR
  uint8_t msr_deltas_ = 0;      // MSR bits 3..0
  uint8_t msr_status_ = 0;      // MSR bits 7..4 as last evaluated (for deltas)
  uint8_t host_modem_ = kMsrCts | kMsrDsr | kMsrDcd;  // host inputs, MSR bit layout
  bool thre_pending_ = false;   // THR-empty interrupt armed (cleared by IIR read / THR write)
  bool timeout_pending_ = false;  // character timeout reached
  std::function<void(std::string_view)> log_;
  uint64_t ignored_writes_ = 0;
};

}  // namespace popek
