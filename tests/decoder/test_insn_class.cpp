// Tests for decoder/insn_class: the table has no duplicates and no gaps over
// the whole legacy opcode space, its facts agree with Zydis's cpu_flags except
// for the documented exceptions below, and the key rows say what the
// translator relies on.
//
// The opcode space is enumerated once (SetUpTestSuite): every 1-byte opcode,
// every 0F xx, 0F 38 xx and 0F 3A xx opcode, each with all 256 ModRM bytes
// followed by zero padding (a valid SIB/displacement/immediate), with no
// prefix, 66, F2 and F3, in 16- and 32-bit mode, through two decoders:
// popek::Decoder as the emulator configures it, and a Zydis decoder with the
// post-P6 decoder modes (MPX, CET, LZCNT, TZCNT, CLDEMOTE) switched off, which
// is how a P6 reads those bytes. The x87 space D8..DF x 256 is part of the
// 1-byte map and also checked on its own.
#include "decoder/insn_class.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "decoder/decoder.h"

namespace popek {
namespace {

using namespace insn_flags;

// ---------------------------------------------------------------------------
// Mnemonics Zydis decodes from legacy-encoded bytes that a P6 does not
// execute (it raises #UD for those bytes, or, for the prefixed forms, runs
// the unprefixed i686 instruction only when the decoder modes above are off).
// VEX/EVEX/XOP/3DNow!/MVEX encodings are accounted for by encoding instead:
// their escape bytes are LES/LDS/BOUND/POP with a register operand (or 0F 0F)
// on a P6, all of which raise #UD.
#define MN(x) ZYDIS_MNEMONIC_##x
const ZydisMnemonic kNotI686[] = {
    // SSE (Pentium III) integer additions on MMX registers (Zydis files them under MMX)
    MN(MASKMOVQ), MN(MOVNTQ), MN(PAVGB), MN(PAVGW), MN(PEXTRW), MN(PINSRW), MN(PMAXSW), MN(PMAXUB),
    MN(PMINSW), MN(PMINUB), MN(PMULHUW), MN(PSADBW), MN(PSHUFW),
    // SSE (Pentium III)
    MN(ADDPS), MN(ADDSS), MN(ANDNPS), MN(ANDPS), MN(CMPPS), MN(CMPSS), MN(COMISS), MN(CVTPI2PS),
    MN(CVTPS2PI), MN(CVTSI2SS), MN(CVTSS2SI), MN(CVTTPS2PI), MN(CVTTSS2SI), MN(DIVPS), MN(DIVSS),
    MN(MAXPS), MN(MAXSS), MN(MINPS), MN(MINSS), MN(MOVAPS), MN(MOVHLPS), MN(MOVHPS), MN(MOVLHPS),
    MN(MOVLPS), MN(MOVMSKPS), MN(MOVNTPS), MN(MOVSS), MN(MOVUPS), MN(MULPS), MN(MULSS), MN(ORPS),
    MN(PMOVMSKB), MN(RCPPS), MN(RCPSS), MN(RSQRTPS), MN(RSQRTSS), MN(SFENCE), MN(SHUFPS),
    MN(SQRTPS), MN(SQRTSS), MN(SUBPS), MN(SUBSS), MN(UCOMISS), MN(UNPCKHPS), MN(UNPCKLPS),
    MN(XORPS),
    // SSE MXCSR
    MN(LDMXCSR), MN(STMXCSR),
    // SSE prefetch hints (0F 18 /0..3)
    MN(PREFETCHNTA), MN(PREFETCHT0), MN(PREFETCHT1), MN(PREFETCHT2),
    // SSE2
    MN(ADDPD), MN(ADDSD), MN(ANDNPD), MN(ANDPD), MN(CMPPD), MN(COMISD), MN(CVTDQ2PD), MN(CVTDQ2PS),
    MN(CVTPD2DQ), MN(CVTPD2PI), MN(CVTPD2PS), MN(CVTPI2PD), MN(CVTPS2DQ), MN(CVTPS2PD),
    MN(CVTSD2SI), MN(CVTSD2SS), MN(CVTSI2SD), MN(CVTSS2SD), MN(CVTTPD2DQ), MN(CVTTPD2PI),
    MN(CVTTPS2DQ), MN(CVTTSD2SI), MN(DIVPD), MN(DIVSD), MN(LFENCE), MN(MASKMOVDQU), MN(MAXPD),
    MN(MAXSD), MN(MFENCE), MN(MINPD), MN(MINSD), MN(MOVAPD), MN(MOVDQ2Q), MN(MOVDQA), MN(MOVDQU),
    MN(MOVHPD), MN(MOVLPD), MN(MOVMSKPD), MN(MOVNTDQ), MN(MOVNTI), MN(MOVNTPD), MN(MOVQ2DQ),
    MN(MOVUPD), MN(MULPD), MN(MULSD), MN(ORPD), MN(PSHUFD), MN(PSHUFHW), MN(PSHUFLW), MN(PSLLDQ),
    MN(PSRLDQ), MN(PUNPCKHQDQ), MN(PUNPCKLQDQ), MN(SHUFPD), MN(SQRTPD), MN(SQRTSD), MN(SUBPD),
    MN(SUBSD), MN(UCOMISD), MN(UNPCKHPD), MN(UNPCKLPD), MN(XORPD),
    // SSE2 on MMX registers
    MN(PADDQ), MN(PMULUDQ), MN(PSUBQ),
    // SSE3 (incl. x87 FISTTP, DB/DD/DF /1)
    MN(ADDSUBPD), MN(ADDSUBPS), MN(FISTTP), MN(HADDPD), MN(HADDPS), MN(HSUBPD), MN(HSUBPS),
    MN(LDDQU), MN(MOVDDUP), MN(MOVSHDUP), MN(MOVSLDUP),
    // SSSE3
    MN(PABSB), MN(PABSD), MN(PABSW), MN(PALIGNR), MN(PHADDD), MN(PHADDSW), MN(PHADDW), MN(PHSUBD),
    MN(PHSUBSW), MN(PHSUBW), MN(PMADDUBSW), MN(PMULHRSW), MN(PSHUFB), MN(PSIGNB), MN(PSIGND),
    MN(PSIGNW),
    // SSE4.1
    MN(BLENDPD), MN(BLENDPS), MN(BLENDVPD), MN(BLENDVPS), MN(DPPD), MN(DPPS), MN(EXTRACTPS),
    MN(INSERTPS), MN(MOVNTDQA), MN(MPSADBW), MN(PACKUSDW), MN(PBLENDVB), MN(PBLENDW), MN(PCMPEQQ),
    MN(PEXTRB), MN(PEXTRD), MN(PHMINPOSUW), MN(PINSRB), MN(PINSRD), MN(PMAXSB), MN(PMAXSD),
    MN(PMAXUD), MN(PMAXUW), MN(PMINSB), MN(PMINSD), MN(PMINUD), MN(PMINUW), MN(PMOVSXBD),
    MN(PMOVSXBQ), MN(PMOVSXBW), MN(PMOVSXDQ), MN(PMOVSXWD), MN(PMOVSXWQ), MN(PMOVZXBD),
    MN(PMOVZXBQ), MN(PMOVZXBW), MN(PMOVZXDQ), MN(PMOVZXWD), MN(PMOVZXWQ), MN(PMULDQ), MN(PMULLD),
    MN(PTEST), MN(ROUNDPD), MN(ROUNDPS), MN(ROUNDSD), MN(ROUNDSS),
    // SSE4.2
    MN(CRC32), MN(PCMPESTRI), MN(PCMPESTRM), MN(PCMPGTQ), MN(PCMPISTRI), MN(PCMPISTRM),
    // AMD SSE4a
    MN(EXTRQ), MN(INSERTQ), MN(MOVNTSD), MN(MOVNTSS),
    // AMD SYSCALL/SYSRET (K6+; Intel only in 64-bit mode)
    MN(SYSCALL), MN(SYSRET),
    // AMD 3DNow!
    MN(FEMMS),
    // AMD prefetches, 0F 0D (#UD on Intel P6)
    MN(PREFETCH), MN(PREFETCHW),
    // Later extensions, by Zydis ISA set. (TZCNT, LZCNT and the CET, MPX and
    // CLDEMOTE hints are absent: popek::Decoder switches those decoder modes
    // off, so a P6's BSF, BSR and NOPs come out; see the DecoderModes test.)
    /* ADOX_ADCX */ MN(ADCX), MN(ADOX),
    /* AES */ MN(AESDEC), MN(AESDECLAST), MN(AESENC), MN(AESENCLAST), MN(AESIMC),
    MN(AESKEYGENASSIST),
    /* AMD_INVLPGB */ MN(INVLPGB), MN(TLBSYNC),
    /* CET */
    MN(CLRSSBSY), MN(INCSSPD), MN(RSTORSSP),
    MN(SAVEPREVSSP), MN(SETSSBSY), MN(WRSSD), MN(WRUSSD),
    /* CLFLUSHOPT */ MN(CLFLUSHOPT),
    /* CLFSH */ MN(CLFLUSH),
    /* CLWB */ MN(CLWB),
    /* CLZERO */ MN(CLZERO),
    /* ENQCMD */ MN(ENQCMD), MN(ENQCMDS),
    /* GFNI */ MN(GF2P8AFFINEINVQB), MN(GF2P8AFFINEQB), MN(GF2P8MULB),
    /* HRESET */ MN(HRESET),
    /* INVPCID */ MN(INVPCID),
    /* KEYLOCKER */ MN(AESDEC128KL), MN(AESDEC256KL), MN(AESENC128KL), MN(AESENC256KL),
    MN(ENCODEKEY128), MN(ENCODEKEY256), MN(LOADIWKEY),
    /* KEYLOCKER_WIDE */ MN(AESDECWIDE128KL), MN(AESDECWIDE256KL), MN(AESENCWIDE128KL),
    MN(AESENCWIDE256KL),
    /* MCOMMIT */ MN(MCOMMIT),
    /* MONITOR */ MN(MONITOR), MN(MWAIT),
    /* MONITORX */ MN(MONITORX), MN(MWAITX),
    /* MOVBE */ MN(MOVBE),
    /* MOVDIR */ MN(MOVDIR64B), MN(MOVDIRI),
    /* PADLOCK_ACE */ MN(XCRYPT_CBC), MN(XCRYPT_CFB), MN(XCRYPT_CTR), MN(XCRYPT_ECB),
    MN(XCRYPT_OFB),
    /* PADLOCK_PHE */ MN(XSHA1), MN(XSHA256),
    /* PADLOCK_PMM */ MN(MONTMUL),
    /* PADLOCK_RNG */ MN(XSTORE),
    /* PCLMULQDQ */ MN(PCLMULQDQ),
    /* PCONFIG */ MN(PCONFIG),
    /* PKU */ MN(RDPKRU), MN(WRPKRU),
    /* POPCNT */ MN(POPCNT),
    /* PREFETCHWT1 */ MN(PREFETCHWT1),
    /* PT */ MN(PTWRITE),
    /* RDPID */ MN(RDPID),
    /* RDPRU */ MN(RDPRU),
    /* RDRAND */ MN(RDRAND),
    /* RDSEED */ MN(RDSEED),
    /* RDTSCP */ MN(RDTSCP),
    /* RTM */ MN(XABORT), MN(XBEGIN), MN(XEND), MN(XTEST),
    /* SERIALIZE */ MN(SERIALIZE),
    /* SGX */ MN(ENCLS), MN(ENCLU),
    /* SGX_ENCLV */ MN(ENCLV),
    /* SHA */ MN(SHA1MSG1), MN(SHA1MSG2), MN(SHA1NEXTE), MN(SHA1RNDS4), MN(SHA256MSG1),
    MN(SHA256MSG2), MN(SHA256RNDS2),
    /* SMAP */ MN(CLAC), MN(STAC),
    /* SMX */ MN(GETSEC),
    /* SNP */ MN(PVALIDATE),
    /* SVM */ MN(CLGI), MN(INVLPGA), MN(SKINIT), MN(STGI), MN(VMLOAD), MN(VMMCALL), MN(VMRUN),
    MN(VMSAVE),
    /* TDX */ MN(TDCALL),
    /* TSX_LDTRK */ MN(XRESLDTRK), MN(XSUSLDTRK),
    /* VMFUNC */ MN(VMFUNC),
    /* VTX */ MN(INVEPT), MN(INVVPID), MN(VMCALL), MN(VMCLEAR), MN(VMLAUNCH), MN(VMPTRLD),
    MN(VMPTRST), MN(VMREAD), MN(VMRESUME), MN(VMWRITE), MN(VMXOFF), MN(VMXON),
    /* WAITPKG */ MN(TPAUSE), MN(UMONITOR), MN(UMWAIT),
    /* XSAVE */ MN(XGETBV), MN(XRSTOR), MN(XSAVE), MN(XSETBV),
    /* XSAVEC */ MN(XSAVEC),
    /* XSAVEOPT */ MN(XSAVEOPT),
    /* XSAVES */ MN(XRSTORS), MN(XSAVES),
};

// Zydis ISA sets whose instructions a Pentium II executes. Used as a second
// opinion: the table must accept only these and reject forms only outside them.
const ZydisISASet kI686IsaSets[] = {
    ZYDIS_ISA_SET_I86,         ZYDIS_ISA_SET_I186,   ZYDIS_ISA_SET_I286REAL,
    ZYDIS_ISA_SET_I286PROTECTED, ZYDIS_ISA_SET_I386, ZYDIS_ISA_SET_I486REAL,
    ZYDIS_ISA_SET_I486,        ZYDIS_ISA_SET_PENTIUMREAL, ZYDIS_ISA_SET_PPRO,
    ZYDIS_ISA_SET_CMOV,        ZYDIS_ISA_SET_FCMOV,  ZYDIS_ISA_SET_X87,
    ZYDIS_ISA_SET_LAHF,        ZYDIS_ISA_SET_FAT_NOP, ZYDIS_ISA_SET_PAUSE,
    ZYDIS_ISA_SET_RDPMC,       ZYDIS_ISA_SET_PENTIUMMMX, ZYDIS_ISA_SET_FXSAVE,
};

// ---------------------------------------------------------------------------
// Documented differences between the table and Zydis's cpu_flags. A decoded
// instruction's row may differ from Zydis only in bits listed here for its
// mnemonic and column; every exception must be needed by some encoding.
enum class Column { Read, Written, Undefined };

struct FlagException {
  std::vector<ZydisMnemonic> mnemonics;
  Column column;
  uint32_t extra;    // bits the table has and Zydis does not
  uint32_t missing;  // bits Zydis has and the table does not
  const char* reason;
};

const std::vector<FlagException>& flag_exceptions() {
  static const std::vector<FlagException> k = {
      {{MN(SBB)}, Column::Written, AF, 0, "SDM: SBB sets AF like SUB; Zydis says undefined"},
      {{MN(SBB)}, Column::Undefined, 0, AF, "SDM: SBB sets AF like SUB; Zydis says undefined"},
      {{MN(ROL), MN(ROR), MN(RCL), MN(RCR), MN(SHL), MN(SHR), MN(SAR), MN(SHLD), MN(SHRD)},
       Column::Written, OF, 0, "SDM: OF is defined for a count of 1"},
      {{MN(SHL), MN(SHR)}, Column::Undefined, CF, 0,
       "SDM: CF undefined when count >= operand size (8/16-bit)"},
      {{MN(SHLD), MN(SHRD)}, Column::Undefined, CF | PF | ZF | SF, 0,
       "SDM: all flags undefined when count > operand size (16-bit)"},
      {{MN(CMPSB), MN(CMPSW), MN(CMPSD), MN(SCASB), MN(SCASW), MN(SCASD)}, Column::Read, 0, ZF,
       "REPE/REPNE test the ZF this iteration computed, not the incoming one"},
      {{MN(INT), MN(INT3), MN(INTO), MN(INT1), MN(IRET), MN(IRETD), MN(JMP), MN(CALL)},
       Column::Read, kAll, 0, "task switch saves EFLAGS; INT pushes the EFLAGS image"},
      {{MN(INT), MN(INT3), MN(INTO), MN(INT1), MN(JMP), MN(CALL)}, Column::Written, kAll, 0,
       "task switch loads EFLAGS from the new TSS"},
      {{MN(CLI), MN(STI), MN(IN), MN(OUT), MN(INSB), MN(INSW), MN(INSD), MN(OUTSB), MN(OUTSW),
        MN(OUTSD)},
       Column::Read, VM | VIP, 0, "VM selects the V86 IOPL rule; STI checks VIP under VME/PVI"},
      {{MN(POPF)}, Column::Written, 0, AC | ID | RF, "a 16-bit POPF cannot reach EFLAGS[31:16]"},
      {{MN(POPFD)}, Column::Written, 0, VIF, "POPFD never writes VIF (only VME's 16-bit POPF)"},
  };
  return k;
}

// Zydis's IOPL constant is bit 12 only; the table uses the 2-bit field.
uint32_t from_zydis(uint32_t m) { return m & (1u << 12) ? m | (1u << 13) : m; }

std::string hex(const uint8_t* b, unsigned n) {
  std::string s;
  char t[4];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(t, sizeof t, "%02x", b[i]);
    s += t;
  }
  return s;
}

std::string flag_names(uint32_t m) {
  static const char* names[] = {"CF", "1", "PF", "3", "AF", "5", "ZF", "SF", "TF", "IF", "DF",
                                "OF", "IOPL", "IOPL", "NT", "15", "RF", "VM", "AC", "VIF",
                                "VIP", "ID"};
  std::string s;
  for (int i = 0; i < 22; ++i)
    if (m & (1u << i) && i != 13) s += std::string(s.empty() ? "" : "|") + names[i];
  return s.empty() ? "-" : s;
}

const char* name(ZydisMnemonic m) { return ZydisMnemonicGetString(m); }

// ---------------------------------------------------------------------------
// Enumeration.

using DecodeFn = std::function<bool(const uint8_t*, bool code32, DecodedInsn&)>;

struct Decoders {
  Decoder popek;
  ZydisDecoder p6[2];  // [code32]
  Decoders() {
    for (int c = 0; c < 2; ++c) {
      ZydisDecoderInit(&p6[c], c ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16,
                       c ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16);
      for (ZydisDecoderMode m : {ZYDIS_DECODER_MODE_MPX, ZYDIS_DECODER_MODE_CET,
                                 ZYDIS_DECODER_MODE_LZCNT, ZYDIS_DECODER_MODE_TZCNT,
                                 ZYDIS_DECODER_MODE_CLDEMOTE})
        ZydisDecoderEnableMode(&p6[c], m, ZYAN_FALSE);
    }
  }
  bool decode_popek(const uint8_t* b, bool code32, DecodedInsn& d) const {
    return popek.decode(b, 15, code32, code32, d) == DecodeStatus::Ok;
  }
  bool decode_p6(const uint8_t* b, bool code32, DecodedInsn& d) const {
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&p6[code32], b, 15, &d.insn, d.ops))) return false;
    std::memcpy(d.bytes, b, d.insn.length);
    return true;
  }
};

