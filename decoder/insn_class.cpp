// The i686 instruction classification table.
//
// Scope: everything a Pentium Pro / Pentium II executes in 16- and 32-bit
// legacy modes: the 386/486/Pentium base ISA, x87 with FCMOVcc/FCOMI, CMOVcc,
// CPUID, RDTSC, RDPMC, RDMSR/WRMSR, CMPXCHG8B, SYSENTER/SYSEXIT, UD2,
// FXSAVE/FXRSTOR, the P6 hint NOPs (0F 19..1F, 0F 18 /4..7), and the
// undocumented but executed SALC, INT1 (ICEBP), FFREEP, FSTP1 (Zydis FSTPNCE)
// and the 8087/287 control no-ops. Pentium II MMX is listed with
// kNotImplemented. Not listed (so #UD): SSE and later (incl. the SSE integer
// additions to MMX such as PAVGB/PSHUFW/PMOVMSKB, PREFETCHh, FISTTP), AMD-only
// instructions (SYSCALL/SYSRET, 3DNow!, the 0F 0D prefetches) and everything
// Zydis decodes from VEX/EVEX/XOP encodings.
//
// Where the table departs from Zydis 4.0.0's cpu_flags (each one is an
// allowed, documented exception in tests/decoder/test_insn_class.cpp):
//  - SBB: Zydis leaves AF undefined; the SDM defines it like SUB.
//  - Shifts and rotates: Zydis leaves OF undefined even for 1-bit counts; the
//    SDM defines OF for a count of 1, so OF is both written and undefined in
//    the count-agnostic row and classify(DecodedInsn) narrows it. SHL/SHR also
//    leave CF undefined when count >= operand size, and SHLD/SHRD leave every
//    status flag undefined when count > operand size (16-bit only). Zydis also
//    cannot say that a zero count writes nothing: kWritesFlagsConditionally.
//  - REPE/REPNE CMPS/SCAS: Zydis lists ZF as tested; the ZF that ends the loop
//    is the one the iteration itself computes, so the incoming ZF is not read.
//    With ECX=0 nothing is written, hence kWritesFlagsConditionally.
//  - INT n, INT3, INTO, INT1, far JMP/CALL and IRET may switch tasks, which
//    saves the whole EFLAGS into the old TSS and loads it from the new one;
//    INT* also push the EFLAGS image. They read all flags and (conditionally
//    except IRET) write all flags. Zydis lists only the gate-path effects (and
//    nothing at all for INT1 and far JMP/CALL).
//  - CLI, STI, IN, OUT, INS, OUTS read VM as well as IOPL (V86 changes the
//    rule); STI also reads VIP (#GP under VME/PVI with VIP set).
//  - POPF (16-bit) cannot write AC, ID, or RF (upper half of EFLAGS), which
//    Zydis lists; POPFD never writes VIF (only VME's 16-bit POPF does).
// Where it departs from the SDM:
//  - MOV to/from CRn/DRn: the SDM says OF/SF/ZF/AF/PF/CF are undefined; real
//    P6 parts leave them alone and so does Popek (a valid choice of
//    "undefined"), so guests that happen to rely on it keep working.
//  - Block ends are conservative: every segment register load, every I/O
//    instruction (a port write may raise an IRQ or remap memory: A20, PAM),
//    CLI as well as STI, POPF always (whether it sets IF or TF is only known at
//    run time), WRMSR, MOV to CRn/DRn, LMSW, CLTS, INVLPG.
//  - FNSTENV, FNSAVE and FXSAVE are marked sensitive: they store the x87 last
//    instruction/operand pointers, which would be host addresses.
//  - UD0/UD1/UD2 are in the table (they are defined to raise #UD and must be
//    rewritten so the host's SIGILL never happens).
#include "decoder/insn_class.h"

#include <array>
#include <cstddef>

