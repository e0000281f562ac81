// Host input for a serial port: with --serial stdio, the bytes the user
// types (or pipes into popek) reach COM1's receiver.
//
// SerialInput polls a file descriptor (stdin) from a timer on the machine's
// virtual clock, so it runs on whichever thread runs the machine (the only
// thread that may touch devices) and never blocks it: poll() with a zero
// timeout, then read() only what is ready. Bytes wait in a host-side queue
// while the UART's receiver is full (the guest has not read its FIFO), so
// nothing is lost to an overrun; the queue takes at most kMaxPending bytes
// before it stops reading the descriptor (the pipe or terminal buffers the
// rest, which is the flow control the host offers). At end of input the
// timer stops, so a guest waiting in HLT for input that can never come is
// reported as halted rather than kept alive.
//
// TerminalRawMode puts a terminal in "raw-ish" mode while the guest owns
// it: no line editing, no echo, no CR/LF translation on input, 8-bit bytes;
// output processing and signal keys (Ctrl-C ends popek, as QEMU's
// `-serial stdio`) stay. It does nothing when the descriptor is not a
// terminal. The saved settings are restored by the destructor, at exit(),
// and on a fatal signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT,
// SIGSEGV, SIGBUS, SIGFPE, SIGILL), whose default action then proceeds.
#pragma once
#include <cstdint>
#include <deque>

#include "core/clock.h"

namespace popek {

class Uart16550;

class SerialInput {
 public:
  static constexpr uint64_t kPollPeriodNs = 1'000'000;  // 1 ms of virtual time
  static constexpr size_t kMaxPending = 4096;

  // Starts polling `fd` at once; bytes go to `uart`.
  SerialInput(VirtualClock& clock, Uart16550& uart, int fd);
  SerialInput(const SerialInput&) = delete;
  SerialInput& operator=(const SerialInput&) = delete;

  // The descriptor reported end of file (or an error); polling has stopped
  // once the queued bytes were delivered.
  bool at_end() const { return eof_; }
  uint64_t bytes_delivered() const { return delivered_; }
  size_t pending() const { return pending_.size(); }
  // One poll now (the timer calls this; tests may too).
  void poll();

 private:
  void read_available();
  void deliver();

  VirtualClock& clock_;
  Uart16550& uart_;
  const int fd_;
  Timer timer_;
  std::deque<uint8_t> pending_;
  bool eof_ = false;
  uint64_t delivered_ = 0;
};

class TerminalRawMode {
 public:
  // Switches `fd` to raw-ish mode if it is a terminal.
  explicit TerminalRawMode(int fd);
  ~TerminalRawMode();
  TerminalRawMode(const TerminalRawMode&) = delete;
  TerminalRawMode& operator=(const TerminalRawMode&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
};

}  // namespace popek
