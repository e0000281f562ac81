// Timer interrupts under a Machine-like loop (budget up to the next timer
// deadline, then run the expired timers): the translator must take every
// interrupt at exactly the instruction the interpreter takes it at, so that
// deterministic runs are reproducible across engines.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

// One IRQ line raised by a periodic timer, cleared by the acknowledge.
struct TimerController : InterruptController {
  explicit TimerController(VirtualClock& clock, uint64_t period_ns)
      : timer(clock, [this, period_ns] {
          pending = true;
          timer.arm_after(period_ns);
        }) {
    timer.arm_after(period_ns);
  }
  bool intr_pending() const override { return pending; }
  uint8_t acknowledge() override {
    pending = false;
    return 8;
  }
  bool pending = false;
  Timer timer;
};

struct GuestWithTimer {
  CpuState cpu{};
  PhysicalMemory mem{4u << 20};
  IoBus io;
  VirtualClock clock{true};
  TimerController pic;
  Interpreter interp;
  explicit GuestWithTimer(uint64_t period_ns) : pic(clock, period_ns), interp(cpu, mem, io, clock, &pic) {
    interp.reset();
    for (int s = 0; s < 6; ++s) {
      cpu.seg[s].selector = 0;
      cpu.seg[s].base = 0;
      cpu.seg[s].limit = 0xffff;
    }
    cpu.eip = 0x1000;
    cpu.regs[ESP] = 0x8000;
    // IVT[8] -> 0000:0x2000.
    const uint8_t ivt[] = {0x00, 0x20, 0x00, 0x00};
    mem.write_bytes(8 * 4, ivt, 4);
    // Handler: records the interrupted IP at [si], si += 2, then IRET.
    const uint8_t handler[] = {
        0x55,              // push bp
        0x89, 0xe5,        // mov bp, sp
        0x8b, 0x46, 0x02,  // mov ax, [bp+2]
        0x89, 0x04,        // mov [si], ax
        0x83, 0xc6, 0x02,  // add si, 2
        0x5d,              // pop bp
        0xcf,              // iret
    };
    mem.write_bytes(0x2000, handler, sizeof handler);
    // Main: STI, then a loop mixing native, memory and fallback instructions.
    const uint8_t main_code[] = {
        0xbe, 0x00, 0x30,        // mov si, 0x3000
        0xfb,                    // sti
        // loop:
        0x43,                    // inc bx
        0x01, 0xd9,              // add cx, bx
        0x31, 0xca,              // xor dx, cx
        0x89, 0x1e, 0x00, 0x40,  // mov [0x4000], bx
        0x03, 0x3e, 0x00, 0x40,  // add di, [0x4000]
        0xd1, 0xe7,              // shl di, 1
        0xeb, 0xef,              // jmp loop
    };
    mem.write_bytes(0x1000, main_code, sizeof main_code);
  }
};

template <typename Step>
void machine_loop(GuestWithTimer& g, uint64_t total, Step step) {
  uint64_t done = 0;
  while (done < total) {
    uint64_t budget = g.clock.budget(std::min<uint64_t>(10000, total - done));
    done += step(budget);
    g.clock.run_expired();
  }
}

TEST(DbtInterrupts, TimerInterruptsAtTheSameInstructions) {
  for (uint64_t period : {970ull, 1230ull, 5000ull}) {
    GuestWithTimer ref(period), dut(period);
    dbt::DbtEngine engine(dut.interp);
    const uint64_t total = 200000;
    machine_loop(ref, total, [&](uint64_t budget) {
      for (uint64_t i = 0; i < budget; ++i) ref.interp.step();
      return budget;
    });
    machine_loop(dut, total, [&](uint64_t budget) { return engine.run(budget).steps; });
    EXPECT_EQ(diff_cpu(ref.cpu, dut.cpu), "") << "period " << period;
    EXPECT_EQ(ref.clock.retired(), dut.clock.retired());
    std::vector<uint8_t> a(0x1000), b(0x1000);
    ref.mem.read_bytes(0x3000, a.data(), 0x1000);
    dut.mem.read_bytes(0x3000, b.data(), 0x1000);
    EXPECT_EQ(a, b) << "interrupted IPs differ, period " << period;
    EXPECT_GT(ref.cpu.regs[ESI], 0x3000u + 100);  // many interrupts were taken
    EXPECT_GT(engine.stats().retired_native, total / 3);
  }
}

}  // namespace
}  // namespace popek::test
