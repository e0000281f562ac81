// popek: runs a PC in a window (frontend/sdl_app.h) when a display exists,
// else headless.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <unistd.h>

#include "core/linux_boot.h"
#include "core/machine.h"
#include "devices/cdrom_image.h"
#include "devices/disk_image.h"
#include "frontend/engines.h"
#include "frontend/options.h"
#include "frontend/serial_input.h"
#include "frontend/sdl_app.h"
#include "frontend/png_writer.h"
#include "devices/vga_pci.h"
#include "frontend/stats.h"
#include "frontend/bench.h"
#include "frontend/profile_report.h"
#include "translator/dbt_engine.h"

using namespace popek;

namespace {
// Opens an output sink named stdio, file:PATH or none. Files stay open
// until exit (the OS closes them); stdout is shared by both sinks.
std::FILE* open_sink(const std::string& spec, std::string& error) {
  if (spec == "stdio") return stdout;
  if (spec.rfind("file:", 0) == 0) {
    std::string path = spec.substr(5);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) error = path + ": " + std::strerror(errno);
    return f;
  }
  return nullptr;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "bench") == 0) return bench::bench_main(argc - 1, argv + 1);
  ParseResult parsed = parse_options(argc, argv);
  if (!parsed.options) {
    std::fprintf(parsed.exit_status ? stderr : stdout, "%s\n", parsed.message.c_str());
    return parsed.exit_status;
  }
  const Options& o = *parsed.options;

  MachineConfig cfg;
  cfg.ram_mb = o.ram_mb;
  // Verify re-executes each block under the interpreter, so time must be a
  // function of the instruction count for RDTSC and timer reads to agree.
  cfg.deterministic = o.deterministic || o.engine == EngineKind::Verify;
  if (o.icount_shift >= 0) {
    cfg.deterministic = true;
    cfg.ns_per_insn = uint64_t{1} << o.icount_shift;
  }
  cfg.engine = o.engine;
  cfg.no_reboot = o.no_reboot;
  std::string error;
  // Direct kernel boot: no firmware; a reset (reboot, triple fault) loads
  // the kernel, initrd and command line again and restarts it, as QEMU's
  // -kernel does (--no-reboot exits with status 0 instead).
  KernelBootFiles kernel;
  if (!o.kernel_path.empty()) {
    kernel.kernel_path = o.kernel_path;
    kernel.initrd_path = o.initrd_path;
    kernel.cmdline = o.append;
    // Both must fit in guest RAM: anything larger is refused unread.
    const uint64_t ram_bytes = uint64_t{o.ram_mb} << 20;
    const std::string ram_note = "with -m " + std::to_string(o.ram_mb);
    if (!read_file(o.kernel_path, kernel.kernel, error, ram_bytes, ram_note) ||
        (!o.initrd_path.empty() && !read_file(o.initrd_path, kernel.initrd, error, ram_bytes, ram_note))) {
      std::fprintf(stderr, "popek: %s\n", error.c_str());
      return 2;
    }
  } else if (o.bios_is_default && ::access(o.bios_path.c_str(), F_OK) != 0) {
    std::fprintf(stderr, "popek: no firmware: %s not found (install Debian's seabios package or pass --bios FILE)\n",
                 o.bios_path.c_str());
    return 2;
  }
  // Firmware images are at most 256 KiB (validate_bios says so for what
  // it reads); 16 MiB bounds the read of a device or a huge file.
  constexpr uint64_t kFirmwareReadLimit = 16u << 20;
  if (o.kernel_path.empty() && !read_file(o.bios_path, cfg.bios, error, kFirmwareReadLimit, "for a firmware image")) {
    std::fprintf(stderr, "popek: %s\n", error.c_str());
    return 2;
  }
  if (std::string problem = o.kernel_path.empty() ? validate_bios(cfg.bios) : ""; !problem.empty()) {
    std::fprintf(stderr, "popek: %s: %s\n", o.bios_path.c_str(), problem.c_str());
    return 2;
  }

  // VGA BIOS: a missing default is only a warning (the machine then has a
  // VGA without option ROM, as with a BIOS that does not run option ROMs);
  // a missing or bad file given with --vga-bios is an error.
  cfg.vga = o.vga;
  if (o.vga) {
    if (o.vga_bios_is_default && ::access(o.vga_bios_path.c_str(), F_OK) != 0) {
      std::fprintf(stderr, "popek: warning: no VGA BIOS: %s not found (install Debian's seabios package or pass --vga-bios FILE)\n",
                   o.vga_bios_path.c_str());
    } else {
      if (!read_file(o.vga_bios_path, cfg.vga_bios, error, kFirmwareReadLimit, "for a firmware image")) {
        std::fprintf(stderr, "popek: %s\n", error.c_str());
        return 2;
      }
      if (std::string problem = validate_vga_bios(cfg.vga_bios); !problem.empty()) {
        std::fprintf(stderr, "popek: %s: %s\n", o.vga_bios_path.c_str(), problem.c_str());
        return 2;
      }
    }
  }

  std::string sink_error;
  std::FILE* debug_out = open_sink(o.debugcon, sink_error);
  std::FILE* serial_out = sink_error.empty() ? open_sink(o.serial, sink_error) : nullptr;
  if (!sink_error.empty()) {
    std::fprintf(stderr, "popek: %s\n", sink_error.c_str());
    return 2;
  }
  if (serial_out) cfg.serial[0] = [serial_out](uint8_t c) {
    std::fputc(c, serial_out);
    if (c == '\n') std::fflush(serial_out);
  };
  // Line-buffered, so a log file can be followed while the guest runs.
  if (debug_out) cfg.debugcon = [debug_out](char c) {
    std::fputc(c, debug_out);
    if (c == '\n') std::fflush(debug_out);
  };

  // Disks: raw images, write-through unless --snapshot. DiskImage::open
  // names the file in its one-line error (missing, empty, odd size, locked).
  std::unique_ptr<DiskImage> disks[2];
  const std::string* disk_paths[2] = {&o.hda_path, &o.hdb_path};
  for (int i = 0; i < 2; ++i) {
    if (disk_paths[i]->empty()) continue;
    DiskImage::OpenResult r =
        DiskImage::open(*disk_paths[i], o.snapshot ? DiskImage::Mode::Snapshot : DiskImage::Mode::ReadWrite);
    if (!r.image) {
      std::fprintf(stderr, "popek: %s\n", r.error.c_str());
      return 2;
    }
    disks[i] = std::move(r.image);
  }

  std::unique_ptr<CdromImage> cdrom;
  if (!o.cdrom_path.empty()) {
    CdromImage::OpenResult r = CdromImage::open(o.cdrom_path);
    if (!r.image) {
      std::fprintf(stderr, "popek: %s\n", r.error.c_str());
      return 2;
    }
    cdrom = std::move(r.image);
  }
  if (!o.boot_order.empty()) cfg.boot_order = o.boot_order;

  Machine machine(cfg);
  for (int i = 0; i < 2; ++i)
    if (disks[i]) machine.attach_hard_disk(i, std::move(disks[i]));
  if (cdrom) machine.attach_cdrom(std::move(cdrom));
  if (!kernel.kernel_path.empty()) {
    if (std::string problem = load_kernel(machine, kernel); !problem.empty()) {
      std::fprintf(stderr, "popek: %s\n", problem.c_str());
      return 2;
    }
    // The same files loaded into the same machine cannot fail a second time.
    machine.set_reset_hook([&machine, &kernel] {
      if (std::string problem = load_kernel(machine, kernel); !problem.empty()) {
        std::fprintf(stderr, "popek: reloading after a reset: %s\n", problem.c_str());
        machine.request_exit(2);
      }
    });
  }
  // --serial stdio: COM1 also receives the host's stdin (a terminal in raw
  // mode while popek runs, restored on every way out).
  std::optional<TerminalRawMode> raw_terminal;
  std::optional<SerialInput> serial_input;
  if (o.serial == "stdio") {
    raw_terminal.emplace(STDIN_FILENO);
    serial_input.emplace(machine.clock(), machine.uart(0), STDIN_FILENO);
  }
  std::function<void(const std::string&)> block_trace;
  if (o.trace_blocks) block_trace = [](const std::string& text) { std::fputs(text.c_str(), stderr); };
  dbt::WxMode wx = dbt::WxMode::Dual;
  dbt::parse_wx_mode(o.tc_wx, wx);  // checked by parse_options
  install_engine(machine, o.engine, std::move(block_trace), size_t(o.tc_size_mib * 1024 * 1024), wx, o.tc_check);
  if (o.profile) dbt_engine(machine)->enable_profiling({});
  RunLimits limits;
  limits.max_instructions = o.max_instructions;
  limits.timeout_seconds = o.timeout_seconds;
  StatsSeries series(machine);
  ProgressFile progress;
  if (!o.progress_path.empty() && !progress.open(o.progress_path, error)) {
    std::fprintf(stderr, "popek: %s\n", error.c_str());
    return 2;
  }
  attach_sampling(limits, o.stats_interval ? &series : nullptr, o.stats_interval,
                  progress.is_open() ? &progress : nullptr);
  series.start();
  progress.start();
  // The window when there is a display to show it on; headless otherwise
  // (no SDL initialisation at all), said once on stderr.
  const char* no_window = o.headless                                          ? "--headless"
                          : !std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") ? "no DISPLAY or WAYLAND_DISPLAY"
                          : !machine.has_vga()                                ? "--vga none"
                                                                              : nullptr;
  RunOutcome out{};
  bool ran = false;
  if (!no_window) {
    SdlAppOptions app_options;
    app_options.screenshot_dir = o.screenshot_dir;
    SdlAppResult app = run_sdl_app(machine, limits, DisplaySession::vga_renderer(machine), app_options);
    if (app.started) {
      out = app.outcome;
      ran = true;
      // Closing the window is a power-off: make the disk writes durable.
      if (app.powered_off && !machine.flush_disks()) std::fprintf(stderr, "popek: flushing the disk images failed\n");
    } else {
      std::fprintf(stderr, "popek: cannot open a window (%s); running headless\n", app.error.c_str());
    }
  } else {
    std::fprintf(stderr, "popek: running headless (%s)\n", no_window);
  }
  if (!ran) out = machine.run(limits);
  if (debug_out) std::fflush(debug_out);
  if (serial_out) std::fflush(serial_out);
  // --profile: the text on stderr (or in --profile-file), the JSON in --stats.
  std::optional<profile::json> profile_json;
  bool output_failed = false;
  if (o.profile) {
    dbt::DbtEngine* e = dbt_engine(machine);
    profile_json = profile::to_json(
        e->profile_report(o.profile_top, o.profile_sort == "count" ? dbt::ProfileSort::Count : dbt::ProfileSort::Time));
    const std::string text = profile::to_text(*profile_json);
    if (o.profile_path.empty()) {
      std::fputs(text.c_str(), stderr);
    } else if (std::FILE* f = std::fopen(o.profile_path.c_str(), "wb")) {
      const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
      if (std::fclose(f) != 0 || !ok) {
        std::fprintf(stderr, "popek: --profile-file: %s: write error\n", o.profile_path.c_str());
        output_failed = true;
      }
    } else {
      std::fprintf(stderr, "popek: --profile-file: %s: %s\n", o.profile_path.c_str(), std::strerror(errno));
      output_failed = true;
    }
  }
  if (!o.stats_path.empty()) {
    std::string err;
    if (!write_stats_json(o.stats_path, machine, out, engine_name(o.engine), err,
                          o.stats_interval ? &series : nullptr, o.stats_interval,
                          profile_json ? &*profile_json : nullptr)) std::fprintf(stderr, "popek: %s\n", err.c_str());
  }

  // The screen at exit, whatever stopped the run.
  if (!o.screenshot_path.empty()) {
    Framebuffer fb;
    machine.render_screen(fb);
    std::string err;
    if (!write_png(o.screenshot_path, fb.width, fb.height, fb.pixels.data(), err)) {
      std::fprintf(stderr, "popek: --screenshot: %s\n", err.c_str());
      output_failed = true;
    }
  }
  if (!o.screen_text_path.empty()) {
    if (!machine.vga().in_text_mode()) {
      std::fprintf(stderr, "popek: --screen-text: the screen is in a graphics mode; %s not written\n",
                   o.screen_text_path.c_str());
    } else if (std::FILE* f = std::fopen(o.screen_text_path.c_str(), "wb")) {
      const std::string text = machine.screen_text();
      const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
      if (std::fclose(f) != 0 || !ok) {
        std::fprintf(stderr, "popek: --screen-text: %s: write error\n", o.screen_text_path.c_str());
        output_failed = true;
      }
    } else {
      std::fprintf(stderr, "popek: --screen-text: %s: %s\n", o.screen_text_path.c_str(), std::strerror(errno));
      output_failed = true;
    }
  }
  if (output_failed) return 2;
  if (o.tc_check && out.reason != StopReason::EngineFailure && machine.engine()) {
    if (const std::string problems = machine.engine()->self_check(); !problems.empty()) {
      std::fprintf(stderr, "popek: --tc-check: the translation cache is inconsistent at exit:\n%s\n", problems.c_str());
      return 3;
    }
  }

  const CpuState& cpu = machine.cpu();
  switch (out.reason) {
    case StopReason::Exit:
      return out.exit_status;
    case StopReason::Reset:
      return 0;
    case StopReason::MaxInstructions:
      std::fprintf(stderr, "popek: stopped after %llu instructions (--max-instructions) at %04x:%08x\n",
                   static_cast<unsigned long long>(out.instructions), cpu.seg[CS].selector, cpu.eip);
      return 0;
    case StopReason::Timeout:
      std::fprintf(stderr, "popek: timed out after %.1f s at %04x:%08x\n", out.seconds, cpu.seg[CS].selector, cpu.eip);
      return 124;
    case StopReason::HaltedForever:
      std::fprintf(stderr, "popek: guest halted with interrupts disabled at %04x:%08x\n", cpu.seg[CS].selector, cpu.eip);
      return 2;
    case StopReason::EngineFailure:
      std::fprintf(stderr, "popek: %s\n", out.message.c_str());
      return 3;
  }
  return 0;
}
