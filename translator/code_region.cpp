#include "translator/code_region.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>

namespace popek::dbt {

namespace {

#ifndef MFD_EXEC
constexpr unsigned MFD_EXEC = 0x0010;  // Linux 6.3: an executable memfd (vm.memfd_noexec)
#endif

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

uint64_t random_u64() {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof v)) return v;
  std::random_device rd;
  return (uint64_t(rd()) << 32) ^ rd();
}

// A PROT_NONE reservation of `bytes`. `randomize`: at a random page of the
// upper user address space (32 TiB to 112 TiB: above AddressSanitizer's
// shadow, below the default mmap base), trying a few addresses before
// letting the kernel choose.
uint8_t* reserve(size_t bytes, bool randomize) {
  constexpr int kFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  if (randomize) {
    constexpr uint64_t kLow = 0x200000000000ull, kHigh = 0x700000000000ull;
    for (int attempt = 0; attempt < 16; ++attempt) {
      const uint64_t pages = (kHigh - kLow - bytes) / CodeRegion::kPageBytes;
      void* hint = reinterpret_cast<void*>(kLow + random_u64() % pages * CodeRegion::kPageBytes);
      void* p = mmap(hint, bytes, PROT_NONE, kFlags | MAP_FIXED_NOREPLACE, -1, 0);
      if (p != MAP_FAILED) return static_cast<uint8_t*>(p);  // (a kernel before 4.17 may move it: fine)
    }
  }
  void* p = mmap(nullptr, bytes, PROT_NONE, kFlags, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<uint8_t*>(p);
}

int make_memfd() {
  int fd = memfd_create("popek-translation-cache", MFD_CLOEXEC | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("popek-translation-cache", MFD_CLOEXEC);  // before 6.3
  return fd;
}

}  // namespace

const char* to_string(WxMode mode) {
  switch (mode) {
    case WxMode::Dual: return "dual";
    case WxMode::Mprotect: return "mprotect";
    case WxMode::Off: return "off";
  }
  return "?";
}

bool parse_wx_mode(std::string_view text, WxMode& out) {
  for (WxMode m : {WxMode::Dual, WxMode::Mprotect, WxMode::Off})
    if (text == to_string(m)) {
      out = m;
      return true;
    }
  return false;
}

CodeRegion::CodeRegion(size_t runtime_bytes, size_t block_bytes, WxMode mode)
    : mode_(mode),
      runtime_bytes_(runtime_bytes),
      block_bytes_(block_bytes),
      runtime_span_(round_up(runtime_bytes ? runtime_bytes : 1, kPageBytes)),
      block_span_(round_up(block_bytes ? block_bytes : 1, kPageBytes)) {
  reserved_ = kGuardBytes + runtime_span_ + kGuardBytes + block_span_ + kGuardBytes;
  exec_ = reserve(reserved_, false);
  write_ = exec_;
  try {
    map_views();
  } catch (...) {
    munmap(exec_, reserved_);
    if (write_ != exec_) munmap(write_, reserved_);
    throw;
  }
}

CodeRegion::~CodeRegion() {
  munmap(exec_, reserved_);
  if (write_ != exec_) munmap(write_, reserved_);
}

void CodeRegion::map_views() {
  const size_t runtime_at = kGuardBytes, blocks_at = kGuardBytes + runtime_span_ + kGuardBytes;
  if (mode_ == WxMode::Dual) {
    // Any failure here (no memfd_create under a seccomp filter, a memfd
    // that may not be mapped executable) falls back to mprotect toggling,
    // which still never has a page writable and executable at once.
    const int fd = make_memfd();
    if (fd >= 0) {
      bool ok = ftruncate(fd, static_cast<off_t>(runtime_span_ + block_span_)) == 0;
      if (ok) {
        try {
          write_ = reserve(reserved_, true);
        } catch (const std::bad_alloc&) {
          ok = false;
        }
      }
      auto map = [&](uint8_t* view, int prot) {
        ok = ok && mmap(view + runtime_at, runtime_span_, prot, MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED;
        ok = ok && mmap(view + blocks_at, block_span_, prot, MAP_SHARED | MAP_FIXED, fd,
                        static_cast<off_t>(runtime_span_)) != MAP_FAILED;
      };
      map(exec_, PROT_READ | PROT_EXEC);
      map(write_, PROT_READ | PROT_WRITE);
      close(fd);  // the mappings keep the memory
      if (ok) return;
      if (write_ != exec_) munmap(write_, reserved_);
      write_ = exec_;
    }
    mode_ = WxMode::Mprotect;
  }
  const int prot = mode_ == WxMode::Off ? PROT_READ | PROT_WRITE | PROT_EXEC : PROT_READ | PROT_EXEC;
  for (auto [at, len] : {std::pair{runtime_at, runtime_span_}, std::pair{blocks_at, block_span_}})
    if (mmap(exec_ + at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
      throw std::runtime_error(errno_text("popek: mmap of the translation cache"));
}

bool CodeRegion::in_runtime(const void* p, size_t n) const {
  const auto a = reinterpret_cast<uintptr_t>(p), lo = reinterpret_cast<uintptr_t>(runtime_base());
  return a >= lo && n <= runtime_bytes_ && a - lo <= runtime_bytes_ - n;
}

bool CodeRegion::in_blocks(const void* p, size_t n) const {
  const auto a = reinterpret_cast<uintptr_t>(p), lo = reinterpret_cast<uintptr_t>(block_base());
  return a >= lo && n <= block_bytes_ && a - lo <= block_bytes_ - n;
}

void CodeRegion::write(const void* dst, const void* src, size_t size) {
  if (size == 0) return;
  if (!in_runtime(dst, size) && !in_blocks(dst, size))
    throw std::logic_error("popek: a write outside the translation cache's areas");
  const size_t offset = static_cast<size_t>(static_cast<const uint8_t*>(dst) - exec_);
  switch (mode_) {
    case WxMode::Dual:
      std::memcpy(write_ + offset, src, size);
      return;
    case WxMode::Off:
      std::memcpy(exec_ + offset, src, size);
      return;
    case WxMode::Mprotect: {
      uint8_t* lo = exec_ + offset / kPageBytes * kPageBytes;
      const size_t len = round_up(offset + size, kPageBytes) - offset / kPageBytes * kPageBytes;
      if (mprotect(lo, len, PROT_READ | PROT_WRITE) != 0)
        throw std::runtime_error(errno_text("popek: mprotect of the translation cache"));
      std::memcpy(exec_ + offset, src, size);
      if (mprotect(lo, len, PROT_READ | PROT_EXEC) != 0)
        throw std::runtime_error(errno_text("popek: mprotect of the translation cache"));
      return;
    }
  }
}

}  // namespace popek::dbt
