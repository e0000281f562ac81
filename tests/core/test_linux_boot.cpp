// The direct kernel boot loaders: bzImage setup header parsing, the memory
// layout, the zero page and e820 map, the ACPI tables, multiboot headers and
// the CPU state at entry.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/linux_boot.h"
#include "core/machine.h"
#include "core/multiboot.h"
#include "devices/acpi_pm.h"

using namespace popek;

namespace {

void put(std::vector<uint8_t>& b, size_t off, uint64_t v, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t get(const std::vector<uint8_t>& b, size_t off, unsigned size) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint64_t(b[off + i]) << (8 * i);
  return v;
}

// A synthetic bzImage: boot protocol 2.15, 4 setup sectors, a relocatable
// kernel preferring 16 MiB with an init_size of 8 MiB, `payload` bytes of
// protected-mode kernel (filled with a pattern).
std::vector<uint8_t> fake_bzimage(uint32_t payload = 64 * 1024) {
  const uint32_t setup = 5 * 512;
  std::vector<uint8_t> img(setup + payload, 0);
  img[0x1f1] = 4;                  // setup_sects
  put(img, 0x1f4, payload / 16, 4);  // syssize
  put(img, 0x1fe, 0xaa55, 2);
  img[0x200] = 0xeb;
  img[0x201] = 0x6a;               // header ends at 0x26c
  std::memcpy(&img[0x202], "HdrS", 4);
  put(img, 0x206, 0x020f, 2);
  img[0x211] = 0x01;               // LOADED_HIGH
  put(img, 0x214, 0x100000, 4);
  put(img, 0x22c, 0x7fffffff, 4);  // initrd_addr_max
  put(img, 0x230, 0x1000000, 4);   // kernel_alignment
  img[0x234] = 1;                  // relocatable
  put(img, 0x238, 2047, 4);        // cmdline_size
  put(img, 0x258, 0x1000000, 8);   // pref_address
  put(img, 0x260, 8u << 20, 4);    // init_size
  for (uint32_t i = 0; i < payload; ++i) img[setup + i] = static_cast<uint8_t>(i * 7 + 1);
  return img;
}

}  // namespace

TEST(LinuxBoot, MemoryMapHasTheLegacyHolesAndAllRam) {
  auto map = pc_memory_map(128u << 20);
  ASSERT_EQ(map.size(), 4u);
  EXPECT_EQ(map[0].addr, 0u);
  EXPECT_EQ(map[0].size, 0x9fc00u);
  EXPECT_EQ(map[0].type, e820::kRam);
  EXPECT_EQ(map[1].addr, 0x9fc00u);
  EXPECT_EQ(map[1].type, e820::kReserved);
  EXPECT_EQ(map[2].addr, 0xe0000u);
  EXPECT_EQ(map[2].addr + map[2].size, 0x100000u);
  EXPECT_EQ(map[2].type, e820::kReserved);
  EXPECT_EQ(map[3].addr, 0x100000u);
  EXPECT_EQ(map[3].addr + map[3].size, 128u << 20);
  EXPECT_EQ(map[3].type, e820::kRam);
  for (size_t i = 1; i < map.size(); ++i) EXPECT_LE(map[i - 1].addr + map[i - 1].size, map[i].addr);
  // No RAM beyond what the machine has, and no hole reported as RAM.
  auto small = pc_memory_map(512 * 1024);
  ASSERT_GE(small.size(), 1u);
  EXPECT_EQ(small[0].size, 512u * 1024);
  for (const auto& e : small) EXPECT_FALSE(e.type == e820::kRam && e.addr >= 0x100000);
}

TEST(LinuxBoot, ParsesTheSetupHeader) {
  auto img = fake_bzimage();
  LinuxSetupHeader h;
  ASSERT_EQ(parse_setup_header(img, h), "");
  EXPECT_EQ(h.version, 0x020f);
  EXPECT_EQ(h.setup_bytes, 5u * 512);
  EXPECT_EQ(h.kernel_bytes, 64u * 1024);
  EXPECT_EQ(h.initrd_addr_max, 0x7fffffffu);
  EXPECT_EQ(h.cmdline_size, 2047u);
  EXPECT_EQ(h.pref_address, 0x1000000u);
  EXPECT_EQ(h.init_size, 8u << 20);
  EXPECT_TRUE(h.relocatable_kernel);
}