// Calls `visit` for every successful decode of the enumerated byte patterns.
template <typename Visit>
void enumerate(const Decoders& decs, Visit&& visit) {
  static const int kPrefixes[] = {-1, 0x66, 0xF2, 0xF3};
  static const std::vector<uint8_t> kMaps[] = {{}, {0x0F}, {0x0F, 0x38}, {0x0F, 0x3A}};
  uint8_t buf[16];
  DecodedInsn d;
  for (int which = 0; which < 2; ++which)
    for (bool code32 : {false, true})
      for (int prefix : kPrefixes)
        for (const auto& map : kMaps)
          for (int op = 0; op < 256; ++op)
            for (int modrm = 0; modrm < 256; ++modrm) {
              std::memset(buf, 0, sizeof buf);
              unsigned n = 0;
              if (prefix >= 0) buf[n++] = static_cast<uint8_t>(prefix);
              for (uint8_t b : map) buf[n++] = b;
              buf[n++] = static_cast<uint8_t>(op);
              buf[n++] = static_cast<uint8_t>(modrm);
              bool ok = which == 0 ? decs.decode_popek(buf, code32, d)
                                   : decs.decode_p6(buf, code32, d);
              if (ok) visit(d, code32, which == 0 ? "popek" : "p6");
            }
}

