#include "frontend/stats.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace popek {

bool write_stats_json(const std::string& path, Machine& machine, const RunOutcome& outcome,
                      const std::string& engine_name, std::string& error) {
  nlohmann::json j;
  Interpreter& in = machine.interpreter();
  j["engine"] = engine_name;
  j["retired_instructions"] = outcome.instructions;
  j["interpreter_retired_instructions"] = in.retired();  // incl. translator fallbacks
  j["wall_seconds"] = outcome.seconds;
  j["guest_mips"] = outcome.seconds > 0 ? outcome.instructions / outcome.seconds / 1e6 : 0.0;
  j["tlb_hits"] = in.mmu.tlb_hits();
  j["tlb_misses"] = in.mmu.tlb_misses();
  j["unimplemented_instructions"] = in.unimplemented_count();
  j["machine_resets"] = machine.resets();
  j["virtual_time_ns"] = machine.clock().now();
  if (CpuEngine* e = machine.engine()) j["translator"] = nlohmann::json::parse(e->stats_json());
  std::ofstream f(path);
  if (!f) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  f << j.dump(2) << "\n";
  return static_cast<bool>(f);
}

}  // namespace popek
