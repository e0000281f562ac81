// popek: the headless runner (the SDL desktop app comes later).
#include <cstdio>
#include <memory>

#include "core/machine.h"
#include "frontend/options.h"
#include "frontend/stats.h"

using namespace popek;

int main(int argc, char** argv) {
  ParseResult parsed = parse_options(argc, argv);
  if (!parsed.options) {
    std::fprintf(parsed.exit_status ? stderr : stdout, "%s\n", parsed.message.c_str());
    return parsed.exit_status;
  }
  const Options& o = *parsed.options;

  MachineConfig cfg;
  cfg.ram_mb = o.ram_mb;
  cfg.deterministic = o.deterministic;
  cfg.engine = o.engine;
  cfg.no_reboot = o.no_reboot;
  std::string error;
  if (!read_file(o.bios_path, cfg.bios, error)) {
    std::fprintf(stderr, "popek: %s\n", error.c_str());
    return 2;
  }
  if (std::string problem = validate_bios(cfg.bios); !problem.empty()) {
    std::fprintf(stderr, "popek: %s: %s\n", o.bios_path.c_str(), problem.c_str());
    return 2;
  }

  std::FILE* debug_out = nullptr;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> debug_file(nullptr, &std::fclose);
  if (o.debugcon == "stdio") {
    debug_out = stdout;
  } else if (o.debugcon.rfind("file:", 0) == 0) {
    std::string path = o.debugcon.substr(5);
    debug_file.reset(std::fopen(path.c_str(), "wb"));
    if (!debug_file) {
      std::perror(("popek: " + path).c_str());
      return 2;
    }
    debug_out = debug_file.get();
  }
  if (debug_out) cfg.debugcon = [debug_out](char c) { std::fputc(c, debug_out); };

  Machine machine(cfg);
  RunLimits limits;
  limits.max_instructions = o.max_instructions;
  limits.timeout_seconds = o.timeout_seconds;
  RunOutcome out = machine.run(limits);
  if (debug_out) std::fflush(debug_out);
  if (!o.stats_path.empty()) {
    std::string err;
    if (!write_stats_json(o.stats_path, machine, out, "interp", err)) std::fprintf(stderr, "popek: %s\n", err.c_str());
  }

  const CpuState& cpu = machine.cpu();
  switch (out.reason) {
    case StopReason::Exit:
      return out.exit_status;
    case StopReason::Reset:
      return 0;
    case StopReason::MaxInstructions:
      std::fprintf(stderr, "popek: stopped after %llu instructions (--max-instructions)\n",
                   static_cast<unsigned long long>(out.instructions));
      return 0;
    case StopReason::Timeout:
      std::fprintf(stderr, "popek: timed out after %.1f s at %04x:%08x\n", out.seconds, cpu.seg[CS].selector, cpu.eip);
      return 124;
    case StopReason::HaltedForever:
      std::fprintf(stderr, "popek: guest halted with interrupts disabled at %04x:%08x\n", cpu.seg[CS].selector, cpu.eip);
      return 2;
  }
  return 0;
}