struct Finding {
  std::string what;
  std::string example;
};

// Everything the enumeration found, computed once.
struct Survey {
  std::set<ZydisMnemonic> seen;                        // every mnemonic decoded
  std::set<std::pair<ZydisMnemonic, InsnForm>> rows_reached;
  std::map<std::string, Finding> unaccounted;          // legacy, unknown, not listed
  std::map<std::string, Finding> accepted_non_i686;    // classified, Zydis ISA not i686
  std::map<std::string, Finding> rejected_i686;        // form rejected, Zydis ISA i686
  std::map<std::string, Finding> flag_mismatches;      // not covered by an exception
  std::map<std::string, Finding> narrowing_widened;    // classify() not within its row
  std::set<size_t> exceptions_used;                    // index.column
  std::map<std::string, Finding> x87_problems;
  size_t decodes = 0, classified = 0, by_encoding = 0, listed = 0;
};

bool in_not_i686_list(ZydisMnemonic m) {
  return std::find(std::begin(kNotI686), std::end(kNotI686), m) != std::end(kNotI686);
}

bool is_i686_isa(ZydisISASet s) {
  return std::find(std::begin(kI686IsaSets), std::end(kI686IsaSets), s) != std::end(kI686IsaSets);
}

std::string describe(const DecodedInsn& d, bool code32, const char* decoder) {
  return hex(d.bytes, d.insn.length) + (code32 ? " /32 " : " /16 ") + decoder + " \"" +
         Decoder::format(d, 0) + "\" isa=" + ZydisISASetGetString(d.insn.meta.isa_set);
}

