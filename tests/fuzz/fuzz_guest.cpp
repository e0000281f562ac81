// Guest-code fuzzer: the input is guest code, run for a bounded number of
// steps under the interpreter and under the translator from identical
// states, then compared.
//
// Input layout:
//   byte 0      mode: bits 1:0 0 real mode, 1 16-bit protected mode,
//               2/3 32-bit protected mode; bit 2 CPL 3 (protected modes);
//               bit 3 paging on (protected modes)
//   byte 1      initial arithmetic flags
//   bytes 2-5   seed of the initial general registers
//   the rest    guest code, cut into chunks of kChunkBytes placed kChunkStride
//               apart; the gaps are INT3. Every exception and software
//               interrupt goes to a handler that resumes at the next chunk,
//               so one input exercises many short sequences, and a fault
//               storm cannot stop the run. After the last chunk: HLT.
//
// Invariants (a violation aborts, which libFuzzer reports as a crash):
//   - no sanitizer report and no host signal (ASan/UBSan, libFuzzer);
//   - both engines stop after the same number of steps, with the same
//     registers, flags, segment caches, control registers and RAM;
//   - the translation cache is consistent: the block for the final CS:EIP
//     holds the guest bytes now in memory (no stale translation survived
//     self-modifying code), and after DbtEngine::flush() no page is still
//     write-protected as code. DbtEngine has no self-check of its index
//     (block lists per page, chain links); docs/hardening.md notes it.
//
// The guests have no devices: IN reads all ones, OUT is dropped, no
// interrupt controller. POPEK_FUZZ_GUEST_VERBOSE=1 prints each run's end state.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/interpreter.h"
#include "core/io_bus.h"
#include "core/physical_memory.h"
#include "tests/fuzz/fuzz_input.h"
#include "translator/dbt_engine.h"

using namespace popek;

