// bzImage loader fuzzer: the setup header parser, the memory layout (kernel
// and initrd placement for any RAM size and initrd size), the zero page,
// and load_kernel into a machine. Input: tests/fuzz/fuzz_loader.h's header,
// then the image. Seeds (scripts/fuzz.sh): the start of guest/vmlinuz with
// its syssize edited to the cut length, and the same cut short untouched.
//
// Invariants beyond "no sanitizer report, no crash":
//  - parse_setup_header: an accepted header splits the file into setup and
//    kernel exactly; an error is one line, and load_kernel reports it as
//    "KERNEL: error";
//  - plan_linux_layout: the kernel at 1 MiB ends inside RAM; an initrd is
//    page-aligned, above the kernel's end, below RAM and initrd_addr_max+1;
//    "initrd too big" only when the kernel alone fits;
//  - the zero page carries the layout's initrd and command line;
//  - load_kernel either returns a one-line error naming the kernel or the
//    initrd, or leaves the CPU at 1 MiB with ESI at the zero page, the
//    protected-mode kernel, the initrd and the command line in RAM as given.
#include <cstring>

#include "core/multiboot.h"
#include "tests/fuzz/fuzz_loader.h"

using namespace popek;
using namespace popek::fuzz;

namespace {

uint32_t get32(const std::vector<uint8_t>& b, uint32_t off) {
  return uint32_t(b[off]) | uint32_t(b[off + 1]) << 8 | uint32_t(b[off + 2]) << 16 | uint32_t(b[off + 3]) << 24;
}

void check_plan(const LinuxSetupHeader& h, uint32_t ram, uint64_t initrd) {
  LinuxLayout l;
  const std::string e = plan_linux_layout(h, ram, initrd, l);
  if (!e.empty()) {
    if (e.find('\n') != std::string::npos) fail("plan error of more than one line:", e);
    if (e.rfind("initrd", 0) == 0) {
      LinuxLayout alone;
      if (!initrd || !plan_linux_layout(h, ram, 0, alone).empty()) fail("initrd blamed when the kernel does not fit:", e);
      const uint64_t limit = std::min<uint64_t>(uint64_t(h.initrd_addr_max) + 1, ram);
      if (initrd + alone.kernel_end + 4096 <= limit) fail("initrd refused though it fits:", e);
    }
    return;
  }
  if (l.kernel_addr != boot_layout::kKernel) fail("kernel not at 1 MiB");
  if (l.kernel_end % 4096 || l.kernel_end > ram || uint64_t(l.kernel_addr) + h.kernel_bytes > l.kernel_end)
    fail("kernel_end out of place");
  if (l.ram_top != ram) fail("ram_top");
  if (!initrd) {
    if (l.initrd_addr || l.initrd_size) fail("initrd placed without one");
    return;
  }
  if (l.initrd_size != initrd || l.initrd_addr % 4096 || l.initrd_addr < l.kernel_end ||
      uint64_t(l.initrd_addr) + initrd > std::min<uint64_t>(uint64_t(h.initrd_addr_max) + 1, ram))
    fail("initrd out of place");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  LoaderInput in = parse_loader_input(data, size);
  const std::vector<uint8_t>& image = in.files.kernel;
  LinuxSetupHeader h;
  const std::string parse_error = parse_setup_header(image, h);
  Machine& m = loader_machine(in.load_ram_mb, in.vga);
  const std::string load_error = load_kernel(m, in.files);
  if (!is_bzimage(image)) {
    if (parse_error.empty()) fail("accepted without the signatures");
    // Not a bzImage: load_kernel tried it as a multiboot kernel.
    if (!load_error.empty()) check_error(load_error, in.files);
    return 0;
  }
  if (!parse_error.empty()) {
    if (parse_error.find('\n') != std::string::npos) fail("parse error of more than one line:", parse_error);
    if (load_error != in.files.kernel_path + ": " + parse_error) fail("load_kernel did not report:", parse_error);
    return 0;
  }
  const uint32_t sects = image[0x1f1] ? image[0x1f1] : 4;
  if (h.setup_bytes != (sects + 1) * 512 || uint64_t(h.setup_bytes) + h.kernel_bytes != image.size())
    fail("setup/kernel split");
  check_plan(h, in.plan_ram, in.plan_initrd);
  check_plan(h, in.load_ram_mb << 20, in.files.initrd.size());

  LinuxLayout layout;
  if (plan_linux_layout(h, in.load_ram_mb << 20, in.files.initrd.size(), layout).empty()) {
    std::vector<uint8_t> zp = build_zero_page(image, h, layout, pc_memory_map(layout.ram_top), boot_layout::kCmdline, 0xe0000);
    if (zp.size() != 4096 || get32(zp, 0x218) != layout.initrd_addr || get32(zp, 0x21c) != layout.initrd_size ||
        get32(zp, 0x228) != boot_layout::kCmdline || zp[0x1e8] != pc_memory_map(layout.ram_top).size())
      fail("zero page fields");
  }

  if (!load_error.empty()) {
    check_error(load_error, in.files);
    return 0;
  }
  const CpuState& c = m.cpu();
  if (c.eip != boot_layout::kKernel || c.regs[ESI] != boot_layout::kZeroPage || !(c.cr0 & cr0::PE))
    fail("CPU state at entry");
  PhysicalMemory& mem = m.memory();
  if (!memory_equals(mem, boot_layout::kKernel, image.data() + h.setup_bytes, h.kernel_bytes)) fail("kernel bytes in RAM");
  const uint32_t rd = mem.read32(boot_layout::kZeroPage + 0x218), rd_size = mem.read32(boot_layout::kZeroPage + 0x21c);
  if (rd_size != in.files.initrd.size()) fail("ramdisk_size");
  if (rd_size && (rd < boot_layout::kKernel + h.kernel_bytes || uint64_t(rd) + rd_size > mem.ram_size() ||
                  !memory_equals(mem, rd, in.files.initrd.data(), rd_size)))
    fail("initrd in RAM");
  const uint32_t cmd = mem.read32(boot_layout::kZeroPage + 0x228);
  if (memory_string(mem, cmd, boot_layout::kCmdlineMax) != in.files.cmdline) fail("command line in RAM");
  return 0;
}
