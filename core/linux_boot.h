// Direct kernel boot, as QEMU's -kernel/-initrd/-append: a Linux bzImage by
// the x86 boot protocol 2.x (32-bit entry), or a multiboot v1 ELF kernel
// (core/multiboot.h). No firmware runs: the loader writes the kernel, the
// initrd, the command line and the boot information into RAM and puts the
// CPU in flat 32-bit protected mode at the kernel's entry point.
// docs/linux.md explains the layout and the choices.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace popek {

class Machine;

// One e820 range (boot_params.e820_table, multiboot mmap).
struct E820Entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};
namespace e820 {
constexpr uint32_t kRam = 1, kReserved = 2, kAcpi = 3;
}

// The PC's memory map for `ram_size` bytes of RAM: conventional memory up
// to the EBDA, the EBDA, the VGA/ROM hole (0xA0000-0xDFFFF is left out),
// the BIOS area 0xE0000-0xFFFFF reserved (the loader's ACPI tables live
// there), then extended memory from 1 MiB to the top of RAM.
std::vector<E820Entry> pc_memory_map(uint32_t ram_size);

// Where the loader puts things (fixed low addresses, see docs/linux.md).
namespace boot_layout {
constexpr uint32_t kGdt = 0x6000;         // flat GDT: 0x10 code, 0x18 data (the kernel's __BOOT_CS/DS)
constexpr uint32_t kZeroPage = 0x7000;    // boot_params / multiboot info
constexpr uint32_t kStackTop = 0x6000;    // ESP at entry (the kernel sets its own)
constexpr uint32_t kCmdline = 0x20000;    // command line (up to kCmdlineMax bytes)
constexpr uint32_t kCmdlineMax = 0x10000;
constexpr uint32_t kAcpiTables = 0xE0000; // RSDP and tables (reserved in e820)
constexpr uint32_t kKernel = 0x100000;    // protected-mode kernel
constexpr uint16_t kBootCs = 0x10, kBootDs = 0x18;
}  // namespace boot_layout

// The bzImage setup header fields the loader uses (boot protocol 2.x).
struct LinuxSetupHeader {
  uint16_t version = 0;         // 0x0206 = 2.06
  uint8_t setup_sects = 0;      // 0 means 4
  uint8_t loadflags = 0;
  uint32_t code32_start = 0;
  uint32_t initrd_addr_max = 0;
  uint32_t kernel_alignment = 0;
  uint8_t relocatable_kernel = 0;
  uint32_t cmdline_size = 0;    // longest command line without the NUL
  uint64_t pref_address = 0;
  uint32_t init_size = 0;       // memory the kernel needs from its load address on
  uint32_t setup_bytes = 0;     // (setup_sects + 1) * 512: where the protected-mode kernel starts
  uint32_t kernel_bytes = 0;    // size of the protected-mode kernel
};

// True if `image` carries the boot protocol's signatures (0xAA55 at 0x1FE
// and "HdrS" at 0x202), whether or not it is otherwise usable.
bool is_bzimage(const std::vector<uint8_t>& image);
// Parses and validates the setup header. Returns "" or the problem.
std::string parse_setup_header(const std::vector<uint8_t>& image, LinuxSetupHeader& out);

// The addresses chosen for one boot.
struct LinuxLayout {
  uint32_t kernel_addr = 0;
  uint32_t kernel_end = 0;   // end of what the kernel may use while it decompresses and starts
  uint32_t initrd_addr = 0;  // 0: no initrd
  uint32_t initrd_size = 0;
  uint32_t ram_top = 0;      // end of usable RAM
};
// Places the kernel at 1 MiB and the initrd as high as RAM and
// initrd_addr_max allow. Returns "" or the problem (e.g. an initrd too big).
std::string plan_linux_layout(const LinuxSetupHeader& h, uint32_t ram_size, uint64_t initrd_size, LinuxLayout& out);

// Builds the 4 KiB zero page (boot_params): the image's setup header, the
// loader's fields (type_of_loader, loadflags, ramdisk, cmd_line_ptr), an
// 80x25 VGA text screen_info, the e820 table and the ACPI RSDP address.
std::vector<uint8_t> build_zero_page(const std::vector<uint8_t>& image, const LinuxSetupHeader& h,
                                     const LinuxLayout& layout, const std::vector<E820Entry>& map,
                                     uint32_t cmdline_addr, uint32_t rsdp_addr);

// Minimal ACPI tables (core/linux_boot_acpi.cpp): RSDP, RSDT, FADT, FACS and
// a DSDT with \_S5 and the PCI root bridge (its windows depend on
// `ram_size`), describing the machine's AcpiPm block. Built for `base`;
// returns the bytes and sets the RSDP's address.
std::vector<uint8_t> build_acpi_tables(uint32_t base, uint32_t ram_size, uint32_t& rsdp_addr);

// Puts the CPU in flat 32-bit protected mode (GDT at boot_layout::kGdt,
// CS 0x10, data 0x18, paging and interrupts off) at `eip`.
void enter_flat_protected_mode(Machine& m, uint32_t eip);

struct KernelBootFiles {
  std::string kernel_path;
  std::vector<uint8_t> kernel;
  std::string initrd_path;      // empty: none
  std::vector<uint8_t> initrd;
  std::string cmdline;
};
// Loads a bzImage or a multiboot kernel into `m` (after its reset) and
// sets up the CPU to enter it. Returns "" or a one-line error that names
// the file ("FILE: problem").
std::string load_kernel(Machine& m, const KernelBootFiles& files);

}  // namespace popek
