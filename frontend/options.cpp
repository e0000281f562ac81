#include "frontend/options.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

#include "translator/code_region.h"

namespace popek {

namespace {
std::string byte_count(uint64_t n) {
  if (n >= (uint64_t{1} << 20) && n % (uint64_t{1} << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}
}  // namespace

bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& error, uint64_t max_bytes,
               const std::string& limit_note) {
  out.clear();
  auto too_large = [&](const std::string& size) {
    error = path + ": too large (" + size + "; at most " + byte_count(max_bytes) +
            (limit_note.empty() ? "" : " " + limit_note) + ")";
    out.clear();
    out.shrink_to_fit();
    return false;
  };
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    error = path + ": is a directory";
    return false;
  }
  if (S_ISREG(st.st_mode) && uint64_t(st.st_size) > max_bytes) return too_large(std::to_string(st.st_size) + " bytes");
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  // Chunked, so a device or pipe without an end (/dev/zero) stops at the limit.
  std::vector<char> chunk(1 << 16);
  while (f) {
    f.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const size_t got = static_cast<size_t>(f.gcount());
    if (got > max_bytes - out.size()) return too_large("more than " + byte_count(max_bytes));
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<long>(got));
  }
  if (f.bad()) {
    error = path + ": read error";
    return false;
  }
  return true;
}

namespace {
// Control characters from argv (a newline in a file name, an escape
// sequence) are shown as \xNN, so an error stays one line on the terminal.
std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}
}  // namespace

std::string normalize_boot_order(std::string& order) {
  if (order.empty()) return {};
  const std::string given = printable(order);
  std::string letters = order.rfind("order=", 0) == 0 ? order.substr(6) : order;
  if (letters.empty() || letters.size() > 3)
    return "--boot " + given + ": expected one to three of the letters a, c, d, n (e.g. dc or order=dc)";
  for (size_t i = 0; i < letters.size(); ++i) {
    const char c = letters[i];
    if (c != 'a' && c != 'c' && c != 'd' && c != 'n')
      return "--boot " + given + ": unknown boot device '" + std::string(1, c) +
             "' (a floppy, c hard disk, d CD-ROM, n network)";
    if (letters.find(c) != i) return "--boot " + given + ": boot device '" + std::string(1, c) + "' given twice";
  }
  order = letters;
  return {};
}