TEST(LinuxBoot, RejectsMalformedImages) {
  LinuxSetupHeader h;
  std::vector<uint8_t> junk(4096, 0x90);
  EXPECT_FALSE(is_bzimage(junk));
  EXPECT_NE(parse_setup_header(junk, h).find("not a Linux kernel"), std::string::npos);

  auto img = fake_bzimage();
  auto cut = std::vector<uint8_t>(img.begin(), img.begin() + 2000);  // inside the setup code
  EXPECT_NE(parse_setup_header(cut, h).find("truncated"), std::string::npos);
  cut = std::vector<uint8_t>(img.begin(), img.end() - 100);  // shorter than syssize says
  EXPECT_NE(parse_setup_header(cut, h).find("truncated"), std::string::npos);

  auto old = img;
  put(old, 0x206, 0x0201, 2);
  EXPECT_NE(parse_setup_header(old, h).find("too old"), std::string::npos);
  auto zimage = img;
  zimage[0x211] = 0;
  EXPECT_NE(parse_setup_header(zimage, h).find("zImage"), std::string::npos);
}

TEST(LinuxBoot, PlacesTheInitrdHighAndRefusesOneTooBig) {
  LinuxSetupHeader h;
  ASSERT_EQ(parse_setup_header(fake_bzimage(), h), "");
  LinuxLayout l;
  ASSERT_EQ(plan_linux_layout(h, 64u << 20, 1000000, l), "");
  EXPECT_EQ(l.kernel_addr, 0x100000u);
  EXPECT_EQ(l.kernel_end, 24u << 20);  // pref_address 16 MiB + init_size 8 MiB
  EXPECT_EQ(l.initrd_addr % 4096, 0u);
  EXPECT_LE(l.initrd_addr + l.initrd_size, 64u << 20);
  EXPECT_GT(l.initrd_addr + 4096 + l.initrd_size, 64u << 20);  // as high as it goes
  // initrd_addr_max caps it below the top of RAM.
  h.initrd_addr_max = (32u << 20) - 1;
  ASSERT_EQ(plan_linux_layout(h, 64u << 20, 1000000, l), "");
  EXPECT_LE(l.initrd_addr + l.initrd_size, 32u << 20);
  // Too big: it would overlap the kernel.
  EXPECT_NE(plan_linux_layout(h, 64u << 20, 20u << 20, l).find("initrd too big for RAM"), std::string::npos);
  // Not enough RAM for the kernel itself.
  EXPECT_NE(plan_linux_layout(h, 16u << 20, 0, l).find("needs"), std::string::npos);
}

TEST(LinuxBoot, ZeroPageCarriesTheHeaderE820AndLoaderFields) {
  auto img = fake_bzimage();
  LinuxSetupHeader h;
  ASSERT_EQ(parse_setup_header(img, h), "");
  LinuxLayout l;
  ASSERT_EQ(plan_linux_layout(h, 128u << 20, 5000, l), "");
  auto map = pc_memory_map(128u << 20);
  auto zp = build_zero_page(img, h, l, map, 0x20000, 0xe0000);
  ASSERT_EQ(zp.size(), 4096u);
  EXPECT_EQ(get(zp, 0x202, 4), get(img, 0x202, 4));  // "HdrS" copied
  EXPECT_EQ(get(zp, 0x206, 2), 0x020fu);
  EXPECT_EQ(zp[0x210], 0xff);                          // type_of_loader
  EXPECT_EQ(zp[0x211] & 0x01, 0x01);                   // LOADED_HIGH
  EXPECT_EQ(zp[0x211] & 0x80, 0x00);                   // no heap: the setup code never ran
  EXPECT_EQ(get(zp, 0x218, 4), l.initrd_addr);
  EXPECT_EQ(get(zp, 0x21c, 4), 5000u);
  EXPECT_EQ(get(zp, 0x228, 4), 0x20000u);              // cmd_line_ptr
  EXPECT_EQ(get(zp, 0x070, 8), 0xe0000u);              // acpi_rsdp_addr
  EXPECT_EQ(get(zp, 0x1e0, 4), (127u << 20) >> 10);    // alt_mem_k
  // screen_info: 80x25 VGA colour text.
  EXPECT_EQ(zp[0x06], 3);
  EXPECT_EQ(zp[0x07], 80);
  EXPECT_EQ(zp[0x0e], 25);
  EXPECT_EQ(zp[0x0f], 1);
  ASSERT_EQ(zp[0x1e8], map.size());
  for (size_t i = 0; i < map.size(); ++i) {
    const size_t e = 0x2d0 + i * 20;
    EXPECT_EQ(get(zp, e, 8), map[i].addr);
    EXPECT_EQ(get(zp, e + 8, 8), map[i].size);
    EXPECT_EQ(get(zp, e + 16, 4), map[i].type);
  }
}

