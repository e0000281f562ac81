// SerialInput (host stdin -> COM1 receiver) on a pipe, and TerminalRawMode
// on a pseudo-terminal: delivery in order, flow control when the guest does
// not read, end of file, and the terminal settings restored.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/clock.h"
#include "core/io_bus.h"
#include "devices/uart16550.h"
#include "frontend/serial_input.h"

namespace popek {
namespace {

class SerialInputTest : public ::testing::Test {
 protected:
  SerialInputTest() {
    EXPECT_EQ(::pipe(fds), 0);
    uart.attach(bus);
    // FIFO with a 1-byte trigger, RX interrupt, OUT2.
    out(3, 0x03);
    out(2, 0x07);
    out(4, 0x0B);
    out(1, 0x01);
  }
  ~SerialInputTest() override {
    ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  void out(uint8_t reg, uint8_t v) { bus.write(static_cast<uint16_t>(Uart16550::kCom1Base + reg), 1, v); }
  uint8_t in(uint8_t reg) { return static_cast<uint8_t>(bus.read(static_cast<uint16_t>(Uart16550::kCom1Base + reg), 1)); }
  void feed(const std::string& s) { ASSERT_EQ(::write(fds[1], s.data(), s.size()), static_cast<ssize_t>(s.size())); }
  void close_writer() {
    ::close(fds[1]);
    fds[1] = -1;
  }
  // Advances virtual time by `ns`, running due timers (the SerialInput poll).
  void run_for(uint64_t ns) {
    const uint64_t end = clock.now() + ns;
    while (clock.now() < end) {
      clock.retire(std::min<uint64_t>(clock.budget(UINT64_MAX), end - clock.now()));
      clock.run_expired();
    }
  }
  std::string drain_guest() {
    std::string s;
    while (in(5) & 0x01) s.push_back(static_cast<char>(in(0)));
    return s;
  }

  int fds[2] = {-1, -1};
  VirtualClock clock{true, 1};
  IoBus bus;
  Uart16550 uart{clock, Uart16550::kCom1Base, Uart16550::kCom1Irq};
};

TEST_F(SerialInputTest, BytesReachTheReceiverInOrder) {
  SerialInput input(clock, uart, fds[0]);
  bool irq = false;
  uart.irq().connect([&](bool level) { irq = level; });
  run_for(SerialInput::kPollPeriodNs);
  EXPECT_EQ(in(5) & 0x01, 0);  // nothing yet; polling goes on
  feed("hi\r\n");
  run_for(SerialInput::kPollPeriodNs);
  EXPECT_TRUE(irq);
  EXPECT_EQ(in(2), 0xC4);
  EXPECT_EQ(drain_guest(), "hi\r\n");
  EXPECT_EQ(input.bytes_delivered(), 4u);
  EXPECT_FALSE(input.at_end());
}

TEST_F(SerialInputTest, BytesWaitWhileTheGuestDoesNotRead) {
  SerialInput input(clock, uart, fds[0]);
  std::string text;
  for (int i = 0; i < 100; ++i) text.push_back(static_cast<char>(0x20 + i % 90));
  text += "\x01\x7f\x80\xff";
  feed(text);
  run_for(5 * SerialInput::kPollPeriodNs);
  EXPECT_EQ(input.bytes_delivered(), 16u);  // the FIFO is full
  EXPECT_EQ(input.pending(), text.size() - 16);
  std::string got;
  while (got.size() < text.size()) {
    got += drain_guest();
    run_for(SerialInput::kPollPeriodNs);
    ASSERT_LT(clock.now(), 1'000'000'000u);
  }
  EXPECT_EQ(got, text);
  EXPECT_EQ(in(5) & 0x02, 0);  // never an overrun
}

TEST_F(SerialInputTest, EndOfFileStopsPollingAfterTheLastByte) {
  SerialInput input(clock, uart, fds[0]);
  feed(std::string(20, 'z'));
  close_writer();
  run_for(SerialInput::kPollPeriodNs);
  EXPECT_TRUE(input.at_end());
  EXPECT_EQ(input.pending(), 4u);
  EXPECT_NE(clock.next_deadline(), VirtualClock::kNever);  // still has bytes to deliver
  EXPECT_EQ(drain_guest(), std::string(16, 'z'));
  run_for(SerialInput::kPollPeriodNs);
  EXPECT_EQ(drain_guest(), std::string(4, 'z'));
  run_for(2 * SerialInput::kPollPeriodNs);
  EXPECT_EQ(clock.next_deadline(), VirtualClock::kNever);  // nothing left to wake a halted guest
}

// A pseudo-terminal whose slave side the tests put in raw mode; `before_` is
// its settings at the start.
class TerminalRawModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_GE(master_, 0);
    ASSERT_EQ(::grantpt(master_), 0);
    ASSERT_EQ(::unlockpt(master_), 0);
    slave_ = ::open(::ptsname(master_), O_RDWR | O_NOCTTY);
    ASSERT_GE(slave_, 0);
    ASSERT_EQ(::tcgetattr(slave_, &before_), 0);
  }
  void TearDown() override {
    if (slave_ >= 0) ::close(slave_);
    if (master_ >= 0) ::close(master_);
  }
  termios settings() const {
    termios t{};
    EXPECT_EQ(::tcgetattr(slave_, &t), 0);
    return t;
  }
  void expect_restored() const {
    const termios after = settings();
    EXPECT_EQ(after.c_lflag, before_.c_lflag);
    EXPECT_EQ(after.c_iflag, before_.c_iflag);
    EXPECT_EQ(after.c_cflag, before_.c_cflag);
  }
  int master_ = -1;
  int slave_ = -1;
  termios before_{};
};

TEST_F(TerminalRawModeTest, NotATerminalIsLeftAlone) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  TerminalRawMode raw(fds[0]);
  EXPECT_FALSE(raw.active());
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(TerminalRawModeTest, RawWhileAliveAndRestoredAfter) {
  ASSERT_TRUE(before_.c_lflag & ICANON);
  {
    TerminalRawMode raw(slave_);
    EXPECT_TRUE(raw.active());
    const termios now = settings();
    EXPECT_FALSE(now.c_lflag & (ICANON | ECHO));
    EXPECT_FALSE(now.c_iflag & ICRNL);  // Enter reaches the guest as CR
    EXPECT_TRUE(now.c_lflag & ISIG);    // Ctrl-C still ends popek
    EXPECT_TRUE(now.c_oflag & OPOST);
    EXPECT_EQ(now.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  }
  expect_restored();
}

TEST_F(TerminalRawModeTest, RestoredWhenASignalEndsTheProcess) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    TerminalRawMode raw(slave_);
    termios now{};
    ::tcgetattr(slave_, &now);
    if (!raw.active() || (now.c_lflag & ICANON)) ::_exit(10);
    ::kill(::getpid(), SIGTERM);  // the handler restores the terminal, then SIGTERM kills
    ::_exit(11);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  expect_restored();
}

}  // namespace
}  // namespace popek