namespace {

constexpr uint32_t kRamBytes = 2u << 20;
constexpr uint64_t kMaxSteps = 3000;

// Guest physical layout.
constexpr uint32_t kIvtHandler16 = 0x0500;  // real-mode handler (segment 0)
constexpr uint32_t kCursor16 = 0x0600;      // its next-chunk offset
constexpr uint32_t kGdt = 0x1000;
constexpr uint32_t kIdt = 0x2000;
constexpr uint32_t kTss = 0x2800;
constexpr uint32_t kStubs = 0x3000;         // 256 x 8-byte vector stubs
constexpr uint32_t kHandler32 = 0x3800;
constexpr uint32_t kCursor32 = 0x3F00;
constexpr uint32_t kPageDir = 0x4000;
constexpr uint32_t kPageTable = 0x5000;
constexpr uint32_t kKernelStack = 0x9000;
constexpr uint32_t kCodeBase = 0x10000;     // chunks; 16-bit code segments start here
constexpr uint32_t kChunkStride = 256;
constexpr uint32_t kChunkBytes = 192;
constexpr uint32_t kMaxChunks = 48;  // the last slot is always the end
constexpr uint32_t kDataBase = 0x20000;     // real-mode DS/ES
constexpr uint32_t kUserStack = 0x70000;

// GDT selectors.
constexpr uint16_t kCode32 = 0x08, kData32 = 0x10, kUserCode32 = 0x18, kUserData32 = 0x20, kTssSel = 0x28,
                   kCode16 = 0x30, kUserCode16 = 0x38;

// push bp; mov bp,sp; push ax; mov ax,[cs:0x600]; add word [cs:0x600],256;
// mov [bp+2],ax; mov word [bp+4],0x1000; pop ax; pop bp; iret
constexpr uint8_t kHandler16Code[] = {0x55, 0x89, 0xe5, 0x50, 0x2e, 0xa1, 0x00, 0x06, 0x2e, 0x81, 0x06, 0x00, 0x06,
                                      0x00, 0x01, 0x89, 0x46, 0x02, 0xc7, 0x46, 0x04, 0x00, 0x10, 0x58, 0x5d, 0xcf};
// push ds; push eax; mov ax,0x10; mov ds,ax; mov eax,[0x3f00];
// add dword [0x3f00],256; mov [esp+8],eax; pop eax; pop ds; iretd
constexpr uint8_t kHandler32Code[] = {0x1e, 0x50, 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0xa1, 0x00,
                                      0x3f, 0x00, 0x00, 0x81, 0x05, 0x00, 0x3f, 0x00, 0x00, 0x00,
                                      0x01, 0x00, 0x00, 0x89, 0x44, 0x24, 0x08, 0x58, 0x1f, 0xcf};

struct Guest {
  CpuState cpu{};
  PhysicalMemory mem{kRamBytes};
  IoBus io;
  VirtualClock clock{true};
  Interpreter interp{cpu, mem, io, clock, nullptr};
};

struct Setup {
  unsigned mode = 0;  // 0 real, 1 pm16, 2 pm32
  unsigned cpl = 0;
  bool paging = false;
  uint32_t flags = 0;
  uint32_t seed = 0;
  std::vector<uint8_t> code;
};

void put32(Guest& g, uint32_t pa, uint32_t v) { g.mem.write(pa, 4, v); }

void descriptor(Guest& g, uint16_t sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  uint32_t lo = (limit & 0xFFFF) | (base & 0xFFFF) << 16;
  uint32_t hi = (base >> 16 & 0xFF) | uint32_t{access} << 8 | (limit & 0xF0000) | uint32_t{flags} << 20 |
                (base & 0xFF000000);
  put32(g, kGdt + sel, lo);
  put32(g, kGdt + sel + 4, hi);
}

// The descriptor cache a load of a descriptor written by descriptor() gives.
SegmentCache cache_for(uint16_t selector, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  SegmentCache c{};
  c.selector = selector;
  c.base = base;
  c.limit = flags & 0x8 ? (limit << 12 | 0xFFF) : limit;
  c.attr = static_cast<uint16_t>(access | uint16_t{flags} << 12);
  return c;
}

void build_tables(Guest& g) {
  // Flat 4 GiB code/data at DPL 0 and 3, 64 KiB 16-bit code at kCodeBase.
  descriptor(g, kCode32, 0, 0xFFFFF, 0x9B, 0xC);
  descriptor(g, kData32, 0, 0xFFFFF, 0x93, 0xC);
  descriptor(g, kUserCode32, 0, 0xFFFFF, 0xFB, 0xC);
  descriptor(g, kUserData32, 0, 0xFFFFF, 0xF3, 0xC);
  descriptor(g, kTssSel, kTss, 103, 0x8B, 0x0);  // busy 32-bit TSS
  descriptor(g, kCode16, kCodeBase, 0xFFFF, 0x9B, 0x0);
  descriptor(g, kUserCode16, kCodeBase, 0xFFFF, 0xFB, 0x0);
  // TSS: ESP0/SS0 for entries from CPL 3; I/O bitmap base past the limit.
  put32(g, kTss + 4, kKernelStack);
  put32(g, kTss + 8, kData32);
  put32(g, kTss + 100, 104u << 16);
  // IDT: 386 interrupt gates, DPL 3 (INT n works from CPL 3), to the stubs.
  for (uint32_t v = 0; v < 256; ++v) {
    uint32_t stub = kStubs + v * 8;
    put32(g, kIdt + v * 8, (stub & 0xFFFF) | uint32_t{kCode32} << 16);
    put32(g, kIdt + v * 8 + 4, (stub & 0xFFFF0000) | 0xEE00);
    // Vectors that push an error code drop it first.
    bool error_code = v == 8 || (v >= 10 && v <= 14) || v == 17;
    uint8_t stub_code[8] = {0x90, 0x90, 0x90, 0xE9, 0, 0, 0, 0};
    if (error_code) stub_code[0] = 0x83, stub_code[1] = 0xC4, stub_code[2] = 0x04;
    uint32_t rel = kHandler32 - (stub + 8);
    std::memcpy(stub_code + 4, &rel, 4);
    g.mem.write_bytes(stub, stub_code, 8);
  }
  g.mem.write_bytes(kHandler32, kHandler32Code, sizeof kHandler32Code);
  // Real mode: every IVT vector to the 16-bit handler.
  for (uint32_t v = 0; v < 256; ++v) put32(g, v * 4, kIvtHandler16);
  g.mem.write_bytes(kIvtHandler16, kHandler16Code, sizeof kHandler16Code);
  // Paging: identity map of RAM; the first 64 KiB (tables, handlers,
  // kernel stack) supervisor-only, the rest user; 2-4 MiB not present.
  put32(g, kPageDir, kPageTable | 0x7);
  for (uint32_t i = 0; i < 1024; ++i) {
    uint32_t pa = i << 12;
    uint32_t pte = pa < kRamBytes ? (pa | 0x3 | (pa >= kCodeBase ? 0x4 : 0)) : 0;
    put32(g, kPageTable + i * 4, pte);
  }
}

void load_chunks(Guest& g, const Setup& s, uint32_t& chunks) {
  std::vector<uint8_t> area(kMaxChunks * kChunkStride, 0xCC);  // INT3 between chunks
  chunks = 0;
  for (size_t off = 0; off < s.code.size() && chunks < kMaxChunks - 1; off += kChunkBytes, ++chunks) {
    size_t n = std::min<size_t>(kChunkBytes, s.code.size() - off);
    std::memcpy(area.data() + chunks * kChunkStride, s.code.data() + off, n);
  }
  // Every slot after the last chunk ends the run: HLT at CPL 0 (with IF=0
  // and no interrupt controller, the CPU stops), a JMP $ loop at CPL 3
  // (where HLT faults), which runs out the step budget cheaply.
  for (uint32_t k = chunks; k < kMaxChunks; ++k) {
    uint8_t* slot = area.data() + k * kChunkStride;
    if (s.cpl == 0) slot[0] = 0xF4, slot[1] = 0xEB, slot[2] = 0xFD;  // hlt; jmp back to it
    else slot[0] = 0xEB, slot[1] = 0xFE;                             // jmp $
  }
  g.mem.write_bytes(kCodeBase, area.data(), static_cast<uint32_t>(area.size()));
  // Data the code may touch: a pattern from the seed.
  uint32_t x = s.seed | 1;
  for (uint32_t a = kDataBase; a < kDataBase + 0x1000; a += 4) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    put32(g, a, x);
  }
}