TEST(LinuxBoot, AcpiTablesAreLinkedAndChecksummed) {
  const uint32_t base = 0xe0000;
  uint32_t rsdp = 0;
  auto t = build_acpi_tables(base, 128u << 20, rsdp);
  auto at = [&](uint32_t addr) { return static_cast<size_t>(addr - base); };
  auto sum = [&](uint32_t addr, uint32_t len) {
    uint8_t s = 0;
    for (uint32_t i = 0; i < len; ++i) s = static_cast<uint8_t>(s + t[at(addr) + i]);
    return s;
  };
  ASSERT_EQ(rsdp % 16, 0u);
  ASSERT_EQ(std::memcmp(&t[at(rsdp)], "RSD PTR ", 8), 0);
  EXPECT_EQ(sum(rsdp, 20), 0);
  const uint32_t rsdt = static_cast<uint32_t>(get(t, at(rsdp) + 16, 4));
  ASSERT_EQ(std::memcmp(&t[at(rsdt)], "RSDT", 4), 0);
  EXPECT_EQ(sum(rsdt, static_cast<uint32_t>(get(t, at(rsdt) + 4, 4))), 0);
  const uint32_t fadt = static_cast<uint32_t>(get(t, at(rsdt) + 36, 4));
  ASSERT_EQ(std::memcmp(&t[at(fadt)], "FACP", 4), 0);
  EXPECT_EQ(get(t, at(fadt) + 4, 4), 116u);
  EXPECT_EQ(sum(fadt, 116), 0);
  EXPECT_EQ(get(t, at(fadt) + 56, 4), AcpiPm::kPm1aEvt);
  EXPECT_EQ(get(t, at(fadt) + 64, 4), AcpiPm::kPm1aCnt);
  EXPECT_EQ(get(t, at(fadt) + 76, 4), AcpiPm::kPmTmr);
  EXPECT_EQ(get(t, at(fadt) + 48, 4), 0u);  // no SMI_CMD: ACPI mode is fixed
  const uint32_t facs = static_cast<uint32_t>(get(t, at(fadt) + 36, 4));
  EXPECT_EQ(facs % 64, 0u);
  EXPECT_EQ(std::memcmp(&t[at(facs)], "FACS", 4), 0);
  const uint32_t dsdt = static_cast<uint32_t>(get(t, at(fadt) + 40, 4));
  ASSERT_EQ(std::memcmp(&t[at(dsdt)], "DSDT", 4), 0);
  const uint32_t dsdt_len = static_cast<uint32_t>(get(t, at(dsdt) + 4, 4));
  EXPECT_EQ(sum(dsdt, dsdt_len), 0);
  std::string aml(t.begin() + at(dsdt) + 36, t.begin() + at(dsdt) + dsdt_len);
  EXPECT_NE(aml.find("_S5_"), std::string::npos);
  EXPECT_NE(aml.find("PCI0"), std::string::npos);
  EXPECT_NE(aml.find("_CRS"), std::string::npos);
  // The resource template ends with the end tag, and the PCI hole starts
  // at the top of RAM rounded up to 256 MiB (0x10000000 for 128 MiB).
  const size_t crs = aml.find("_CRS");
  EXPECT_EQ(static_cast<uint8_t>(aml[aml.size() - 2]), 0x79);
  const std::string hole_min("\x00\x00\x00\x10", 4), hole_max("\xff\xff\xbf\xfe", 4);
  EXPECT_NE(aml.find(hole_min + hole_max, crs), std::string::npos);
  EXPECT_LE(t.size(), 0x20000u);  // fits in the reserved BIOS area
}