void check_flags(Survey& s, const InsnClass& row, const DecodedInsn& d, const std::string& ex) {
  const ZydisAccessedFlags* z = d.insn.cpu_flags;
  ASSERT_NE(z, nullptr);
  struct {
    Column col;
    uint32_t ours, theirs;
    const char* label;
  } cols[] = {
      {Column::Read, row.flags_read, from_zydis(z->tested), "read"},
      {Column::Written, row.flags_written, from_zydis(z->modified | z->set_0 | z->set_1),
       "written"},
      {Column::Undefined, row.flags_undefined, from_zydis(z->undefined), "undefined"},
  };
  const auto& exc = flag_exceptions();
  for (const auto& c : cols) {
    uint32_t extra = c.ours & ~c.theirs, missing = c.theirs & ~c.ours;
    if (!extra && !missing) continue;
    for (size_t i = 0; i < exc.size(); ++i) {
      const auto& e = exc[i];
      if (e.column != c.col ||
          std::find(e.mnemonics.begin(), e.mnemonics.end(), row.mnemonic) == e.mnemonics.end())
        continue;
      if ((extra & e.extra) || (missing & e.missing)) s.exceptions_used.insert(i);
      extra &= ~e.extra;
      missing &= ~e.missing;
    }
    if (extra || missing) {
      std::string key = std::string(name(row.mnemonic)) + "/" + to_string(row.form) + " " +
                        c.label + ": table " + flag_names(c.ours) + ", Zydis " +
                        flag_names(c.theirs);
      s.flag_mismatches.emplace(key, Finding{key, ex});
    }
  }
}

void survey_one(Survey& s, const DecodedInsn& d, bool code32, const char* decoder) {
  ++s.decodes;
  const ZydisMnemonic m = d.mnemonic();
  s.seen.insert(m);
  const std::optional<InsnClass> c = classify(d);
  const bool x87_escape = d.insn.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
                          d.insn.opcode >= 0xD8 && d.insn.opcode <= 0xDF &&
                          d.insn.encoding == ZYDIS_INSTRUCTION_ENCODING_LEGACY;
  if (c) {
    ++s.classified;
    const InsnClass* row = lookup(d);
    s.rows_reached.insert({row->mnemonic, row->form});
    if (!is_i686_isa(d.insn.meta.isa_set))
      s.accepted_non_i686.emplace(name(m), Finding{name(m), describe(d, code32, decoder)});
    const std::string ex = describe(d, code32, decoder);
    check_flags(s, *row, d, ex);
    // classify() may only narrow its row.
    bool narrowed = (c->flags_read & ~row->flags_read) == 0 &&
                    (c->flags_written & ~row->flags_written) == 0 &&
                    (c->flags_undefined & ~row->flags_undefined) == 0 &&
                    (c->attrs & ~row->attrs) == 0 && c->group == row->group;
    if (!narrowed) s.narrowing_widened.emplace(name(m), Finding{name(m), ex});
    if (x87_escape && c->group != InsnGroup::X87)
      s.x87_problems.emplace(name(m), Finding{"x87 escape not in group X87", ex});
    return;
  }
  if (d.insn.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY) {
    ++s.by_encoding;
    return;
  }
  if (classify(m)) {  // an i686 mnemonic whose form here is a later extension
    if (is_i686_isa(d.insn.meta.isa_set))
      s.rejected_i686.emplace(name(m), Finding{name(m), describe(d, code32, decoder)});
    return;
  }
  if (in_not_i686_list(m)) {
    ++s.listed;
    if (x87_escape && m != ZYDIS_MNEMONIC_FISTTP)
      s.x87_problems.emplace(name(m), Finding{"x87 escape listed as not i686",
                                              describe(d, code32, decoder)});
    return;
  }
  s.unaccounted.emplace(name(m), Finding{name(m), describe(d, code32, decoder)});
}

class InsnClassSurvey : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    survey_ = new Survey;
    Decoders decs;
    enumerate(decs, [](const DecodedInsn& d, bool code32, const char* decoder) {
      survey_one(*survey_, d, code32, decoder);
    });
  }
  static void TearDownTestSuite() {
    delete survey_;
    survey_ = nullptr;
  }
  static void expect_none(const std::map<std::string, Finding>& findings, const char* what) {
    for (const auto& [key, f] : findings)
      ADD_FAILURE() << what << ": " << f.what << "  e.g. " << f.example;
  }
  static Survey* survey_;
};
Survey* InsnClassSurvey::survey_ = nullptr;