void setup(Guest& g, const Setup& s) {
  std::memset(g.mem.ram(), 0, kRamBytes);
  g.interp.reset();
  build_tables(g);
  uint32_t chunks = 0;
  load_chunks(g, s, chunks);
  CpuState& c = g.cpu;
  uint32_t x = s.seed;
  for (int r = 0; r < 8; ++r) {
    x = x * 1103515245u + 12345u;
    c.regs[r] = r < 4 ? x : x & 0xFFFF;  // small index registers hit mapped memory
  }
  c.eflags = (s.flags & flag::ARITH) | flag::FIXED1;
  if (s.mode == 0) {
    for (int r = 0; r < 6; ++r) c.seg[r] = SegmentCache{static_cast<uint16_t>(kDataBase >> 4), c.seg[r].attr, kDataBase, 0xFFFF};
    c.seg[CS] = SegmentCache{static_cast<uint16_t>(kCodeBase >> 4), c.seg[CS].attr, kCodeBase, 0xFFFF};
    c.seg[SS] = SegmentCache{0x7000, c.seg[SS].attr, 0x70000, 0xFFFF};
    c.regs[ESP] = 0xFFF0;
    c.eip = 0;
    put32(g, kCursor16, kChunkStride);  // the low word is the next chunk's IP
    return;
  }
  c.cr0 |= cr0::PE;
  c.gdtr = {kGdt, 0x4F};
  c.idtr = {kIdt, 0x7FF};
  c.tr = cache_for(kTssSel, kTss, 103, 0x8B, 0x0);
  const unsigned rpl = s.cpl;
  const uint16_t data_sel = static_cast<uint16_t>((rpl ? kUserData32 : kData32) | rpl);
  const uint8_t data_access = rpl ? 0xF3 : 0x93;
  for (int r = 0; r < 6; ++r) c.seg[r] = cache_for(data_sel, 0, 0xFFFFF, data_access, 0xC);
  if (s.mode == 1) {
    c.seg[CS] = cache_for(static_cast<uint16_t>((rpl ? kUserCode16 : kCode16) | rpl), kCodeBase, 0xFFFF,
                          rpl ? 0xFB : 0x9B, 0x0);
    c.eip = 0;
    put32(g, kCursor32, kChunkStride);
  } else {
    c.seg[CS] = cache_for(static_cast<uint16_t>((rpl ? kUserCode32 : kCode32) | rpl), 0, 0xFFFFF,
                          rpl ? 0xFB : 0x9B, 0xC);
    c.eip = kCodeBase;
    put32(g, kCursor32, kCodeBase + kChunkStride);
  }
  c.cpl = static_cast<uint8_t>(s.cpl);
  c.regs[ESP] = rpl ? kUserStack : kKernelStack - 0x100;
  if (s.paging) {
    c.cr3 = kPageDir;
    c.cr0 |= cr0::PG;
  }
}

