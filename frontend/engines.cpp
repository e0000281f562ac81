#include "frontend/engines.h"

#include "translator/dbt_engine.h"
#include "translator/verify_engine.h"

namespace popek {

namespace {

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
  const char* name() const override { return "verify"; }

 private:
  dbt::VerifyEngine verify_;
};

}  // namespace

const char* engine_name(EngineKind kind) {
  switch (kind) {
    case EngineKind::Interp: return "interp";
    case EngineKind::Dbt: return "dbt";
    case EngineKind::Verify: return "verify";
  }
  return "?";
}

void install_engine(Machine& machine, EngineKind kind, std::function<void(const std::string&)> block_trace,
                    size_t cache_bytes) {
  dbt::DbtOptions dbt_options;
  if (cache_bytes) dbt_options.cache_bytes = cache_bytes;
  switch (kind) {
    case EngineKind::Interp:
      machine.set_engine(nullptr);
      break;
    case EngineKind::Dbt: {
      auto e = std::make_unique<DbtCpuEngine>(machine.interpreter(), dbt_options);
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
