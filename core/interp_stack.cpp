// Stack instructions: PUSH/POP (register, memory, immediate), PUSHA/PUSHAD,
// POPA/POPAD, ENTER, LEAVE.
//
// The operand size (16/32) sets the size of each stack slot; SS.B selects SP
// or ESP (Interpreter::push/pop/stack_read). Every instruction does all its
// stack reads and write checks before it commits any register, so a #SS,
// #GP or #PF leaves ESP and the other registers as they were.
// PUSH/POP of a segment register belong to the system group and are forwarded
// to exec_special_register_form().
#include "core/interp_int_helpers.h"

namespace popek {

namespace {

using namespace intops;

unsigned slot_bytes(const DecodedInsn& d) { return d.insn.operand_width / 8; }

// SP/ESP after adding `delta`, wrapped to the stack size.
uint32_t stack_offset(const Interpreter& in, uint32_t sp, int64_t delta) {
  const uint32_t v = sp + static_cast<uint32_t>(delta);
  return in.stack32() ? v : (v & 0xffff);
}

// PUSH r/m, reg, imm (imm8 sign-extended). PUSH ESP pushes the value ESP had
// before the instruction; PUSH [ESP+n] addresses with that value too.
void PUSH_all(Interpreter& in, const DecodedInsn& d) {
  if (is_special_register(d, 0)) {
    exec_special_register_form(in, d);
    return;
  }
  const unsigned size = slot_bytes(d);
  in.push(operand_value(in, d, 0, size * 8), size);
}

// POP reg / POP r/m. For a memory destination the effective address is
// computed with the incremented ESP (POP [ESP+n]), and ESP is restored if the
// write faults. POP ESP loads the popped value (the increment is lost).
void POP_all(Interpreter& in, const DecodedInsn& d) {
  if (is_special_register(d, 0)) {
    exec_special_register_form(in, d);
    return;
  }
  const unsigned size = slot_bytes(d);
  const uint32_t value = in.stack_read(0, size);
  const uint32_t old_esp = in.cpu.regs[ESP];
  in.set_stack_pointer(stack_offset(in, in.stack_pointer(), size));
  if (!is_memory(d, 0)) {
    in.op_write(d, 0, value);
    return;
  }
  try {
    in.op_write(d, 0, value);
  } catch (const GuestFault&) {
    in.cpu.regs[ESP] = old_esp;
    throw;
  }
}

// PUSHA/PUSHAD: AX CX DX BX (original SP) BP SI DI, each slot checked first.
void PUSHA_all(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = slot_bytes(d), bits = size * 8;
  const uint32_t sp = in.stack_pointer();
  uint32_t slot[8];
  for (int i = 0; i < 8; ++i) {
    slot[i] = stack_offset(in, sp, -int64_t(size) * (i + 1));
    in.check_write_mem(SS, slot[i], size);
  }
  for (int r = 0; r < 8; ++r) in.write_mem(SS, slot[r], size, gpr(in, static_cast<Reg>(r), bits));
  in.set_stack_pointer(slot[7]);
}

// POPA/POPAD: DI SI BP (skipped) BX DX CX AX, all read before any is written.
void POPA_all(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = slot_bytes(d), bits = size * 8;
  uint32_t values[8];
  for (int i = 0; i < 8; ++i) values[7 - i] = in.stack_read(size * i, size);
  for (int r = 0; r < 8; ++r)
    if (r != ESP) set_gpr(in, static_cast<Reg>(r), bits, values[r]);
  in.set_stack_pointer(stack_offset(in, in.stack_pointer(), size * 8));
}

// ENTER imm16, imm8 (SDM pseudo-code): push (E)BP; copy nesting-1 frame
// pointers read through SS:(E)BP; push the new frame pointer; (E)BP = the
// frame pointer; allocate below everything pushed. The slot addresses do not
// depend on the values, so every slot and the final stack pointer are
// checked first; the stores then happen in order (a frame-pointer read can
// see the (E)BP pushed just before it), and registers are committed last.
void ENTER_Iw_Ib(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = slot_bytes(d), bits = size * 8;
  const uint32_t alloc = static_cast<uint32_t>(d.ops[0].imm.value.u) & 0xffff;
  const unsigned nesting = static_cast<unsigned>(d.ops[1].imm.value.u) & 31;
  const bool big = in.stack32();
  const uint32_t frame_mask = big ? 0xffffffffu : 0xffff;

  const unsigned pushes = nesting == 0 ? 1 : nesting + 1;
  const uint32_t sp = in.stack_pointer();
  auto slot = [&](unsigned k) { return stack_offset(in, sp, -int64_t(size) * (k + 1)); };
  const uint32_t frame_temp = slot(0);
  const uint32_t final_sp = stack_offset(in, slot(pushes - 1), -int64_t(alloc));
  for (unsigned k = 0; k < pushes; ++k) in.check_write_mem(SS, slot(k), size);
  in.check_write_mem(SS, final_sp, size);

  in.write_mem(SS, slot(0), size, gpr(in, EBP, bits));
  if (nesting > 0) {
    uint32_t bp = in.cpu.regs[EBP] & frame_mask;
    for (unsigned i = 1; i < nesting; ++i) {
      bp = (bp - size) & frame_mask;
      in.write_mem(SS, slot(i), size, in.read_mem(SS, bp, size));
    }
    in.write_mem(SS, slot(nesting), size, frame_temp);
  }
  set_gpr(in, EBP, big ? 32 : 16, frame_temp);
  in.set_stack_pointer(final_sp);
}

// LEAVE: (E)SP ← (E)BP (stack size), then pop (E)BP (operand size).
void LEAVE(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = slot_bytes(d);
  const uint32_t sp = in.cpu.regs[EBP] & (in.stack32() ? 0xffffffffu : 0xffff);
  const uint32_t value = in.read_mem(SS, sp, size);
  in.set_stack_pointer(stack_offset(in, sp, size));
  set_gpr(in, EBP, size * 8, value);
}

}  // namespace

void register_stack_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_PUSH, PUSH_all);
  t.set(ZYDIS_MNEMONIC_POP, POP_all);
  t.set(ZYDIS_MNEMONIC_PUSHA, PUSHA_all);
  t.set(ZYDIS_MNEMONIC_PUSHAD, PUSHA_all);
  t.set(ZYDIS_MNEMONIC_POPA, POPA_all);
  t.set(ZYDIS_MNEMONIC_POPAD, POPA_all);
  t.set(ZYDIS_MNEMONIC_ENTER, ENTER_Iw_Ib);
  t.set(ZYDIS_MNEMONIC_LEAVE, LEAVE);
}

}  // namespace popek
