// Command-line options of the popek executable.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/machine.h"

namespace popek {

struct Options {
  std::string bios_path;
  uint32_t ram_mb = 32;
  bool headless = false;
  std::string debugcon = "none";  // stdio | file:PATH | none
  std::string serial = "none";    // COM1: stdio | file:PATH | none
  EngineKind engine = EngineKind::Interp;
  uint64_t max_instructions = 0;
  double timeout_seconds = 0;
  bool deterministic = false;
  bool no_reboot = false;
  std::string stats_path;  // --stats FILE.json
};

struct ParseResult {
  std::optional<Options> options;  // empty: exit with `exit_status`
  int exit_status = 0;
  std::string message;             // printed to stdout (help) or stderr (error)
};

// Parses argv. Errors come back as one-line messages and a non-zero status.
ParseResult parse_options(int argc, const char* const* argv);

// Reads a whole file; on failure returns false and a one-line reason.
bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& error);

}  // namespace popek