// ---------------------------------------------------------------------------
// 1. No duplicates.

TEST(InsnClassTable, NoDuplicateRows) {
  std::set<std::pair<ZydisMnemonic, InsnForm>> rows;
  std::map<ZydisMnemonic, int> defaults;
  for (const InsnClass& c : insn_class_table()) {
    EXPECT_TRUE(rows.insert({c.mnemonic, c.form}).second)
        << "duplicate row " << name(c.mnemonic) << "/" << to_string(c.form);
    if (c.form == InsnForm::Default) ++defaults[c.mnemonic];
  }
  for (const InsnClass& c : insn_class_table()) {
    EXPECT_EQ(defaults[c.mnemonic], 1) << name(c.mnemonic) << " needs exactly one default row";
    if (c.form != InsnForm::Default) {
      ASSERT_NE(classify(c.mnemonic), nullptr);
      EXPECT_TRUE(classify(c.mnemonic)->has(insn_attr::kHasOtherForms)) << name(c.mnemonic);
      EXPECT_EQ(classify(c.mnemonic, c.form), &c);
    } else {
      EXPECT_EQ(classify(c.mnemonic), &c);
    }
  }
  EXPECT_EQ(classify(ZYDIS_MNEMONIC_VADDPS), nullptr);
  EXPECT_EQ(classify(ZYDIS_MNEMONIC_SYSCALL), nullptr);
  EXPECT_EQ(classify(ZYDIS_MNEMONIC_INVALID), nullptr);
}

TEST(InsnClassTable, NotI686ListIsDisjointFromTable) {
  std::set<ZydisMnemonic> listed;
  for (ZydisMnemonic m : kNotI686) {
    EXPECT_EQ(classify(m), nullptr) << name(m) << " is both in the table and listed as not i686";
    EXPECT_TRUE(listed.insert(m).second) << name(m) << " listed twice";
  }
}

TEST(InsnClassTable, FlagMasksAreConsistent) {
  for (const InsnClass& c : insn_class_table()) {
    EXPECT_EQ(c.flags_read & ~kAll, 0u) << name(c.mnemonic);
    EXPECT_EQ(c.flags_written & ~kAll, 0u) << name(c.mnemonic);
    EXPECT_EQ(c.flags_undefined & ~kAll, 0u) << name(c.mnemonic);
    if (c.writes_flags_conditionally()) {
      EXPECT_NE(c.flags_written | c.flags_undefined, 0u) << name(c.mnemonic);
    }
    if (c.privileged() || c.iopl_sensitive()) {
      EXPECT_TRUE(c.sensitive()) << name(c.mnemonic);
    }
    if (c.group == InsnGroup::Control || c.has(insn_attr::kLoadsSegment)) {
      EXPECT_TRUE(c.ends_block()) << name(c.mnemonic);
    }
    if (c.group == InsnGroup::Mmx) {
      EXPECT_FALSE(c.implemented()) << name(c.mnemonic);
    }
  }
}

// ---------------------------------------------------------------------------
// 2. No gaps.

TEST_F(InsnClassSurvey, EveryDecodedMnemonicIsAccountedFor) {
  const Survey& s = *survey_;
  std::printf("[ survey ] %zu decodes, %zu classified, %zu listed not-i686, %zu by encoding,"
              " %zu mnemonics seen, %zu table rows\n",
              s.decodes, s.classified, s.listed, s.by_encoding, s.seen.size(),
              insn_class_table().size());
  EXPECT_GT(s.classified, 100000u);
  expect_none(s.unaccounted, "decoded, not in the table, not listed as not-i686");
}

TEST_F(InsnClassSurvey, AcceptedFormsAreI686ByZydisToo) {
  expect_none(survey_->accepted_non_i686, "classified but Zydis's ISA set is not i686");
  expect_none(survey_->rejected_i686, "form rejected but Zydis's ISA set is i686");
}

TEST_F(InsnClassSurvey, EveryTableRowIsReachable) {
  for (const InsnClass& c : insn_class_table())
    EXPECT_TRUE(survey_->rows_reached.count({c.mnemonic, c.form}))
        << "row " << name(c.mnemonic) << "/" << to_string(c.form)
        << " never produced by the enumeration";
}

TEST_F(InsnClassSurvey, EveryNotI686EntryIsDecodable) {
  for (ZydisMnemonic m : kNotI686)
    EXPECT_TRUE(survey_->seen.count(m)) << name(m) << " listed as not-i686 but never decoded";
}

TEST_F(InsnClassSurvey, X87EscapeSpaceIsFullyClassified) {
  expect_none(survey_->x87_problems, "x87");
  // And directly: every D8..DF x ModRM that decodes is x87 (or SSE3 FISTTP).
  Decoder dec;
  DecodedInsn d;
  int classified = 0;
  for (bool code32 : {false, true})
    for (int op = 0xD8; op <= 0xDF; ++op)
      for (int modrm = 0; modrm < 256; ++modrm) {
        uint8_t b[15] = {static_cast<uint8_t>(op), static_cast<uint8_t>(modrm)};
        if (dec.decode(b, sizeof b, code32, code32, d) != DecodeStatus::Ok) continue;
        auto c = classify(d);
        if (d.mnemonic() == ZYDIS_MNEMONIC_FISTTP) {
          EXPECT_FALSE(c);
          continue;
        }
        ASSERT_TRUE(c) << hex(b, 2) << " " << Decoder::format(d, 0);
        EXPECT_EQ(c->group, InsnGroup::X87) << hex(b, 2);
        ++classified;
      }
  // 8 escapes x 256 ModRM x 2 modes, minus the reserved register forms and
  // the FISTTP memory forms.
  EXPECT_GT(classified, 3500);
}

// ---------------------------------------------------------------------------
// 4. Zydis cross-check (every decoded instruction, against its row).

TEST_F(InsnClassSurvey, FlagsAgreeWithZydisExceptDocumented) {
  expect_none(survey_->flag_mismatches, "flags differ from Zydis without a documented reason");
  const auto& exc = flag_exceptions();
  for (size_t i = 0; i < exc.size(); ++i)
    EXPECT_TRUE(survey_->exceptions_used.count(i))
        << "stale exception (no longer needed): " << exc[i].reason;
}

TEST_F(InsnClassSurvey, ClassifyOnlyNarrowsItsRow) {
  expect_none(survey_->narrowing_widened, "classify(DecodedInsn) widened its row");
}

// ---------------------------------------------------------------------------
// 3. Spot checks.

