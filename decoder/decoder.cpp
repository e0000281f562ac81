#include "decoder/decoder.h"

#include <cstring>

namespace popek {

Decoder::Decoder() {
  for (int c = 0; c < 2; ++c)
    for (int s = 0; s < 2; ++s)
      ZydisDecoderInit(&dec_[c][s], c ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16,
                       s ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16);
  // A P6 predates these extensions: F3 0F BC/BD are REP BSF/BSR (GCC emits
  // `rep bsf` for __builtin_ctz), and the MPX/CET/CLDEMOTE encodings are
  // hint NOPs or plain older instructions. Decode them as a P6 does.
  for (int c = 0; c < 2; ++c)
    for (int s = 0; s < 2; ++s)
      for (ZydisDecoderMode m : {ZYDIS_DECODER_MODE_MPX, ZYDIS_DECODER_MODE_CET, ZYDIS_DECODER_MODE_LZCNT,
                                 ZYDIS_DECODER_MODE_TZCNT, ZYDIS_DECODER_MODE_CLDEMOTE, ZYDIS_DECODER_MODE_WBNOINVD})
        ZydisDecoderEnableMode(&dec_[c][s], m, ZYAN_FALSE);
}

DecodeStatus Decoder::decode(const uint8_t* bytes, size_t len, bool code32, bool stack32,
                             DecodedInsn& out) const {
  if (len > 15) len = 15;
  ZyanStatus st = ZydisDecoderDecodeFull(&dec_[code32][stack32], bytes, len, &out.insn, out.ops);
  if (ZYAN_SUCCESS(st)) {
    std::memcpy(out.bytes, bytes, out.insn.length);
    return DecodeStatus::Ok;
  }
  if (st == ZYDIS_STATUS_NO_MORE_DATA && len < 15) return DecodeStatus::NeedMoreBytes;
  return DecodeStatus::Invalid;
}

std::string Decoder::format(const DecodedInsn& d, uint64_t runtime_address) {
  ZydisFormatter f;
  ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
  char buf[256];
  if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&f, &d.insn, d.ops, d.insn.operand_count_visible,
                                                    buf, sizeof buf, runtime_address, nullptr)))
    return "(bad)";
  return buf;
}

}  // namespace popek