namespace popek {
namespace {

using namespace insn_flags;
using G = InsnGroup;
using F = InsnForm;

constexpr uint32_t Sensitive = insn_attr::kSensitive;
constexpr uint32_t Privileged = insn_attr::kPrivileged;
constexpr uint32_t CondPrivileged = insn_attr::kConditionallyPrivileged;
constexpr uint32_t IoplSensitive = insn_attr::kIoplSensitive;
constexpr uint32_t EndsBlock = insn_attr::kEndsBlock;
constexpr uint32_t CondFlags = insn_attr::kWritesFlagsConditionally;
constexpr uint32_t Shadow = insn_attr::kInterruptShadow;
constexpr uint32_t LoadsSegment = insn_attr::kLoadsSegment;
constexpr uint32_t PmOnly = insn_attr::kProtectedModeOnly;
constexpr uint32_t Lockable = insn_attr::kLockable;
constexpr uint32_t Repeatable = insn_attr::kRepeatable;
constexpr uint32_t NoHost = insn_attr::kNoHostEncoding;
constexpr uint32_t NotImpl = insn_attr::kNotImplemented;
constexpr uint32_t Forms = insn_attr::kHasOtherForms;

// Condition codes as flag masks (Jcc, SETcc, CMOVcc, FCMOVcc).
constexpr uint32_t ccO = OF, ccB = CF, ccZ = ZF, ccBE = CF | ZF, ccS = SF, ccP = PF,
                   ccL = SF | OF, ccLE = ZF | SF | OF;
// Results of the logic ops and of the x87 compares into EFLAGS.
constexpr uint32_t kLogicWritten = CF | PF | ZF | SF | OF;
constexpr uint32_t kShiftWritten = CF | PF | ZF | SF | OF;
constexpr uint32_t kIntAttrs = Sensitive | EndsBlock | LoadsSegment | CondFlags;
constexpr uint32_t kFarAttrs = Sensitive | EndsBlock | LoadsSegment;
constexpr uint32_t kIoAttrs = Sensitive | IoplSensitive | EndsBlock;

constexpr InsnClass row(ZydisMnemonic m, InsnGroup g, uint32_t attrs = 0, uint32_t read = 0,
                        uint32_t written = 0, uint32_t undefined = 0, InsnForm f = F::Default) {
  return InsnClass{m, f, g, attrs, read, written, undefined};
}

#define MN(x) ZYDIS_MNEMONIC_##x

constexpr InsnClass kTable[] = {
    // ---- Arith ------------------------------------------------------ read  written  undefined
    row(MN(ADD), G::Arith, Lockable, 0, kStatus),
    row(MN(ADC), G::Arith, Lockable, CF, kStatus),
    row(MN(SUB), G::Arith, Lockable, 0, kStatus),
    row(MN(SBB), G::Arith, Lockable, CF, kStatus),
    row(MN(CMP), G::Arith, 0, 0, kStatus),
    row(MN(INC), G::Arith, Lockable, 0, kStatus & ~CF),
    row(MN(DEC), G::Arith, Lockable, 0, kStatus & ~CF),
    row(MN(NEG), G::Arith, Lockable, 0, kStatus),
    row(MN(MUL), G::Arith, 0, 0, CF | OF, PF | AF | ZF | SF),
    row(MN(IMUL), G::Arith, 0, 0, CF | OF, PF | AF | ZF | SF),
    row(MN(DIV), G::Arith, 0, 0, 0, kStatus),
    row(MN(IDIV), G::Arith, 0, 0, 0, kStatus),
    row(MN(XADD), G::Arith, Lockable, 0, kStatus),
    row(MN(CMPXCHG), G::Arith, Lockable, 0, kStatus),
    row(MN(CMPXCHG8B), G::Arith, Lockable, 0, ZF),

    // ---- Logic ------------------------------------------------------
    row(MN(AND), G::Logic, Lockable, 0, kLogicWritten, AF),
    row(MN(OR), G::Logic, Lockable, 0, kLogicWritten, AF),
    row(MN(XOR), G::Logic, Lockable, 0, kLogicWritten, AF),
    row(MN(TEST), G::Logic, 0, 0, kLogicWritten, AF),
    row(MN(NOT), G::Logic, Lockable),

    // ---- Shift: count-agnostic rows, narrowed by classify(DecodedInsn) --
    row(MN(ROL), G::Shift, CondFlags, 0, CF | OF, OF),
    row(MN(ROR), G::Shift, CondFlags, 0, CF | OF, OF),
    row(MN(RCL), G::Shift, CondFlags, CF, CF | OF, OF),
    row(MN(RCR), G::Shift, CondFlags, CF, CF | OF, OF),
    row(MN(SHL), G::Shift, CondFlags, 0, kShiftWritten, AF | OF | CF),
    row(MN(SHR), G::Shift, CondFlags, 0, kShiftWritten, AF | OF | CF),
    row(MN(SAR), G::Shift, CondFlags, 0, kShiftWritten, AF | OF),
    row(MN(SHLD), G::Shift, CondFlags, 0, kShiftWritten, kStatus),
    row(MN(SHRD), G::Shift, CondFlags, 0, kShiftWritten, kStatus),

    // ---- Bit --------------------------------------------------------
    row(MN(BT), G::Bit, 0, 0, CF, PF | AF | SF | OF),
    row(MN(BTS), G::Bit, Lockable, 0, CF, PF | AF | SF | OF),
    row(MN(BTR), G::Bit, Lockable, 0, CF, PF | AF | SF | OF),
    row(MN(BTC), G::Bit, Lockable, 0, CF, PF | AF | SF | OF),
    row(MN(BSF), G::Bit, 0, 0, ZF, CF | PF | AF | SF | OF),
    row(MN(BSR), G::Bit, 0, 0, ZF, CF | PF | AF | SF | OF),
    row(MN(SETO), G::Bit, 0, ccO),
    row(MN(SETNO), G::Bit, 0, ccO),
    row(MN(SETB), G::Bit, 0, ccB),
    row(MN(SETNB), G::Bit, 0, ccB),
    row(MN(SETZ), G::Bit, 0, ccZ),
    row(MN(SETNZ), G::Bit, 0, ccZ),
    row(MN(SETBE), G::Bit, 0, ccBE),
    row(MN(SETNBE), G::Bit, 0, ccBE),
    row(MN(SETS), G::Bit, 0, ccS),
    row(MN(SETNS), G::Bit, 0, ccS),
    row(MN(SETP), G::Bit, 0, ccP),
    row(MN(SETNP), G::Bit, 0, ccP),
    row(MN(SETL), G::Bit, 0, ccL),
    row(MN(SETNL), G::Bit, 0, ccL),
    row(MN(SETLE), G::Bit, 0, ccLE),
    row(MN(SETNLE), G::Bit, 0, ccLE),

    // ---- Bcd: none of these encode in 64-bit mode --------------------
    row(MN(AAA), G::Bcd, NoHost, AF, CF | AF, PF | ZF | SF | OF),
    row(MN(AAS), G::Bcd, NoHost, AF, CF | AF, PF | ZF | SF | OF),
    row(MN(DAA), G::Bcd, NoHost, CF | AF, CF | PF | AF | ZF | SF, OF),
    row(MN(DAS), G::Bcd, NoHost, CF | AF, CF | PF | AF | ZF | SF, OF),
    row(MN(AAM), G::Bcd, NoHost, 0, PF | ZF | SF, CF | AF | OF),
    row(MN(AAD), G::Bcd, NoHost, 0, PF | ZF | SF, CF | AF | OF),

    // ---- String (REP with ECX=0 writes nothing: CMPS/SCAS conditional) --
    row(MN(MOVSB), G::String, Repeatable, DF),
    row(MN(MOVSW), G::String, Repeatable, DF),
    row(MN(MOVSD), G::String, Repeatable, DF),
    row(MN(CMPSB), G::String, Repeatable | CondFlags, DF, kStatus),
    row(MN(CMPSW), G::String, Repeatable | CondFlags, DF, kStatus),
    row(MN(CMPSD), G::String, Repeatable | CondFlags, DF, kStatus),
    row(MN(SCASB), G::String, Repeatable | CondFlags, DF, kStatus),
    row(MN(SCASW), G::String, Repeatable | CondFlags, DF, kStatus),
    row(MN(SCASD), G::String, Repeatable | CondFlags, DF, kStatus),
    row(MN(LODSB), G::String, Repeatable, DF),
    row(MN(LODSW), G::String, Repeatable, DF),
    row(MN(LODSD), G::String, Repeatable, DF),
    row(MN(STOSB), G::String, Repeatable, DF),
    row(MN(STOSW), G::String, Repeatable, DF),
    row(MN(STOSD), G::String, Repeatable, DF),

    // ---- DataMove ---------------------------------------------------
    row(MN(MOV), G::DataMove, Forms),
    row(MN(MOVZX), G::DataMove),
    row(MN(MOVSX), G::DataMove),
    row(MN(XCHG), G::DataMove, Lockable),
    row(MN(LEA), G::DataMove),
    row(MN(BSWAP), G::DataMove),
    row(MN(XLAT), G::DataMove),
    row(MN(CBW), G::DataMove),
    row(MN(CWDE), G::DataMove),
    row(MN(CWD), G::DataMove),
    row(MN(CDQ), G::DataMove),
    row(MN(CMOVO), G::DataMove, 0, ccO),
    row(MN(CMOVNO), G::DataMove, 0, ccO),
    row(MN(CMOVB), G::DataMove, 0, ccB),
    row(MN(CMOVNB), G::DataMove, 0, ccB),
    row(MN(CMOVZ), G::DataMove, 0, ccZ),
    row(MN(CMOVNZ), G::DataMove, 0, ccZ),
    row(MN(CMOVBE), G::DataMove, 0, ccBE),
    row(MN(CMOVNBE), G::DataMove, 0, ccBE),
    row(MN(CMOVS), G::DataMove, 0, ccS),
    row(MN(CMOVNS), G::DataMove, 0, ccS),
    row(MN(CMOVP), G::DataMove, 0, ccP),
    row(MN(CMOVNP), G::DataMove, 0, ccP),
    row(MN(CMOVL), G::DataMove, 0, ccL),
    row(MN(CMOVNL), G::DataMove, 0, ccL),
    row(MN(CMOVLE), G::DataMove, 0, ccLE),
    row(MN(CMOVNLE), G::DataMove, 0, ccLE),

    // ---- Stack ------------------------------------------------------
    row(MN(PUSH), G::Stack, Forms),
    row(MN(POP), G::Stack, Forms),
    row(MN(PUSHA), G::Stack, NoHost),
    row(MN(PUSHAD), G::Stack, NoHost),
    row(MN(POPA), G::Stack, NoHost),
    row(MN(POPAD), G::Stack, NoHost),
    row(MN(ENTER), G::Stack),
    row(MN(LEAVE), G::Stack),

    // ---- Control ----------------------------------------------------
    row(MN(JMP), G::Control, EndsBlock | Forms),
    row(MN(CALL), G::Control, EndsBlock | Forms),
    row(MN(RET), G::Control, EndsBlock | Forms),
    row(MN(JO), G::Control, EndsBlock, ccO),
    row(MN(JNO), G::Control, EndsBlock, ccO),
    row(MN(JB), G::Control, EndsBlock, ccB),
    row(MN(JNB), G::Control, EndsBlock, ccB),
    row(MN(JZ), G::Control, EndsBlock, ccZ),
    row(MN(JNZ), G::Control, EndsBlock, ccZ),
    row(MN(JBE), G::Control, EndsBlock, ccBE),
    row(MN(JNBE), G::Control, EndsBlock, ccBE),
    row(MN(JS), G::Control, EndsBlock, ccS),
    row(MN(JNS), G::Control, EndsBlock, ccS),
    row(MN(JP), G::Control, EndsBlock, ccP),
    row(MN(JNP), G::Control, EndsBlock, ccP),
    row(MN(JL), G::Control, EndsBlock, ccL),
    row(MN(JNL), G::Control, EndsBlock, ccL),
    row(MN(JLE), G::Control, EndsBlock, ccLE),
    row(MN(JNLE), G::Control, EndsBlock, ccLE),
    row(MN(JCXZ), G::Control, EndsBlock),
    row(MN(JECXZ), G::Control, EndsBlock),
    row(MN(LOOP), G::Control, EndsBlock),
    row(MN(LOOPE), G::Control, EndsBlock, ZF),
    row(MN(LOOPNE), G::Control, EndsBlock, ZF),
    row(MN(INT), G::Control, kIntAttrs | IoplSensitive, kAll, kAll),
    row(MN(INT3), G::Control, kIntAttrs, kAll, kAll),
    row(MN(INTO), G::Control, kIntAttrs | NoHost, kAll, kAll),
    row(MN(INT1), G::Control, kIntAttrs, kAll, kAll),
    row(MN(IRET), G::Control, kFarAttrs | IoplSensitive, kAll, kAll),
    row(MN(IRETD), G::Control, kFarAttrs | IoplSensitive, kAll, kAll),

    // ---- Segment ----------------------------------------------------
    row(MN(LDS), G::Segment, Sensitive | EndsBlock | LoadsSegment | NoHost),
    row(MN(LES), G::Segment, Sensitive | EndsBlock | LoadsSegment | NoHost),
    row(MN(LFS), G::Segment, Sensitive | EndsBlock | LoadsSegment),
    row(MN(LGS), G::Segment, Sensitive | EndsBlock | LoadsSegment),
    row(MN(LSS), G::Segment, Sensitive | EndsBlock | LoadsSegment),
    row(MN(LAR), G::Segment, Sensitive | PmOnly, 0, ZF),
    row(MN(LSL), G::Segment, Sensitive | PmOnly, 0, ZF),
    row(MN(VERR), G::Segment, Sensitive | PmOnly, 0, ZF),
    row(MN(VERW), G::Segment, Sensitive | PmOnly, 0, ZF),
    row(MN(ARPL), G::Segment, Sensitive | PmOnly | NoHost, 0, ZF),

    // ---- Flag -------------------------------------------------------
    row(MN(CLC), G::Flag, 0, 0, CF),
    row(MN(STC), G::Flag, 0, 0, CF),
    row(MN(CMC), G::Flag, 0, CF, CF),
    row(MN(CLD), G::Flag, 0, 0, DF),
    row(MN(STD), G::Flag, 0, 0, DF),
    row(MN(LAHF), G::Flag, 0, CF | PF | AF | ZF | SF),
    row(MN(SAHF), G::Flag, 0, 0, CF | PF | AF | ZF | SF),
    row(MN(CLI), G::Flag, Sensitive | IoplSensitive | EndsBlock, IOPL | VM, IF | VIF),
    row(MN(STI), G::Flag, Sensitive | IoplSensitive | EndsBlock | Shadow, IOPL | VM | VIP,
        IF | VIF),
    row(MN(PUSHF), G::Flag, Sensitive | IoplSensitive, kAll),
    row(MN(PUSHFD), G::Flag, Sensitive | IoplSensitive, kAll),
    row(MN(POPF), G::Flag, Sensitive | IoplSensitive | EndsBlock, IOPL | VM | VIP,
        kStatus | TF | IF | DF | IOPL | NT | VIF),
    row(MN(POPFD), G::Flag, Sensitive | IoplSensitive | EndsBlock, IOPL | VM | VIP,
        kStatus | TF | IF | DF | IOPL | NT | RF | AC | ID),

    // ---- System -----------------------------------------------------
    row(MN(LGDT), G::System, Sensitive | Privileged),
    row(MN(LIDT), G::System, Sensitive | Privileged),
    row(MN(LLDT), G::System, Sensitive | Privileged | PmOnly),
    row(MN(LTR), G::System, Sensitive | Privileged | PmOnly),
    row(MN(SGDT), G::System, Sensitive),
    row(MN(SIDT), G::System, Sensitive),
    row(MN(SLDT), G::System, Sensitive | PmOnly),
    row(MN(STR), G::System, Sensitive | PmOnly),
    row(MN(SMSW), G::System, Sensitive),
    row(MN(LMSW), G::System, Sensitive | Privileged | EndsBlock),
    row(MN(CLTS), G::System, Sensitive | Privileged | EndsBlock),
    row(MN(INVLPG), G::System, Sensitive | Privileged | EndsBlock),
    row(MN(INVD), G::System, Sensitive | Privileged),
    row(MN(WBINVD), G::System, Sensitive | Privileged),
    row(MN(HLT), G::System, Sensitive | Privileged | EndsBlock),
    row(MN(RDMSR), G::System, Sensitive | Privileged),
    row(MN(WRMSR), G::System, Sensitive | Privileged | EndsBlock),
    row(MN(RDTSC), G::System, Sensitive | CondPrivileged),
    row(MN(RDPMC), G::System, Sensitive | CondPrivileged),
    row(MN(CPUID), G::System, Sensitive),
    row(MN(SYSENTER), G::System, Sensitive | EndsBlock | LoadsSegment, 0, IF | RF | VM),
    row(MN(SYSEXIT), G::System, Sensitive | Privileged | EndsBlock | LoadsSegment),
    row(MN(RSM), G::System, Sensitive | EndsBlock | LoadsSegment, 0, kAll),

    // ---- Io ---------------------------------------------------------
    row(MN(IN), G::Io, kIoAttrs, IOPL | VM),
    row(MN(OUT), G::Io, kIoAttrs, IOPL | VM),
    row(MN(INSB), G::Io, kIoAttrs | Repeatable, DF | IOPL | VM),
    row(MN(INSW), G::Io, kIoAttrs | Repeatable, DF | IOPL | VM),
    row(MN(INSD), G::Io, kIoAttrs | Repeatable, DF | IOPL | VM),
    row(MN(OUTSB), G::Io, kIoAttrs | Repeatable, DF | IOPL | VM),
    row(MN(OUTSW), G::Io, kIoAttrs | Repeatable, DF | IOPL | VM),
    row(MN(OUTSD), G::Io, kIoAttrs | Repeatable, DF | IOPL | VM),

    // ---- X87 --------------------------------------------------------
    row(MN(FLD), G::X87), row(MN(FST), G::X87), row(MN(FSTP), G::X87),
    row(MN(FSTPNCE), G::X87),  // D9 D8+i, the undocumented FSTP1 alias
    row(MN(FILD), G::X87), row(MN(FIST), G::X87), row(MN(FISTP), G::X87),
    row(MN(FBLD), G::X87), row(MN(FBSTP), G::X87), row(MN(FXCH), G::X87),
    row(MN(FADD), G::X87), row(MN(FADDP), G::X87), row(MN(FIADD), G::X87),
    row(MN(FSUB), G::X87), row(MN(FSUBP), G::X87), row(MN(FISUB), G::X87),
    row(MN(FSUBR), G::X87), row(MN(FSUBRP), G::X87), row(MN(FISUBR), G::X87),
    row(MN(FMUL), G::X87), row(MN(FMULP), G::X87), row(MN(FIMUL), G::X87),
    row(MN(FDIV), G::X87), row(MN(FDIVP), G::X87), row(MN(FIDIV), G::X87),
    row(MN(FDIVR), G::X87), row(MN(FDIVRP), G::X87), row(MN(FIDIVR), G::X87),
    row(MN(FCOM), G::X87), row(MN(FCOMP), G::X87), row(MN(FCOMPP), G::X87),
    row(MN(FUCOM), G::X87), row(MN(FUCOMP), G::X87), row(MN(FUCOMPP), G::X87),
    row(MN(FICOM), G::X87), row(MN(FICOMP), G::X87), row(MN(FTST), G::X87),
    row(MN(FXAM), G::X87),
    row(MN(FCOMI), G::X87, 0, 0, kStatus),
    row(MN(FCOMIP), G::X87, 0, 0, kStatus),
    row(MN(FUCOMI), G::X87, 0, 0, kStatus),
    row(MN(FUCOMIP), G::X87, 0, 0, kStatus),
    row(MN(FCMOVB), G::X87, 0, ccB), row(MN(FCMOVNB), G::X87, 0, ccB),
    row(MN(FCMOVE), G::X87, 0, ccZ), row(MN(FCMOVNE), G::X87, 0, ccZ),
    row(MN(FCMOVBE), G::X87, 0, ccBE), row(MN(FCMOVNBE), G::X87, 0, ccBE),
    row(MN(FCMOVU), G::X87, 0, ccP), row(MN(FCMOVNU), G::X87, 0, ccP),
    row(MN(FABS), G::X87), row(MN(FCHS), G::X87), row(MN(FSQRT), G::X87),
    row(MN(FSCALE), G::X87), row(MN(FPREM), G::X87), row(MN(FPREM1), G::X87),
    row(MN(FRNDINT), G::X87), row(MN(FXTRACT), G::X87),
    row(MN(FSIN), G::X87), row(MN(FCOS), G::X87), row(MN(FSINCOS), G::X87),
    row(MN(FPTAN), G::X87), row(MN(FPATAN), G::X87), row(MN(F2XM1), G::X87),
    row(MN(FYL2X), G::X87), row(MN(FYL2XP1), G::X87),
    row(MN(FLD1), G::X87), row(MN(FLDZ), G::X87), row(MN(FLDPI), G::X87),
    row(MN(FLDL2E), G::X87), row(MN(FLDL2T), G::X87), row(MN(FLDLG2), G::X87),
    row(MN(FLDLN2), G::X87),
    row(MN(FINCSTP), G::X87), row(MN(FDECSTP), G::X87), row(MN(FFREE), G::X87),
    row(MN(FFREEP), G::X87),  // DF C0+i, undocumented, executed by P6
    row(MN(FNOP), G::X87), row(MN(FWAIT), G::X87),
    row(MN(FENI8087_NOP), G::X87), row(MN(FDISI8087_NOP), G::X87),
    row(MN(FSETPM287_NOP), G::X87),
    row(MN(FNINIT), G::X87), row(MN(FNCLEX), G::X87),
    row(MN(FLDCW), G::X87), row(MN(FNSTCW), G::X87), row(MN(FNSTSW), G::X87),
    row(MN(FLDENV), G::X87), row(MN(FRSTOR), G::X87), row(MN(FXRSTOR), G::X87),
    // These store the last instruction/operand pointers: host addresses.
    row(MN(FNSTENV), G::X87, Sensitive),
    row(MN(FNSAVE), G::X87, Sensitive),
    row(MN(FXSAVE), G::X87, Sensitive),

    // ---- Mmx (Pentium II MMX; not implemented: #UD, no CPUID bit) -----
    row(MN(EMMS), G::Mmx, NotImpl), row(MN(MOVD), G::Mmx, NotImpl),
    row(MN(MOVQ), G::Mmx, NotImpl),
    row(MN(PACKSSWB), G::Mmx, NotImpl), row(MN(PACKSSDW), G::Mmx, NotImpl),
    row(MN(PACKUSWB), G::Mmx, NotImpl),
    row(MN(PADDB), G::Mmx, NotImpl), row(MN(PADDW), G::Mmx, NotImpl),
    row(MN(PADDD), G::Mmx, NotImpl), row(MN(PADDSB), G::Mmx, NotImpl),
    row(MN(PADDSW), G::Mmx, NotImpl), row(MN(PADDUSB), G::Mmx, NotImpl),
    row(MN(PADDUSW), G::Mmx, NotImpl),
    row(MN(PSUBB), G::Mmx, NotImpl), row(MN(PSUBW), G::Mmx, NotImpl),
    row(MN(PSUBD), G::Mmx, NotImpl), row(MN(PSUBSB), G::Mmx, NotImpl),
    row(MN(PSUBSW), G::Mmx, NotImpl), row(MN(PSUBUSB), G::Mmx, NotImpl),
    row(MN(PSUBUSW), G::Mmx, NotImpl),
    row(MN(PAND), G::Mmx, NotImpl), row(MN(PANDN), G::Mmx, NotImpl),
    row(MN(POR), G::Mmx, NotImpl), row(MN(PXOR), G::Mmx, NotImpl),
    row(MN(PCMPEQB), G::Mmx, NotImpl), row(MN(PCMPEQW), G::Mmx, NotImpl),
    row(MN(PCMPEQD), G::Mmx, NotImpl), row(MN(PCMPGTB), G::Mmx, NotImpl),
    row(MN(PCMPGTW), G::Mmx, NotImpl), row(MN(PCMPGTD), G::Mmx, NotImpl),
    row(MN(PMADDWD), G::Mmx, NotImpl), row(MN(PMULHW), G::Mmx, NotImpl),
    row(MN(PMULLW), G::Mmx, NotImpl),
    row(MN(PSLLW), G::Mmx, NotImpl), row(MN(PSLLD), G::Mmx, NotImpl),
    row(MN(PSLLQ), G::Mmx, NotImpl), row(MN(PSRLW), G::Mmx, NotImpl),
    row(MN(PSRLD), G::Mmx, NotImpl), row(MN(PSRLQ), G::Mmx, NotImpl),
    row(MN(PSRAW), G::Mmx, NotImpl), row(MN(PSRAD), G::Mmx, NotImpl),
    row(MN(PUNPCKLBW), G::Mmx, NotImpl), row(MN(PUNPCKLWD), G::Mmx, NotImpl),
    row(MN(PUNPCKLDQ), G::Mmx, NotImpl), row(MN(PUNPCKHBW), G::Mmx, NotImpl),
    row(MN(PUNPCKHWD), G::Mmx, NotImpl), row(MN(PUNPCKHDQ), G::Mmx, NotImpl),

    // ---- Misc -------------------------------------------------------
    row(MN(NOP), G::Misc),
    row(MN(PAUSE), G::Misc),  // F3 90: REP NOP on a P6
    row(MN(UD0), G::Misc, Sensitive | EndsBlock),
    row(MN(UD1), G::Misc, Sensitive | EndsBlock),
    row(MN(UD2), G::Misc, Sensitive | EndsBlock),
    row(MN(BOUND), G::Misc, NoHost),
    row(MN(SALC), G::Misc, NoHost, CF),

    // ---- Form rows --------------------------------------------------
    row(MN(MOV), G::Segment, Sensitive | EndsBlock | LoadsSegment, 0, 0, 0, F::SegmentLoad),
    row(MN(MOV), G::Segment, Sensitive | EndsBlock | LoadsSegment | Shadow, 0, 0, 0,
        F::StackSegmentLoad),
    row(MN(MOV), G::Segment, Sensitive, 0, 0, 0, F::SegmentStore),
    row(MN(MOV), G::System, Sensitive | Privileged | EndsBlock, 0, 0, 0, F::ControlRegisterWrite),
    row(MN(MOV), G::System, Sensitive | Privileged, 0, 0, 0, F::ControlRegisterRead),
    row(MN(MOV), G::System, Sensitive | Privileged | EndsBlock, 0, 0, 0, F::DebugRegisterWrite),
    row(MN(MOV), G::System, Sensitive | Privileged, 0, 0, 0, F::DebugRegisterRead),
    row(MN(PUSH), G::Segment, Sensitive, 0, 0, 0, F::SegmentStore),
    row(MN(POP), G::Segment, Sensitive | EndsBlock | LoadsSegment, 0, 0, 0, F::SegmentLoad),
    row(MN(POP), G::Segment, Sensitive | EndsBlock | LoadsSegment | Shadow, 0, 0, 0,
        F::StackSegmentLoad),
    // Far JMP/CALL through a task gate save and load the whole EFLAGS.
    row(MN(JMP), G::Control, kFarAttrs | CondFlags, kAll, kAll, 0, F::Far),
    row(MN(CALL), G::Control, kFarAttrs | CondFlags, kAll, kAll, 0, F::Far),
    row(MN(RET), G::Control, kFarAttrs, 0, 0, 0, F::Far),
};

#undef MN

constexpr size_t kTableSize = sizeof(kTable) / sizeof(kTable[0]);
constexpr size_t kMnemonicCount = ZYDIS_MNEMONIC_MAX_VALUE + 1;
constexpr int16_t kNoRow = -1;

// Default-form row index per mnemonic.
constexpr std::array<int16_t, kMnemonicCount> build_default_index() {
  std::array<int16_t, kMnemonicCount> index{};
  for (auto& i : index) i = kNoRow;
  for (size_t i = 0; i < kTableSize; ++i)
    if (kTable[i].form == F::Default) index[kTable[i].mnemonic] = static_cast<int16_t>(i);
  return index;
}
constexpr auto kDefaultIndex = build_default_index();

constexpr size_t count_form_rows() {
  size_t n = 0;
  for (const auto& r : kTable) n += r.form != F::Default;
  return n;
}
constexpr size_t kFormRowCount = count_form_rows();

constexpr std::array<int16_t, kFormRowCount> build_form_rows() {
  std::array<int16_t, kFormRowCount> rows{};
  size_t n = 0;
  for (size_t i = 0; i < kTableSize; ++i)
    if (kTable[i].form != F::Default) rows[n++] = static_cast<int16_t>(i);
  return rows;
}
constexpr auto kFormRows = build_form_rows();

// Compile-time integrity: (mnemonic, form) unique, every form row has a
// default row that says so, and no default row claims forms it lacks.
constexpr bool table_is_consistent() {
  for (size_t i = 0; i < kTableSize; ++i) {
    for (size_t j = i + 1; j < kTableSize; ++j)
      if (kTable[i].mnemonic == kTable[j].mnemonic && kTable[i].form == kTable[j].form)
        return false;
    if (kTable[i].form != F::Default) {
      int16_t d = kDefaultIndex[kTable[i].mnemonic];
      if (d == kNoRow || !kTable[d].has(insn_attr::kHasOtherForms)) return false;
    } else if (kTable[i].has(insn_attr::kHasOtherForms)) {
      bool found = false;
      for (int16_t f : kFormRows) found |= kTable[f].mnemonic == kTable[i].mnemonic;
      if (!found) return false;
    }
  }
  return true;
}
static_assert(table_is_consistent(), "insn_class table: duplicate or orphaned rows");

bool has_register_of_class(const DecodedInsn& d, ZydisRegisterClass cls) {
  for (unsigned i = 0; i < d.insn.operand_count; ++i)
    if (d.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ZydisRegisterGetClass(d.ops[i].reg.value) == cls)
      return true;
  return false;
}

ZydisRegisterClass register_class(const ZydisDecodedOperand& op) {
  if (op.type != ZYDIS_OPERAND_TYPE_REGISTER) return ZYDIS_REGCLASS_INVALID;
  return ZydisRegisterGetClass(op.reg.value);
}

// Narrows a shift/rotate row to what the encoding fixes: the count when it is
// an immediate (masked to 5 bits as on every CPU since the 286), and the
// operand size, which decides whether CF (SHL/SHR) or everything (SHLD/SHRD)
// can become undefined.
void narrow_shift(InsnClass& c, const DecodedInsn& d) {
  const unsigned width = d.insn.operand_width;
  const ZydisDecodedOperand& count_op = d.ops[d.insn.operand_count_visible - 1];
  const bool known = count_op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
  const unsigned count = known ? static_cast<unsigned>(count_op.imm.value.u & 31) : 0;
  if (known && count == 0) {  // writes nothing at all
    c.flags_written = c.flags_undefined = 0;
    c.attrs &= ~insn_attr::kWritesFlagsConditionally;
    return;
  }
  const bool may_be_one = !known || count == 1;
  const bool may_be_other = !known || count != 1;
  const unsigned max_count = known ? count : 31;
  uint32_t written = CF | (may_be_one ? OF : 0);
  uint32_t undefined = may_be_other ? OF : 0;
  switch (c.mnemonic) {
    case ZYDIS_MNEMONIC_SHL:
    case ZYDIS_MNEMONIC_SHR:
      written |= PF | ZF | SF;
      undefined |= AF | (max_count >= width ? CF : 0);
      break;
    case ZYDIS_MNEMONIC_SAR:
      written |= PF | ZF | SF;
      undefined |= AF;
      break;
    case ZYDIS_MNEMONIC_SHLD:
    case ZYDIS_MNEMONIC_SHRD:
      written |= PF | ZF | SF;
      undefined |= AF | (max_count > width ? kStatus : 0);
      break;
    default:  // ROL, ROR, RCL, RCR: CF and OF only
      break;
  }
  c.flags_written = written;
  c.flags_undefined = undefined;
  if (known) c.attrs &= ~insn_attr::kWritesFlagsConditionally;
}

bool is_compare_string(ZydisMnemonic m) {
  switch (m) {
    case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
    case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
      return true;
    default:
      return false;
  }
}

}  // namespace

const InsnClass* classify(ZydisMnemonic m) {
  if (m < 0 || static_cast<size_t>(m) >= kMnemonicCount) return nullptr;
  int16_t i = kDefaultIndex[m];
  return i == kNoRow ? nullptr : &kTable[i];
}

const InsnClass* classify(ZydisMnemonic m, InsnForm form) {
  if (form == F::Default) return classify(m);
  for (int16_t i : kFormRows)
    if (kTable[i].mnemonic == m && kTable[i].form == form) return &kTable[i];
  return nullptr;
}

InsnForm insn_form(const DecodedInsn& d) {
  const unsigned n = d.insn.operand_count;
  const ZydisRegisterClass op0 = n > 0 ? register_class(d.ops[0]) : ZYDIS_REGCLASS_INVALID;
  const ZydisRegisterClass op1 = n > 1 ? register_class(d.ops[1]) : ZYDIS_REGCLASS_INVALID;
  const bool op0_is_ss = op0 == ZYDIS_REGCLASS_SEGMENT && d.ops[0].reg.value == ZYDIS_REGISTER_SS;
  switch (d.mnemonic()) {
    case ZYDIS_MNEMONIC_MOV:
      if (op0 == ZYDIS_REGCLASS_SEGMENT) return op0_is_ss ? F::StackSegmentLoad : F::SegmentLoad;
      if (op1 == ZYDIS_REGCLASS_SEGMENT) return F::SegmentStore;
      if (op0 == ZYDIS_REGCLASS_CONTROL) return F::ControlRegisterWrite;
      if (op1 == ZYDIS_REGCLASS_CONTROL) return F::ControlRegisterRead;
      if (op0 == ZYDIS_REGCLASS_DEBUG) return F::DebugRegisterWrite;
      if (op1 == ZYDIS_REGCLASS_DEBUG) return F::DebugRegisterRead;
      return F::Default;
    case ZYDIS_MNEMONIC_PUSH:
      return op0 == ZYDIS_REGCLASS_SEGMENT ? F::SegmentStore : F::Default;
    case ZYDIS_MNEMONIC_POP:
      if (op0 == ZYDIS_REGCLASS_SEGMENT) return op0_is_ss ? F::StackSegmentLoad : F::SegmentLoad;
      return F::Default;
    case ZYDIS_MNEMONIC_JMP:
    case ZYDIS_MNEMONIC_CALL:
    case ZYDIS_MNEMONIC_RET:
      return d.insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR ? F::Far : F::Default;
    default:
      return F::Default;
  }
}

const InsnClass* lookup(const DecodedInsn& d) {
  if (d.insn.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY) return nullptr;
  const InsnClass* c = classify(d.mnemonic());
  if (!c) return nullptr;
  // Later extensions that reuse an i686 mnemonic.
  if (c->group == G::String && d.insn.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT)
    return nullptr;  // SSE2 MOVSD/CMPSD (F2 0F 10 / F2 0F C2)
  if (c->group == G::Mmx && has_register_of_class(d, ZYDIS_REGCLASS_XMM))
    return nullptr;  // SSE2 forms of MMX instructions (66/F3 prefixed)
  if (c->mnemonic == ZYDIS_MNEMONIC_NOP && d.insn.opcode_map == ZYDIS_OPCODE_MAP_0F &&
      d.insn.opcode == 0x0D)
    return nullptr;  // AMD prefetch space: #UD on Intel P6
  if (c->has(insn_attr::kHasOtherForms)) {
    InsnForm f = insn_form(d);
    if (f != F::Default) return classify(d.mnemonic(), f);
  }
  return c;
}

std::optional<InsnClass> classify(const DecodedInsn& d) {
  const InsnClass* row = lookup(d);
  if (!row) return std::nullopt;
  InsnClass c = *row;
  if (c.group == G::Shift) narrow_shift(c, d);
  if (is_compare_string(c.mnemonic) && !d.has_rep() && !d.has_repe() && !d.has_repne())
    c.attrs &= ~insn_attr::kWritesFlagsConditionally;
  return c;
}

std::span<const InsnClass> insn_class_table() { return {kTable, kTableSize}; }

const char* to_string(InsnGroup g) {
  switch (g) {
    case G::Arith: return "Arith";
    case G::Logic: return "Logic";
    case G::Shift: return "Shift";
    case G::Bit: return "Bit";
    case G::Bcd: return "Bcd";
    case G::String: return "String";
    case G::DataMove: return "DataMove";
    case G::Stack: return "Stack";
    case G::Control: return "Control";
    case G::Segment: return "Segment";
    case G::Flag: return "Flag";
    case G::System: return "System";
    case G::Io: return "Io";
    case G::X87: return "X87";
    case G::Mmx: return "Mmx";
    case G::Misc: return "Misc";
  }
  return "?";
}

const char* to_string(InsnForm f) {
  switch (f) {
    case F::Default: return "Default";
    case F::SegmentLoad: return "SegmentLoad";
    case F::StackSegmentLoad: return "StackSegmentLoad";
    case F::SegmentStore: return "SegmentStore";
    case F::ControlRegisterWrite: return "ControlRegisterWrite";
    case F::ControlRegisterRead: return "ControlRegisterRead";
    case F::DebugRegisterWrite: return "DebugRegisterWrite";
    case F::DebugRegisterRead: return "DebugRegisterRead";
    case F::Far: return "Far";
  }
  return "?";
}

}  // namespace popek