TEST(Multiboot, FindsAndValidatesTheHeader) {
  std::vector<uint8_t> img(8192 + 64, 0);
  MultibootHeader h;
  EXPECT_EQ(find_multiboot_header(img, h), "");
  EXPECT_FALSE(h.found);

  put(img, 128, multiboot::kHeaderMagic, 4);
  put(img, 132, 3, 4);
  put(img, 136, uint32_t(-(multiboot::kHeaderMagic + 3)), 4);
  ASSERT_EQ(find_multiboot_header(img, h), "");
  EXPECT_TRUE(h.found);
  EXPECT_EQ(h.offset, 128u);
  EXPECT_EQ(h.flags, 3u);

  put(img, 136, 0, 4);
  EXPECT_NE(find_multiboot_header(img, h).find("bad checksum"), std::string::npos);
  put(img, 132, 8, 4);  // bit 3: a requirement nobody defined
  put(img, 136, uint32_t(-(multiboot::kHeaderMagic + 8)), 4);
  EXPECT_NE(find_multiboot_header(img, h).find("unsupported"), std::string::npos);

  // Past the first 8 KiB it does not count.
  std::vector<uint8_t> late(8192 + 64, 0);
  put(late, 8192, multiboot::kHeaderMagic, 4);
  put(late, 8200, uint32_t(-multiboot::kHeaderMagic), 4);
  EXPECT_EQ(find_multiboot_header(late, h), "");
  EXPECT_FALSE(h.found);
}

TEST(Multiboot, AoutKludgeFieldsGiveTheLoad) {
  // Header at offset 0 describing: load at 2 MiB, 0x100 bytes from the file, bss to +0x200.
  std::vector<uint8_t> img(0x100, 0);
  const uint32_t flags = multiboot::kAoutKludge;
  put(img, 0, multiboot::kHeaderMagic, 4);
  put(img, 4, flags, 4);
  put(img, 8, uint32_t(-(multiboot::kHeaderMagic + flags)), 4);
  put(img, 12, 0x200000, 4);  // header_addr
  put(img, 16, 0x200000, 4);  // load_addr
  put(img, 20, 0x200100, 4);  // load_end_addr
  put(img, 24, 0x200200, 4);  // bss_end_addr
  put(img, 28, 0x200020, 4);  // entry
  MultibootHeader h;
  ASSERT_EQ(find_multiboot_header(img, h), "");
  std::vector<LoadSegment> segs;
  uint32_t entry = 0;
  ASSERT_EQ(plan_multiboot_load(img, h, segs, entry), "");
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].paddr, 0x200000u);
  EXPECT_EQ(segs[0].file_offset, 0u);
  EXPECT_EQ(segs[0].file_size, 0x100u);
  EXPECT_EQ(segs[0].mem_size, 0x200u);
  EXPECT_EQ(entry, 0x200020u);
  put(img, 20, 0x200800, 4);  // load_end beyond the file
  ASSERT_EQ(find_multiboot_header(img, h), "");
  EXPECT_NE(plan_multiboot_load(img, h, segs, entry).find("truncated"), std::string::npos);
}

