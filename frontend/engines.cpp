#include "frontend/engines.h"

#include <cstdio>

#include "translator/dbt_engine.h"
#include "translator/verify_engine.h"

namespace popek {

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

class DbtCpuEngine : public CpuEngine {
 public:
  DbtCpuEngine(Interpreter& interp, const dbt::DbtOptions& options) : dbt_(interp, options) {}
  EngineRun run(uint64_t budget, const std::function<bool()>& should_stop) override {
    dbt::DbtRunResult r = dbt_.run(budget, should_stop);
    EngineRun out;
    out.steps = r.steps;
    out.halted = r.stop == dbt::DbtStop::Halted;
    if (r.stop == dbt::DbtStop::HostError) {
      out.failed = true;
      out.message = "translator error: " + dbt_.last_error();
    }
    return out;
  }
  uint64_t retired() const override { return dbt_.retired(); }
  void after_reset() override { dbt_.flush(); }
  std::string stats_json() const override { return dbt_.stats().to_json(); }
  std::string self_check() override { return join_lines(dbt_.check_cache()); }
  const char* name() const override { return "dbt"; }
  dbt::DbtEngine& dbt() { return dbt_; }

 private:
  dbt::DbtEngine dbt_;
};

class VerifyCpuEngine : public CpuEngine {
 public:
  VerifyCpuEngine(Interpreter& interp, const dbt::VerifyOptions& options) : verify_(interp, options) {}
  EngineRun run(uint64_t budget, const std::function<bool()>& should_stop) override {
    dbt::VerifyResult r = verify_.run(budget, should_stop);
    EngineRun out;
    out.steps = r.steps;
    out.halted = r.stop == dbt::DbtStop::Halted;
    if (r.diverged) {
      out.failed = true;
      out.message = "verify: the translator diverged from the interpreter\n" + verify_.report();
    } else if (r.stop == dbt::DbtStop::HostError) {
      out.failed = true;
      out.message = "translator error: " + verify_.dbt().last_error();
    }
    return out;
  }
  uint64_t retired() const override { return const_cast<dbt::VerifyEngine&>(verify_).dbt().retired(); }
  void after_reset() override { verify_.resync(); }
  std::string stats_json() const override { return const_cast<dbt::VerifyEngine&>(verify_).dbt().stats().to_json(); }
  std::string self_check() override { return join_lines(verify_.dbt().check_cache()); }
  const char* name() const override { return "verify"; }

 private:
  dbt::VerifyEngine verify_;
};

}  // namespace

dbt::DbtEngine* dbt_engine(Machine& machine) {
  auto* e = dynamic_cast<DbtCpuEngine*>(machine.engine());
  return e ? &e->dbt() : nullptr;
}

const char* engine_name(EngineKind kind) {
  switch (kind) {
    case EngineKind::Interp: return "interp";
    case EngineKind::Dbt: return "dbt";
    case EngineKind::Verify: return "verify";
  }
  return "?";
}

void install_engine(Machine& machine, EngineKind kind, std::function<void(const std::string&)> block_trace,
                    size_t cache_bytes, dbt::WxMode wx, bool check_cache) {
  dbt::DbtOptions dbt_options;
  if (cache_bytes) dbt_options.cache_bytes = cache_bytes;
  dbt_options.wx = wx;
  dbt_options.check_cache = check_cache;
  auto note_wx = [wx](dbt::DbtEngine& e) {
    if (e.wx_mode() != wx)
      std::fprintf(stderr, "popek: --tc-wx %s is not available here (memfd_create or its mapping failed); using %s\n",
                   dbt::to_string(wx), dbt::to_string(e.wx_mode()));
  };
  dbt_options.end_slice_at_block = true;  // applies with a real-time clock only
  switch (kind) {
    case EngineKind::Interp:
      machine.set_engine(nullptr);
      break;
    case EngineKind::Dbt: {
      auto e = std::make_unique<DbtCpuEngine>(machine.interpreter(), dbt_options);
      note_wx(e->dbt());
      if (block_trace) e->dbt().set_block_trace(std::move(block_trace));
      machine.set_engine(std::move(e));
      break;
    }
    case EngineKind::Verify: {
      dbt::VerifyOptions verify_options;
      verify_options.dbt = dbt_options;
      machine.set_engine(std::make_unique<VerifyCpuEngine>(machine.interpreter(), verify_options));
      break;
    }
  }
}

}  // namespace popek