std::string hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}

std::string differences(const CpuState& a, const CpuState& b) {
  std::string o;
  static const char* names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
  for (int r = 0; r < 8; ++r)
    if (a.regs[r] != b.regs[r]) o += std::string(names[r]) + ": interp " + hex(a.regs[r]) + " dbt " + hex(b.regs[r]) + "\n";
  if (a.eip != b.eip) o += "eip: interp " + hex(a.eip) + " dbt " + hex(b.eip) + "\n";
  if (a.eflags != b.eflags) o += "eflags: interp " + hex(a.eflags) + " dbt " + hex(b.eflags) + "\n";
  for (int s = 0; s < 6; ++s)
    if (std::memcmp(&a.seg[s], &b.seg[s], sizeof(SegmentCache)))
      o += "seg" + std::to_string(s) + ": interp " + hex(a.seg[s].selector) + "/" + hex(a.seg[s].base) + " dbt " +
           hex(b.seg[s].selector) + "/" + hex(b.seg[s].base) + "\n";
  if (a.cr0 != b.cr0 || a.cr2 != b.cr2 || a.cr3 != b.cr3 || a.cr4 != b.cr4)
    o += "cr0/2/3/4: interp " + hex(a.cr0) + " " + hex(a.cr2) + " " + hex(a.cr3) + " " + hex(a.cr4) + " dbt " +
         hex(b.cr0) + " " + hex(b.cr2) + " " + hex(b.cr3) + " " + hex(b.cr4) + "\n";
  if (a.cpl != b.cpl || a.halted != b.halted) o += "cpl/halted differ\n";
  return o;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_guest: %s", what.c_str());
  std::abort();
}

struct Rig {
  Guest ref;
  Guest dut;
  std::unique_ptr<dbt::DbtEngine> dbt;
  Rig() {
    dbt::DbtOptions o;
    o.cache_bytes = 4u << 20;
    o.validate_emission = true;
    o.check_cache = true;  // also checked at every flush (a full cache mid-run)
    dbt = std::make_unique<dbt::DbtEngine>(dut.interp, o);
  }
};

Rig& rig() {
  static Rig* r = new Rig;  // reused: only the guests' state is rebuilt per input
  return *r;
}

