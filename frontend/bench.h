// `popek bench`: runs the benchmark workloads of roms/bench/ under Popek's
// engines (dbt, interp), QEMU's TCG and the native 32-bit builds, each run a
// child process timed by wall clock, and reports times, ratios and the
// translator's cache statistics as a terminal table and JSON.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace popek::bench {

// Entry point: argv[0] is "bench". Returns 0 when every run passed, 1 when
// a run failed, 2 on bad options or missing files.
int bench_main(int argc, char** argv);

// The six workloads, in report order.
const std::vector<std::string>& default_workloads();

// The parameter block at the end of a benchmark ROM (docs/benchmarks.md).
struct ParamBlock {
  uint32_t iterations = 0;
  uint32_t expected_checksum = 0;
  bool checksum_valid = false;
};
// Reads it from a ROM image; empty (and `error` set) if the image has none.
std::optional<ParamBlock> read_param_block(const std::vector<uint8_t>& rom, std::string& error);

// Checks a run's output: the line "<workload> iterations=0x... checksum=0x..."
// with the expected checksum (when known) and, unless `pass_line` is empty,
// the line `pass_line`. Returns an empty string when the output is right,
// else what is wrong (one line).
std::string check_output(const std::string& output, const std::string& workload,
                         const std::string& pass_line, std::optional<uint32_t> expected_checksum);

}  // namespace popek::bench
