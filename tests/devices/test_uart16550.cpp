// Unit tests for the 16550A UART at COM1, through an IoBus on a
// deterministic VirtualClock (ns_per_insn = 1: retire(n) advances n ns).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/io_bus.h"
#include "devices/uart16550.h"

namespace popek {
namespace {

constexpr uint16_t kBase = Uart16550::kCom1Base;

class UartTest : public ::testing::Test {
 protected:
  UartTest() {
    uart.attach(bus);
    uart.irq().connect([this](bool level) {
      if (level && !irq) ++irq_rises;
      irq = level;
    });
    uart.set_log([this](std::string_view m) { log.emplace_back(m); });
  }
  void out(uint8_t reg, uint8_t v) { bus.write(static_cast<uint16_t>(kBase + reg), 1, v); }
  uint8_t in(uint8_t reg) { return static_cast<uint8_t>(bus.read(static_cast<uint16_t>(kBase + reg), 1)); }
  void wait(uint64_t ns) {
    const uint64_t end = clock.now() + ns;
    while (clock.now() < end) {
      clock.retire(std::min<uint64_t>(clock.budget(UINT64_MAX), end - clock.now()));
      clock.run_expired();
    }
  }
  // 115200 baud 8N1, FIFO with the given FCR, all interrupts off, OUT2 on.
  void setup(uint8_t fcr, uint8_t ier) {
    out(3, 0x80);
    out(0, 0x01);
    out(1, 0x00);
    out(3, 0x03);
    out(2, fcr);
    out(4, 0x0B);  // DTR, RTS, OUT2
    out(1, ier);
  }