ParseResult parse_options(int argc, const char* const* argv) {
  ParseResult result;
  Options o;
  CLI::App app{"Popek: an x86 PC emulator built around a dynamic binary translator", "popek"};
  std::string engine = "dbt";
  std::string debugcon = "none";
  app.add_option("--bios", o.bios_path,
                 std::string("Firmware ROM image (64 KiB to 256 KiB), mapped below 4 GiB and 1 MiB; default ") +
                     kDefaultBiosPath);
  app.add_option("--kernel", o.kernel_path,
                 "Boot a Linux bzImage or a multiboot ELF kernel directly (no firmware runs), as QEMU's -kernel");
  app.add_option("--initrd", o.initrd_path, "Initial ramdisk for --kernel (a multiboot kernel gets it as its module)");
  app.add_option("--append", o.append, "Kernel command line for --kernel");
  app.add_option("--hda", o.hda_path, "Hard disk 0 (primary master): raw image, writes go to the file");
  app.add_option("--hdb", o.hdb_path, "Hard disk 1 (primary slave): raw image, writes go to the file");
  app.add_option("--cdrom", o.cdrom_path, "CD-ROM (secondary master, ATAPI): ISO image, read-only");
  app.add_option("--boot", o.boot_order,
                 "Boot order, QEMU letters: c hard disk, d CD-ROM, a floppy, n network (e.g. dc or order=dc); "
                 "default d with only --cdrom, else c then d");
  app.add_flag("--snapshot", o.snapshot, "Keep disk writes in memory; image files are never modified");
  app.add_option("-m,--memory", o.ram_mb, "Guest RAM in MiB (1 to 3072)");
  app.add_flag("--headless", o.headless, "Run without a window (the default when there is no DISPLAY or WAYLAND_DISPLAY)");
  app.add_option("--screenshot-dir", o.screenshot_dir, "Directory where the window's F12 key saves PNG screenshots (default .)");
  app.add_option("--debugcon", debugcon, "Port 0xE9/0x402 output: stdio, file:PATH or none");
  app.add_option("--serial", o.serial, "COM1 output: stdio, file:PATH or none");
  app.add_option("--engine", engine, "Execution engine: dbt (translator, the default), interp (reference interpreter) or verify (both in lockstep)");
  std::string trace;
  app.add_option("--trace", trace, "Trace: blocks (each translated block, guest beside host disassembly, on stderr)");
  app.add_option("--max-instructions", o.max_instructions, "Stop after N guest instructions");
  app.add_option("--timeout", o.timeout_seconds, "Stop after SECONDS of host time");
  app.add_flag("--deterministic", o.deterministic, "Drive the virtual clock by retired instructions");
  app.add_option("--icount", o.icount_shift,
                 "Deterministic clock at 2^N ns of virtual time per instruction (0-10; as QEMU's -icount shift=N; "
                 "--deterministic is N = 3.3, 10 ns)");
  app.add_flag("--no-reboot", o.no_reboot, "Exit instead of resetting on a triple fault or reset request");
  app.add_option("--stats", o.stats_path, "Write run statistics (instructions, MIPS, TLB) as JSON to FILE");
  std::string vga = "std";
  app.add_option("--vga", vga, "Display adapter: std (QEMU-compatible VGA with Bochs VBE, PCI 1234:1111) or none");
  app.add_option("--vga-bios", o.vga_bios_path,
                 std::string("VGA BIOS (PCI option ROM behind the VGA's ROM BAR); default ") + kDefaultVgaBiosPath);
  app.add_option("--screenshot", o.screenshot_path, "Write the screen as a PNG to FILE when the run ends");
  app.add_option("--screen-text", o.screen_text_path,
                 "Write the text-mode screen as UTF-8 lines (code page 437) to FILE when the run ends");
  app.add_option("--stats-interval", o.stats_interval,
                 "With --stats: add a time series of the counters sampled every N retired instructions");
  app.add_option("--tc-size", o.tc_size_mib, "Translation cache size in MiB (0.0625 to 1024; default 32)");
  app.add_option("--tc-wx", o.tc_wx,
                 "Translation cache W^X: dual (two views of one memfd, default), mprotect (toggle on each write) "
                 "or off (read-write-execute; for measuring the cost)");
  app.add_flag("--tc-check", o.tc_check,
               "Check the translation cache's consistency at every flush and at exit (debugging; exit status 3 "
               "on a problem)");
  app.add_option("--progress-file", o.progress_path,
                 "Keep FILE updated with the retired instruction count and seconds (used by popek bench)");
  app.add_flag("--profile", o.profile,
               "Hot-block profile: count executions and exits per translated block, sample host time, and print the "
               "top blocks with guest and host disassembly when the run ends (--engine dbt)");
  app.add_option("--profile-top", o.profile_top, "With --profile: how many blocks to show (default 20)");
  app.add_option("--profile-file", o.profile_path, "With --profile: write the profile text to FILE instead of stderr");
  app.add_option("--profile-sort", o.profile_sort,
                 "With --profile: order blocks by sampled time (time, the default) or by execution count (count)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.exit_status = 0;
    result.message = app.help();
    return result;
  } catch (const CLI::ParseError& e) {
    result.exit_status = 2;
    std::string what = e.what();
    result.message = "popek: " + printable(what);
    return result;
  }
  auto fail = [&](const std::string& msg) {
    result.exit_status = 2;
    result.message = "popek: " + printable(msg);
    return result;
  };
  if (engine == "interp") o.engine = EngineKind::Interp;
  else if (engine == "dbt") o.engine = EngineKind::Dbt;
  else if (engine == "verify") o.engine = EngineKind::Verify;
  else return fail("--engine " + engine + ": unknown engine (expected interp, dbt or verify)");
  if (o.ram_mb < 1 || o.ram_mb > 3072) return fail("-m " + std::to_string(o.ram_mb) + ": memory size must be 1 to 3072 MiB");
  for (const auto& [name, value] : {std::pair{"--debugcon", debugcon}, std::pair{"--serial", o.serial}}) {
    if (value != "stdio" && value != "none" && value.rfind("file:", 0) != 0)
      return fail(std::string(name) + " " + value + ": expected stdio, file:PATH or none");
    if (value == "file:") return fail(std::string(name) + " file: needs a path");
  }
  if (trace == "blocks") o.trace_blocks = true;
  else if (!trace.empty()) return fail("--trace " + trace + ": unknown trace (expected blocks)");
  if (o.trace_blocks && o.engine != EngineKind::Dbt) return fail("--trace blocks needs --engine dbt");
  if (o.icount_shift != -1 && (o.icount_shift < 0 || o.icount_shift > 10))
    return fail("--icount " + std::to_string(o.icount_shift) + ": the shift must be 0 to 10");
  if (!(o.timeout_seconds >= 0)) return fail("--timeout must not be negative or NaN");
  if (o.stats_interval && o.stats_path.empty()) return fail("--stats-interval needs --stats FILE.json");
  if (o.tc_size_mib != 0 && !(o.tc_size_mib >= 0.0625 && o.tc_size_mib <= 1024))
    return fail("--tc-size " + std::to_string(o.tc_size_mib) + ": the translation cache must be 0.0625 to 1024 MiB");
  if (o.tc_size_mib != 0 && o.engine == EngineKind::Interp) return fail("--tc-size needs --engine dbt or verify");
  if (dbt::WxMode wx; !dbt::parse_wx_mode(o.tc_wx, wx))
    return fail("--tc-wx " + o.tc_wx + ": expected dual, mprotect or off");
  if (app.count("--tc-wx") && o.engine == EngineKind::Interp) return fail("--tc-wx needs --engine dbt or verify");
  if (o.tc_check && o.engine == EngineKind::Interp) return fail("--tc-check needs --engine dbt or verify");
  if (o.profile && o.engine != EngineKind::Dbt) return fail("--profile needs --engine dbt");
  for (const char* sub : {"--profile-top", "--profile-file", "--profile-sort"})
    if (!o.profile && app.count(sub)) return fail(std::string(sub) + " needs --profile");
  if (o.profile_top < 1 || o.profile_top > 100000)
    return fail("--profile-top " + std::to_string(o.profile_top) + ": expected 1 to 100000 blocks");
  if (o.profile_sort != "time" && o.profile_sort != "count")
    return fail("--profile-sort " + o.profile_sort + ": expected time or count");
  if (o.kernel_path.empty() && (!o.initrd_path.empty() || !o.append.empty()))
    return fail(std::string(o.initrd_path.empty() ? "--append" : "--initrd") + " needs --kernel");
  if (!o.kernel_path.empty() && !o.bios_path.empty())
    return fail("--kernel boots without firmware; it cannot be combined with --bios");
  if (o.bios_path.empty()) {
    o.bios_path = kDefaultBiosPath;
    o.bios_is_default = true;
  }
  if (vga == "std") o.vga = true;
  else if (vga == "none") o.vga = false;
  else return fail("--vga " + vga + ": unknown display adapter (expected std or none)");
  if (!o.vga) {
    if (!o.vga_bios_path.empty()) return fail("--vga-bios needs a VGA (--vga std)");
    if (!o.screenshot_path.empty()) return fail("--screenshot needs a VGA (--vga std)");
    if (!o.screen_text_path.empty()) return fail("--screen-text needs a VGA (--vga std)");
  }
  // Screen outputs are written when the run ends: refuse a path whose
  // directory does not exist now rather than after a long run.
  for (const auto& [name, path] : {std::pair{"--screenshot", o.screenshot_path}, std::pair{"--screen-text", o.screen_text_path}}) {
    if (path.empty()) continue;
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (struct stat st{}; ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return fail(std::string(name) + " " + path + ": directory " + dir + " does not exist");
    if (struct stat st{}; ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      return fail(std::string(name) + " " + path + ": is a directory");
  }
  if (o.vga && o.vga_bios_path.empty()) {
    o.vga_bios_path = kDefaultVgaBiosPath;
    o.vga_bios_is_default = true;
  }
  if (struct stat st{}; ::stat(o.screenshot_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail("--screenshot-dir " + o.screenshot_dir + ": not a directory");
  if (!o.hda_path.empty() && o.hda_path == o.hdb_path) return fail("--hda and --hdb name the same file " + o.hda_path);
  if (std::string problem = normalize_boot_order(o.boot_order); !problem.empty()) return fail(problem);
  if (o.boot_order.empty()) {
    // As QEMU: a lone CD boots; with disks, the disk comes first.
    const bool disks = !o.hda_path.empty() || !o.hdb_path.empty();
    if (!o.cdrom_path.empty()) o.boot_order = disks ? "cd" : "d";
  }
  o.debugcon = debugcon;
  result.options = o;
  return result;
}

}  // namespace popek
