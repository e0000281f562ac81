// Differential test: random instruction streams (random_program.h) run under
// the interpreter and the translator from identical random states; the final
// registers, flags, step counts and data buffer must be identical.
//
// Each mode runs random programs (20 to 120 instructions, register and
// memory operands) until POPEK_DBT_FUZZ_INSTRUCTIONS guest instructions have
// executed (default 25,000 per mode, which the ASan pass also runs);
// POPEK_DBT_FUZZ_SEED sets the first seed (16-bit programs start 1,000,000
// seeds later). ctest's `translator.fuzz_1m` runs 500,000 per mode, so
// 1,000,000 in all, from other seeds. The count run is printed.
#include <cstdlib>

#include "decoder/decoder.h"
#include "tests/translator/dbt_fixture.h"
#include "tests/translator/random_program.h"

namespace popek::test {
namespace {

constexpr uint32_t kCode = 0x1000;
constexpr uint32_t kBuffer = 0x20000;
constexpr uint32_t kBufferBytes = 4096;

unsigned env_or(const char* name, unsigned fallback) {
  const char* v = std::getenv(name);
  return v ? static_cast<unsigned>(std::strtoul(v, nullptr, 0)) : fallback;
}

std::string listing(const std::vector<uint8_t>& code, bool code32) {
  Decoder dec;
  std::string out;
  size_t off = 0;
  while (off < code.size()) {
    DecodedInsn d;
    if (dec.decode(code.data() + off, code.size() - off, code32, code32, d) != DecodeStatus::Ok) break;
    char head[32];
    std::snprintf(head, sizeof head, "  %08x  ", unsigned(kCode + off));
    out += head + Decoder::format(d, kCode + off) + "\n";
    off += d.insn.length;
  }
  return out;
}

struct RandomStreams : DualFixture {
  // Same random registers, flags and buffer in both guests.
  void randomize(std::mt19937& rng, bool code32, bool with_stack) {
    for (int r = 0; r < 8; ++r) set_reg(Reg(r), rng());
    set_reg(EBX, code32 ? kBuffer : 0);
    set_reg(ESI, rng() % 16);
    if (with_stack) set_reg(ESP, (code32 ? kBuffer : (rng() & 0xffff0000u)) + kBufferBytes / 2);
    const uint32_t flags = (rng() & flag::ARITH) | flag::FIXED1;
    ref.cpu.eflags = dut.cpu.eflags = flags;
    std::vector<uint8_t> data(kBufferBytes);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    load(kBuffer, data);
    if (!code32) {
      // Data and stack segments at the buffer; CS stays at 0.
      for (SegReg s : {DS, ES, FS, GS, SS}) {
        for (BareGuest* g : {&ref, &dut}) {
          g->cpu.seg[s].selector = kBuffer >> 4;
          g->cpu.seg[s].base = kBuffer;
        }
      }
    }
  }

  // Runs block by block against the interpreter; describes the first block
  // after which the states differ.
  std::string lockstep(uint64_t max_steps) {
    uint64_t steps = 0;
    while (steps < max_steps) {
      const CpuState before = dut.cpu;
      dbt::DispatchUnit u = dbt->dispatch(max_steps - steps);
      for (uint64_t i = 0; i < u.steps; ++i) ref.interp.step();
      steps += u.steps;
      std::string d = diff_cpu(ref.cpu, dut.cpu);
      if (!d.empty()) {
        std::string out = "first divergence after " + std::string(u.block ? "block" : "interpreter step") +
                          " at eip " + std::to_string(before.eip) + " (" + std::to_string(u.steps) + " steps):\n" + d;
        char regs[160];
        std::snprintf(regs, sizeof regs, "state before: eax %08x ecx %08x edx %08x ebx %08x esp %08x ebp %08x esi %08x edi %08x eflags %08x\n",
                      before.regs[0], before.regs[1], before.regs[2], before.regs[3], before.regs[4],
                      before.regs[5], before.regs[6], before.regs[7], before.eflags);
        out += regs;
        if (u.block) out += dbt->disassemble(*u.block);
        return out;
      }
      if (u.steps == 0) break;
    }
    return "no divergence in lockstep\n";
  }

