// Builds the execution engine a machine runs under: the reference
// interpreter (the machine's own step loop), the translator, or both in
// lockstep (verify).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/cpu_engine.h"
#include "core/machine.h"
#include "translator/code_region.h"

namespace popek::dbt {
class DbtEngine;
}

namespace popek {

// Installs the engine for `kind` on `machine`. `block_trace`, when set,
// receives each translated block's guest/host disassembly (--trace blocks).
// `cache_bytes` sets the translation cache size (--tc-size; 0: default),
// `wx` how it keeps W^X (--tc-wx), `check_cache` checks it at every flush
// (--tc-check; CpuEngine::self_check() is the check at exit).
void install_engine(Machine& machine, EngineKind kind,
                    std::function<void(const std::string&)> block_trace = {}, size_t cache_bytes = 0,
                    dbt::WxMode wx = dbt::WxMode::Dual, bool check_cache = false);

const char* engine_name(EngineKind kind);

// The translator of a machine installed with EngineKind::Dbt, else null.
dbt::DbtEngine* dbt_engine(Machine& machine);

}  // namespace popek
