// Command-line fuzzer: the input, split at NUL bytes, is argv (after
// "popek"). parse_options must never throw or crash; an error is status 2
// and one line starting "popek: "; an accepted command line holds values in
// their documented ranges. tests/fuzz/options.dict lists the option names.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "frontend/options.h"

using namespace popek;

namespace {
[[noreturn]] void fail(const char* what, const std::string& message) {
  std::fprintf(stderr, "fuzz_options: %s: [%s]\n", what, message.c_str());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"popek"};
  std::string current;
  for (size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  if (!current.empty()) args.push_back(current);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  ParseResult r = parse_options(static_cast<int>(argv.size()), argv.data());
  if (!r.options) {
    if (r.exit_status == 0) return 0;  // --help: the help text, status 0
    if (r.exit_status != 2) fail("error status is not 2", r.message);
    if (r.message.rfind("popek: ", 0) != 0) fail("error does not start with 'popek: '", r.message);
    if (r.message.find('\n') != std::string::npos || r.message.find('\r') != std::string::npos)
      fail("error is not one line", r.message);
    return 0;
  }
  const Options& o = *r.options;
  if (o.ram_mb < 1 || o.ram_mb > 3072) fail("accepted memory size out of range", std::to_string(o.ram_mb));
  if (!(o.timeout_seconds >= 0) || std::isnan(o.timeout_seconds)) fail("accepted timeout", std::to_string(o.timeout_seconds));
  if (o.bios_path.empty()) fail("empty firmware path", "");
  if (!o.hda_path.empty() && o.hda_path == o.hdb_path) fail("same disk twice", o.hda_path);
  if (o.trace_blocks && o.engine != EngineKind::Dbt) fail("--trace blocks without dbt", "");
  return 0;
}