  // Runs programs from seed `seed` on until `target` instructions ran.
  void run_many(bool code32, uint64_t target, unsigned seed) {
    unsigned failures = 0;
    unsigned programs = 0;
    uint64_t instructions = 0;
    for (unsigned n = 0; instructions < target && failures < 3; ++n, ++programs) {
      std::mt19937 rng(seed + n);
      const bool with_stack = n % 2;
      const unsigned length = 20 + rng() % 101;
      RandomProgram p = generate_program(rng, code32, length, kBufferBytes, with_stack);
      if (code32) flat32(0, kCode);
      else real_mode(kCode);
      load(kCode, p.code);
      randomize(rng, code32, with_stack);
      if (n % 4 == 3) {
        // Every fourth program block by block: the states must agree at every
        // block exit, not only at the end (flags exact at exits, precise steps).
        const uint64_t retired_before = dut.clock.retired();
        const std::string r = lockstep(10000);
        instructions += dut.clock.retired() - retired_before;
        if (r != "no divergence in lockstep\n") {
          ++failures;
          ADD_FAILURE() << (code32 ? "flat32" : "real16") << " seed " << seed + n << " (lockstep):\n"
                        << listing(p.code, code32) << r;
        }
        continue;
      }
      run(10000);
      instructions += ref_steps;
      std::string diff = diff_cpu(ref.cpu, dut.cpu);
      std::vector<uint8_t> a(kBufferBytes), b(kBufferBytes);
      ref.mem.read_bytes(kBuffer, a.data(), kBufferBytes);
      dut.mem.read_bytes(kBuffer, b.data(), kBufferBytes);
      for (uint32_t i = 0; i < kBufferBytes && diff.empty(); ++i)
        if (a[i] != b[i]) diff = "buffer byte " + std::to_string(i) + " differs\n";
      if (ref_steps != dbt_result.steps)
        diff += "steps: interp " + std::to_string(ref_steps) + " dbt " + std::to_string(dbt_result.steps) +
                " (dbt stop " + std::to_string(int(dbt_result.stop)) + " " + dbt->last_error() + ")\n";
      if (!diff.empty()) {
        ++failures;
        // Again in lockstep, block by block, to find the first divergent block.
        std::mt19937 rng2(seed + n);
        generate_program(rng2, code32, 20 + rng2() % 101, kBufferBytes, with_stack);
        if (code32) flat32(0, kCode);
        else real_mode(kCode);
        load(kCode, p.code);
        randomize(rng2, code32, with_stack);
        ADD_FAILURE() << (code32 ? "flat32" : "real16") << " seed " << seed + n << ":\n"
                      << diff << listing(p.code, code32) << lockstep(10000);
      }
    }
    EXPECT_GE(instructions, target);
    EXPECT_GT(dbt->stats().retired_native, instructions / 2) << "most instructions should run natively";
    std::printf("%s: %u programs, %llu instructions run under both engines, %llu native, %llu fallbacks, "
                "%llu blocks, %llu cache flushes\n",
                code32 ? "flat32" : "real16", programs, static_cast<unsigned long long>(instructions),
                static_cast<unsigned long long>(dbt->stats().retired_native),
                static_cast<unsigned long long>(dbt->stats().fallbacks),
                static_cast<unsigned long long>(dbt->stats().blocks_translated),
                static_cast<unsigned long long>(dbt->stats().flushes));
  }
};

TEST_F(RandomStreams, Flat32) {
  run_many(true, env_or("POPEK_DBT_FUZZ_INSTRUCTIONS", 25000), env_or("POPEK_DBT_FUZZ_SEED", 1));
}

TEST_F(RandomStreams, RealMode16) {
  run_many(false, env_or("POPEK_DBT_FUZZ_INSTRUCTIONS", 25000), env_or("POPEK_DBT_FUZZ_SEED", 1) + 1000000);
}

}  // namespace
}  // namespace popek::test
