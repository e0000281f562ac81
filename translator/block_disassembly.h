// Text views of translated code through Zydis: the host instructions of a
// range (ZYDIS_MACHINE_MODE_LONG_64) and a whole block with each guest
// instruction beside the host code emitted for it (for --trace blocks, the
// verify engine's reports and the golden tests).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "translator/translation_cache.h"

namespace popek::dbt {

// One host instruction per element, Intel syntax. Branch targets are shown
// as absolute addresses, or as "<+off>" relative to `label_base` when they
// fall inside [label_base, label_base + label_range), and as named routines
// when `names` knows them.
struct HostSymbol {
  uint64_t address;
  std::string name;
};
std::vector<std::string> disassemble_host(const uint8_t* code, size_t size, uint64_t address,
                                          const std::vector<HostSymbol>& names = {},
                                          uint64_t label_base = 0, uint64_t label_range = 0);

// Guest instructions of `b` (Intel syntax, with their EIPs) interleaved with
// the host code of each; the out-of-line code follows under "cold:". Chained
// exits show their target as "block@<eip>".
std::string disassemble_block(const Block& b, const std::vector<HostSymbol>& names = {});

// "0x..." in lower-case hex: how host addresses are shown in these views and
// in the cache self-check's reports.
std::string hex(uint64_t v);

}  // namespace popek::dbt