std::optional<InsnClass> classify_bytes(std::initializer_list<uint8_t> bytes, bool code32 = true) {
  static const Decoder dec;
  uint8_t b[15] = {};
  std::copy(bytes.begin(), bytes.end(), b);
  DecodedInsn d;
  if (dec.decode(b, sizeof b, code32, code32, d) != DecodeStatus::Ok) {
    ADD_FAILURE() << "does not decode: " << hex(b, static_cast<unsigned>(bytes.size()));
    return std::nullopt;
  }
  return classify(d);
}

TEST(InsnClassSpot, LgdtIsPrivilegedAndSensitive) {
  const InsnClass* c = classify(ZYDIS_MNEMONIC_LGDT);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->privileged());
  EXPECT_TRUE(c->sensitive());
  EXPECT_EQ(c->group, InsnGroup::System);
  auto d = classify_bytes({0x0F, 0x01, 0x10});  // lgdt [eax]
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->privileged() && d->sensitive());
}

// Decision: POPF always ends the block. It can set IF (CPL <= IOPL, or V86
// with IOPL 3) and TF, and whether it does is only known at run time, so the
// static row takes the worst case; the interrupt check then happens at the
// block exit as the architecture brief requires.
TEST(InsnClassSpot, PopfIsSensitiveIoplSensitiveAndEndsBlock) {
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_POPF, ZYDIS_MNEMONIC_POPFD}) {
    const InsnClass* c = classify(m);
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->sensitive());
    EXPECT_TRUE(c->iopl_sensitive());
    EXPECT_TRUE(c->ends_block());
    EXPECT_FALSE(c->privileged());
    EXPECT_TRUE(c->flags_written & IF);
    EXPECT_EQ(c->flags_killed() & kStatus, kStatus);
  }
  auto d = classify_bytes({0x9D});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->mnemonic, ZYDIS_MNEMONIC_POPFD);
}

TEST(InsnClassSpot, AddWritesAllStatusFlags) {
  const InsnClass* c = classify(ZYDIS_MNEMONIC_ADD);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->flags_written, OF | SF | ZF | AF | CF | PF);
  EXPECT_EQ(c->flags_read, 0u);
  EXPECT_EQ(c->flags_undefined, 0u);
  EXPECT_FALSE(c->writes_flags_conditionally());
  EXPECT_EQ(c->flags_killed(), kStatus);
  EXPECT_FALSE(c->sensitive());
  EXPECT_FALSE(c->ends_block());
  EXPECT_EQ(c->group, InsnGroup::Arith);
}

TEST(InsnClassSpot, AdcAndSbbReadCarry) {
  EXPECT_EQ(classify(ZYDIS_MNEMONIC_ADC)->flags_read, CF);
  EXPECT_EQ(classify(ZYDIS_MNEMONIC_SBB)->flags_read, CF);
  EXPECT_EQ(classify(ZYDIS_MNEMONIC_SBB)->flags_written, kStatus);
}

TEST(InsnClassSpot, JccReadsItsConditionFlags) {
  struct {
    uint8_t opcode;
    ZydisMnemonic m;
    uint32_t flags;
  } jcc[] = {
      {0x70, ZYDIS_MNEMONIC_JO, OF},        {0x71, ZYDIS_MNEMONIC_JNO, OF},
      {0x72, ZYDIS_MNEMONIC_JB, CF},        {0x73, ZYDIS_MNEMONIC_JNB, CF},
      {0x74, ZYDIS_MNEMONIC_JZ, ZF},        {0x75, ZYDIS_MNEMONIC_JNZ, ZF},
      {0x76, ZYDIS_MNEMONIC_JBE, CF | ZF},  {0x77, ZYDIS_MNEMONIC_JNBE, CF | ZF},
      {0x78, ZYDIS_MNEMONIC_JS, SF},        {0x79, ZYDIS_MNEMONIC_JNS, SF},
      {0x7A, ZYDIS_MNEMONIC_JP, PF},        {0x7B, ZYDIS_MNEMONIC_JNP, PF},
      {0x7C, ZYDIS_MNEMONIC_JL, SF | OF},   {0x7D, ZYDIS_MNEMONIC_JNL, SF | OF},
      {0x7E, ZYDIS_MNEMONIC_JLE, ZF | SF | OF}, {0x7F, ZYDIS_MNEMONIC_JNLE, ZF | SF | OF},
  };
  for (const auto& j : jcc) {
    for (bool near : {false, true}) {
      auto c = near ? classify_bytes({0x0F, static_cast<uint8_t>(j.opcode + 0x10), 0, 0, 0, 0})
                    : classify_bytes({j.opcode, 0});
      ASSERT_TRUE(c);
      EXPECT_EQ(c->mnemonic, j.m);
      EXPECT_EQ(c->flags_read, j.flags) << name(j.m);
      EXPECT_EQ(c->flags_written, 0u) << name(j.m);
      EXPECT_TRUE(c->ends_block()) << name(j.m);
      EXPECT_EQ(c->group, InsnGroup::Control);
    }
  }
}

TEST(InsnClassSpot, ShiftByClWritesFlagsOnlyConditionally) {
  auto c = classify_bytes({0xD3, 0xE0});  // shl eax, cl
  ASSERT_TRUE(c);
  EXPECT_EQ(c->mnemonic, ZYDIS_MNEMONIC_SHL);
  EXPECT_TRUE(c->writes_flags_conditionally());
  EXPECT_EQ(c->flags_killed(), 0u);  // CL may be 0: flags pass through
  EXPECT_EQ(c->flags_used() & (CF | ZF | SF | PF | OF), CF | ZF | SF | PF | OF);
  EXPECT_EQ(c->flags_undefined, AF | OF);  // 32-bit: CF is defined for counts 1..31
  EXPECT_TRUE(classify(ZYDIS_MNEMONIC_SHL)->writes_flags_conditionally());

  auto by1 = classify_bytes({0xD1, 0xE0});  // shl eax, 1
  ASSERT_TRUE(by1);
  EXPECT_FALSE(by1->writes_flags_conditionally());
  EXPECT_EQ(by1->flags_written, CF | PF | ZF | SF | OF);
  EXPECT_EQ(by1->flags_undefined, AF);

  auto by4 = classify_bytes({0xC1, 0xE0, 0x04});  // shl eax, 4
  ASSERT_TRUE(by4);
  EXPECT_FALSE(by4->writes_flags_conditionally());
  EXPECT_EQ(by4->flags_written, CF | PF | ZF | SF);
  EXPECT_EQ(by4->flags_undefined, AF | OF);

  auto by32 = classify_bytes({0xC1, 0xE0, 0x20});  // shl eax, 32: masked to 0
  ASSERT_TRUE(by32);
  EXPECT_EQ(by32->flags_killed(), 0u);
  EXPECT_EQ(by32->flags_written | by32->flags_undefined, 0u);

  auto byte_cl = classify_bytes({0xD2, 0xE0});  // shl al, cl: CF undefined if cl >= 8
  ASSERT_TRUE(byte_cl);
  EXPECT_TRUE(byte_cl->flags_undefined & CF);

  auto shld16 = classify_bytes({0x66, 0x0F, 0xA5, 0xC0});  // shld ax, ax, cl
  ASSERT_TRUE(shld16);
  EXPECT_EQ(shld16->flags_undefined, kStatus);
  auto shld32 = classify_bytes({0x0F, 0xA5, 0xC0});  // shld eax, eax, cl
  ASSERT_TRUE(shld32);
  EXPECT_EQ(shld32->flags_undefined, AF | OF);

  auto rcl = classify_bytes({0xD1, 0xD0});  // rcl eax, 1
  ASSERT_TRUE(rcl);
  EXPECT_EQ(rcl->flags_read, CF);
  EXPECT_EQ(rcl->flags_written, CF | OF);
  EXPECT_EQ(rcl->flags_undefined, 0u);
}

