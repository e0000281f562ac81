// Regression tests for what the loader fuzzers (tests/fuzz/fuzz_bzimage,
// fuzz_multiboot) and their review found in the direct kernel boot loaders
// (docs/hardening.md, "Bugs found").
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/linux_boot.h"
#include "core/machine.h"
#include "core/multiboot.h"

using namespace popek;

namespace {

void put(std::vector<uint8_t>& b, size_t off, uint64_t v, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A bzImage header whose jump byte says it ends at 0x202 + `jump`.
std::vector<uint8_t> header_only(uint16_t version, uint8_t jump, size_t size) {
  std::vector<uint8_t> img(size, 0);
  put(img, 0x1fe, 0xaa55, 2);
  img[0x200] = 0xeb;
  img[0x201] = jump;
  std::memcpy(&img[0x202], "HdrS", 4);
  put(img, 0x206, version, 2);
  img[0x211] = 0x01;  // LOADED_HIGH
  return img;
}

// A multiboot a.out-kludge kernel of `size` bytes loaded at `load` (bss to
// `bss_end`, 0: none), the header at offset 0.
std::vector<uint8_t> aout_kernel(uint32_t load, uint32_t size, uint32_t bss_end = 0) {
  std::vector<uint8_t> img(size, 0x90);
  const uint32_t flags = multiboot::kAoutKludge;
  put(img, 0, multiboot::kHeaderMagic, 4);
  put(img, 4, flags, 4);
  put(img, 8, uint32_t(-(multiboot::kHeaderMagic + flags)), 4);
  put(img, 12, load, 4);  // header_addr
  put(img, 16, load, 4);  // load_addr
  put(img, 20, 0, 4);     // load_end_addr: the whole file
  put(img, 24, bss_end, 4);
  put(img, 28, load + 32, 4);  // entry
  return img;
}

MachineConfig small_machine(uint32_t mb) {
  MachineConfig cfg;
  cfg.ram_mb = mb;
  cfg.vga = false;
  return cfg;
}

}  // namespace

// A header that claims protocol 2.06 but whose jump byte ends it at 0x22c
// (before kernel_alignment, relocatable_kernel and cmdline_size), in a file
// that ends there too: the loader read those fields past the end of the
// file (an out-of-bounds read under ASan).
TEST(LoaderHardening, ShortHeaderClaimingANewProtocolIsTruncated) {
  for (uint16_t version : {0x0203, 0x0205, 0x0206, 0x020f}) {
    std::vector<uint8_t> img = header_only(version, 0x2a, 0x22c);  // header ends at 0x22c
    LinuxSetupHeader h;
    const std::string e = parse_setup_header(img, h);
    EXPECT_NE(e.find("setup header is too short for boot protocol"), std::string::npos) << version << ": " << e;
  }
  // 2.0a+ fields (pref_address, init_size) are read only when the header reaches them.
  std::vector<uint8_t> img = header_only(0x020f, 0x3a, 0x4000);  // ends at 0x23c: cmdline_size, no init_size
  img[0x1f1] = 4;
  put(img, 0x238, 255, 4);
  put(img, 0x260, 0xfff00000u, 4);  // beyond the header: setup code, not init_size
  LinuxSetupHeader h;
  ASSERT_EQ(parse_setup_header(img, h), "");
  EXPECT_EQ(h.init_size, 0u);
  EXPECT_EQ(h.pref_address, 0u);
}

// pref_address is 64 bits: a huge one made run_addr + init_size wrap to a
// small kernel_end, which was accepted.
TEST(LoaderHardening, HugePreferredAddressIsRefused) {
  std::vector<uint8_t> img = header_only(0x020f, 0x6a, 0x4000);
  img[0x1f1] = 4;
  put(img, 0x22c, 0x7fffffff, 4);
  put(img, 0x238, 255, 4);
  put(img, 0x258, 0xfffffffffffff000ull, 8);  // pref_address
  put(img, 0x260, 0x2000, 4);                  // init_size: the sum wraps
  LinuxSetupHeader h;
  ASSERT_EQ(parse_setup_header(img, h), "");
  LinuxLayout l;
  const std::string e = plan_linux_layout(h, 64u << 20, 0, l);
  EXPECT_NE(e.find("the kernel needs more than"), std::string::npos) << e;
  EXPECT_NE(e.find("0xfffffffffffff000"), std::string::npos) << e;
  // The same through kernel_alignment on a relocatable kernel.
  put(img, 0x258, 0, 8);
  put(img, 0x230, 0x80000000u, 4);
  img[0x234] = 1;
  ASSERT_EQ(parse_setup_header(img, h), "");
  EXPECT_NE(plan_linux_layout(h, 64u << 20, 0, l).find("runs at 0x80000000"), std::string::npos);
}

// A multiboot kernel loaded low (below the loader's data at 0x6000) put its
// module right after itself, over the GDT, the info structure and the
// command line: the module's bytes were then overwritten by them.
TEST(LoaderHardening, MultibootModuleAvoidsTheLoaderData) {
  Machine m(small_machine(4));
  KernelBootFiles f{"low.kernel", aout_kernel(0x1000, 0x200), "mod", std::vector<uint8_t>(0x8000, 0xa5), "x"};
  ASSERT_EQ(load_kernel(m, f), "");
  PhysicalMemory& mem = m.memory();
  const uint32_t start = mem.read32(multiboot::kModsAddr), end = mem.read32(multiboot::kModsAddr + 4);
  EXPECT_EQ(end - start, 0x8000u);
  EXPECT_GE(start, boot_layout::kCmdline + boot_layout::kCmdlineMax);
  for (uint32_t a = start; a < end; a += 0x3ff) ASSERT_EQ(mem.read8(a), 0xa5) << std::hex << a;
  // A module that would reach into the VGA/ROM area goes above 1 MiB.
  f.kernel = aout_kernel(0x90000, 0x200);
  f.initrd.assign(0x20000, 0x5a);
  ASSERT_EQ(load_kernel(m, f), "");
  EXPECT_EQ(mem.read32(multiboot::kModsAddr), 0x100000u);
  EXPECT_EQ(mem.read8(0x100000 + 0x1ffff), 0x5a);
}

// The multiboot command line is the kernel's path, a space and --append:
// only --append was checked against the 64 KiB area, so a long path wrote
// the string past it.
TEST(LoaderHardening, MultibootCommandLineCountsThePath) {
  Machine m(small_machine(4));
  KernelBootFiles f;
  f.kernel = aout_kernel(0x200000, 0x200);
  f.kernel_path = std::string(0x8000, 'k');
  f.cmdline.assign(0x8000, 'c');
  const std::string e = load_kernel(m, f);
  EXPECT_NE(e.find("command line too long (65537 bytes with the kernel's path; at most 65535)"), std::string::npos)
      << e.substr(e.size() > 200 ? e.size() - 200 : 0);
  f.cmdline.resize(0x8000 - 2);  // path + space + command line + NUL = 64 KiB exactly
  EXPECT_EQ(load_kernel(m, f), "");
}

// fuzz_multiboot: a.out-kludge fields all 0xFFFFFFFF planned a segment of
// zero bytes (load_end_addr = load_addr, bss_end_addr = load_addr), where
// the ELF path skips empty segments; and load_addr + file size could wrap
// past 4 GiB in the bss_end_addr check.
TEST(LoaderHardening, AoutKludgeThatLoadsNothingIsRefused) {
  std::vector<uint8_t> img = aout_kernel(0xffffffffu, 0x200, 0xffffffffu);
  put(img, 20, 0xffffffffu, 4);  // load_end_addr = load_addr
  MultibootHeader h;
  ASSERT_EQ(find_multiboot_header(img, h), "");
  std::vector<LoadSegment> segs;
  uint32_t entry = 0;
  EXPECT_NE(plan_multiboot_load(img, h, segs, entry).find("load nothing"), std::string::npos);
  // load_addr + file size past 4 GiB: bss_end_addr (0x100) is below the image.
  img = aout_kernel(0xffffff00u, 0x200, 0x100);
  ASSERT_EQ(find_multiboot_header(img, h), "");
  EXPECT_NE(plan_multiboot_load(img, h, segs, entry).find("bss_end_addr is below"), std::string::npos);
}
