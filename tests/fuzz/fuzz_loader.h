// Shared by the kernel loader fuzzers (fuzz_bzimage, fuzz_multiboot): the
// input's header, the machines the images are loaded into, and checks.
//
// Input: ram (u8: index into kRamChoices for the load, also mixed into the
// planning RAM size), plan_ram (u32: RAM size in bytes for the pure planning
// functions, clamped to 1 MiB..3 GiB), initrd (u32: size for the planning
// functions; the initrd actually loaded has min(size, 256 KiB) bytes of a
// pattern), cmdline (u16: length of the command line, up to 66000),
// path (u16: length of the kernel's path, up to 66000), then the kernel
// image (the rest).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/linux_boot.h"
#include "core/machine.h"
#include "tests/fuzz/fuzz_input.h"

namespace popek::fuzz {

struct LoaderInput {
  uint32_t load_ram_mb = 0;
  bool vga = false;
  uint32_t plan_ram = 0;
  uint64_t plan_initrd = 0;
  KernelBootFiles files;
};

inline LoaderInput parse_loader_input(const uint8_t* data, size_t size) {
  struct RamChoice {
    uint32_t mb;
    bool vga;
  };
  // No VGA: its reset clears 16 MiB of VRAM, which took 85% of the time;
  // the loader's VGA part (text mode registers, font) is tiny and unit-tested.
  static constexpr RamChoice kRamChoices[] = {{1, false}, {2, false}, {4, false}, {16, false}, {64, false}};
  FuzzInput in(data, size);
  LoaderInput li;
  const RamChoice c = kRamChoices[in.u8() % 5];
  li.load_ram_mb = c.mb;
  li.vga = c.vga;
  li.plan_ram = std::clamp<uint32_t>(in.u32(), 1u << 20, 3u << 30);
  li.plan_initrd = in.u32();
  const uint32_t cmdline_len = std::min<uint32_t>(in.u16(), 66000);
  const uint32_t path_len = std::min<uint32_t>(in.u16(), 66000);
  li.files.cmdline.reserve(cmdline_len);
  for (uint32_t i = 0; i < cmdline_len; ++i) li.files.cmdline += static_cast<char>('a' + i % 26);
  li.files.kernel_path = "k" + std::string(path_len > 1 ? path_len - 1 : 0, 'p');
  li.files.kernel = in.rest();
  const uint32_t initrd_len = static_cast<uint32_t>(std::min<uint64_t>(li.plan_initrd, 256 * 1024));
  if (initrd_len) {
    li.files.initrd_path = "initrd";
    li.files.initrd.resize(initrd_len);
    for (uint32_t i = 0; i < initrd_len; ++i) li.files.initrd[i] = static_cast<uint8_t>(i * 13 + 5);
  }
  return li;
}

// One machine per RAM choice, built once and reset before each load (what
// the reset hook of popek --kernel does on a reboot).
inline Machine& loader_machine(uint32_t ram_mb, bool vga) {
  static std::map<uint32_t, std::unique_ptr<Machine>> machines;
  std::unique_ptr<Machine>& m = machines[ram_mb];
  if (!m) {
    MachineConfig cfg;
    cfg.ram_mb = ram_mb;
    cfg.vga = vga;
    cfg.deterministic = true;
    m = std::make_unique<Machine>(cfg);
  }
  m->reset();
  return *m;
}

[[noreturn]] inline void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "loader fuzzer: %s %s\n", what, detail.substr(0, 300).c_str());
  std::abort();
}

// A loader error: one line that starts with the kernel's or the initrd's
// path and ": ".
inline void check_error(const std::string& e, const KernelBootFiles& f) {
  if (e.empty()) fail("empty error");
  if (e.find('\n') != std::string::npos) fail("error of more than one line:", e);
  const bool names_kernel = e.rfind(f.kernel_path + ": ", 0) == 0;
  const bool names_initrd = !f.initrd_path.empty() && e.rfind(f.initrd_path + ": ", 0) == 0;
  const bool long_path = e.find("...: path too long") != std::string::npos;
  if (!names_kernel && !names_initrd && !long_path) fail("error does not name the file:", e);
}

inline bool memory_equals(PhysicalMemory& mem, uint32_t addr, const uint8_t* want, uint32_t len) {
  std::vector<uint8_t> got(len);
  mem.read_bytes(addr, got.data(), len);
  return std::equal(got.begin(), got.end(), want);
}

inline std::string memory_string(PhysicalMemory& mem, uint32_t addr, uint32_t max) {
  std::string s;
  for (uint32_t a = addr; s.size() < max; ++a) {
    const uint8_t c = mem.read8(a);
    if (!c) break;
    s += static_cast<char>(c);
  }
  return s;
}

}  // namespace popek::fuzz