TEST(InsnClassSpot, RepCompareStringIsConditional) {
  auto plain = classify_bytes({0xA6});
  auto rep = classify_bytes({0xF3, 0xA6});
  ASSERT_TRUE(plain && rep);
  EXPECT_FALSE(plain->writes_flags_conditionally());
  EXPECT_TRUE(rep->writes_flags_conditionally());
  EXPECT_EQ(plain->flags_read, DF);
  EXPECT_TRUE(rep->has(insn_attr::kRepeatable));
}

TEST(InsnClassSpot, SegmentAndSystemForms) {
  struct {
    std::initializer_list<uint8_t> bytes;
    InsnForm form;
    InsnGroup group;
    bool ends_block, privileged, shadow;
  } cases[] = {
      {{0x8E, 0xD8}, InsnForm::SegmentLoad, InsnGroup::Segment, true, false, false},  // mov ds
      {{0x8E, 0xD0}, InsnForm::StackSegmentLoad, InsnGroup::Segment, true, false, true},
      {{0x8C, 0xD8}, InsnForm::SegmentStore, InsnGroup::Segment, false, false, false},
      {{0x0F, 0x22, 0xC0}, InsnForm::ControlRegisterWrite, InsnGroup::System, true, true, false},
      {{0x0F, 0x20, 0xD8}, InsnForm::ControlRegisterRead, InsnGroup::System, false, true, false},
      {{0x0F, 0x23, 0xF8}, InsnForm::DebugRegisterWrite, InsnGroup::System, true, true, false},
      {{0x0F, 0x21, 0xF8}, InsnForm::DebugRegisterRead, InsnGroup::System, false, true, false},
      {{0x1E}, InsnForm::SegmentStore, InsnGroup::Segment, false, false, false},  // push ds
      {{0x0F, 0xA1}, InsnForm::SegmentLoad, InsnGroup::Segment, true, false, false},  // pop fs
      {{0x17}, InsnForm::StackSegmentLoad, InsnGroup::Segment, true, false, true},   // pop ss
      {{0xEA, 0, 0, 0, 0, 8, 0}, InsnForm::Far, InsnGroup::Control, true, false, false},
      {{0xFF, 0x18}, InsnForm::Far, InsnGroup::Control, true, false, false},  // call far [eax]
      {{0xCB}, InsnForm::Far, InsnGroup::Control, true, false, false},        // retf
  };
  for (const auto& k : cases) {
    auto c = classify_bytes(k.bytes);
    ASSERT_TRUE(c) << to_string(k.form);
    EXPECT_EQ(c->form, k.form);
    EXPECT_EQ(c->group, k.group) << to_string(k.form);
    EXPECT_TRUE(c->sensitive()) << to_string(k.form);
    EXPECT_EQ(c->ends_block(), k.ends_block) << to_string(k.form);
    EXPECT_EQ(c->privileged(), k.privileged) << to_string(k.form);
    EXPECT_EQ(c->has(insn_attr::kInterruptShadow), k.shadow) << to_string(k.form);
  }
  // The plain forms stay innocuous.
  for (auto bytes : {std::initializer_list<uint8_t>{0x89, 0xC0}, {0x50}, {0x58}, {0xC3},
                     {0xE8, 0, 0, 0, 0}, {0xFF, 0xE0}}) {
    auto c = classify_bytes(bytes);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->form, InsnForm::Default);
    EXPECT_FALSE(c->sensitive()) << name(c->mnemonic);
  }
}

