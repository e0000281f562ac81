// Run statistics written by --stats FILE.json when a run ends.
#pragma once
#include <string>

#include "core/machine.h"

namespace popek {

// Writes the counters of `machine` and `outcome` as JSON; returns false and
// a one-line reason if the file cannot be written.
bool write_stats_json(const std::string& path, Machine& machine, const RunOutcome& outcome,
                      const std::string& engine_name, std::string& error);

}  // namespace popek
