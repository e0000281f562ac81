#include "frontend/serial_input.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "devices/uart16550.h"

namespace popek {

// ----------------------------------------------------------------------------
// SerialInput
// ----------------------------------------------------------------------------

SerialInput::SerialInput(VirtualClock& clock, Uart16550& uart, int fd)
    : clock_(clock), uart_(uart), fd_(fd), timer_(clock, [this] { poll(); }) {
  timer_.arm_after(0);
}

void SerialInput::poll() {
  read_available();
  deliver();
  // Keep polling while input may still come or queued bytes wait for room.
  if (!eof_ || !pending_.empty()) timer_.arm_after(kPollPeriodNs);
}

void SerialInput::read_available() {
  while (!eof_ && pending_.size() < kMaxPending) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 0);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return;  // nothing to read now (or poll failed: try again later)
    if (p.revents & POLLNVAL) {
      eof_ = true;
      return;
    }
    uint8_t buffer[256];
    const size_t want = std::min(sizeof buffer, kMaxPending - pending_.size());
    const ssize_t n = ::read(fd_, buffer, want);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {  // end of file, or a read error that will not go away
      eof_ = true;
      return;
    }
    pending_.insert(pending_.end(), buffer, buffer + n);
  }
}

void SerialInput::deliver() {
  while (!pending_.empty() && uart_.can_receive()) {
    uart_.receive(pending_.front());
    pending_.pop_front();
    ++delivered_;
  }
}

// ----------------------------------------------------------------------------
// TerminalRawMode
// ----------------------------------------------------------------------------

namespace {
// The one piece of process-wide state in the frontend: the terminal's
// settings before popek changed them. A process has one controlling
// terminal, and the signal handlers that restore it can reach nothing else.
struct SavedTerminal {
  int fd = -1;
  termios settings{};
  volatile std::sig_atomic_t saved = 0;
};
SavedTerminal g_terminal;

constexpr int kFatalSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};

void restore_terminal() {
  if (g_terminal.saved) {
    ::tcsetattr(g_terminal.fd, TCSANOW, &g_terminal.settings);  // async-signal-safe
    g_terminal.saved = 0;
  }
}

// Installed with SA_RESETHAND: after the terminal is restored the signal is
// raised again and its default action (termination, core dump) proceeds.
void on_fatal_signal(int signal) {
  restore_terminal();
  ::raise(signal);
}

void install_signal_handlers() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  std::atexit(restore_terminal);
  for (int sig : kFatalSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    // A signal someone else already handles (a sanitizer, SDL) stays theirs;
    // the destructor and atexit() restore the terminal on their way out.
    if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) continue;
    struct sigaction action {};
    action.sa_handler = on_fatal_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    ::sigaction(sig, &action, nullptr);
  }
}
}  // namespace

TerminalRawMode::TerminalRawMode(int fd) {
  if (!::isatty(fd)) return;
  termios settings{};
  if (::tcgetattr(fd, &settings) != 0) return;
  g_terminal.fd = fd;
  g_terminal.settings = settings;
  g_terminal.saved = 1;
  install_signal_handlers();
  // Raw input (no line editing, echo, CR/LF or flow-control translation,
  // 8-bit bytes); output processing and the signal keys stay.
  settings.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  settings.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | IEXTEN);
  settings.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  settings.c_cflag |= CS8;
  settings.c_cc[VMIN] = 1;
  settings.c_cc[VTIME] = 0;
  active_ = ::tcsetattr(fd, TCSANOW, &settings) == 0;
  if (!active_) g_terminal.saved = 0;
}

TerminalRawMode::~TerminalRawMode() {
  if (active_) restore_terminal();
}

}  // namespace popek
