// Page faults the translator delivers without the interpreter (and without a
// C++ exception): an instruction fetch that faults in the dispatcher, and a
// translated access whose TLB fill faults. Each program runs under the
// interpreter and the translator, with a #PF handler that logs CR2, the
// error code and the faulting EIP and then maps the page (demand paging,
// copy on write, stack growth): both runs must agree on everything, and
// the translator's statistics must show the direct paths were taken.
// The #DF rules go through the same path: a #PF whose delivery faults.
#include <cstring>

#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

constexpr uint32_t kGdt = 0x500, kIdt = 0x800, kTss = 0x7000;
constexpr uint32_t kPd = 0x10000, kPt = 0x11000;  // identity 0-4 MiB through kPt
constexpr uint32_t kPfHandler = 0x3000, kDfHandler = 0x3100, kGpHandler = 0x3200;
constexpr uint32_t kLog = 0x40000;  // the #PF handler's log: CR2, error code, EIP per fault
constexpr uint32_t kLogPtr = kLog - 4;  // where the handler writes next
constexpr uint32_t kRing0Stack = 0x90000;
constexpr uint32_t P = 1, RW = 2, US = 4;

void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(uint8_t(x >> (8 * i)));
}

struct PageFaults : DualFixture {
  // Flat protected mode at `cpl` with paging on (identity, user+writable),
  // a GDT (entries 1/2: the flat code/data of `cpl`, 3/4: ring-0 code/data
  // for the handlers, 5: the TSS), an IDT with the #PF, #DF and #GP
  // handlers, and a TSS whose ring-0 stack is kRing0Stack.
  void setup(unsigned cpl) {
    flat32(cpl);
    const uint32_t dpl = cpl << 13;
    const uint32_t gdt[] = {0,          0,          0xffff, 0x00cf9a00 | dpl, 0xffff, 0x00cf9200 | dpl,
                            0xffff,     0x00cf9a00, 0xffff, 0x00cf9200,       (kTss << 16) | 0x67,
                            0x00008b00 | (kTss >> 16)};
    store(kGdt, gdt, sizeof gdt);
    gate(14, kPfHandler);
    gate(8, kDfHandler);
    gate(13, kGpHandler);
    const uint32_t tss[] = {0, kRing0Stack, 0x20};
    store(kTss, tss, sizeof tss);
    for (uint32_t i = 0; i < 1024; ++i) pte(i << 12, (i << 12) | P | RW | US);
    const uint32_t pde = kPt | P | RW | US;
    store(kPd, &pde, 4);
    // #PF: log CR2, the error code and EIP at the log pointer, map the page
    // (identity, user, writable), return. No INVLPG: the fault dropped the entry.
    std::vector<uint8_t> pf = {0x50, 0x51, 0x52, 0x8b, 0x15};  // push eax/ecx/edx; mov edx, [kLogPtr]
    put32(pf, kLogPtr);
    const std::vector<uint8_t> body = {
        0x0f, 0x20, 0xd0,                          // mov eax, cr2
        0x89, 0x02,                                // mov [edx], eax
        0x8b, 0x4c, 0x24, 0x0c,                    // mov ecx, [esp+12] (error code)
        0x89, 0x4a, 0x04,                          // mov [edx+4], ecx
        0x8b, 0x4c, 0x24, 0x10,                    // mov ecx, [esp+16] (EIP)
        0x89, 0x4a, 0x08,                          // mov [edx+8], ecx
        0x83, 0xc2, 0x0c,                          // add edx, 12
        0x89, 0x15,                                // mov [kLogPtr], edx
    };
    pf.insert(pf.end(), body.begin(), body.end());
    put32(pf, kLogPtr);
    const std::vector<uint8_t> tail = {
        0xc1, 0xe8, 0x0c,                          // shr eax, 12
        0x89, 0xc1,                                // mov ecx, eax
        0xc1, 0xe0, 0x0c,                          // shl eax, 12
        0x83, 0xc8, 0x07,                          // or eax, 7
        0x89, 0x04, 0x8d, 0x00, 0x10, 0x01, 0x00,  // mov [0x11000 + ecx*4], eax
        0x5a, 0x59, 0x58,                          // pop edx; pop ecx; pop eax
        0x83, 0xc4, 0x04,                          // add esp, 4
        0xcf,                                      // iretd
    };
    pf.insert(pf.end(), tail.begin(), tail.end());
    const uint32_t log_start = kLog;
    store(kLogPtr, &log_start, 4);
    load(kPfHandler, pf);
    load(kDfHandler, {0xf4});  // hlt
    load(kGpHandler, {0xf4});  // hlt (the ring-3 programs end with HLT: #GP)
    for (BareGuest* g : {&ref, &dut}) {
      CpuState& c = g->cpu;
      c.gdtr = DescriptorTableReg{kGdt, 6 * 8 - 1};
      c.idtr = DescriptorTableReg{kIdt, 256 * 8 - 1};
      c.tr = SegmentCache{0x28, static_cast<uint16_t>(seg_attr::P | 0xb), kTss, 0x67};
      c.cr3 = kPd;
      c.cr0 |= cr0::PG;
    }
  }
  void store(uint32_t addr, const void* p, uint32_t n) {
    std::vector<uint8_t> v(n);
    std::memcpy(v.data(), p, n);
    load(addr, v);
  }
  void gate(unsigned vector, uint32_t handler) {
    const uint32_t g[] = {(0x18u << 16) | (handler & 0xffff), (handler & 0xffff0000u) | 0x8e00};
    store(kIdt + vector * 8, g, 8);
  }
  void pte(uint32_t linear, uint32_t value) { store(kPt + (linear >> 12) * 4, &value, 4); }
  uint32_t logged(unsigned fault, unsigned field) { return dut.mem.read32(kLog + fault * 12 + field * 4); }
  unsigned faults_logged() { return (dut.mem.read32(kLogPtr) - kLog) / 12; }
  const dbt::DbtStats& stats() { return dbt->stats(); }
};

