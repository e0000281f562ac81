// Command-line options of the popek executable.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/machine.h"

namespace popek {

// Firmware used when neither --bios nor --kernel is given (Debian's seabios).
inline constexpr const char* kDefaultBiosPath = "/usr/share/seabios/bios.bin";
// VGA BIOS used when --vga-bios is not given (Debian's seabios: SeaVGABIOS for QEMU's stdvga).
inline constexpr const char* kDefaultVgaBiosPath = "/usr/share/seabios/vgabios-stdvga.bin";

struct Options {
  std::string bios_path;       // --bios, or kDefaultBiosPath
  bool bios_is_default = false;  // no --bios was given
  std::string hda_path;        // --hda: primary master raw image
  std::string kernel_path;     // --kernel: Linux bzImage or multiboot ELF, booted without firmware
  std::string initrd_path;     // --initrd: initial ramdisk (multiboot: the module)
  std::string append;          // --append: kernel command line
  std::string hdb_path;        // --hdb: primary slave raw image
  bool snapshot = false;       // --snapshot: disk writes stay in memory
  std::string cdrom_path;      // --cdrom: ISO image, secondary master (ATAPI)
  std::string boot_order;      // --boot: QEMU order letters (c disk, d CD-ROM...); empty: default
  uint32_t ram_mb = 32;
  bool headless = false;
  std::string debugcon = "none";  // stdio | file:PATH | none
  std::string serial = "none";    // COM1: stdio | file:PATH | none
  EngineKind engine = EngineKind::Dbt;
  bool trace_blocks = false;  // --trace blocks
  uint64_t max_instructions = 0;
  double timeout_seconds = 0;
  bool deterministic = false;
  int icount_shift = -1;       // --icount N: deterministic, 2^N ns per instruction; -1: not given
  bool no_reboot = false;
  std::string stats_path;  // --stats FILE.json
  bool vga = true;               // --vga std (default) | none
  std::string vga_bios_path;     // --vga-bios, or kDefaultVgaBiosPath
  bool vga_bios_is_default = false;  // no --vga-bios was given
  std::string screenshot_path;   // --screenshot PATH.png: the screen at exit
  std::string screen_text_path;  // --screen-text PATH.txt: the text screen at exit
  std::string screenshot_dir = ".";  // --screenshot-dir: where the window's F12 saves PNGs
  uint64_t stats_interval = 0;  // --stats-interval N: add a series sampled every N instructions
  double tc_size_mib = 0;       // --tc-size MiB: translation cache size (0: the translator's default)
  std::string tc_wx = "dual";   // --tc-wx dual|mprotect|off: how the translation cache keeps W^X
  bool tc_check = false;        // --tc-check: check the translation cache at every flush and at exit
  std::string progress_path;    // --progress-file FILE: retired count and time, for popek bench
  bool profile = false;         // --profile: hot-block profile (translator)
  size_t profile_top = 20;      // --profile-top N
  std::string profile_path;     // --profile-file FILE: the profile text there instead of stderr
  std::string profile_sort = "time";  // --profile-sort time|count
};

struct ParseResult {
  std::optional<Options> options;  // empty: exit with `exit_status`
  int exit_status = 0;
  std::string message;             // printed to stdout (help) or stderr (error)
};

// Parses argv. Errors come back as one-line messages and a non-zero status.
ParseResult parse_options(int argc, const char* const* argv);

// Checks a --boot value ("dc" or "order=dc") and reduces it to its letters.
// Returns the one-line problem, or an empty string.
std::string normalize_boot_order(std::string& order);

// Reads a whole file; on failure returns false and a one-line reason. A
// file (or a device, pipe or /proc file, which are read up to the limit)
// holding more than `max_bytes` is refused without reading it all: "PATH:
// too large (...; at most LIMIT <limit_note>)".
bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& error,
               uint64_t max_bytes = UINT64_MAX, const std::string& limit_note = "");

}  // namespace popek
