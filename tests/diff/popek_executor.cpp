#include <algorithm>
#include <cstring>

#include "tests/core/interp_fixture.h"
#include "tests/diff/executors.h"

namespace popek::diff {
namespace {
constexpr uint64_t kMaxSteps = 100000;  // forward-only snippets need far fewer

// Bulk copies through host pointers, page by page (PhysicalMemory's own
// write_bytes/read_bytes go byte by byte through the slow path).
void copy_in(PhysicalMemory& mem, uint32_t pa, const uint8_t* src, uint32_t len) {
  while (len) {
    uint32_t chunk = std::min(len, 0x1000 - (pa & 0xfff));
    if (uint8_t* p = mem.host_ptr_write(pa)) std::memcpy(p, src, chunk);
    else mem.write_bytes(pa, src, chunk);
    pa += chunk;
    src += chunk;
    len -= chunk;
  }
}
void copy_out(PhysicalMemory& mem, uint32_t pa, uint8_t* dst, uint32_t len) {
  while (len) {
    uint32_t chunk = std::min(len, 0x1000 - (pa & 0xfff));
    if (const uint8_t* p = mem.host_ptr_read(pa)) std::memcpy(dst, p, chunk);
    else mem.read_bytes(pa, dst, chunk);
    pa += chunk;
    dst += chunk;
    len -= chunk;
  }
}

// Paging maps exactly the three areas (user, writable, identity), like the
// native runner's mmaps and Unicorn's mem_map: an access outside them is a
// #PF on every executor instead of silently reaching Popek's other RAM.
constexpr uint32_t kPageDir = 0x100000, kPageTable = 0x101000;
static_assert(kDataSize % 0x1000 == 0 && kStackSize % 0x1000 == 0 && DIFF_CODE_SIZE % 0x1000 == 0);
void map_areas(test::InterpFixture& fx) {
  static const std::vector<uint8_t> zero(0x2000, 0);
  copy_in(fx.mem, kPageDir, zero.data(), static_cast<uint32_t>(zero.size()));
  fx.mem.write32(kPageDir, kPageTable | 0x7);  // present, writable, user
  const uint32_t areas[3][2] = {{kDataBase, kDataSize}, {kStackBase, kStackSize}, {kCodeBase, DIFF_CODE_SIZE}};
  for (const auto& [base, size] : areas)
    for (uint32_t page = base; page < base + size; page += 0x1000)
      fx.mem.write32(kPageTable + (page >> 12) * 4, page | 0x7);
  fx.cpu.cr3 = kPageDir;
  fx.cpu.cr0 |= cr0::PG | cr0::WP;
  fx.interp.mmu.flush(true);
}

// UD2 after the snippet: a stray jump past the end faults on every executor.
void load_code(PhysicalMemory& mem, const std::vector<uint8_t>& code) {
  std::vector<uint8_t> page(DIFF_CODE_SIZE);
  for (size_t i = 0; i + 1 < page.size(); i += 2) {
    page[i] = 0x0f;
    page[i + 1] = 0x0b;
  }
  std::memcpy(page.data(), code.data(), code.size());
  copy_in(mem, kCodeBase, page.data(), static_cast<uint32_t>(page.size()));
}
}  // namespace

PopekExecutor::PopekExecutor() : fx_(std::make_unique<test::InterpFixture>()) {}
PopekExecutor::~PopekExecutor() = default;

RunResult PopekExecutor::run(const std::vector<uint8_t>& code, const GuestState& init, FlagTracker* flags,
                             std::vector<uint32_t>* path) {
  test::InterpFixture& fx = *fx_;
  fx.flat32(3, kCodeBase);
  CpuState& cpu = fx.cpu;
  Interpreter& in = fx.interp;
  for (int r = 0; r < 8; ++r) cpu.regs[r] = init.regs[r];
  cpu.eflags = init.eflags | flag::FIXED1;
  map_areas(fx);
  load_code(fx.mem, code);
  copy_in(fx.mem, kDataBase, init.data.data(), kDataSize);
  copy_in(fx.mem, kStackBase, init.stack.data(), kStackSize);
  if (flags) flags->reset();
  if (path) path->clear();

  RunResult res;
  const uint32_t end = kCodeBase + static_cast<uint32_t>(code.size());
  uint64_t n = 0;
  for (; n < kMaxSteps && cpu.eip != end; ++n) {
    uint32_t pre[8];
    std::memcpy(pre, cpu.regs, sizeof pre);
    in.insn_eip = cpu.eip;
    const uint64_t unimplemented_before = in.unimplemented_count();
    try {
      const DecodedInsn& d = in.fetch_decode_cached();
      in.cur = &d;
      in.next_eip = in.insn_eip + d.insn.length;
      if (flags) flags->on_started(d);
      InsnHandler h = in.handlers().get(d.insn.mnemonic);
      if (!h) in.unimplemented(d);
      h(in, d);
      cpu.eip = in.next_eip;
      cpu.eflags &= ~flag::RF;
      in.cur = nullptr;
      if (path) path->push_back(in.insn_eip);
      if (flags) flags->on_executed(d, pre);
    } catch (const GuestFault& f) {
      in.cur = nullptr;
      if (path) path->push_back(in.insn_eip);
      res.faulted = true;
      res.vector = f.vector;
      res.eip = in.insn_eip;
      if (in.unimplemented_count() != unimplemented_before) res.note = "no interpreter handler";
      ++n;
      break;
    }
  }
  steps_ += n;
  if (!res.faulted) {
    res.eip = cpu.eip;
    res.hung = cpu.eip != end;
  }
  for (int r = 0; r < 8; ++r) res.state.regs[r] = cpu.regs[r];
  res.state.eflags = cpu.eflags;
  copy_out(fx.mem, kDataBase, res.state.data.data(), kDataSize);
  copy_out(fx.mem, kStackBase, res.state.stack.data(), kStackSize);
  return res;
}

}  // namespace popek::diff