  VirtualClock clock{true, 1};
  IoBus bus;
  std::vector<uint8_t> sent;
  Uart16550 uart{clock, kBase, Uart16550::kCom1Irq, [this](uint8_t b) { sent.push_back(b); }};
  bool irq = false;
  int irq_rises = 0;
  std::vector<std::string> log;
};

TEST_F(UartTest, PowerOnRegisters) {
  EXPECT_EQ(uart.irq_number(), 4);
  EXPECT_EQ(in(1), 0x00);
  EXPECT_EQ(in(2), 0x01);
  EXPECT_EQ(in(3), 0x00);
  EXPECT_EQ(in(4), 0x00);
  EXPECT_EQ(in(5), 0x60);
  EXPECT_EQ(in(6), 0xB0);  // CTS, DSR, DCD from the host side
  out(7, 0xA5);
  EXPECT_EQ(in(7), 0xA5);
  EXPECT_FALSE(irq);
}

TEST_F(UartTest, DivisorLatch) {
  out(3, 0x83);  // DLAB, 8N1
  out(0, 0x0C);
  out(1, 0x00);
  EXPECT_EQ(in(0), 0x0C);
  EXPECT_EQ(in(1), 0x00);
  EXPECT_EQ(uart.divisor(), 12);
  out(0, 0x80);
  out(1, 0x01);
  EXPECT_EQ(uart.divisor(), 0x180);
  out(3, 0x03);  // DLAB off: offsets 0/1 are THR/RBR and IER again
  EXPECT_EQ(in(1), 0x00);
  out(0, 'H');
  EXPECT_EQ(sent, (std::vector<uint8_t>{'H'}));
  EXPECT_EQ(uart.divisor(), 0x180);
  // 1 start + 8 data + 1 stop = 10 bits at 1843200 / 16 / 0x180 baud.
  EXPECT_EQ(uart.char_time_ns(), 10ull * 0x180 * 16 * 1'000'000'000 / 1'843'200);
}

TEST_F(UartTest, TransmitAndLsrThreTemt) {
  setup(0x00, 0x00);
  for (char c : std::string("Hi\n")) out(0, static_cast<uint8_t>(c));
  EXPECT_EQ(sent, (std::vector<uint8_t>{'H', 'i', '\n'}));
  EXPECT_EQ(in(5) & 0x60, 0x60);  // instant transmission: THR and shift register empty
}

TEST_F(UartTest, LoopbackEchoAndModemLines) {
  setup(0x07, 0x00);
  out(4, 0x10);  // LOOP, all outputs low
  in(6);         // clear deltas
  out(0, 0x55);
  out(0, 0xAA);
  EXPECT_TRUE(sent.empty());  // nothing reaches the line
  EXPECT_EQ(in(5) & 0x01, 0x01);
  EXPECT_EQ(in(0), 0x55);
  EXPECT_EQ(in(0), 0xAA);
  EXPECT_EQ(in(5) & 0x01, 0x00);
  EXPECT_EQ(in(6), 0x00);
  out(4, 0x1F);  // DTR RTS OUT1 OUT2 loop back to DSR CTS RI DCD
  EXPECT_EQ(in(6), 0xFB);  // all four lines, deltas except TERI (RI rose)
  EXPECT_EQ(in(6), 0xF0);
  out(4, 0x1B);  // OUT1 (RI) falls: trailing edge
  EXPECT_EQ(in(6), 0xB4);
  EXPECT_FALSE(uart.can_receive());  // host input refused in loopback
  uart.receive('x');
  EXPECT_EQ(in(5) & 0x01, 0x00);
  out(4, 0x0B);
  EXPECT_TRUE(uart.can_receive());
}

TEST_F(UartTest, FifoTriggerLevelInterrupt) {
  setup(0xC7, 0x01);  // FIFO, trigger 14, RX interrupt
  EXPECT_EQ(in(2), 0xC1);  // FIFO bits, no interrupt
  for (int i = 0; i < 13; ++i) uart.receive(static_cast<uint8_t>(i));
  EXPECT_FALSE(irq);
  uart.receive(13);
  EXPECT_TRUE(irq);
  EXPECT_EQ(in(2), 0xC4);
  EXPECT_EQ(in(0), 0);
  EXPECT_FALSE(irq);  // 13 left, below the trigger
  // Trigger 4.
  out(2, 0x43);
  EXPECT_EQ(in(5) & 0x01, 0);  // cleared by FCR bit 1
  for (int i = 0; i < 3; ++i) uart.receive(static_cast<uint8_t>(i));
  EXPECT_FALSE(irq);
  uart.receive(3);
  EXPECT_TRUE(irq);
  // 16450 mode: every byte interrupts, IIR has no FIFO bits.
  out(2, 0x00);
  EXPECT_FALSE(irq);
  uart.receive(0x41);
  EXPECT_TRUE(irq);
  EXPECT_EQ(in(2), 0x04);
  EXPECT_EQ(in(0), 0x41);
  EXPECT_FALSE(irq);
}

TEST_F(UartTest, CharacterTimeoutAfterFourCharTimes) {
  setup(0x87, 0x01);  // trigger 8
  const uint64_t t = uart.char_time_ns();
  uart.receive('a');
  uart.receive('b');
  wait(4 * t - 10);
  EXPECT_FALSE(irq);
  wait(20);
  EXPECT_TRUE(irq);
  EXPECT_EQ(in(2), 0xCC);
  EXPECT_EQ(in(0), 'a');  // reading restarts the timeout
  EXPECT_FALSE(irq);
  wait(4 * t + 10);
  EXPECT_TRUE(irq);
  EXPECT_EQ(in(0), 'b');
  EXPECT_FALSE(irq);
  wait(10 * t);
  EXPECT_FALSE(irq);  // empty FIFO: no timeout
  EXPECT_EQ(in(2), 0xC1);
}

TEST_F(UartTest, InterruptPriority) {
  setup(0x01, 0x0F);  // FIFO trigger 1, all four sources
  // THRE is raised on enabling ETBEI.
  EXPECT_TRUE(irq);
  // Overrun (line status) + data + THRE + modem status all at once.
  for (int i = 0; i < 17; ++i) uart.receive(static_cast<uint8_t>(i));
  uart.set_modem_inputs(false, true, false, true);  // CTS drops
  EXPECT_EQ(in(2), 0xC6);  // line status
  EXPECT_EQ(in(5) & 0x03, 0x03);  // DR, OE; read clears OE
  EXPECT_EQ(in(2), 0xC4);  // received data
  for (int i = 0; i < 16; ++i) EXPECT_EQ(in(0), i);
  EXPECT_EQ(in(2), 0xC2);  // THR empty; this read acknowledges it
  EXPECT_EQ(in(2), 0xC0);  // modem status
  EXPECT_EQ(in(6), 0xA1);  // DSR DCD, DCTS
  EXPECT_EQ(in(2), 0xC1);
  EXPECT_FALSE(irq);
  // A THR write re-arms THRE.
  out(0, 'z');
  EXPECT_EQ(in(2), 0xC2);
}

TEST_F(UartTest, OverrunInFifoAndNonFifoModes) {
  setup(0x07, 0x00);
  EXPECT_TRUE(uart.can_receive());
  for (int i = 0; i < 16; ++i) uart.receive(static_cast<uint8_t>(i));
  EXPECT_FALSE(uart.can_receive());
  uart.receive(99);  // lost
  EXPECT_EQ(in(5) & 0x03, 0x03);
  EXPECT_EQ(in(5) & 0x02, 0x00);  // OE cleared by the read
  for (int i = 0; i < 16; ++i) EXPECT_EQ(in(0), i);
  EXPECT_EQ(in(5) & 0x01, 0x00);
  out(2, 0x00);  // 16450 mode: one-byte RBR, overwritten on overrun
  uart.receive(1);
  EXPECT_FALSE(uart.can_receive());
  uart.receive(2);
  EXPECT_EQ(in(5) & 0x03, 0x03);
  EXPECT_EQ(in(0), 2);
}

TEST_F(UartTest, Out2GatesTheIrq) {
  setup(0x00, 0x01);
  out(4, 0x03);  // OUT2 off
  uart.receive('q');
  EXPECT_FALSE(irq);
  EXPECT_EQ(in(2), 0x04);  // pending inside the chip
  out(4, 0x0B);
  EXPECT_TRUE(irq);
  in(0);
  EXPECT_FALSE(irq);
}

TEST_F(UartTest, BreakSetsBiAndFifoError) {
  setup(0x07, 0x04);  // line status interrupt
  uart.receive('a');
  uart.receive_break();
  EXPECT_FALSE(irq);  // the break is not yet at the top of the FIFO
  EXPECT_EQ(in(5), 0xE1);  // FIFO error, THRE, TEMT, DR
  EXPECT_EQ(in(0), 'a');
  EXPECT_TRUE(irq);
  EXPECT_EQ(in(2), 0xC6);
  EXPECT_EQ(in(5), 0xF1);  // BI
  EXPECT_FALSE(irq);
  EXPECT_EQ(in(0), 0x00);
  EXPECT_EQ(in(5), 0x60);
}

TEST_F(UartTest, ResetKeepsDivisorAndClearsState) {
  setup(0x07, 0x0F);
  uart.receive('x');
  uart.reset();
  EXPECT_FALSE(irq);
  EXPECT_EQ(in(2), 0x01);
  EXPECT_EQ(in(5), 0x60);
  EXPECT_EQ(uart.divisor(), 1);
  out(3, 0x80);
  EXPECT_EQ(in(0), 0x01);
  out(5, 0x00);  // LSR write: logged, ignored
  EXPECT_EQ(log.size(), 1u);
}

TEST_F(UartTest, RandomGuestTrafficIsHarmless) {
  uint32_t x = 4242;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return static_cast<uint8_t>(x >> 16);
  };
  for (int i = 0; i < 20000; ++i) {
    const uint8_t r = next();
    const uint8_t reg = next() & 7;
    if (r < 100) {
      out(reg, next());
    } else if (r < 200) {
      in(reg);
    } else if (r < 240) {
      uart.receive(next());
    } else {
      wait(next() * 1000ull);
    }
  }
  uart.reset();
  setup(0x07, 0x00);
  out(0, 'k');
  EXPECT_EQ(sent.back(), 'k');
}

}  // namespace
}  // namespace popek

