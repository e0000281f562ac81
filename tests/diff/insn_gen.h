// Random instruction-stream generator for the differential tests.
//
// It writes valid user-mode integer code for 32-bit protected mode, with
// 0x66/0x67-prefixed 16-bit forms mixed in, directly as bytes (so aliases
// and alternative encodings get exercised), and checks every instruction
// with Zydis: it must decode to the intended length, and its written
// registers and memory operands must respect the invariants below.
//
// Invariants that keep every snippet runnable on all three executors:
//  - Memory. The generator tracks, for every GPR, whether its value is
//    known to lie in a small interval (it knows all initial values; MOV imm,
//    PUSH/POP on ESP and string-op strides keep them known; any other write
//    forgets). A memory operand is only built from known registers, and its
//    displacement is chosen so the whole access (plus any extra reach, e.g.
//    BT's bit offset) lies in the data or stack area. When no register is
//    known it uses a plain displacement, or re-derives a base with MOV.
//  - ESP is written only by stack instructions whose effect is tracked.
//  - Control flow only goes forward, to the start of a later instruction
//    group (setup instructions and the instruction they prepare form one
//    group, so a jump never skips a REP's ECX setup or a DIV guard). State is
//    merged at jump targets; code after an unconditional transfer is dead
//    until a jump lands.
//  - #DE: divisions are mostly preceded by guards that make them safe; the
//    rest may fault, which all executors must then report identically.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "tests/diff/diff_types.h"

namespace popek::diff {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed ^ 0x9e3779b97f4a7c15ull) {}
  uint64_t next64() {  // splitmix64
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t next() { return static_cast<uint32_t>(next64() >> 32); }
  uint32_t below(uint32_t n) { return n ? static_cast<uint32_t>((next64() >> 32) % n) : 0; }
  bool chance(unsigned percent) { return below(100) < percent; }
  // A value of `bits` bits biased toward the edges (0, 1, sign boundaries, all ones).
  uint32_t interesting(unsigned bits);

 private:
  uint64_t s_;
};

// Known range of a register value: [lo, lo + width] modulo 2^32.
struct RegTrack {
  bool known = false;
  uint32_t lo = 0;
  uint32_t width = 0;
};

struct TrackState {
  std::array<RegTrack, 8> regs{};
  uint32_t maybe_undefined = 0;  // flags that may hold undefined values here
  bool dead = false;  // unreachable (after JMP/CALL/RET) until a jump lands
};

// A ModRM r/m operand: a register, or a memory reference already encoded
// (ModRM with a zero reg field, SIB, displacement) plus the prefixes it needs.
struct RmOperand {
  bool is_reg = true;
  unsigned reg = 0;
  bool addr16 = false;      // needs 0x67
  uint8_t seg_prefix = 0;   // 0 or 0x26/0x2e/0x36/0x3e
  std::vector<uint8_t> tail;
  bool atomic_safe = false; // within one cache line: may take LOCK (see mem_operand)
};

// Prefixes and fixed parts of one instruction.
struct Encoding {
  bool opsize16 = false;  // 0x66
  bool lock = false;
  uint8_t rep = 0;        // 0, 0xf2 or 0xf3
  std::vector<uint8_t> opcode;
  bool has_modrm = false;
  uint8_t reg_field = 0;
  RmOperand rm;
  std::vector<uint8_t> imm;
  bool addr16 = false;    // 0x67 for instructions without a memory ModRM (string ops, JCXZ, LOOP)
};

// What an emitted instruction does beyond what Zydis reports, for tracking.
struct Effect {
  bool writes_esp = false;  // a stack instruction: ESP moves by esp_delta
  int32_t esp_delta = 0;
  int frame = 0;            // 1: ENTER (EBP = old ESP - 4), 2: LEAVE (ESP = EBP + 4)
  int exact_reg = -1;       // the register becomes exactly exact_value (MOV r32, imm32)
  uint32_t exact_value = 0;
  int widen_reg[2] = {-1, -1};  // string ops: ESI/EDI move by up to widen_by either way
  uint32_t widen_by = 0;
  bool skip_mem_check = false;  // BT m,r: reach checked by the family itself
  bool unconditional = false;   // JMP/CALL/RET: what follows is dead
  SnippetInsn::Fixup fixup = SnippetInsn::Fixup::None;
  uint8_t fixup_at = 0;
  // A branch (or a label-valued immediate): its target is the first group
  // start at least `skip_insns` instructions after it.
  int skip_insns = -1;
  bool label_only = false;  // the label is a value; a later takes_label instruction jumps to it
  bool takes_label = false; // jumps to the label of the last label_only instruction
  bool invalid = false;     // deliberately undecodable (e.g. LOCK on a register form): #UD everywhere
};

class GenContext;
using FamilyFn = bool (*)(GenContext&);
struct Family {
  const char* name;
  unsigned weight;
  FamilyFn gen;
};
// Family tables (insn_gen_alu.cpp, insn_gen_flow.cpp).
const std::vector<Family>& alu_families();
const std::vector<Family>& flow_families();

struct GenOptions {
  unsigned addr16_percent = 12;   // memory operands with 16-bit addressing
  unsigned opsize16_percent = 20; // 16-bit operand size where it applies
  unsigned mem_percent = 40;      // r/m operands that are memory
  bool allow_faults = true;       // unguarded DIV/IDIV/AAM 0 may raise #DE
  // How often a flag consumer is left reading a possibly undefined flag
  // (otherwise a CMP that defines all six is put in front of it). Such runs
  // are compared with the real CPU only.
  unsigned consume_undefined_percent = 10;
  unsigned redundant_prefix_percent = 3;  // an extra DS/ES/SS, 0x66 or REP prefix the CPU ignores
};