TEST(InsnClassSpot, SensitiveCatalogue) {
  const ZydisMnemonic sensitive[] = {
      MN(PUSHF), MN(PUSHFD), MN(POPF), MN(POPFD), MN(CLI), MN(STI), MN(SGDT), MN(SIDT),
      MN(SLDT), MN(STR), MN(SMSW), MN(LAR), MN(LSL), MN(VERR), MN(VERW), MN(LDS), MN(LES),
      MN(LFS), MN(LGS), MN(LSS), MN(INT), MN(INT3), MN(INTO), MN(INT1), MN(IRET), MN(IRETD),
      MN(IN), MN(OUT), MN(INSB), MN(INSW), MN(INSD), MN(OUTSB), MN(OUTSW), MN(OUTSD),
      MN(CPUID), MN(RDTSC), MN(RDPMC), MN(RDMSR), MN(WRMSR), MN(LGDT), MN(LIDT), MN(LLDT),
      MN(LTR), MN(LMSW), MN(CLTS), MN(INVLPG), MN(INVD), MN(WBINVD), MN(HLT), MN(SYSENTER),
      MN(SYSEXIT), MN(ARPL), MN(UD2), MN(RSM), MN(FNSTENV), MN(FNSAVE), MN(FXSAVE)};
  for (ZydisMnemonic m : sensitive) {
    const InsnClass* c = classify(m);
    ASSERT_NE(c, nullptr) << name(m);
    EXPECT_TRUE(c->sensitive()) << name(m);
  }
  const ZydisMnemonic privileged[] = {MN(LGDT), MN(LIDT), MN(LLDT), MN(LTR), MN(LMSW),
                                      MN(CLTS), MN(INVLPG), MN(INVD), MN(WBINVD), MN(HLT),
                                      MN(RDMSR), MN(WRMSR), MN(SYSEXIT)};
  for (ZydisMnemonic m : privileged) EXPECT_TRUE(classify(m)->privileged()) << name(m);
  for (ZydisMnemonic m : {MN(SGDT), MN(SIDT), MN(SLDT), MN(STR), MN(SMSW), MN(CPUID), MN(RDTSC),
                          MN(RDPMC), MN(SYSENTER), MN(LAR)})
    EXPECT_FALSE(classify(m)->privileged()) << name(m);
  for (ZydisMnemonic m : {MN(RDTSC), MN(RDPMC)})
    EXPECT_TRUE(classify(m)->has(insn_attr::kConditionallyPrivileged)) << name(m);
  for (ZydisMnemonic m : {MN(CLI), MN(STI), MN(IN), MN(OUT), MN(INSB), MN(OUTSD), MN(PUSHF),
                          MN(POPFD), MN(IRET), MN(IRETD), MN(INT)})
    EXPECT_TRUE(classify(m)->iopl_sensitive()) << name(m);
  for (ZydisMnemonic m : {MN(INT3), MN(INTO), MN(INT1), MN(CPUID), MN(HLT)})
    EXPECT_FALSE(classify(m)->iopl_sensitive()) << name(m);
  for (ZydisMnemonic m : {MN(HLT), MN(STI), MN(CLI), MN(IRET), MN(INT), MN(LMSW), MN(SYSENTER),
                          MN(SYSEXIT), MN(LSS), MN(IN), MN(OUTSB), MN(UD2)})
    EXPECT_TRUE(classify(m)->ends_block()) << name(m);
  for (ZydisMnemonic m : {MN(ADD), MN(MOVZX), MN(CMOVZ), MN(FADD), MN(CPUID), MN(LGDT), MN(SGDT)})
    EXPECT_FALSE(classify(m)->ends_block()) << name(m);
  for (ZydisMnemonic m : {MN(ADD), MN(SHL), MN(BSWAP), MN(CMPXCHG8B), MN(FSIN), MN(CMOVB),
                          MN(SETNZ), MN(XADD), MN(MOVSB), MN(ENTER)})
    EXPECT_FALSE(classify(m)->sensitive()) << name(m);
}

TEST(InsnClassSpot, NonI686EncodingsOfI686MnemonicsAreRejected) {
  Decoder dec;
  DecodedInsn d;
  struct {
    std::initializer_list<uint8_t> bytes;
    ZydisMnemonic m;
  } cases[] = {
      {{0xF2, 0x0F, 0x10, 0xC0}, MN(MOVSD)},        // SSE2 movsd xmm0, xmm0
      {{0xF2, 0x0F, 0xC2, 0xC0, 0x00}, MN(CMPSD)},  // SSE2 cmpsd
      {{0x66, 0x0F, 0xFC, 0xC0}, MN(PADDB)},        // SSE2 paddb xmm0, xmm0
      {{0x0F, 0x0D, 0xC0}, MN(NOP)},                // AMD prefetch space
  };
  for (const auto& k : cases) {
    uint8_t b[15] = {};
    std::copy(k.bytes.begin(), k.bytes.end(), b);
    ASSERT_EQ(dec.decode(b, sizeof b, true, true, d), DecodeStatus::Ok);
    EXPECT_EQ(d.mnemonic(), k.m);
    EXPECT_NE(classify(k.m), nullptr);
    EXPECT_EQ(lookup(d), nullptr) << Decoder::format(d, 0);
    EXPECT_FALSE(classify(d)) << Decoder::format(d, 0);
  }
  // The i686 forms of the same mnemonics are accepted.
  EXPECT_TRUE(classify_bytes({0xA5}));                    // movsd
  EXPECT_TRUE(classify_bytes({0x0F, 0xFC, 0xC0}));        // paddb mm0, mm0
  EXPECT_TRUE(classify_bytes({0x0F, 0x1F, 0x40, 0x00}));  // nop dword [eax+0]
  // VEX (C5 F8 77 = vzeroupper) decodes in 32-bit mode, but is not i686.
  uint8_t vex[15] = {0xC5, 0xF8, 0x77};
  ASSERT_EQ(dec.decode(vex, sizeof vex, true, true, d), DecodeStatus::Ok);
  EXPECT_NE(d.insn.encoding, ZYDIS_INSTRUCTION_ENCODING_LEGACY);
  EXPECT_FALSE(classify(d));
}

// F3 0F BC is REP BSF on a P6 (GCC emits it as TZCNT for __builtin_ctz, and
// old CPUs run it as BSF). Zydis's default TZCNT/LZCNT/CET/MPX/CLDEMOTE modes
// turn such bytes into post-P6 mnemonics that the table rejects. With those
// modes off, the bytes classify as the i686 instruction.
TEST(InsnClassSpot, DecoderModes) {
  Decoders decs;
  DecodedInsn d;
  struct {
    std::initializer_list<uint8_t> bytes;
    ZydisMnemonic p6;
  } cases[] = {
      {{0xF3, 0x0F, 0xBC, 0xC0}, MN(BSF)},        // rep bsf / tzcnt
      {{0xF3, 0x0F, 0xBD, 0xC0}, MN(BSR)},        // rep bsr / lzcnt
      {{0xF3, 0x0F, 0x1E, 0xFB}, MN(NOP)},        // endbr32
      {{0x0F, 0x1A, 0x00}, MN(NOP)},              // bndldx
      {{0x0F, 0x1C, 0x00}, MN(NOP)},              // cldemote
  };
  for (const auto& k : cases) {
    uint8_t b[15] = {};
    std::copy(k.bytes.begin(), k.bytes.end(), b);
    ASSERT_TRUE(decs.decode_p6(b, true, d));
    EXPECT_EQ(d.mnemonic(), k.p6) << hex(b, 4);
    EXPECT_TRUE(classify(d)) << hex(b, 4);
    ASSERT_TRUE(decs.decode_popek(b, true, d));
    EXPECT_EQ(d.mnemonic(), k.p6) << "popek::Decoder reads " << hex(b, 4) << " as " << name(d.mnemonic());
    EXPECT_TRUE(classify(d)) << hex(b, 4);
  }
}

TEST(InsnClassSpot, MmxIsListedButNotImplemented) {
  auto c = classify_bytes({0x0F, 0x77});  // emms
  ASSERT_TRUE(c);
  EXPECT_EQ(c->group, InsnGroup::Mmx);
  EXPECT_FALSE(c->implemented());
  EXPECT_TRUE(classify(ZYDIS_MNEMONIC_FXSAVE)->implemented());
  EXPECT_EQ(classify(ZYDIS_MNEMONIC_PAVGB), nullptr);  // SSE (Pentium III)
}

#undef MN

}  // namespace
}  // namespace popek
