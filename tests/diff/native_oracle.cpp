// The real CPU as an oracle: spawns tests/native/native_runner once and
// exchanges one request/reply pair per snippet over its stdin/stdout.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/diff/executors.h"

extern char** environ;

namespace popek::diff {
namespace {

#ifdef POPEK_NATIVE_RUNNER
constexpr const char* kRunnerPath = POPEK_NATIVE_RUNNER;
#else
constexpr const char* kRunnerPath = nullptr;
#endif

bool write_all(int fd, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  while (n) {
    ssize_t w = ::write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_all(int fd, void* p, size_t n) {
  auto* b = static_cast<uint8_t*>(p);
  while (n) {
    ssize_t r = ::read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    b += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

NativeExecutor::NativeExecutor() {
  const char* path = std::getenv("POPEK_NATIVE_RUNNER");
  if (!path || !*path) path = kRunnerPath;
  struct stat st;
  if (!path) {
    why_ = "the native runner was not built (no gcc -m32 -static toolchain)";
    return;
  }
  if (::stat(path, &st) != 0) {
    why_ = std::string("native runner not found at ") + path;
    return;
  }
  signal(SIGPIPE, SIG_IGN);  // a dead runner must show up as an error, not kill the tests
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
    why_ = "pipe failed";
    return;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  char* argv[] = {const_cast<char*>(path), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path, &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    why_ = std::string("cannot start the native runner: ") + std::strerror(rc);
    return;
  }
  pid_ = pid;
  to_child_ = in_pipe[1];
  from_child_ = out_pipe[0];
  // Probe with an empty snippet: the runner exits at once if it cannot map
  // its fixed areas (e.g. vm.mmap_min_addr above 0x4000).
  GuestState probe;
  probe.regs[4] = kInitialEsp;
  RunResult r = run({}, probe);
  if (!available()) why_ = "the native runner failed its first run (see its stderr)";
  (void)r;
}

NativeExecutor::~NativeExecutor() { stop(); }

void NativeExecutor::stop() {
  if (to_child_ >= 0) ::close(to_child_);
  if (from_child_ >= 0) ::close(from_child_);
  to_child_ = from_child_ = -1;
  if (pid_ > 0) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

RunResult NativeExecutor::run(const std::vector<uint8_t>& code, const GuestState& init) {
  RunResult res;
  if (!available()) {
    res.faulted = true;
    res.vector = 0xff;
    res.note = "native runner unavailable: " + why_;
    return res;
  }
  static diff_request rq;
  static diff_reply rp;
  std::memset(&rq, 0, sizeof rq);
  rq.magic = DIFF_REQ_MAGIC;
  rq.code_len = static_cast<uint32_t>(code.size());
  std::memcpy(rq.regs, init.regs.data(), sizeof rq.regs);
  rq.eflags = init.eflags;
  if (!code.empty()) std::memcpy(rq.code, code.data(), code.size());  // data() may be null
  std::memcpy(rq.data, init.data.data(), kDataSize);
  std::memcpy(rq.stack, init.stack.data(), kStackSize);
  if (!write_all(to_child_, &rq, sizeof rq) || !read_all(from_child_, &rp, sizeof rp) ||
      rp.magic != DIFF_REP_MAGIC) {
    why_ = "the native runner died";
    stop();
    res.faulted = true;
    res.vector = 0xff;
    res.note = why_;
    return res;
  }
  std::memcpy(res.state.regs.data(), rp.regs, sizeof rp.regs);
  res.state.eflags = rp.eflags;
  std::memcpy(res.state.data.data(), rp.data, kDataSize);
  std::memcpy(res.state.stack.data(), rp.stack, kStackSize);
  res.eip = rp.eip;
  if (rp.status == DIFF_FAULT) {
    res.faulted = true;
    if (rp.signo == SIGALRM) {
      res.hung = true;
      res.faulted = false;
    }
    res.vector = static_cast<uint8_t>(rp.vector);
    res.note = "native signal " + std::to_string(rp.signo);
  }
  return res;
}

}  // namespace popek::diff
