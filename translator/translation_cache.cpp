#include "translator/translation_cache.h"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <sstream>

namespace popek::dbt {

TranslationCache::TranslationCache(size_t code_bytes, WxMode wx)
    : region_(kRuntimeBytes, code_bytes, wx) {
  block_area_ = region_.block_base();
  cursor_ = block_area_;
  end_ = block_area_ + region_.block_bytes();
  stats_.tc_wx = to_string(region_.mode());
}

const uint8_t* TranslationCache::commit_code(const void* code, size_t size) {
  if (size > free_bytes()) return nullptr;
  uint8_t* dst = cursor_;
  region_.write(dst, code, size);
  // Keep blocks 16-byte aligned (the next block's base address is what the
  // emitter relocated against, so the padding is decided here, once).
  size_t padded = (size + 15) & ~size_t(15);
  cursor_ = padded > free_bytes() ? end_ : cursor_ + padded;
  stats_.host_bytes += size;
  return dst;
}

Block* TranslationCache::lookup(const BlockKey& key) {
  ++stats_.lookups;
  Block* b = index_.find(key);
  ++(b ? stats_.hits : stats_.misses);
  return b;
}

Block* TranslationCache::insert(std::unique_ptr<Block> block) {
  Block* b = block.get();
  blocks_.push_back(std::move(block));
  index_.insert(b->key, b);
  CodePage& page = by_page_[b->key.phys >> 12];
  page.blocks.push_back(b);
  page.mark(*b);
  page.data_write_bytes = 0;
  ++live_blocks_;
  ++stats_.blocks_translated;
  stats_.guest_insns_translated += b->insn_count;
  return b;
}

void TranslationCache::CodePage::mark(const Block& b) {
  const uint32_t first = b.key.phys & 0xfff;
  const uint32_t end = std::min<uint32_t>(first + b.guest_bytes, 0x1000);
  for (uint32_t i = first; i < end; ++i) code_bits[i >> 6] |= uint64_t(1) << (i & 63);
}

bool TranslationCache::CodePage::overlaps(uint32_t offset, uint32_t len) const {
  const uint32_t end = std::min<uint32_t>(offset + len, 0x1000);
  for (uint32_t i = offset; i < end; ++i)
    if (code_bits[i >> 6] >> (i & 63) & 1) return true;
  return false;
}

void TranslationCache::drop(Block* b) {
  b->valid = false;  // the code stays in place until the next flush
  index_.erase(b->key, b);
  if (drop_hook_) drop_hook_(drop_hook_ctx_, *b);
  for (ExitStub* in : b->incoming)
    if (in->chained_to == b) unchain(*in);
  b->incoming.clear();
  for (uint32_t i = 0; i < b->exit_count; ++i)
    if (Block* t = b->exits[i].chained_to) {
      auto& v = t->incoming;
      v.erase(std::remove(v.begin(), v.end(), &b->exits[i]), v.end());
      unchain(b->exits[i]);  // no stale jump to another block stays in dead code
    }
  --live_blocks_;
}

unsigned TranslationCache::invalidate_page(uint32_t phys_page) {
  auto it = by_page_.find(phys_page);
  if (it == by_page_.end()) return 0;
  unsigned n = 0;
  for (Block* b : it->second.blocks) {
    if (!b->valid) continue;
    drop(b);
    ++n;
  }
  by_page_.erase(it);
  stats_.smc_invalidations += n;
  return n;
}

unsigned TranslationCache::invalidate_range(uint32_t pa, uint32_t len) {
  auto it = by_page_.find(pa >> 12);
  if (it == by_page_.end()) return 0;
  CodePage& page = it->second;
  const uint32_t offset = pa & 0xfff;
  const uint32_t end = std::min<uint32_t>(offset + len, 0x1000);
  if (!page.overlaps(offset, end - offset)) {
    page.data_write_bytes += end - offset;
    return page.data_write_bytes > kDataWriteLimit ? invalidate_page(pa >> 12) : 0;
  }
  unsigned n = 0;
  size_t kept = 0;
  for (Block* b : page.blocks) {
    const uint32_t first = b->key.phys & 0xfff;
    if (b->valid && (first >= end || first + b->guest_bytes <= offset)) {
      page.blocks[kept++] = b;
      continue;
    }
    if (b->valid) {
      drop(b);
      ++n;
    }
  }
  page.blocks.resize(kept);
  std::fill(std::begin(page.code_bits), std::end(page.code_bits), 0);
  for (Block* b : page.blocks) page.mark(*b);
  if (page.blocks.empty()) by_page_.erase(it);
  stats_.smc_invalidations += n;
  return n;
}

bool TranslationCache::is_code_byte(uint32_t pa) const {
  auto it = by_page_.find(pa >> 12);
  return it != by_page_.end() && it->second.overlaps(pa & 0xfff, 1);
}

void TranslationCache::chain(ExitStub& stub, Block& target) {
  const uint8_t* site = stub.block->code + stub.patch_offset;
  const int64_t rel = reinterpret_cast<int64_t>(target.code) - reinterpret_cast<int64_t>(site + 4);
  const int32_t rel32 = static_cast<int32_t>(rel);
  region_.write(site, &rel32, 4);
  stub.chained_to = &target;
  target.incoming.push_back(&stub);
  ++stats_.chain_patches;
}

void TranslationCache::unchain(ExitStub& stub) {
  const uint8_t* site = stub.block->code + stub.patch_offset;
  const int32_t zero = 0;
  region_.write(site, &zero, 4);
  stub.chained_to = nullptr;
  ++stats_.chain_unpatches;
}

bool TranslationCache::page_has_blocks(uint32_t phys_page) const {
  return by_page_.count(phys_page) != 0;
}

std::vector<uint32_t> TranslationCache::code_pages() const {
  std::vector<uint32_t> pages;
  pages.reserve(by_page_.size());
  for (const auto& [page, list] : by_page_) pages.push_back(page);
  return pages;
}

void TranslationCache::flush() {
  index_.clear();
  by_page_.clear();
  blocks_.clear();
  live_blocks_ = 0;
  cursor_ = block_area_;
  ++stats_.flushes;
}

std::vector<std::pair<std::string, uint64_t>> DbtStats::top_fallbacks(size_t n) const {
  std::vector<std::pair<std::string, uint64_t>> v;
  for (const auto& [m, count] : fallbacks_by_mnemonic) {
    const char* name = ZydisMnemonicGetString(static_cast<ZydisMnemonic>(m));
    v.emplace_back(name ? name : "?", count);
  }
  std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

std::string DbtStats::to_json() const {
  std::ostringstream o;
  double hit_rate = lookups ? double(hits) / double(lookups) : 0.0;
  o << "{\"lookups\":" << lookups << ",\"hits\":" << hits << ",\"misses\":" << misses
    << ",\"front_hits\":" << front_hits << ",\"hit_rate\":" << hit_rate << ",\"blocks_translated\":" << blocks_translated
    << ",\"guest_insns_translated\":" << guest_insns_translated << ",\"host_bytes\":" << host_bytes
    << ",\"chain_patches\":" << chain_patches << ",\"chain_unpatches\":" << chain_unpatches
    << ",\"unchained_exits\":" << unchained_exits
    << ",\"indirect_hits\":" << indirect_hits << ",\"indirect_misses\":" << indirect_misses
    << ",\"return_predictions\":" << return_predictions
    << ",\"smc_invalidations\":" << smc_invalidations << ",\"flushes\":" << flushes
    << ",\"fallbacks\":" << fallbacks << ",\"interpreter_steps\":" << interpreter_steps
    << ",\"tlb_fills\":" << tlb_fills << ",\"tlb_fill_failures\":" << tlb_fill_failures
    << ",\"tlb_flushes\":" << tlb_flushes << ",\"tlb_page_flushes\":" << tlb_page_flushes
    << ",\"retired_native\":" << retired_native
    << ",\"retired_total\":" << retired_total << ",\"chained_exits\":" << chained_exits
    << ",\"cross_page_hits\":" << cross_page_hits << ",\"cross_page_misses\":" << cross_page_misses
    << ",\"sensitive_helper_calls\":" << sensitive_helper_calls << ",\"memory_slow_paths\":" << memory_slow_paths
    << ",\"direct_fetch_faults\":" << direct_fetch_faults << ",\"direct_fill_faults\":" << direct_fill_faults
    << ",\"translation_ns\":" << translation_ns << ",\"tc_wx\":\"" << tc_wx << "\""
    << ",\"top_fallbacks\":{";
  bool first = true;
  for (const auto& [name, count] : top_fallbacks(10)) {
    o << (first ? "" : ",") << "\"" << name << "\":" << count;
    first = false;
  }
  o << "}}";
  return o.str();
}

}  // namespace popek::dbt
