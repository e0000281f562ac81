// Multiboot loader fuzzer: header search, the ELF and a.out-kludge load
// plans, the module (initrd) placement and load_kernel into machines of
// 1-64 MiB. Input: tests/fuzz/fuzz_loader.h's header, then the image.
// Seed (scripts/fuzz.sh): the multiboot test kernel (roms/multiboot_kernel.nasm).
//
// Invariants beyond "no sanitizer report, no crash":
//  - find_multiboot_header / plan_multiboot_load errors are one line; a
//    plan's segments lie inside the file, with file size <= memory size;
//  - load_kernel either returns a one-line error naming the kernel or the
//    initrd, or enters at the plan's entry point with EAX = 0x2BADB002 and
//    EBX at the info structure, whose memory sizes, command line (the
//    kernel's path, a space, --append) and module are right: the module is
//    page-aligned, inside RAM, off the kernel's segments, the loader's data
//    (0x6000-0x2FFFF) and the VGA/ROM area, and holds the initrd's bytes;
//    each segment that nothing else overlaps holds its file bytes and
//    zeros after them.
#include "core/multiboot.h"
#include "tests/fuzz/fuzz_loader.h"

using namespace popek;
using namespace popek::fuzz;

namespace {

bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end) { return a < b_end && a_end > b; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  LoaderInput in = parse_loader_input(data, size);
  const KernelBootFiles& f = in.files;
  const std::vector<uint8_t>& image = f.kernel;
  MultibootHeader h;
  const std::string find_error = find_multiboot_header(image, h);
  if (find_error.find('\n') != std::string::npos) fail("header error of more than one line:", find_error);
  std::vector<LoadSegment> segs;
  uint32_t entry = 0;
  std::string plan_error = "no header";
  if (find_error.empty() && h.found) {
    plan_error = plan_multiboot_load(image, h, segs, entry);
    if (plan_error.find('\n') != std::string::npos) fail("plan error of more than one line:", plan_error);
    if (plan_error.empty()) {
      for (const LoadSegment& s : segs)
        if (uint64_t(s.file_offset) + s.file_size > image.size() || s.file_size > s.mem_size || !s.mem_size)
          fail("segment outside the file");
    }
  }

  Machine& m = loader_machine(in.load_ram_mb, in.vga);
  const std::string e = load_kernel(m, f);
  if (is_bzimage(image)) {  // fuzz_bzimage's ground
    if (!e.empty()) check_error(e, f);
    return 0;
  }
  if (!e.empty()) {
    check_error(e, f);
    return 0;
  }
  if (!find_error.empty() || !h.found || !plan_error.empty()) fail("loaded what the planner refused:", plan_error);
  PhysicalMemory& mem = m.memory();
  const uint32_t ram = mem.ram_size();
  const CpuState& c = m.cpu();
  using namespace multiboot;
  if (c.eip != entry || c.regs[EAX] != kBootMagic || c.regs[EBX] != kInfoAddr) fail("CPU state at entry");
  const uint32_t flags = mem.read32(kInfoAddr);
  const uint32_t need = kInfoMem | kInfoCmdline | kInfoMmap | kInfoLoaderName;
  if ((flags & need) != need || bool(flags & kInfoMods) != !f.initrd.empty()) fail("info flags");
  if (mem.read32(kInfoAddr + 4) != std::min<uint32_t>(ram, 0x9fc00) / 1024 ||
      mem.read32(kInfoAddr + 8) != (ram > 0x100000 ? (ram - 0x100000) / 1024 : 0))
    fail("mem_lower/mem_upper");
  const std::string want_cmdline = f.kernel_path + (f.cmdline.empty() ? "" : " " + f.cmdline);
  if (memory_string(mem, mem.read32(kInfoAddr + 16), boot_layout::kCmdlineMax) != want_cmdline) fail("command line");

  uint64_t mod_start = 0, mod_end = 0;
  if (!f.initrd.empty()) {
    if (mem.read32(kInfoAddr + 20) != 1) fail("mods_count");
    const uint32_t mods = mem.read32(kInfoAddr + 24);
    mod_start = mem.read32(mods);
    mod_end = mem.read32(mods + 4);
    if (mod_start % 4096 || mod_end - mod_start != f.initrd.size() || mod_end > ram) fail("module placement");
    if (overlaps(mod_start, mod_end, 0x6000, boot_layout::kCmdline + boot_layout::kCmdlineMax) ||
        overlaps(mod_start, mod_end, 0xa0000, 0x100000))
      fail("module over the loader's data or the VGA/ROM area");
    for (const LoadSegment& s : segs)
      if (overlaps(mod_start, mod_end, s.paddr, uint64_t(s.paddr) + s.mem_size)) fail("module over a kernel segment");
    if (!memory_equals(mem, static_cast<uint32_t>(mod_start), f.initrd.data(), static_cast<uint32_t>(f.initrd.size())))
      fail("module bytes");
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    const LoadSegment& s = segs[i];
    const uint64_t end = uint64_t(s.paddr) + s.mem_size;
    if (end > ram) fail("segment outside RAM");
    bool alone = !overlaps(s.paddr, end, 0xa0000, 0x100000);
    for (size_t j = 0; j < segs.size() && alone; ++j)
      if (j != i && overlaps(s.paddr, end, segs[j].paddr, uint64_t(segs[j].paddr) + segs[j].mem_size)) alone = false;
    if (!alone) continue;
    // The first and last 4 KiB of the file part and of the zeros.
    const uint32_t head = std::min<uint32_t>(s.file_size, 4096);
    if (!memory_equals(mem, s.paddr, image.data() + s.file_offset, head) ||
        !memory_equals(mem, s.paddr + s.file_size - head, image.data() + s.file_offset + s.file_size - head, head))
      fail("segment bytes");
    const uint32_t bss = s.mem_size - s.file_size, zlen = std::min<uint32_t>(bss, 4096);
    const std::vector<uint8_t> zeros(zlen, 0);
    if (!memory_equals(mem, s.paddr + s.file_size, zeros.data(), zlen) ||
        !memory_equals(mem, s.paddr + s.mem_size - zlen, zeros.data(), zlen))
      fail("segment bss");
  }
  return 0;
}
