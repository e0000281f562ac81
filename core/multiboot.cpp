#include "core/multiboot.h"

#include <algorithm>
#include <cstdio>

#include "core/machine.h"

namespace popek {

namespace {

uint32_t get32(const std::vector<uint8_t>& b, size_t off) {
  return uint32_t(b[off]) | uint32_t(b[off + 1]) << 8 | uint32_t(b[off + 2]) << 16 | uint32_t(b[off + 3]) << 24;
}
uint16_t get16(const std::vector<uint8_t>& b, size_t off) { return static_cast<uint16_t>(b[off] | b[off + 1] << 8); }
constexpr uint32_t kLoaderDataStart = boot_layout::kGdt, kLoaderDataEnd = boot_layout::kCmdline + boot_layout::kCmdlineMax;
// The VGA window and the ROM area: not RAM a kernel or module can be loaded into.
constexpr uint32_t kHoleStart = 0xa0000, kHoleEnd = 0x100000;
bool overlaps(uint64_t start, uint64_t end, uint64_t lo, uint64_t hi) { return start < hi && end > lo; }
std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

// ELF32 program headers of type PT_LOAD.
std::string plan_elf(const std::vector<uint8_t>& img, std::vector<LoadSegment>& segs, uint32_t& entry) {
  constexpr uint32_t kPtLoad = 1;
  if (img.size() < 52) return "truncated ELF header";
  if (img[4] != 1 || img[5] != 1) return "not a 32-bit little-endian ELF (multiboot needs ELF32 or the address fields)";
  if (get16(img, 18) != 3) return "ELF machine is not i386";
  entry = get32(img, 24);
  const uint32_t phoff = get32(img, 28);
  const uint16_t phentsize = get16(img, 42), phnum = get16(img, 44);
  if (phentsize < 32 || uint64_t(phoff) + uint64_t(phnum) * phentsize > img.size()) return "truncated ELF program headers";
  for (unsigned i = 0; i < phnum; ++i) {
    const size_t p = phoff + size_t(i) * phentsize;
    if (get32(img, p) != kPtLoad) continue;
    LoadSegment s{get32(img, p + 12), get32(img, p + 4), get32(img, p + 16), get32(img, p + 20)};
    if (!s.mem_size) continue;
    if (uint64_t(s.file_offset) + s.file_size > img.size()) return "truncated ELF (a segment lies past the end of the file)";
    if (s.file_size > s.mem_size) return "ELF segment's file size exceeds its memory size";
    segs.push_back(s);
  }
  if (segs.empty()) return "ELF has no loadable segment";
  return {};
}

// Header flag 16: load [header_offset - (header_addr - load_addr), ...) at load_addr.
std::string plan_aout(const std::vector<uint8_t>& img, const MultibootHeader& h, std::vector<LoadSegment>& segs,
                      uint32_t& entry) {
  if (h.load_addr > h.header_addr || h.header_addr - h.load_addr > h.offset)
    return "multiboot address fields are inconsistent (load_addr after header_addr)";
  const uint32_t file_start = h.offset - (h.header_addr - h.load_addr);
  uint32_t file_size = static_cast<uint32_t>(img.size() - file_start);
  if (h.load_end_addr) {
    if (h.load_end_addr < h.load_addr) return "multiboot load_end_addr is below load_addr";
    if (h.load_end_addr - h.load_addr > file_size) return "truncated kernel (shorter than load_end_addr says)";
    file_size = h.load_end_addr - h.load_addr;
  }
  uint32_t mem_size = file_size;
  if (h.bss_end_addr) {
    if (h.bss_end_addr < uint64_t(h.load_addr) + file_size) return "multiboot bss_end_addr is below the loaded image";
    mem_size = h.bss_end_addr - h.load_addr;
  }
  if (!mem_size) return "multiboot address fields load nothing (load_end_addr and bss_end_addr equal load_addr)";
  segs.push_back({h.load_addr, file_start, file_size, mem_size});
  entry = h.entry_addr;
  return {};
}

}  // namespace

std::string find_multiboot_header(const std::vector<uint8_t>& image, MultibootHeader& out) {
  out = {};
  const size_t end = std::min<size_t>(image.size(), multiboot::kSearchBytes);
  for (size_t off = 0; off + 12 <= end; off += 4) {
    if (get32(image, off) != multiboot::kHeaderMagic) continue;
    const uint32_t flags = get32(image, off + 4), sum = get32(image, off + 8);
    if (multiboot::kHeaderMagic + flags + sum != 0)
      return "multiboot header at offset " + std::to_string(off) + " has a bad checksum";
    // Bits 0-15 are requirements: refuse any we do not know.
    const uint32_t known = multiboot::kPageAlign | multiboot::kMemoryInfo | multiboot::kVideoMode;
    if (flags & 0xffffu & ~known) return "multiboot header requires unsupported features (flags " + hex(flags) + ")";
    out.found = true;
    out.offset = static_cast<uint32_t>(off);
    out.flags = flags;
    if (flags & multiboot::kAoutKludge) {
      if (off + 32 > image.size()) return "truncated multiboot header (address fields missing)";
      out.header_addr = get32(image, off + 12);
      out.load_addr = get32(image, off + 16);
      out.load_end_addr = get32(image, off + 20);
      out.bss_end_addr = get32(image, off + 24);
      out.entry_addr = get32(image, off + 28);
    }
    return {};
  }
  return {};
}

std::string plan_multiboot_load(const std::vector<uint8_t>& image, const MultibootHeader& h,
                                std::vector<LoadSegment>& segments, uint32_t& entry) {
  segments.clear();
  const bool elf = image.size() >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F';
  if (h.flags & multiboot::kAoutKludge) return plan_aout(image, h, segments, entry);
  if (!elf) return "multiboot kernel is neither ELF nor has the address fields (flag 16)";
  return plan_elf(image, segments, entry);
}

std::string load_multiboot(Machine& m, const KernelBootFiles& f, const MultibootHeader& h) {
  std::vector<LoadSegment> segs;
  uint32_t entry = 0;
  if (std::string e = plan_multiboot_load(f.kernel, h, segs, entry); !e.empty()) return f.kernel_path + ": " + e;
  PhysicalMemory& mem = m.memory();
  const uint32_t ram = mem.ram_size();
  uint32_t kernel_end = 0;
  for (const LoadSegment& s : segs) {
    // Anywhere in RAM but over the loader's own data (GDT, info, command
    // line). Segments in the VGA/ROM area are allowed: ld puts the ELF
    // headers of a kernel linked at 1 MiB in a segment just below it (what
    // lands there is not RAM, as on a PC).
    const uint64_t end = uint64_t(s.paddr) + s.mem_size;
    if (end > ram)
      return f.kernel_path + ": segment at " + hex(s.paddr) + " (" + std::to_string(s.mem_size) +
             " bytes) lies outside RAM (-m " + std::to_string(ram >> 20) + ")";
    if (overlaps(s.paddr, end, kLoaderDataStart, kLoaderDataEnd))
      return f.kernel_path + ": segment at " + hex(s.paddr) + " overlaps the loader's data at " + hex(kLoaderDataStart) +
             "-" + hex(kLoaderDataEnd - 1);
    kernel_end = std::max(kernel_end, s.paddr + s.mem_size);
  }
  // The module (the initrd) goes page-aligned after the kernel, and after
  // the loader's data and the VGA/ROM area when it would overlap them.
  uint64_t mod_start = (uint64_t(kernel_end) + 0xfff) & ~uint64_t{0xfff};
  const uint64_t mod_size = f.initrd.size();
  if (overlaps(mod_start, mod_start + mod_size, kLoaderDataStart, kLoaderDataEnd)) mod_start = kLoaderDataEnd;
  if (overlaps(mod_start, mod_start + mod_size, kHoleStart, kHoleEnd)) mod_start = kHoleEnd;
  if (!f.initrd.empty() && mod_start + mod_size > ram)
    return f.initrd_path + ": initrd too big for RAM (" + std::to_string(mod_size) + " bytes; " +
           std::to_string(ram > mod_start ? ram - mod_start : 0) + " bytes free after the kernel with -m " +
           std::to_string(ram >> 20) + ")";
  // The kernel's command line starts with its own name, as GRUB passes it.
  const std::string cmdline = f.kernel_path + (f.cmdline.empty() ? "" : " " + f.cmdline);
  if (!f.initrd.empty() && f.initrd_path.size() + 1 > boot_layout::kCmdline - multiboot::kModCmdlineAddr)
    return f.initrd_path.substr(0, 64) + "...: path too long for the module's command line";
  if (cmdline.size() + 1 > boot_layout::kCmdlineMax)
    return f.kernel_path + ": command line too long (" + std::to_string(cmdline.size()) + " bytes with the kernel's path; at most " +
           std::to_string(boot_layout::kCmdlineMax - 1) + ")";

  for (const LoadSegment& s : segs) {
    mem.write_bytes(s.paddr, f.kernel.data() + s.file_offset, s.file_size);
    // The bss: zeros, written a page-sized block at a time (a bss can be
    // most of RAM; no buffer of its size is allocated).
    static const uint8_t kZeros[4096] = {};
    for (uint32_t at = s.file_size; at < s.mem_size;) {
      const uint32_t n = std::min<uint32_t>(s.mem_size - at, sizeof kZeros);
      mem.write_bytes(s.paddr + at, kZeros, n);
      at += n;
    }
  }
  using namespace multiboot;
  auto put_str = [&mem](uint32_t at, const std::string& s) {
    mem.write_bytes(at, reinterpret_cast<const uint8_t*>(s.c_str()), static_cast<uint32_t>(s.size() + 1));
  };
  put_str(boot_layout::kCmdline, cmdline);
  put_str(kLoaderNameAddr, "popek");
  uint32_t info_flags = kInfoMem | kInfoCmdline | kInfoMmap | kInfoLoaderName;
  // Info structure (zeroed first: unused fields stay 0).
  std::vector<uint8_t> zero(0x100, 0);
  mem.write_bytes(kInfoAddr, zero.data(), static_cast<uint32_t>(zero.size()));
  const std::vector<E820Entry> map = pc_memory_map(ram);
  uint32_t mmap_len = 0;
  for (const E820Entry& e : map) {
    const uint32_t at = kMmapAddr + mmap_len;
    mem.write32(at, 20);  // size of the entry after this field
    mem.write32(at + 4, static_cast<uint32_t>(e.addr));
    mem.write32(at + 8, static_cast<uint32_t>(e.addr >> 32));
    mem.write32(at + 12, static_cast<uint32_t>(e.size));
    mem.write32(at + 16, static_cast<uint32_t>(e.size >> 32));
    mem.write32(at + 20, e.type);
    mmap_len += 24;
  }
  if (!f.initrd.empty()) {
    mem.write_bytes(static_cast<uint32_t>(mod_start), f.initrd.data(), static_cast<uint32_t>(f.initrd.size()));
    put_str(kModCmdlineAddr, f.initrd_path);
    mem.write32(kModsAddr, static_cast<uint32_t>(mod_start));
    mem.write32(kModsAddr + 4, static_cast<uint32_t>(mod_start + mod_size));
    mem.write32(kModsAddr + 8, kModCmdlineAddr);
    mem.write32(kModsAddr + 12, 0);
    mem.write32(kInfoAddr + 20, 1);  // mods_count
    mem.write32(kInfoAddr + 24, kModsAddr);
    info_flags |= kInfoMods;
  }
  mem.write32(kInfoAddr + 0, info_flags);
  mem.write32(kInfoAddr + 4, std::min<uint32_t>(ram, 0x9fc00) >> 10);             // mem_lower, KiB
  mem.write32(kInfoAddr + 8, ram > 0x100000 ? (ram - 0x100000) >> 10 : 0);       // mem_upper, KiB above 1 MiB
  mem.write32(kInfoAddr + 16, boot_layout::kCmdline);
  mem.write32(kInfoAddr + 44, mmap_len);
  mem.write32(kInfoAddr + 48, kMmapAddr);
  mem.write32(kInfoAddr + 64, kLoaderNameAddr);

  enter_flat_protected_mode(m, entry);
  m.cpu().regs[EAX] = kBootMagic;
  m.cpu().regs[EBX] = kInfoAddr;
  return {};
}

}  // namespace popek
