// TranslationCache::check(): the cache's self-check (issue 8, "host code
// emitted for one guest block can never jump into the middle of another
// block's code or outside the cache"). It trusts nothing it can verify:
// the code ranges, the patched rel32 of every direct exit (read back from
// the execute view), every branch instruction of every block (decoded with
// Zydis), and the three indexes against each other. The rules for jump
// targets that are not plain block-internal branches come from
// CacheCheckInput, so a new kind of patched or indirect jump is a new
// entry there.
#include <Zydis/Zydis.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "translator/block_disassembly.h"
#include "translator/translation_cache.h"

namespace popek::dbt {

namespace {

std::string name_of(const Block* b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "block %08x (phys %08x mode %03x%s)", b->key.linear, b->key.phys,
                static_cast<unsigned>(b->key.mode), b->valid ? "" : ", invalid");
  return buf;
}

uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }

// The problems found so far, capped.
struct Problems {
  std::vector<std::string>& out;
  size_t max;
  size_t dropped = 0;
  void add(std::string text) {
    if (out.size() < max) out.push_back(std::move(text));
    else ++dropped;
  }
};

}  // namespace

std::vector<std::string> TranslationCache::check(const CacheCheckInput& in) const {
  std::vector<std::string> result;
  Problems p{result, in.max_problems ? in.max_problems : 1};

  // ---- ownership and code ranges
  std::unordered_set<const Block*> owned;
  std::map<uint64_t, const Block*> by_code;  // code start -> block
  const uint64_t area_lo = addr(block_area_), used_hi = addr(cursor_);
  for (const auto& up : blocks_) {
    const Block* b = up.get();
    owned.insert(b);
    if (!b->code || b->code_size == 0) {
      p.add(name_of(b) + ": no code");
      continue;
    }
    const uint64_t lo = addr(b->code), hi = lo + b->code_size;
    if (lo < area_lo || hi > used_hi || hi < lo)
      p.add(name_of(b) + ": code " + hex(lo) + "-" + hex(hi) + " outside the used block area " + hex(area_lo) + "-" +
            hex(used_hi));
    if (!by_code.emplace(lo, b).second) p.add(name_of(b) + ": code at " + hex(lo) + " shared with another block");
  }
  for (auto it = by_code.begin(); it != by_code.end(); ++it) {
    auto next = std::next(it);
    if (next != by_code.end() && it->first + it->second->code_size > next->first)
      p.add(name_of(it->second) + ": code overlaps " + name_of(next->second));
  }
  // The block whose code holds `a`, or null.
  auto block_holding = [&](uint64_t a) -> const Block* {
    auto it = by_code.upper_bound(a);
    if (it == by_code.begin()) return nullptr;
    --it;
    return a < it->first + it->second->code_size ? it->second : nullptr;
  };
  std::unordered_map<uint64_t, const char*> routines;
  for (const auto& r : in.routines) {
    routines.emplace(r.address, r.name);
    const uint64_t lo = addr(region_.runtime_base());
    if (r.address < lo || r.address >= lo + region_.runtime_bytes())
      p.add(std::string("run-time routine ") + r.name + " at " + hex(r.address) + " outside the run-time area");
  }
  auto describe_target = [&](uint64_t t) -> std::string {
    if (const Block* o = block_holding(t))
      return t == addr(o->code) ? "the entry of " + name_of(o) : "the middle of " + name_of(o) + " (+" + hex(t - addr(o->code)) + ")";
    if (region_.contains(reinterpret_cast<const void*>(t))) return hex(t) + " in the cache, not a routine entry";
    return hex(t) + ", outside the cache";
  };

  // ---- blocks: exits, sites, incoming lists
  for (const auto& up : blocks_) {
    const Block* b = up.get();
    if (b->exit_count > 2) {
      p.add(name_of(b) + ": " + std::to_string(b->exit_count) + " exits");
      continue;
    }
    for (uint32_t i = 0; i < b->site_count; ++i)
      if (b->sites[i].block != b) p.add(name_of(b) + ": fallback site " + std::to_string(i) + " names another block");
    for (const ExitStub* s : b->incoming) {
      const Block* from = s ? s->block : nullptr;
      if (!from || !owned.count(from) || addr(s) < addr(from->exits) ||
          addr(s) >= addr(from->exits + from->exit_count)) {
        p.add(name_of(b) + ": incoming list holds an exit of no block in the cache");
        continue;
      }
      if (!b->valid) p.add(name_of(b) + ": invalid, but " + name_of(from) + " is chained to it");
      if (s->chained_to != b) p.add(name_of(b) + ": incoming exit of " + name_of(from) + " is chained elsewhere");
      if (std::count(b->incoming.begin(), b->incoming.end(), s) > 1)
        p.add(name_of(b) + ": an exit of " + name_of(from) + " listed twice in incoming");
    }
    if (!b->code) continue;
    for (uint32_t i = 0; i < b->exit_count; ++i) {
      const ExitStub& s = b->exits[i];
      const std::string what = name_of(b) + ": exit " + std::to_string(i);
      if (s.block != b) p.add(what + " names another block");
      if (s.patch_offset < 1 || uint64_t(s.patch_offset) + 4 > b->code_size) {
        p.add(what + ": patch offset " + std::to_string(s.patch_offset) + " outside the code");
        continue;
      }
      const uint8_t* site = b->code + s.patch_offset;
      if (site[-1] != 0xe9) {
        p.add(what + ": no jmp rel32 at the patch offset");
        continue;
      }
      int32_t rel;
      std::memcpy(&rel, site, 4);
      const uint64_t target = addr(site) + 4 + int64_t(rel);
      if (!s.chained_to) {
        if (rel != 0) p.add(what + ": unchained, but jumps to " + describe_target(target));
        continue;
      }
      const Block* t = s.chained_to;
      if (!owned.count(t)) {
        p.add(what + ": chained to a block not in the cache");
        continue;
      }
      if (!t->valid) p.add(what + ": chained to " + name_of(t));
      if (target != addr(t->code)) p.add(what + ": chained to " + name_of(t) + " but jumps to " + describe_target(target));
      if (std::find(t->incoming.begin(), t->incoming.end(), &s) == t->incoming.end())
        p.add(what + ": chained to " + name_of(t) + ", which does not list it in incoming");
      if (!b->valid) p.add(what + ": an invalid block still chained to " + name_of(t));
    }
  }

  // ---- every branch in every block's code
  if (in.decode_code) {
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    std::vector<uint8_t> boundary;
    std::vector<std::pair<uint32_t, uint64_t>> internal;  // (instruction offset, target)
    for (const auto& entry : by_code) {
      const uint64_t lo = entry.first;  // (not a structured binding: lambdas below capture these)
      const Block* b = entry.second;
      boundary.assign(b->code_size + 1, 0);
      internal.clear();
      uint32_t off = 0;
      bool bad = false;
      while (off < b->code_size && !bad) {
        ZydisDecodedInstruction insn;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, nullptr, b->code + off, b->code_size - off, &insn))) {
          p.add(name_of(b) + ": undecodable host code at +" + hex(off));
          bad = true;
          break;
        }
        boundary[off] = 1;
        const ZydisInstructionCategory cat = insn.meta.category;
        const bool branch = cat == ZYDIS_CATEGORY_COND_BR || cat == ZYDIS_CATEGORY_UNCOND_BR || cat == ZYDIS_CATEGORY_CALL;
        auto at = [&] { return name_of(b) + ": " + ZydisMnemonicGetString(insn.mnemonic) + " at +" + hex(off); };
        if (branch && insn.raw.imm[0].is_relative) {
          const uint64_t next = lo + off + insn.length;
          const uint64_t target = next + uint64_t(insn.raw.imm[0].value.s);
          const uint32_t imm_offset = off + insn.raw.imm[0].offset;
          const ExitStub* stub = nullptr;
          for (uint32_t i = 0; i < b->exit_count; ++i)
            if (b->exits[i].patch_offset == imm_offset) stub = &b->exits[i];
          if (stub) {
            // A direct exit: checked above against its stub's state; here
            // only that it is the stub's jmp rel32.
            if (insn.mnemonic != ZYDIS_MNEMONIC_JMP || insn.raw.imm[0].size != 32)
              p.add(at() + ": a direct exit's patch site is not a jmp rel32");
          } else if (target >= lo && target < lo + b->code_size) {
            internal.emplace_back(off, target);
          } else if (!routines.count(target)) {
            p.add(at() + " branches to " + describe_target(target));
          }
        } else if (branch) {
          const bool call = cat == ZYDIS_CATEGORY_CALL;
          if (call ? !in.allow_indirect_calls : !in.allow_indirect_jumps) p.add(at() + ": an indirect branch");
        } else if (cat == ZYDIS_CATEGORY_RET || cat == ZYDIS_CATEGORY_SYSCALL || cat == ZYDIS_CATEGORY_INTERRUPT ||
                   insn.mnemonic == ZYDIS_MNEMONIC_IRETQ || insn.mnemonic == ZYDIS_MNEMONIC_IRETD) {
          p.add(at() + ": leaves the block through no checked path");
        }
        off += insn.length;
      }
      if (bad) continue;
      for (const auto& [from, target] : internal)
        if (!boundary[target - lo])
          p.add(name_of(b) + ": branch at +" + hex(from) + " into the middle of an instruction (+" + hex(target - lo) + ")");
    }
  }

  // ---- indexes: keys (index_), pages (by_page_)
  std::unordered_set<const Block*> hashed;
  {
    const auto& slots = index_.slots();
    size_t used = 0;
    for (size_t i = 0; i < slots.size(); ++i) {
      const BlockIndex::Slot& s = slots[i];
      if (!s.block) continue;
      ++used;
      const Block* b = s.block;
      if (!owned.count(b)) {
        p.add("key index slot " + std::to_string(i) + " holds a block not in the cache");
        continue;
      }
      if (!(s.key == b->key)) p.add(name_of(b) + ": in the key index under another key (linear " + hex(s.key.linear) + ")");
      if (!b->valid) p.add(name_of(b) + ": in the key index");
      if (!hashed.insert(b).second) p.add(name_of(b) + ": twice in the key index");
      // Every slot from the key's home to this one is used: a lookup
      // (which stops at the first empty slot) reaches it.
      for (size_t j = index_.home(s.key); j != i; j = (j + 1) % slots.size())
        if (!slots[j].block) {
          p.add(name_of(b) + ": unreachable in the key index (an empty slot before it in its probe run)");
          break;
        }
    }
    if (used != index_.size())
      p.add("the key index counts " + std::to_string(index_.size()) + " blocks, " + std::to_string(used) + " slots are used");
  }
  std::unordered_set<const Block*> paged;
  std::unordered_map<const Block*, unsigned> listings;  // a two-page block is listed under both
  for (const auto& [page, info] : by_page_) {
    const auto& list = info.blocks;
    if (list.empty()) p.add("page " + hex(page) + ": an empty block list");
    // The code bitmap is exactly the union of the listed blocks' bytes: a
    // missing bit would let a write change code without invalidating it.
    CodePage expect;
    for (const Block* b : list)
      if (owned.count(b)) expect.mark(*b, page);
    if (!std::equal(std::begin(expect.code_bits), std::end(expect.code_bits), std::begin(info.code_bits)))
      p.add("page " + hex(page) + ": the code bitmap differs from its blocks' bytes");
    std::unordered_set<const Block*> here;
    for (const Block* b : list) {
      if (!owned.count(b)) {
        p.add("page " + hex(page) + ": lists a block not in the cache");
        continue;
      }
      if ((b->key.phys >> 12) != page && b->page2 != page) p.add(name_of(b) + ": listed under page " + hex(page));
      paged.insert(b);
      ++listings[b];
      if (!here.insert(b).second) p.add(name_of(b) + ": listed twice in the page index");
      if (!b->valid) p.add(name_of(b) + ": in the page index");
      if (b->valid && !hashed.count(b)) p.add(name_of(b) + ": in the page index but not in the key index");
    }
  }
  size_t valid = 0;
  for (const auto& up : blocks_) {
    const Block* b = up.get();
    if (!b->valid) continue;
    ++valid;
    if (!hashed.count(b)) p.add(name_of(b) + ": valid but not in the key index");
    if (!paged.count(b)) p.add(name_of(b) + ": in the key index but not in the page index");
    else if (b->page2 == kNoPage2 && listings[b] > 1) p.add(name_of(b) + ": listed twice in the page index");
    else if (b->page2 != kNoPage2 && listings[b] != 2) p.add(name_of(b) + ": a two-page block not listed under both pages");
  }
  if (valid != live_blocks_)
    p.add("the cache counts " + std::to_string(live_blocks_) + " live blocks, " + std::to_string(valid) + " are valid");

  // ---- the owner's indirect tables
  for (const auto& table : in.tables) {
    for (size_t i = 0; i < table.entries.size(); ++i) {
      const auto& [eip, code] = table.entries[i];
      const uint64_t t = addr(code);
      if (std::find(table.allowed.begin(), table.allowed.end(), t) != table.allowed.end()) continue;
      const std::string what = std::string(table.name) + " entry " + std::to_string(i) + " (eip " + hex(eip) + ")";
      // Entries point at a block's checked entry (emit_block).
      auto it = by_code.upper_bound(t);
      const Block* b = it == by_code.begin() ? nullptr : std::prev(it)->second;
      if (!b || t != addr(b->code) + b->checked_entry_offset) {
        p.add(what + " points at " + describe_target(t) + ", not a block's checked entry");
        continue;
      }
      if (!b->valid) p.add(what + " points at " + name_of(b));
      else if (b->eip != eip) p.add(what + " points at " + name_of(b) + " of eip " + hex(b->eip));
    }
  }
  if (p.dropped) result.push_back("... and " + std::to_string(p.dropped) + " more problems");
  return result;
}

}  // namespace popek::dbt