namespace popek {
namespace {

// --- The receive path as host input (SerialInput) drives it ---

TEST_F(UartTest, HostInputFillsTheFifoInOrderUntilCanReceiveSaysStop) {
  setup(0x07, 0x01);  // FIFO, trigger 1, RX interrupt
  EXPECT_TRUE(uart.can_receive());
  EXPECT_EQ(in(5) & 0x01, 0);  // no data ready
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(uart.can_receive()) << i;
    uart.receive(static_cast<uint8_t>('A' + i));
  }
  EXPECT_FALSE(uart.can_receive());  // 16 bytes: the FIFO is full
  EXPECT_TRUE(irq);
  EXPECT_EQ(in(2), 0xC4);
  EXPECT_EQ(in(5) & 0x03, 0x01);  // DR, no overrun
  std::string got;
  while (in(5) & 0x01) got.push_back(static_cast<char>(in(0)));
  EXPECT_EQ(got, "ABCDEFGHIJKLMNOP");
  EXPECT_FALSE(irq);
  EXPECT_TRUE(uart.can_receive());
  EXPECT_EQ(in(0), 'P');  // an empty receiver repeats the last byte read
}

TEST_F(UartTest, NonFifoModeTakesOneByteAtATime) {
  setup(0x00, 0x01);
  EXPECT_TRUE(uart.can_receive());
  uart.receive(0x31);
  EXPECT_FALSE(uart.can_receive());
  EXPECT_TRUE(irq);
  EXPECT_EQ(in(0), 0x31);
  EXPECT_TRUE(uart.can_receive());
  EXPECT_EQ(in(5) & 0x02, 0);  // no overrun when the host respects can_receive()
}

TEST_F(UartTest, LoopbackRefusesHostInput) {
  setup(0x07, 0x01);
  out(4, 0x1B);  // loopback
  EXPECT_FALSE(uart.can_receive());
  uart.receive('x');
  EXPECT_EQ(in(5) & 0x01, 0);
  out(4, 0x0B);
  EXPECT_TRUE(uart.can_receive());
}

}  // namespace
}  // namespace popek
