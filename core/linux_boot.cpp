// The Linux x86 boot protocol (Documentation/x86/boot.rst, version 2.x) for
// bzImage files, entered at the 32-bit entry point: the real-mode setup code
// is never run, so the loader does its work (memory map, video info,
// command line) and hands over a zero page in ESI.
#include "core/linux_boot.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/machine.h"
#include "core/multiboot.h"
#include "devices/vga.h"

namespace popek {

namespace {

// Setup header offsets (the same in the image and in boot_params).
namespace hdr {
constexpr uint32_t kSetupSects = 0x1f1, kBootFlag = 0x1fe, kJump = 0x200, kMagic = 0x202, kVersion = 0x206,
                   kTypeOfLoader = 0x210, kLoadflags = 0x211, kCode32Start = 0x214, kRamdiskImage = 0x218,
                   kRamdiskSize = 0x21c, kHeapEndPtr = 0x224, kCmdLinePtr = 0x228, kInitrdAddrMax = 0x22c,
                   kKernelAlignment = 0x230, kRelocatable = 0x234, kCmdlineSize = 0x238, kPrefAddress = 0x258,
                   kInitSize = 0x260;
}
// boot_params fields outside the setup header.
namespace bp {
constexpr uint32_t kScreenInfo = 0x000, kAcpiRsdpAddr = 0x070, kAltMemK = 0x1e0, kE820Entries = 0x1e8,
                   kE820Table = 0x2d0, kE820Max = 128;
}
constexpr uint8_t kLoadedHigh = 0x01, kCanUseHeap = 0x80;
constexpr uint8_t kLoaderUndefined = 0xff;  // type_of_loader for a boot loader without an assigned ID

uint32_t get(const std::vector<uint8_t>& b, uint32_t off, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint32_t(b[off + i]) << (8 * i);
  return v;
}
void put(std::vector<uint8_t>& b, uint32_t off, uint64_t v, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t align_up(uint64_t v, uint64_t a) { return a ? (v + a - 1) / a * a : v; }
std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}
std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

std::vector<E820Entry> pc_memory_map(uint32_t ram_size) {
  constexpr uint32_t kEbda = 0x9fc00, kHole = 0xa0000, kBiosArea = 0xe0000, kHighMem = 0x100000;
  std::vector<E820Entry> map;
  const uint32_t low_end = std::min(ram_size, kEbda);
  map.push_back({0, low_end, e820::kRam});
  if (ram_size > kEbda) map.push_back({kEbda, kHole - kEbda, e820::kReserved});
  map.push_back({kBiosArea, kHighMem - kBiosArea, e820::kReserved});
  if (ram_size > kHighMem) map.push_back({kHighMem, ram_size - kHighMem, e820::kRam});
  return map;
}

bool is_bzimage(const std::vector<uint8_t>& image) {
  return image.size() >= hdr::kMagic + 4 && get(image, hdr::kBootFlag, 2) == 0xaa55 &&
         std::memcmp(&image[hdr::kMagic], "HdrS", 4) == 0;
}

std::string parse_setup_header(const std::vector<uint8_t>& image, LinuxSetupHeader& h) {
  if (!is_bzimage(image)) return "not a Linux kernel (no boot protocol header)";
  h = {};
  h.version = static_cast<uint16_t>(get(image, hdr::kVersion, 2));
  if (h.version < 0x0202)
    return "Linux boot protocol " + std::to_string(h.version >> 8) + "." + std::to_string(h.version & 0xff) +
           " is too old (2.02 or later is needed)";
  // The header's own extent: 0x202 + the jump's displacement byte.
  const uint32_t header_end = 0x202 + image[hdr::kJump + 1];
  if (header_end < hdr::kCmdLinePtr + 4 || image.size() < header_end) return "truncated bzImage (setup header cut short)";
  h.setup_sects = image[hdr::kSetupSects];
  const uint32_t sects = h.setup_sects ? h.setup_sects : 4;
  h.setup_bytes = (sects + 1) * 512;
  h.loadflags = image[hdr::kLoadflags];
  if (!(h.loadflags & kLoadedHigh)) return "zImage (kernel loaded low) is not supported; use a bzImage";
  h.code32_start = get(image, hdr::kCode32Start, 4);
  // A field exists when the protocol version has it and the header reaches
  // it (a header that claims a newer version than its length allows is cut
  // short).
  const auto has = [&](uint16_t version, uint32_t off, uint32_t size) {
    if (h.version < version) return false;
    return off + size <= header_end;
  };
  const bool v203 = h.version >= 0x0203, v205 = h.version >= 0x0205, v206 = h.version >= 0x0206;
  if ((v203 && !has(0x0203, hdr::kInitrdAddrMax, 4)) || (v205 && !has(0x0205, hdr::kRelocatable, 1)) ||
      (v206 && !has(0x0206, hdr::kCmdlineSize, 4)))
    return "truncated bzImage (the setup header is too short for boot protocol " + std::to_string(h.version >> 8) +
           "." + std::to_string(h.version & 0xff) + ")";
  h.initrd_addr_max = v203 ? get(image, hdr::kInitrdAddrMax, 4) : 0x37ffffffu;
  h.kernel_alignment = v205 ? get(image, hdr::kKernelAlignment, 4) : 0;
  h.relocatable_kernel = v205 ? image[hdr::kRelocatable] : 0;
  h.cmdline_size = v206 ? get(image, hdr::kCmdlineSize, 4) : 255;
  if (has(0x020a, hdr::kInitSize, 4)) {
    h.pref_address = uint64_t(get(image, hdr::kPrefAddress, 4)) | (uint64_t(get(image, hdr::kPrefAddress + 4, 4)) << 32);
    h.init_size = get(image, hdr::kInitSize, 4);
  }
  if (image.size() <= h.setup_bytes) return "truncated bzImage (no protected-mode kernel after the setup code)";
  h.kernel_bytes = static_cast<uint32_t>(image.size() - h.setup_bytes);
  // syssize (0x1f4) gives the protected-mode part in 16-byte units (2.04+,
  // all 32 bits): a file shorter than that was cut short.
  if (h.version >= 0x0204) {
    const uint64_t sys_bytes = uint64_t(get(image, 0x1f4, 4)) * 16;
    if (sys_bytes > h.kernel_bytes)
      return "truncated bzImage (" + std::to_string(image.size()) + " bytes; the header says " +
             std::to_string(h.setup_bytes + sys_bytes) + ")";
  }
  return {};
}

std::string plan_linux_layout(const LinuxSetupHeader& h, uint32_t ram_size, uint64_t initrd_size, LinuxLayout& out) {
  out = {};
  out.kernel_addr = boot_layout::kKernel;
  out.ram_top = ram_size;
  // A relocatable kernel decompresses at its aligned load address or
  // LOAD_PHYSICAL_ADDR (pref_address), whichever is higher; it then needs
  // init_size bytes from there.
  uint64_t run_addr = out.kernel_addr;
  if (h.relocatable_kernel) run_addr = align_up(run_addr, h.kernel_alignment);
  run_addr = std::max<uint64_t>(run_addr, h.pref_address);
  const uint64_t need = std::max<uint64_t>(h.init_size, h.kernel_bytes);
  // (pref_address is 64 bits: compare before adding, so nothing wraps.)
  const uint64_t kernel_end = run_addr < ram_size ? align_up(run_addr + need, 4096) : ~uint64_t{0};
  if (run_addr >= ram_size)
    return "the kernel needs more than the machine's " + mib(ram_size) + " of RAM (-m): it runs at 0x" +
           hex64(run_addr) + " (kernel_alignment, pref_address)";
  if (kernel_end > ram_size)
    return "the kernel needs " + mib(kernel_end) + " of RAM, the machine has " + mib(ram_size) + " (-m)";
  out.kernel_end = static_cast<uint32_t>(kernel_end);
  if (!initrd_size) return {};
  const uint64_t limit = std::min<uint64_t>(uint64_t(h.initrd_addr_max) + 1, ram_size);
  if (initrd_size > limit || ((limit - initrd_size) & ~0xfffull) < kernel_end)
    return "initrd too big for RAM (" + std::to_string(initrd_size) + " bytes; " +
           std::to_string(limit > kernel_end ? limit - kernel_end : 0) + " bytes free above the kernel with -m " +
           std::to_string(ram_size >> 20) + ")";
  out.initrd_addr = static_cast<uint32_t>((limit - initrd_size) & ~0xfffull);
  out.initrd_size = static_cast<uint32_t>(initrd_size);
  return {};
}

std::vector<uint8_t> build_zero_page(const std::vector<uint8_t>& image, const LinuxSetupHeader& h,
                                     const LinuxLayout& layout, const std::vector<E820Entry>& map,
                                     uint32_t cmdline_addr, uint32_t rsdp_addr) {
  std::vector<uint8_t> zp(4096, 0);
  const uint32_t header_end = std::min<uint32_t>(0x202 + image[hdr::kJump + 1], 4096);
  std::copy(image.begin() + hdr::kSetupSects, image.begin() + header_end, zp.begin() + hdr::kSetupSects);

  // screen_info: 80x25 colour text (mode 3) on a VGA, cursor at the top left.
  const uint32_t s = bp::kScreenInfo;
  const uint32_t ext_kib = layout.ram_top > 0x100000 ? (layout.ram_top - 0x100000) >> 10 : 0;
  put(zp, s + 0x02, std::min<uint32_t>(ext_kib, 0xffff), 2);  // ext_mem_k
  zp[s + 0x06] = 3;    // orig_video_mode
  zp[s + 0x07] = 80;   // orig_video_cols
  put(zp, s + 0x0a, 3, 2);  // orig_video_ega_bx: an EGA/VGA with 256 KiB
  zp[s + 0x0e] = 25;   // orig_video_lines
  zp[s + 0x0f] = 1;    // orig_video_isVGA: VIDEO_TYPE_VGAC
  put(zp, s + 0x10, 16, 2);  // orig_video_points: 8x16 font
  put(zp, bp::kAltMemK, ext_kib, 4);
  put(zp, bp::kAcpiRsdpAddr, rsdp_addr, 8);

  const size_t n = std::min<size_t>(map.size(), bp::kE820Max);
  zp[bp::kE820Entries] = static_cast<uint8_t>(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t e = bp::kE820Table + static_cast<uint32_t>(i) * 20;
    put(zp, e, map[i].addr, 8);
    put(zp, e + 8, map[i].size, 8);
    put(zp, e + 16, map[i].type, 4);
  }

  zp[hdr::kTypeOfLoader] = kLoaderUndefined;
  zp[hdr::kLoadflags] = static_cast<uint8_t>((h.loadflags | kLoadedHigh) & ~kCanUseHeap);
  put(zp, hdr::kHeapEndPtr, 0, 2);
  put(zp, hdr::kRamdiskImage, layout.initrd_addr, 4);
  put(zp, hdr::kRamdiskSize, layout.initrd_size, 4);
  put(zp, hdr::kCmdLinePtr, cmdline_addr, 4);
  return zp;
}

void enter_flat_protected_mode(Machine& m, uint32_t eip) {
  using namespace boot_layout;
  // GDT: null, unused, 0x10 flat code (execute/read), 0x18 flat data (read/write).
  const uint64_t gdt[4] = {0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull};
  for (int i = 0; i < 4; ++i) {
    m.memory().write32(kGdt + 8 * i, static_cast<uint32_t>(gdt[i]));
    m.memory().write32(kGdt + 8 * i + 4, static_cast<uint32_t>(gdt[i] >> 32));
  }
  CpuState& c = m.cpu();
  const uint16_t common = seg_attr::P | seg_attr::S | seg_attr::DB | seg_attr::G | seg_attr::ACCESSED;
  const SegmentCache code{kBootCs, static_cast<uint16_t>(common | seg_attr::CODE | seg_attr::READABLE), 0, 0xffffffffu};
  const SegmentCache data{kBootDs, static_cast<uint16_t>(common | seg_attr::WRITABLE), 0, 0xffffffffu};
  for (int s = 0; s < 6; ++s) c.seg[s] = data;
  c.seg[CS] = code;
  c.gdtr = {kGdt, 4 * 8 - 1};
  c.idtr = {0, 0};
  c.cr0 = cr0::PE | cr0::ET;
  c.eflags = flag::FIXED1;
  c.cpl = 0;
  c.eip = eip;
  for (uint32_t& r : c.regs) r = 0;
  c.regs[ESP] = kStackTop;
  m.interpreter().mmu.flush(true);
}

namespace {

std::string load_bzimage(Machine& m, const KernelBootFiles& f) {
  LinuxSetupHeader h;
  if (std::string e = parse_setup_header(f.kernel, h); !e.empty()) return f.kernel_path + ": " + e;
  LinuxLayout layout;
  if (std::string e = plan_linux_layout(h, m.memory().ram_size(), f.initrd.size(), layout); !e.empty())
    return (e.rfind("initrd", 0) == 0 ? f.initrd_path : f.kernel_path) + ": " + e;
  if (f.cmdline.size() > h.cmdline_size || f.cmdline.size() >= boot_layout::kCmdlineMax)
    return f.kernel_path + ": command line too long (" + std::to_string(f.cmdline.size()) + " bytes; this kernel takes " +
           std::to_string(h.cmdline_size) + ")";

  PhysicalMemory& mem = m.memory();
  mem.write_bytes(layout.kernel_addr, f.kernel.data() + h.setup_bytes, h.kernel_bytes);
  if (layout.initrd_size) mem.write_bytes(layout.initrd_addr, f.initrd.data(), layout.initrd_size);
  mem.write_bytes(boot_layout::kCmdline, reinterpret_cast<const uint8_t*>(f.cmdline.c_str()),
                  static_cast<uint32_t>(f.cmdline.size() + 1));
  uint32_t rsdp = 0;
  std::vector<uint8_t> acpi = build_acpi_tables(boot_layout::kAcpiTables, mem.ram_size(), rsdp);
  mem.write_bytes(boot_layout::kAcpiTables, acpi.data(), static_cast<uint32_t>(acpi.size()));
  std::vector<uint8_t> zp =
      build_zero_page(f.kernel, h, layout, pc_memory_map(mem.ram_size()), boot_layout::kCmdline, rsdp);
  mem.write_bytes(boot_layout::kZeroPage, zp.data(), static_cast<uint32_t>(zp.size()));

  // The 32-bit entry: code32_start is where the protected-mode kernel was
  // loaded (the header's default is 1 MiB, which is where it is).
  enter_flat_protected_mode(m, layout.kernel_addr);
  m.cpu().regs[ESI] = boot_layout::kZeroPage;
  return {};
}

}  // namespace

std::string load_kernel(Machine& m, const KernelBootFiles& f) {
  if (f.kernel.empty()) return f.kernel_path + ": file is empty";
  // What the VGA BIOS would have done: 80x25 colour text (mode 3), which
  // the zero page's screen_info describes, with the BIOS's own 8x16
  // character set in plane 2 (Linux's vgacon keeps the font it finds).
  if (m.has_vga()) {
    m.vga().set_text_mode_registers();
    const std::vector<uint8_t>& rom = m.config().vga_bios;
    if (long font = find_vga_font_8x16(rom); font >= 0) m.vga().load_font(rom.data() + font, 16);
  }
  if (is_bzimage(f.kernel)) return load_bzimage(m, f);
  MultibootHeader mb;
  std::string e = find_multiboot_header(f.kernel, mb);
  if (!e.empty()) return f.kernel_path + ": " + e;
  if (mb.found) return load_multiboot(m, f, mb);
  return f.kernel_path + ": not a Linux bzImage or multiboot kernel";
}

}  // namespace popek