// The API family generators build instructions with.
class GenContext {
 public:
  GenContext(Rng& rng, const GenOptions& opt) : rng(rng), opt(opt) {}
  Rng& rng;
  const GenOptions& opt;

  // ---- choices ----
  unsigned opsize();                  // 16 or 32
  unsigned any_size();                // 8, 16 or 32
  unsigned dest_reg(unsigned size);   // never ESP/SP (AH..BH are fine)
  unsigned src_reg() { return rng.below(8); }
  uint32_t imm_value(unsigned bits) { return rng.interesting(bits); }
  static std::vector<uint8_t> le(uint32_t v, unsigned bytes);

  // ---- operands ----
  RmOperand reg_operand(unsigned reg) const;
  // A memory operand for an access of `size` bytes that may also reach
  // `before` bytes below and `after` bytes beyond it. Never fails: falls
  // back to an absolute displacement. An `atomic` operand never crosses a
  // 64-byte line: a split locked access raises #AC on current hosts (and
  // under this VM the kernel's split-lock handling never returns).
  RmOperand mem_operand(unsigned size, uint32_t before = 0, uint32_t after = 0, bool allow_esp_base = true,
                        bool atomic = false);
  // The next memory operand built uses none of the registers in `mask` (bit
  // per GPR): for groups whose setup instructions write them first.
  void avoid_bases(uint8_t mask) { avoid_ = mask; }
  // Register or memory per GenOptions::mem_percent.
  RmOperand rm_operand(unsigned size_bits, bool allow_mem = true, bool atomic = false);
  // Any encodable addressing form, registers unconstrained (LEA, NOP Ev).
  RmOperand free_address();
  bool reg_known(unsigned r, uint32_t max_width = 0) const {
    return track_.regs[r].known && track_.regs[r].width <= max_width;
  }

  // ---- emission ----
  static std::vector<uint8_t> encode(const Encoding& e);
  // Validates with Zydis and the invariants, appends, updates tracking.
  // Returns false (nothing appended) if the instruction breaks a rule.
  bool emit(const Encoding& e, const Effect& fx = {});
  bool emit_bytes(const std::vector<uint8_t>& bytes, const Effect& fx = {});
  bool mov_imm(unsigned reg, uint32_t value);  // MOV r32, imm32 (known afterwards)
  // Makes `reg` point at a random place of the data area that leaves
  // `room` bytes either side (MOV or LEA from another known register).
  bool point_into_data(unsigned reg, uint32_t room);

  // ---- driving (used by InsnGenerator) ----
  void begin_group();  // resolves the jumps that land here
  void start(const GuestState& init);
  std::vector<SnippetInsn>& insns() { return insns_; }
  const TrackState& track() const { return track_; }
  void finish();  // resolves the jumps still pending to the snippet end
  unsigned rejected() const { return rejected_; }

 private:
  friend class InsnGenerator;
  struct PendingJump {
    size_t insn;          // index of the instruction holding the fixup
    size_t threshold;     // target: first group start at or after this index
    bool has_state;       // false until the jump to a label is emitted
    TrackState state;     // state at the branch when taken
  };
  bool check_memory(const DecodedInsn& d, const Effect& fx) const;
  void apply_effects(const DecodedInsn& d, const Effect& fx);
  void update_flag_state(const DecodedInsn& d, const TrackState& pre);
  bool emit_flag_definer();
  bool emit_invalid(const std::vector<uint8_t>& bytes);
  bool reject(const char* why, const std::vector<uint8_t>& bytes);
  void add_redundant_prefix(std::vector<uint8_t>& bytes, const Encoding& e, Effect& fx);
  static void merge(TrackState& into, const TrackState& from);
  std::optional<RmOperand> try_mem32(unsigned size, uint32_t before, uint32_t after, bool allow_esp_base);
  std::optional<RmOperand> try_mem16(unsigned size, uint32_t before, uint32_t after);
  bool place(uint64_t sum_lo, uint32_t width, unsigned size, uint32_t before, uint32_t after,
             uint32_t mask, int32_t dmin, int32_t dmax, uint32_t& ea_lo);
  bool place_atomic_ = false;  // place() keeps the access inside one 64-byte line
  uint8_t avoid_ = 0;          // registers the next memory operand must not use

  TrackState track_;
  std::vector<SnippetInsn> insns_;
  std::vector<PendingJump> pending_;
  size_t label_insn_ = SIZE_MAX;  // last label_only instruction
  unsigned rejected_ = 0;
  Decoder decoder_;
};

class InsnGenerator {
 public:
  explicit InsnGenerator(uint64_t seed, GenOptions opt = {});
  // A snippet of at least `n_insns` instructions (groups are kept whole)
  // with a random initial state.
  Snippet make(unsigned n_insns);
  GuestState random_state();
  Rng& rng() { return rng_; }
  // Instructions the families built that failed validation (a generator bug
  // if it grows beyond the occasional encoding Zydis refuses).
  unsigned rejected() const { return rejected_; }

 private:
  Rng rng_;
  unsigned rejected_ = 0;
  GenOptions opt_;
  std::vector<Family> families_;
  unsigned total_weight_ = 0;
};

// Disassembly of a snippet (one line per instruction with its address).
std::string disassemble(const Snippet& s, size_t count = SIZE_MAX);

}  // namespace popek::diff
