// What the soak and resource tests measure of their own process: fields of
// /proc/self/status (VmRSS, VmHWM, in KiB) and the open descriptor count.
#pragma once
#include <dirent.h>

// POPEK_TEST_ASAN: built with AddressSanitizer, whose quarantine and shadow
// memory make RSS say nothing about Popek. GCC defines __SANITIZE_ADDRESS__;
// Clang (before 17) only answers __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define POPEK_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POPEK_TEST_ASAN 1
#endif
#endif

#include <cstdint>
#include <fstream>
#include <string>

namespace popek::test {

inline uint64_t status_kb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(key.size()));
  return 0;
}

inline int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n - 1;  // the directory stream itself
}

}  // namespace popek::test
