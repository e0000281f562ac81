// Multiboot v1 (the Multiboot Specification 0.6.96) kernels through
// --kernel: ELF32 executables, or any image with the a.out-kludge address
// fields (header flag 16). The loader gives memory info (mem_lower/upper and
// an mmap from pc_memory_map), the command line, the boot loader name and the
// initrd as the single module; it enters with EAX = 0x2BADB002, EBX = info.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/linux_boot.h"

namespace popek {

struct MultibootHeader {
  bool found = false;
  uint32_t offset = 0;  // of the header in the file
  uint32_t flags = 0;
  uint32_t header_addr = 0, load_addr = 0, load_end_addr = 0, bss_end_addr = 0, entry_addr = 0;
};

namespace multiboot {
constexpr uint32_t kHeaderMagic = 0x1badb002, kBootMagic = 0x2badb002;
constexpr uint32_t kSearchBytes = 8192;
// Header flags: page-aligned modules, memory info, video mode, address fields.
constexpr uint32_t kPageAlign = 1u << 0, kMemoryInfo = 1u << 1, kVideoMode = 1u << 2, kAoutKludge = 1u << 16;
// Info flags.
constexpr uint32_t kInfoMem = 1u << 0, kInfoCmdline = 1u << 2, kInfoMods = 1u << 3, kInfoMmap = 1u << 6,
                   kInfoLoaderName = 1u << 9;
constexpr uint32_t kInfoAddr = 0x7000, kModsAddr = 0x7100, kMmapAddr = 0x7200, kLoaderNameAddr = 0x7800,
                   kModCmdlineAddr = 0x7c00;
}  // namespace multiboot

// Searches the first 8 KiB for a multiboot header. Returns "" with
// out.found false if there is none, "" with out.found true for a valid one,
// or the problem (bad checksum, unsupported required flags).
std::string find_multiboot_header(const std::vector<uint8_t>& image, MultibootHeader& out);

// One piece to copy into RAM: file bytes [file_offset, +file_size) at
// paddr, then zeros up to mem_size.
struct LoadSegment {
  uint32_t paddr;
  uint32_t file_offset;
  uint32_t file_size;
  uint32_t mem_size;
};
// Works out what to load and the entry point, from the ELF program headers
// or the a.out-kludge fields. Returns "" or the problem.
std::string plan_multiboot_load(const std::vector<uint8_t>& image, const MultibootHeader& h,
                                std::vector<LoadSegment>& segments, uint32_t& entry);

// Loads the kernel, its module (the initrd) and the info structure, and
// sets up the CPU. Returns "" or "FILE: problem".
std::string load_multiboot(Machine& m, const KernelBootFiles& files, const MultibootHeader& h);

}  // namespace popek