// Demand paging at CPL0: a store, a read-modify-write, a load and a string
// store each meet a not-present page; the handler maps it and the
// instruction is retried.
TEST_F(PageFaults, DemandPagingFromTranslatedAccesses) {
  setup(0);
  for (uint32_t p = 0x100000; p < 0x110000; p += 0x1000) pte(p, p | RW | US);  // not present
  std::vector<uint8_t> code = {
      0xbb, 0x00, 0x00, 0x10, 0x00,        // mov ebx, 0x100000
      0xb9, 0x04, 0x00, 0x00, 0x00,        // mov ecx, 4
      // loop (0x100a):
      0x89, 0x0b,                          // mov [ebx], ecx          fault: write, not present
      0x01, 0x4b, 0x04,                    // add [ebx+4], ecx        (mapped now)
      0x8b, 0x83, 0x00, 0x10, 0x00, 0x00,  // mov eax, [ebx+0x1000]   fault: read
      0x01, 0x83, 0x00, 0x20, 0x00, 0x00,  // add [ebx+0x2000], eax   fault: write (RMW)
      0x8d, 0xbb, 0x00, 0x30, 0x00, 0x00,  // lea edi, [ebx+0x3000]
      0xab,                                // stosd                   fault: write
      0x81, 0xc3, 0x00, 0x40, 0x00, 0x00,  // add ebx, 0x4000
      0x49,                                // dec ecx
      0x75, 0xdf,                          // jnz loop
      0xf4,                                // hlt
  };
  load(0x1000, code);
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(kLog, 16 * 12);
  expect_same(kPt + 0x100 * 4, 16 * 4);
  EXPECT_EQ(faults_logged(), 16u);
  EXPECT_EQ(logged(0, 0), 0x100000u);
  EXPECT_EQ(logged(0, 1), 2u);
  EXPECT_EQ(logged(0, 2), 0x100au);
  EXPECT_EQ(logged(1, 0), 0x101000u);
  EXPECT_EQ(logged(1, 1), 0u);
  EXPECT_EQ(logged(2, 1), 2u) << "a read-modify-write destination faults as a write";
  EXPECT_EQ(logged(3, 0), 0x103000u);
  EXPECT_GE(stats().direct_fill_faults, 16u) << "delivered from the fill path";
  EXPECT_EQ(stats().memory_slow_paths, 0u) << "no instruction re-ran in the interpreter";
}

