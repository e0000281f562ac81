// A directory of the test process's own for the files its tests write:
// made under $TMPDIR (or /tmp) on first use, ends in '/', and is removed
// with its contents when the process exits. ::testing::TempDir() is plain
// /tmp/, so two suites running at once (a release and a sanitizer build,
// two checkouts on one machine) would write the same file names and read
// each other's output.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace popek::test {

inline const std::string& process_temp_dir() {
  struct Dir {
    std::string path;
    Dir() {
      const char* base = std::getenv("TMPDIR");
      std::string name = std::string(base && *base ? base : "/tmp") + "/popek-test-XXXXXX";
      if (!::mkdtemp(name.data())) throw std::runtime_error(name + ": cannot create a temporary directory");
      path = name + "/";
    }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  return dir.path;
}

}  // namespace popek::test
