// Host x87 stubs: one tiny function per x87 encoding, generated from
// templates so that the guest's opcode byte and ModRM are emitted verbatim
// (.byte) into the host instruction stream. Register forms keep the guest's
// ModRM (so ST(i) is the guest's ST(i)); memory forms use ModRM mod=00 rm=111,
// i.e. [rdi], pointing at a host copy of the guest operand.
#include "core/x87_host.h"

#include <array>
#include <cstddef>
#include <utility>

#if !defined(__x86_64__)
#error "The x87 engine executes guest x87 instructions on an x86-64 host"
#endif

namespace popek::x87 {
namespace {

using Stub = uint16_t (*)(HostFpuImage*, void*, uint8_t);

// The host FPU state outside the stub is the ABI's (empty stack); FNSAVE
// reinitialises it and the saved control word is put back.
template <uint8_t Op, uint8_t ModRM>
uint16_t stub(HostFpuImage* img, void* mem, uint8_t flags_in) {
  uint16_t saved_cw;
  uint16_t ax = static_cast<uint16_t>(flags_in << 8);
  asm volatile(
      "fnstcw %[saved]\n\t"
      "frstor (%[img])\n\t"
      "sahf\n\t"
      ".byte %c[op], %c[modrm]\n\t"
      "lahf\n\t"
      "seto %%al\n\t"
      "fnsave (%[img])\n\t"
      "fldcw %[saved]\n\t"
      : "+a"(ax), [saved] "=m"(saved_cw)
      : [img] "r"(img), "D"(mem), [op] "i"(Op), [modrm] "i"(ModRM)
      : "cc", "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
  return ax;
}

// Register forms: index = (opcode - D8) * 64 + (modrm & 63), mod = 3.
template <std::size_t... I>
constexpr std::array<Stub, sizeof...(I)> make_register_stubs(std::index_sequence<I...>) {
  return {&stub<static_cast<uint8_t>(0xD8 + (I >> 6)), static_cast<uint8_t>(0xC0 | (I & 63))>...};
}
// Memory forms: index = (opcode - D8) * 8 + reg, operand at [rdi].
template <std::size_t... I>
constexpr std::array<Stub, sizeof...(I)> make_memory_stubs(std::index_sequence<I...>) {
  return {&stub<static_cast<uint8_t>(0xD8 + (I >> 3)), static_cast<uint8_t>(((I & 7) << 3) | 7)>...};
}

constexpr auto kRegisterStubs = make_register_stubs(std::make_index_sequence<512>());
constexpr auto kMemoryStubs = make_memory_stubs(std::make_index_sequence<64>());

}  // namespace

bool host_register_form_valid(uint8_t opcode, uint8_t modrm) {
  if (opcode < 0xD8 || opcode > 0xDF || modrm < 0xC0) return false;
  const unsigned r = modrm & 0x3f;  // reg:rm
  switch (opcode) {
    case 0xD8: case 0xDC: return true;
    case 0xD9:
      return r < 0x11 || (r >= 0x18 && r <= 0x21) || r == 0x24 || r == 0x25 ||
             (r >= 0x28 && r <= 0x2e) || r >= 0x30;
    case 0xDA: return r < 0x20 || r == 0x29;
    case 0xDB: return r < 0x20 || (r >= 0x28 && r < 0x38);  // E0-E4 are handled without the host
    case 0xDD: return r < 0x30;
    case 0xDE: return r < 0x18 || r == 0x19 || r >= 0x20;
    case 0xDF: return r < 0x20 || (r >= 0x28 && r < 0x38);  // E0 (FNSTSW AX) is not an engine op
    default: return false;
  }
}

bool host_memory_form_valid(uint8_t opcode, unsigned reg) {
  // Bit r set: ModRM.reg = r is an engine memory form of that opcode.
  static constexpr uint8_t kValid[8] = {
      0xff,  // D8: FADD..FDIVR m32fp
      0x0d,  // D9: FLD, FST, FSTP m32fp
      0xff,  // DA: FIADD..FIDIVR m32int
      0xad,  // DB: FILD, FIST, FISTP m32int; FLD, FSTP m80fp
      0xff,  // DC: FADD..FDIVR m64fp
      0x0d,  // DD: FLD, FST, FSTP m64fp
      0xff,  // DE: FIADD..FIDIVR m16int
      0xfd,  // DF: FILD, FIST, FISTP m16int; FBLD, FILD m64, FBSTP, FISTP m64
  };
  return opcode >= 0xD8 && opcode <= 0xDF && reg < 8 && ((kValid[opcode - 0xD8] >> reg) & 1);
}

HostFlags host_execute_reg(uint8_t opcode, uint8_t modrm, HostFpuImage& img, uint8_t flags_in) {
  uint16_t ax = kRegisterStubs[(opcode - 0xD8) * 64 + (modrm & 63)](&img, nullptr, flags_in);
  return HostFlags{static_cast<uint8_t>(ax >> 8), (ax & 1) != 0};
}

void host_execute_mem(uint8_t opcode, unsigned reg, HostFpuImage& img, void* mem) {
  kMemoryStubs[(opcode - 0xD8) * 8 + (reg & 7)](&img, mem, 0);
}

}  // namespace popek::x87