// CPL3: stack growth (PUSH into a not-present page, ESP committed only by
// the retried push), copy on write (stores to read-only user pages) and
// instruction fetches from not-present code pages, found by the dispatcher.
TEST_F(PageFaults, StackGrowthCopyOnWriteAndFetchAtCpl3) {
  setup(3);
  for (uint32_t p = 0x100000; p < 0x108000; p += 0x1000) pte(p, p | RW | US);  // stack: not present
  for (uint32_t p = 0x110000; p < 0x114000; p += 0x1000) pte(p, p | P | US);   // read-only
  pte(0x120000, 0x120000 | RW | US);  // code: not present
  pte(0x121000, 0x121000 | RW | US);
  std::vector<uint8_t> code = {
      0xbc, 0x00, 0x80, 0x10, 0x00,        // mov esp, 0x108000
      0xb9, 0x08, 0x00, 0x00, 0x00,        // mov ecx, 8
      // grow (0x100a):
      0x81, 0xec, 0xf8, 0x0f, 0x00, 0x00,  // sub esp, 0xff8
      0x51,                                // push ecx                fault: user write, not present
      0xe8, 0x00, 0x00, 0x00, 0x00,        // call next               (same page: mapped)
      0x58,                                // next: pop eax
      0x49,                                // dec ecx
      0x75, 0xf0,                          // jnz grow
      0xbb, 0x00, 0x00, 0x11, 0x00,        // mov ebx, 0x110000
      0xb1, 0x04,                          // mov cl, 4
      // cow (0x1021):
      0x89, 0x4b, 0x10,                    // mov [ebx+0x10], ecx     fault: user write, read-only
      0x81, 0xc3, 0x00, 0x10, 0x00, 0x00,  // add ebx, 0x1000
      0xfe, 0xc9,                          // dec cl
      0x75, 0xf3,                          // jnz cow
  };
  // then: call 0x120000 (fetch fault), which runs into 0x121000 (another)
  // and returns; HLT at CPL3 is #GP, whose handler halts.
  const uint32_t at = 0x1000 + static_cast<uint32_t>(code.size());
  code.push_back(0xe8);
  put32(code, 0x120000 - (at + 5));
  code.push_back(0xf4);
  load(0x1000, code);
  std::vector<uint8_t> far = {0xba, 0x34, 0x12, 0x00, 0x00, 0xe9};  // mov edx, 0x1234; jmp 0x121000
  put32(far, 0x121000 - (0x120000 + 10));
  load(0x120000, far);
  load(0x121000, {0x42, 0xc3});  // inc edx; ret
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(kLog, 14 * 12);
  expect_same(0x100000, 0x8000);
  expect_same(0x110000, 0x4000);
  EXPECT_EQ(faults_logged(), 14u) << "8 stack, 4 copy-on-write, 2 fetch faults";
  EXPECT_EQ(dut.cpu.regs[EDX], 0x1235u);
  EXPECT_EQ(logged(0, 0), 0x107004u);
  EXPECT_EQ(logged(0, 1), 6u);
  EXPECT_EQ(logged(0, 2), 0x1010u);
  EXPECT_EQ(logged(8, 0), 0x110010u);
  EXPECT_EQ(logged(8, 1), 7u);
  EXPECT_EQ(logged(12, 0), 0x120000u);
  EXPECT_EQ(logged(12, 1), 4u) << "a user fetch";
  EXPECT_EQ(logged(12, 2), 0x120000u);
  EXPECT_EQ(logged(13, 2), 0x121000u);
  EXPECT_GE(stats().direct_fill_faults, 12u);
  EXPECT_GE(stats().direct_fetch_faults, 2u);
}

// A #PF whose delivery meets a not-present IDT gate raises #NP, which after
// a #PF is a double fault: delivered through the #DF gate.
TEST_F(PageFaults, FaultDuringDeliveryIsADoubleFault) {
  setup(0);
  pte(0x100000, 0x100000 | RW | US);  // not present
  const uint32_t absent_gate[] = {(0x18u << 16) | kPfHandler, 0x0e00};  // P clear
  store(kIdt + 14 * 8, absent_gate, 8);
  load(0x1000, {0xa3, 0x00, 0x00, 0x10, 0x00, 0xf4});  // mov [0x100000], eax; hlt
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x80000 - 0x100, 0x100);  // the #DF frame (no stack switch at CPL0)
  EXPECT_EQ(dut.cpu.eip, kDfHandler + 1);
  EXPECT_EQ(dut.cpu.cr2, 0x100000u);
  EXPECT_EQ(stats().direct_fill_faults, 1u);
}

// A #PF on the stack at CPL0 cannot be delivered on that stack: #PF during
// the #PF, then the #DF cannot be delivered either: triple fault.
TEST_F(PageFaults, StackFaultAtCpl0IsATripleFault) {
  setup(0);
  pte(0x100000, 0x100000 | RW | US);  // not present
  load(0x1000, {0xbc, 0x10, 0x00, 0x10, 0x00, 0x50, 0xf4});  // mov esp, 0x100010; push eax; hlt
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::TripleFault);
  EXPECT_EQ(diff_cpu(ref.cpu, dut.cpu), "");
  EXPECT_EQ(ref_steps, dbt_result.steps);
  EXPECT_EQ(dut.cpu.cr2, 0x10000cu);
  EXPECT_EQ(stats().direct_fill_faults, 1u);
}

}  // namespace
}  // namespace popek::test
