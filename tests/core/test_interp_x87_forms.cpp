// x87 encodings: every ESC register form Zydis decodes has a handler whose
// host form is valid, nothing else reaches the host, and random guest state
// with every exception unmasked can never make the host fault.
#include <random>

#include "core/x87_host.h"
#include "tests/core/test_interp_x87_fixture.h"

namespace popek::test {
namespace {

bool handled_without_host(ZydisMnemonic m) {
  return m == ZYDIS_MNEMONIC_FNSTSW || m == ZYDIS_MNEMONIC_FNCLEX || m == ZYDIS_MNEMONIC_FNINIT ||
         m == ZYDIS_MNEMONIC_FENI8087_NOP || m == ZYDIS_MNEMONIC_FDISI8087_NOP ||
         m == ZYDIS_MNEMONIC_FSETPM287_NOP;
}

TEST_F(X87Test, EveryDecodedRegisterFormIsHandledAndHostValid) {
  Decoder dec;
  int decoded = 0;
  for (unsigned op = 0xD8; op <= 0xDF; ++op) {
    for (unsigned modrm = 0xC0; modrm <= 0xFF; ++modrm) {
      const uint8_t bytes[2] = {static_cast<uint8_t>(op), static_cast<uint8_t>(modrm)};
      DecodedInsn d;
      const bool valid = dec.decode(bytes, 2, true, true, d) == DecodeStatus::Ok;
      const bool host = x87::host_register_form_valid(bytes[0], bytes[1]);
      if (!valid) {
        EXPECT_FALSE(host) << std::hex << op << " " << modrm;
        continue;
      }
      ++decoded;
      EXPECT_NE(interp.handlers().get(d.insn.mnemonic), nullptr) << std::hex << op << " " << modrm;
      EXPECT_EQ(host, !handled_without_host(d.insn.mnemonic)) << std::hex << op << " " << modrm;
    }
  }
  EXPECT_EQ(decoded, 420);  // 512 minus the 92 undefined ESC register encodings
}

TEST_F(X87Test, EveryDecodedMemoryFormIsHandled) {
  Decoder dec;
  for (unsigned op = 0xD8; op <= 0xDF; ++op) {
    for (unsigned reg = 0; reg < 8; ++reg) {
      const uint8_t bytes[6] = {static_cast<uint8_t>(op), static_cast<uint8_t>((reg << 3) | 5), 0, 0x30, 0, 0};
      DecodedInsn d;
      if (dec.decode(bytes, 6, true, true, d) != DecodeStatus::Ok) {
        EXPECT_FALSE(x87::host_memory_form_valid(bytes[0], reg));
        continue;
      }
      if (d.insn.mnemonic == ZYDIS_MNEMONIC_FISTTP) {  // SSE3: #UD on this CPU
        EXPECT_EQ(interp.handlers().get(d.insn.mnemonic), nullptr);
        EXPECT_FALSE(x87::host_memory_form_valid(bytes[0], reg));
        continue;
      }
      EXPECT_NE(interp.handlers().get(d.insn.mnemonic), nullptr) << std::hex << op << " /" << reg;
    }
  }
}

TEST_F(X87Test, FisttpIsUndefinedOnThisCpu) {
  push(1.5L);
  EXPECT_EQ(fault(m(0xDB, 1, kData)), vec::UD);
  EXPECT_EQ(top(), 7u);
}

// Random register contents, tags, TOP and control word (every exception
// unmasked, any precision/rounding) through every engine form: the host
// must never trap, and the state must stay self-consistent.
TEST_F(X87Test, RandomStateThroughEveryFormNeverFaultsTheHost) {
  std::mt19937_64 rng(87);
  Decoder dec;
  std::vector<Bytes> forms;
  for (unsigned op = 0xD8; op <= 0xDF; ++op) {
    for (unsigned modrm = 0xC0; modrm <= 0xFF; ++modrm)
      if (x87::host_register_form_valid(static_cast<uint8_t>(op), static_cast<uint8_t>(modrm)))
        forms.push_back({static_cast<uint8_t>(op), static_cast<uint8_t>(modrm)});
    for (unsigned reg = 0; reg < 8; ++reg)
      if (x87::host_memory_form_valid(static_cast<uint8_t>(op), reg)) forms.push_back(m(static_cast<uint8_t>(op), reg, kData));
  }
  for (int round = 0; round < 40; ++round) {
    for (const Bytes& form : forms) {
      X87State& f = cpu.fpu;
      for (auto& r : f.st) {
        r.mantissa = rng();
        r.sign_exponent = static_cast<uint16_t>(rng());
        if (rng() & 1) r.sign_exponent = static_cast<uint16_t>((r.sign_exponent & 0x8000) | (0x3fff + (rng() % 64) - 32));
      }
      f.tw = static_cast<uint16_t>(rng());
      f.cw = static_cast<uint16_t>((rng() & 0x0f00) | 0x40);  // all unmasked
      f.sw = static_cast<uint16_t>(rng() & 0x3800);
      for (unsigned i = 0; i < 16; i += 4) mem.write32(kData + i, static_cast<uint32_t>(rng()));
      cpu.eflags = (cpu.eflags & ~flag::ARITH) | (static_cast<uint32_t>(rng()) & flag::ARITH);
      auto fault = run(form);
      ASSERT_FALSE(fault.has_value()) << std::hex << int(form[0]) << " " << int(form[1]);
      // Anything flagged with every exception unmasked is pending.
      EXPECT_EQ((f.sw & 0x3f) != 0, (f.sw & x87::swb::ES) != 0);
    }
  }
}

}  // namespace
}  // namespace popek::test
