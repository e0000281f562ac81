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

Block* TranslationCache::lookup(const BlockKey& key, Page2Probe page2, void* ctx) {
  ++stats_.lookups;
  Block* b = index_.find(key);
  if (b && (b->page2 != kNoPage2 || b->cut_at_page2)) {
    // A cut block (page2 kNoPage2) fits while the page stays unusable.
    if ((page2 ? page2(ctx) : kNoPage2) != b->page2) {
      // One block per key: this one goes, the caller translates for the
      // page as it is now.
      detach(b, b->key.phys >> 12);
      drop(b, b->key.phys >> 12);
      b = nullptr;
    }
  }
  ++(b ? stats_.hits : stats_.misses);
  return b;
}

Block* TranslationCache::insert(std::unique_ptr<Block> block) {
  Block* b = block.get();
  blocks_.push_back(std::move(block));
  index_.insert(b->key, b);
  for (uint32_t p : {b->key.phys >> 12, b->page2}) {
    if (p == kNoPage2) continue;
    CodePage& page = by_page_[p];
    page.blocks.push_back(b);
    page.mark(*b, p);
    page.data_write_bytes = 0;
  }
  ++live_blocks_;
  ++stats_.blocks_translated;
  stats_.guest_insns_translated += b->insn_count;
  return b;
}

std::pair<uint32_t, uint32_t> TranslationCache::range_on(const Block& b, uint32_t page) {
  const uint32_t first = b.key.phys & 0xfff;
  if (page == (b.key.phys >> 12)) return {first, std::min<uint32_t>(first + b.guest_bytes, 0x1000)};
  if (page == b.page2 && first + b.guest_bytes > 0x1000) return {0, first + b.guest_bytes - 0x1000};
  return {0, 0};
}

void TranslationCache::CodePage::mark(const Block& b, uint32_t page) {
  const auto [first, end] = range_on(b, page);
  for (uint32_t i = first; i < end; ++i) code_bits[i >> 6] |= uint64_t(1) << (i & 63);
}

bool TranslationCache::CodePage::overlaps(uint32_t offset, uint32_t len) const {
  const uint32_t end = std::min<uint32_t>(offset + len, 0x1000);
  for (uint32_t i = offset; i < end; ++i)
    if (code_bits[i >> 6] >> (i & 63) & 1) return true;
  return false;
}

void TranslationCache::detach(Block* b, uint32_t phys_page) {
  auto it = by_page_.find(phys_page);
  if (it == by_page_.end()) return;
  CodePage& page = it->second;
  page.blocks.erase(std::remove(page.blocks.begin(), page.blocks.end(), b), page.blocks.end());
  if (page.blocks.empty()) {
    by_page_.erase(it);
    orphaned_.push_back(phys_page);
    return;
  }
  std::fill(std::begin(page.code_bits), std::end(page.code_bits), 0);
  for (const Block* o : page.blocks) page.mark(*o, phys_page);
}

void TranslationCache::drop(Block* b, uint32_t listed_page) {
  b->valid = false;  // the code stays in place until the next flush
  index_.erase(b->key, b);
  if (b->page2 != kNoPage2) detach(b, listed_page == b->page2 ? b->key.phys >> 12 : b->page2);
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
  // Dropping a two-page block edits the other page's entry only; this
  // one's list is moved out first so that it is not touched meanwhile.
  std::vector<Block*> blocks = std::move(it->second.blocks);
  by_page_.erase(it);
  for (Block* b : blocks) {
    if (!b->valid) continue;
    drop(b, phys_page);
    ++n;
  }
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
  const uint32_t phys_page = pa >> 12;
  for (Block* b : page.blocks) {
    const auto [first, last] = range_on(*b, phys_page);
    if (b->valid && (first >= end || last <= offset)) {
      page.blocks[kept++] = b;
      continue;
    }
    if (b->valid) {
      drop(b, phys_page);  // may edit another page's entry, never this one
      ++n;
    }
  }
  page.blocks.resize(kept);
  std::fill(std::begin(page.code_bits), std::end(page.code_bits), 0);
  for (Block* b : page.blocks) page.mark(*b, phys_page);
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
  orphaned_.clear();
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

const char* to_string(InterpReason r) {
  switch (r) {
    case InterpReason::Halted: return "halted";
    case InterpReason::Interrupt: return "interrupt";
    case InterpReason::Shadow: return "shadow";
    case InterpReason::TrapFlag: return "trap_flag";
    case InterpReason::Breakpoint: return "breakpoint";
    case InterpReason::FetchFault: return "fetch_fault";
    case InterpReason::NotRam: return "not_ram";
    case InterpReason::NoBlock: return "no_block";
    case InterpReason::DoesNotFit: return "does_not_fit";
    case InterpReason::Other: return "other";
  }
  return "?";
}

std::string DbtStats::to_json() const {
  std::ostringstream o;
  double hit_rate = lookups ? double(hits) / double(lookups) : 0.0;
  o << "{\"lookups\":" << lookups << ",\"hits\":" << hits << ",\"misses\":" << misses
    << ",\"front_hits\":" << front_hits << ",\"hit_rate\":" << hit_rate << ",\"blocks_translated\":" << blocks_translated
    << ",\"guest_insns_translated\":" << guest_insns_translated << ",\"two_page_blocks\":" << two_page_blocks << ",\"host_bytes\":" << host_bytes
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
    << ",\"interpreter_steps_by_reason\":{";
  for (unsigned i = 0; i < kInterpReasons; ++i)
    o << (i ? "," : "") << "\"" << to_string(InterpReason(i)) << "\":" << interp_reasons[i];
  o << "},\"top_fallbacks\":{";
  bool first = true;
  for (const auto& [name, count] : top_fallbacks(10)) {
    o << (first ? "" : ",") << "\"" << name << "\":" << count;
    first = false;
  }
  o << "}}";
  return o.str();
}

}  // namespace popek::dbt
