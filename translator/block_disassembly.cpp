#include "translator/block_disassembly.h"

#include <Zydis/Zydis.h>

#include <cstdio>
#include <sstream>

#include "decoder/decoder.h"

namespace popek::dbt {

namespace {

std::string symbol(uint64_t target, uint64_t base, uint64_t range, const std::vector<HostSymbol>& names) {
  for (const HostSymbol& s : names)
    if (s.address == target) return s.name;
  if (range && target >= base && target < base + range) return "<+" + hex(target - base) + ">";
  return hex(target);
}

}  // namespace

std::vector<std::string> disassemble_host(const uint8_t* code, size_t size, uint64_t address,
                                          const std::vector<HostSymbol>& names, uint64_t label_base,
                                          uint64_t label_range) {
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisFormatter fmt;
  ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
  std::vector<std::string> out;
  size_t off = 0;
  while (off < size) {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, size - off, &in, ops))) {
      out.push_back("(bad) " + hex(code[off]));
      ++off;
      continue;
    }
    const uint64_t ip = address + off;
    std::string text;
    const ZydisDecodedOperand& op0 = ops[0];
    if (in.operand_count_visible >= 1 && op0.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op0.imm.is_relative) {
      ZyanU64 target = 0;
      ZydisCalcAbsoluteAddress(&in, &op0, ip, &target);
      text = std::string(ZydisMnemonicGetString(in.mnemonic)) + " " + symbol(target, label_base, label_range, names);
    } else {
      char buf[256];
      ZydisFormatterFormatInstruction(&fmt, &in, ops, in.operand_count_visible, buf, sizeof buf, ip, nullptr);
      text = buf;
      // Host pointers baked into the code (fallback sites, helpers) change
      // from run to run: show them symbolically.
      if (in.operand_count_visible == 2 && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[1].size == 64 &&
          ops[1].imm.value.u > 0xffffffffu) {
        char reg[64];
        std::snprintf(reg, sizeof reg, "mov %s, <imm64>", ZydisRegisterGetString(ops[0].reg.value));
        text = reg;
      }
    }
    out.push_back(text);
    off += in.length;
  }
  return out;
}

std::string disassemble_block(const Block& b, const std::vector<HostSymbol>& routine_names) {
  std::ostringstream o;
  std::vector<HostSymbol> names = routine_names;
  for (uint32_t i = 0; i < b.exit_count; ++i)
    if (const Block* t = b.exits[i].chained_to) {
      char n[32];
      std::snprintf(n, sizeof n, "block@%08x", t->eip);
      names.push_back({reinterpret_cast<uint64_t>(t->code), n});
    }
  Decoder decoder;
  const bool code32 = b.key.mode & mode_bit::kCode32, stack32 = b.key.mode & mode_bit::kStack32;
  const uint64_t base = reinterpret_cast<uint64_t>(b.code);
  char head[128];
  std::snprintf(head, sizeof head, "block at eip %08x (linear %08x, phys %08x, mode %04x): %u guest insns, %u host bytes\n",
                b.eip, b.key.linear, b.key.phys, b.key.mode, b.insn_count, b.code_size);
  o << head;
  auto host_range = [&](uint32_t from, uint32_t to) {
    if (!b.code || to <= from) return;
    for (const std::string& line : disassemble_host(b.code + from, to - from, base + from, names, base, b.code_size))
      o << "      " << line << "\n";
  };
  if (!b.insn_host_offset.empty()) {
    o << "  entry:\n";
    host_range(0, b.insn_host_offset[0]);
  }
  uint32_t off = 0;
  for (uint32_t k = 0; k < b.insn_count && off < b.guest_code.size(); ++k) {
    DecodedInsn d;
    if (decoder.decode(b.guest_code.data() + off, b.guest_code.size() - off, code32, stack32, d) != DecodeStatus::Ok)
      break;
    char line[64];
    std::snprintf(line, sizeof line, "  %08x  ", b.eip + off);
    o << line << Decoder::format(d, b.eip + off) << "\n";
    if (k + 1 < b.insn_host_offset.size()) host_range(b.insn_host_offset[k], b.insn_host_offset[k + 1]);
    off += d.insn.length;
  }
  // The checked entry follows the cold paths (emit_block).
  const uint32_t checked = b.checked_entry_offset > 0 && b.checked_entry_offset < b.code_size
                               ? b.checked_entry_offset : b.code_size;
  if (!b.insn_host_offset.empty() && b.insn_host_offset.back() < checked) {
    o << "  cold:\n";
    host_range(b.insn_host_offset.back(), checked);
  }
  if (checked < b.code_size) {
    o << "  checked entry:\n";
    host_range(checked, b.code_size);
  }
  return o.str();
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace popek::dbt
