// x87 instruction group: registration, and the control instructions that
// never touch the arithmetic engine (FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW,
// WAIT, the 8087/287 no-ops). Every other x87 instruction runs on the host
// x87 through core/x87_model.cpp; the environment instructions (FSTENV,
// FLDENV, FSAVE, FRSTOR, FXSAVE, FXRSTOR) are in core/x87_env.cpp.
//
// Where this departs from the SDM: see core/x87_model.h (CR0.NE=0 and the
// instructions without an exponent-biased OE/UE result).
#include "core/interpreter.h"
#include "core/x87_model.h"

namespace popek {
namespace {

using namespace x87;

// ---- engine forms: one handler per family, parameterized by its form ----

template <EngineForm F>
void x87_engine(Interpreter& in, const DecodedInsn& d) {
  run_engine(in, d, F);
}

constexpr EngineForm kLoad{};
constexpr EngineForm kStore{MemDir::Store};
constexpr EngineForm kFcmov{MemDir::Load, Arith::None, true, false};
constexpr EngineForm kFcomi{MemDir::Load, Arith::None, false, true};
constexpr EngineForm arith(Arith a) { return EngineForm{MemDir::Load, a}; }

// ---- control instructions ----

void FNINIT(Interpreter& in, const DecodedInsn&) {
  begin(in, false);
  initialize(in.cpu.fpu);
}

void FNCLEX(Interpreter& in, const DecodedInsn&) {
  begin(in, false);
  in.cpu.fpu.sw &= static_cast<uint16_t>(~(swb::FLAGS | swb::ES | swb::B));
}

void FLDCW_m16(Interpreter& in, const DecodedInsn& d) {
  begin(in, true);
  const MemRef m = memory_ref(in, d, memory_operand_index(d));
  const uint16_t v = static_cast<uint16_t>(in.read_mem(m.seg, m.offset, 2));
  X87State& f = in.cpu.fpu;
  f.cw = static_cast<uint16_t>((v & cwb::WRITABLE) | cwb::FIXED1);
  update_summary(f);  // unmasking a flagged exception makes it pending
}

void FNSTCW_m16(Interpreter& in, const DecodedInsn& d) {
  begin(in, false);
  const MemRef m = memory_ref(in, d, memory_operand_index(d));
  in.write_mem(m.seg, m.offset, 2, in.cpu.fpu.cw);
}

// FNSTSW m16 and FNSTSW AX.
void FNSTSW(Interpreter& in, const DecodedInsn& d) {
  begin(in, false);
  const int mi = memory_operand_index(d);
  if (mi < 0) {
    in.reg_write(ZYDIS_REGISTER_AX, in.cpu.fpu.sw);
    return;
  }
  const MemRef m = memory_ref(in, d, mi);
  in.write_mem(m.seg, m.offset, 2, in.cpu.fpu.sw);
}

// WAIT/FWAIT: #NM only when both TS and MP are set; then pending exceptions.
void FWAIT(Interpreter& in, const DecodedInsn&) {
  if ((in.cpu.cr0 & cr0::TS) && (in.cpu.cr0 & cr0::MP)) raise_fault(vec::NM);
  check_pending(in);
}

// FENI/FDISI (8087) and FSETPM (287): no-ops on the 387 and later.
void legacy_no_op(Interpreter& in, const DecodedInsn&) { begin(in, false); }

void register_engine_handlers(HandlerTable& t) {
  for (ZydisMnemonic m :
       {ZYDIS_MNEMONIC_FLD, ZYDIS_MNEMONIC_FILD, ZYDIS_MNEMONIC_FBLD, ZYDIS_MNEMONIC_FCOM,
        ZYDIS_MNEMONIC_FCOMP, ZYDIS_MNEMONIC_FCOMPP, ZYDIS_MNEMONIC_FICOM, ZYDIS_MNEMONIC_FICOMP,
        ZYDIS_MNEMONIC_FUCOM, ZYDIS_MNEMONIC_FUCOMP, ZYDIS_MNEMONIC_FUCOMPP, ZYDIS_MNEMONIC_FTST,
        ZYDIS_MNEMONIC_FXAM, ZYDIS_MNEMONIC_FCHS, ZYDIS_MNEMONIC_FABS, ZYDIS_MNEMONIC_FSQRT,
        ZYDIS_MNEMONIC_FXTRACT, ZYDIS_MNEMONIC_FRNDINT, ZYDIS_MNEMONIC_FCOS, ZYDIS_MNEMONIC_FLD1, ZYDIS_MNEMONIC_FLDL2T, ZYDIS_MNEMONIC_FLDL2E, ZYDIS_MNEMONIC_FLDPI,
        ZYDIS_MNEMONIC_FLDLG2, ZYDIS_MNEMONIC_FLDLN2, ZYDIS_MNEMONIC_FLDZ, ZYDIS_MNEMONIC_FXCH,
        ZYDIS_MNEMONIC_FFREE, ZYDIS_MNEMONIC_FFREEP, ZYDIS_MNEMONIC_FINCSTP, ZYDIS_MNEMONIC_FDECSTP,
        ZYDIS_MNEMONIC_FNOP})
    t.set(m, &x87_engine<kLoad>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FST, ZYDIS_MNEMONIC_FSTP, ZYDIS_MNEMONIC_FSTPNCE,
                          ZYDIS_MNEMONIC_FIST, ZYDIS_MNEMONIC_FISTP, ZYDIS_MNEMONIC_FBSTP})
    t.set(m, &x87_engine<kStore>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FADD, ZYDIS_MNEMONIC_FADDP, ZYDIS_MNEMONIC_FIADD})
    t.set(m, &x87_engine<arith(Arith::Add)>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FMUL, ZYDIS_MNEMONIC_FMULP, ZYDIS_MNEMONIC_FIMUL})
    t.set(m, &x87_engine<arith(Arith::Mul)>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FSUB, ZYDIS_MNEMONIC_FSUBP, ZYDIS_MNEMONIC_FISUB})
    t.set(m, &x87_engine<arith(Arith::Sub)>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FSUBR, ZYDIS_MNEMONIC_FSUBRP, ZYDIS_MNEMONIC_FISUBR})
    t.set(m, &x87_engine<arith(Arith::SubR)>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FDIV, ZYDIS_MNEMONIC_FDIVP, ZYDIS_MNEMONIC_FIDIV})
    t.set(m, &x87_engine<arith(Arith::Div)>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FDIVR, ZYDIS_MNEMONIC_FDIVRP, ZYDIS_MNEMONIC_FIDIVR})
    t.set(m, &x87_engine<arith(Arith::DivR)>);
  t.set(ZYDIS_MNEMONIC_FSCALE, &x87_engine<arith(Arith::Scale)>);
  t.set(ZYDIS_MNEMONIC_FPREM, &x87_engine<arith(Arith::Remainder)>);
  t.set(ZYDIS_MNEMONIC_FPREM1, &x87_engine<arith(Arith::Remainder)>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FSIN, ZYDIS_MNEMONIC_FPTAN, ZYDIS_MNEMONIC_FSINCOS, ZYDIS_MNEMONIC_F2XM1})
    t.set(m, &x87_engine<arith(Arith::TinyArgument)>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FYL2X, ZYDIS_MNEMONIC_FYL2XP1, ZYDIS_MNEMONIC_FPATAN})
    t.set(m, &x87_engine<arith(Arith::Factor)>);
  for (ZydisMnemonic m :
       {ZYDIS_MNEMONIC_FCMOVB, ZYDIS_MNEMONIC_FCMOVBE, ZYDIS_MNEMONIC_FCMOVE, ZYDIS_MNEMONIC_FCMOVNB,
        ZYDIS_MNEMONIC_FCMOVNBE, ZYDIS_MNEMONIC_FCMOVNE, ZYDIS_MNEMONIC_FCMOVNU, ZYDIS_MNEMONIC_FCMOVU})
    t.set(m, &x87_engine<kFcmov>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_FCOMI, ZYDIS_MNEMONIC_FCOMIP, ZYDIS_MNEMONIC_FUCOMI,
                          ZYDIS_MNEMONIC_FUCOMIP})
    t.set(m, &x87_engine<kFcomi>);
}

}  // namespace

void register_x87_handlers(HandlerTable& t) {
  register_engine_handlers(t);
  t.set(ZYDIS_MNEMONIC_FNINIT, &FNINIT);
  t.set(ZYDIS_MNEMONIC_FNCLEX, &FNCLEX);
  t.set(ZYDIS_MNEMONIC_FLDCW, &FLDCW_m16);
  t.set(ZYDIS_MNEMONIC_FNSTCW, &FNSTCW_m16);
  t.set(ZYDIS_MNEMONIC_FNSTSW, &FNSTSW);
  t.set(ZYDIS_MNEMONIC_FWAIT, &FWAIT);
  t.set(ZYDIS_MNEMONIC_FENI8087_NOP, &legacy_no_op);
  t.set(ZYDIS_MNEMONIC_FDISI8087_NOP, &legacy_no_op);
  t.set(ZYDIS_MNEMONIC_FSETPM287_NOP, &legacy_no_op);
  x87::register_env_handlers(t);
}

}  // namespace popek