TEST(LinuxBoot, LoadKernelEntersFlatProtectedModeWithTheZeroPage) {
  MachineConfig cfg;
  cfg.ram_mb = 64;
  Machine m(cfg);
  KernelBootFiles f;
  f.kernel_path = "fake-bzImage";
  f.kernel = fake_bzimage();
  f.initrd_path = "fake-initrd";
  f.initrd.assign(10000, 0x5a);
  f.cmdline = "console=ttyS0 quiet";
  ASSERT_EQ(load_kernel(m, f), "");
  const CpuState& c = m.cpu();
  EXPECT_EQ(c.eip, 0x100000u);
  EXPECT_EQ(c.regs[ESI], boot_layout::kZeroPage);
  EXPECT_TRUE(c.cr0 & cr0::PE);
  EXPECT_FALSE(c.cr0 & cr0::PG);
  EXPECT_FALSE(c.eflags & flag::IF);
  EXPECT_EQ(c.seg[CS].selector, 0x10);
  EXPECT_TRUE(c.seg[CS].big());
  EXPECT_EQ(c.seg[CS].limit, 0xffffffffu);
  EXPECT_EQ(c.seg[DS].selector, 0x18);
  EXPECT_EQ(c.seg[SS].selector, 0x18);
  // The protected-mode kernel at 1 MiB, the command line, the initrd.
  PhysicalMemory& mem = m.memory();
  EXPECT_EQ(mem.read8(0x100000), f.kernel[5 * 512]);
  EXPECT_EQ(mem.read8(0x100000 + 1000), f.kernel[5 * 512 + 1000]);
  const uint32_t cmd = mem.read32(boot_layout::kZeroPage + 0x228);
  std::string got;
  for (uint32_t a = cmd; mem.read8(a); ++a) got += static_cast<char>(mem.read8(a));
  EXPECT_EQ(got, f.cmdline);
  const uint32_t initrd = mem.read32(boot_layout::kZeroPage + 0x218);
  EXPECT_EQ(mem.read32(boot_layout::kZeroPage + 0x21c), 10000u);
  EXPECT_EQ(mem.read8(initrd), 0x5a);
  EXPECT_EQ(mem.read8(initrd + 9999), 0x5a);
  // The GDT the selectors point at is really there and flat.
  EXPECT_EQ(mem.read32(c.gdtr.base + 0x10), 0x0000ffffu);
  EXPECT_EQ(mem.read32(c.gdtr.base + 0x14), 0x00cf9b00u);
  // The RSDP is where the zero page says.
  const uint32_t rsdp = mem.read32(boot_layout::kZeroPage + 0x70);
  EXPECT_EQ(mem.read32(rsdp), 0x20445352u);  // "RSD "

  // Errors name the file.
  f.kernel.resize(3000);
  EXPECT_EQ(load_kernel(m, f).rfind("fake-bzImage: truncated", 0), 0u);
  f.kernel = fake_bzimage();
  f.initrd.assign(60u << 20, 0);
  EXPECT_EQ(load_kernel(m, f).rfind("fake-initrd: initrd too big for RAM", 0), 0u);
  f.initrd.clear();
  f.cmdline.assign(3000, 'x');
  EXPECT_NE(load_kernel(m, f).find("command line too long"), std::string::npos);
}

TEST(AcpiPmDevice, SoftOffAndTimer) {
  VirtualClock clock(true, 10);
  int power_offs = 0;
  AcpiPm pm(clock, [&] { ++power_offs; });
  IoBus bus;
  pm.attach(bus);
  EXPECT_EQ(bus.read(AcpiPm::kPm1aCnt, 2) & AcpiPm::kSciEn, AcpiPm::kSciEn);
  // SLP_TYP alone does nothing; SLP_EN with a type other than S5's is ignored.
  bus.write(AcpiPm::kPm1aCnt, 2, AcpiPm::kSciEn | (AcpiPm::kSoftOffType << AcpiPm::kSlpTypShift));
  bus.write(AcpiPm::kPm1aCnt, 2, AcpiPm::kSciEn | (1u << AcpiPm::kSlpTypShift) | AcpiPm::kSlpEn);
  EXPECT_EQ(power_offs, 0);
  bus.write(AcpiPm::kPm1aCnt, 2, AcpiPm::kSciEn | (AcpiPm::kSoftOffType << AcpiPm::kSlpTypShift) | AcpiPm::kSlpEn);
  EXPECT_EQ(power_offs, 1);
  EXPECT_EQ(bus.read(AcpiPm::kPm1aCnt, 2) & AcpiPm::kSlpEn, 0u);  // write-only
  // The PM timer runs at 3.579545 MHz of virtual time, 24 bits wide.
  const uint32_t t0 = bus.read(AcpiPm::kPmTmr, 4);
  clock.retire(100000000);  // 1 s
  const uint32_t t1 = bus.read(AcpiPm::kPmTmr, 4);
  EXPECT_EQ((t1 - t0) & 0xffffff, AcpiPm::kTimerHz & 0xffffff);
  EXPECT_EQ(t1 >> 24, 0u);
  // PM1 status is write-one-to-clear; enable bits stick.
  bus.write(AcpiPm::kPm1aEvt + 2, 2, 0x0121);
  EXPECT_EQ(bus.read(AcpiPm::kPm1aEvt + 2, 2), 0x0121u);
}