void check_cache(Rig& r) {
  const dbt::DbtStats& st = r.dbt->stats();
  if (st.hits + st.misses != st.lookups)
    fail("cache stats: " + std::to_string(st.hits) + " hits + " + std::to_string(st.misses) + " misses != " +
         std::to_string(st.lookups) + " lookups\n");
  if (st.chain_unpatches > st.chain_patches) fail("cache stats: more chain unpatches than patches\n");
  // The cache's own walk of its index, chain links and code (cache_check.cpp).
  if (std::vector<std::string> problems = r.dbt->check_cache(); !problems.empty()) {
    std::string text;
    for (const std::string& p : problems) text += p + "\n";
    fail("translation cache check:\n" + text);
  }
  // The block for the final CS:EIP (reused, or translated now) must hold the
  // bytes in memory: a stale translation surviving a code write shows here.
  // (Where EIP is unmapped or not executable there is no block.)
  if (!r.dut.cpu.halted) {
    if (const dbt::Block* b = r.dbt->block_at_current()) {
      uint32_t in_page = PhysicalMemory::kPageSize - (b->key.phys & (PhysicalMemory::kPageSize - 1));
      uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(b->guest_code.size()), in_page);
      std::vector<uint8_t> now(n);
      r.dut.mem.read_bytes(b->key.phys, now.data(), n);
      if (std::memcmp(now.data(), b->guest_code.data(), n) != 0)
        fail("stale block at linear " + hex(b->key.linear) + " phys " + hex(b->key.phys) + "\n");
    }
  }
  r.dbt->flush();
  for (uint32_t page = 0; page < (kRamBytes >> PhysicalMemory::kPageShift); ++page)
    if (r.dut.mem.is_code_page(page)) fail("page " + hex(page) + " still code-protected after flush\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 7) return 0;
  fuzz::FuzzInput in(data, size);
  Setup s;
  uint8_t mode = in.u8();
  s.mode = (mode & 3) == 3 ? 2 : mode & 3;
  s.cpl = s.mode && (mode & 4) ? 3 : 0;
  s.paging = s.mode && (mode & 8);
  s.flags = in.u8();
  s.seed = in.u32();
  s.code = in.rest();

  Rig& r = rig();
  r.dbt->flush();
  setup(r.ref, s);
  setup(r.dut, s);

  uint64_t ref_steps = 0;
  while (ref_steps < kMaxSteps) {
    StepResult res = r.ref.interp.step();
    if (res == StepResult::Halted) break;
    ++ref_steps;
    if (res == StepResult::TripleFault) break;
  }
  const uint64_t dut_start = r.dbt->retired();
  dbt::DbtRunResult d = r.dbt->run(kMaxSteps);
  (void)dut_start;
  if (d.stop == dbt::DbtStop::HostError) fail("translator host error: " + r.dbt->last_error() + "\n");
  if (std::getenv("POPEK_FUZZ_GUEST_VERBOSE"))
    std::fprintf(stderr, "mode %u cpl %u pg %d: interp %llu steps eip %08x, dbt %llu steps (stop %d) eip %08x\n", s.mode,
                 s.cpl, s.paging, static_cast<unsigned long long>(ref_steps), r.ref.cpu.eip,
                 static_cast<unsigned long long>(d.steps), static_cast<int>(d.stop), r.dut.cpu.eip);
  std::string diff = differences(r.ref.cpu, r.dut.cpu);
  if (ref_steps != d.steps)
    diff += "steps: interp " + std::to_string(ref_steps) + " dbt " + std::to_string(d.steps) + "\n";
  if (std::memcmp(r.ref.mem.ram(), r.dut.mem.ram(), kRamBytes) != 0) {
    for (uint32_t a = 0; a < kRamBytes; ++a)
      if (r.ref.mem.ram()[a] != r.dut.mem.ram()[a]) {
        diff += "memory first differs at " + hex(a) + ": interp " + hex(r.ref.mem.ram()[a]) + " dbt " +
                hex(r.dut.mem.ram()[a]) + "\n";
        break;
      }
  }
  if (!diff.empty())
    fail("engines diverge (mode " + std::to_string(s.mode) + ", cpl " + std::to_string(s.cpl) + ", paging " +
         std::to_string(s.paging) + "):\n" + diff);
  check_cache(r);
  return 0;
}
