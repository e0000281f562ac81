// Unit tests for PCI configuration mechanism #1, the PciFunction header
// semantics (write masks, BAR sizing, INTx), the i440FX PAM registers and the
// PIIX3 PIRQ routing, all driven through ports 0xCF8/0xCFC on an IoBus; and
// at the end the platform wired as the machine is expected to wire it (the
// notes in devices/i440fx.h and devices/ide.h), with the 8259 pair, checking
// that IRQ 14 and a PIRQ-routed, ELCR level-triggered PCI interrupt arrive.
#include <gtest/gtest.h>

#include <optional>
#include <tuple>
#include <vector>

#include "core/io_bus.h"
#include "devices/ata_disk.h"
#include "devices/disk_image.h"
#include "devices/i440fx.h"
#include "devices/ide.h"
#include "devices/pci_bus.h"
#include "devices/pic8259.h"

namespace popek {
namespace {

// A test device with an I/O BAR 0 (32 bytes) and a memory BAR 1 (4 KiB).
class TestFunction : public PciFunction {
 public:
  TestFunction() : PciFunction(0x1234, 0x5678, 0x02, 0x00, 0x00, 0x07) {
    define_bar(0, BarKind::Io, 32);
    define_bar(1, BarKind::Memory, 4096, /*prefetchable=*/true);
    define_rom_bar(64 * 1024);
    set_interrupt_pin(1);
    set_writable(0x40, 4);
  }
};

class PciTest : public ::testing::Test {
 protected:
  PciTest() : piix3([this](int irq, bool level) { irq_events.emplace_back(irq, level); }) {
    pci.attach(bus);
    piix3.attach(bus);
    host.on_pam_change([this](uint32_t base, uint32_t size, bool re, bool we) {
      pam_events.push_back({base, size, re, we});
    });
    EXPECT_TRUE(pci.add(0, 0, &host));
    EXPECT_TRUE(pci.add(1, 0, &piix3));
    EXPECT_TRUE(pci.add(3, 0, &dev));
  }

  void select(int device, int function, uint8_t reg) {
    bus.write(0xCF8, 4, 0x80000000u | device << 11 | function << 8 | (reg & 0xFC));
  }
  uint32_t cfg_read(int device, int function, uint8_t reg, unsigned size) {
    select(device, function, reg);
    return bus.read(static_cast<uint16_t>(0xCFC + (reg & 3)), size);
  }
  void cfg_write(int device, int function, uint8_t reg, unsigned size, uint32_t value) {
    select(device, function, reg);
    bus.write(static_cast<uint16_t>(0xCFC + (reg & 3)), size, value);
  }

  struct PamEvent {
    uint32_t base, size;
    bool re, we;
  };
  IoBus bus;
  PciBus pci;
  I440fxHostBridge host;
  Piix3IsaBridge piix3;
  TestFunction dev;
  std::vector<PamEvent> pam_events;
  std::vector<std::pair<int, bool>> irq_events;
};

TEST_F(PciTest, AddressRegisterIsDwordOnlyWithReservedBitsZero) {
  bus.write(0xCF8, 4, 0xFFFFFFFF);
  EXPECT_EQ(bus.read(0xCF8, 4), 0x80FFFFFCu);
  bus.write(0xCF8, 1, 0x00);  // byte write is not a CONFIG_ADDRESS access
  EXPECT_EQ(bus.read(0xCF8, 4), 0x80FFFFFCu);
  EXPECT_EQ(bus.read(0xCF8, 1), 0xFFu);
}

TEST_F(PciTest, IdentityAtDwordWordByteGranularity) {
  EXPECT_EQ(cfg_read(0, 0, 0x00, 4), 0x12378086u);
  EXPECT_EQ(cfg_read(0, 0, 0x00, 2), 0x8086u);
  EXPECT_EQ(cfg_read(0, 0, 0x02, 2), 0x1237u);
  EXPECT_EQ(cfg_read(0, 0, 0x01, 1), 0x80u);
  EXPECT_EQ(cfg_read(0, 0, 0x03, 1), 0x12u);
  EXPECT_EQ(cfg_read(0, 0, 0x0A, 2), 0x0600u);
  EXPECT_EQ(cfg_read(1, 0, 0x00, 4), 0x70008086u);
  EXPECT_EQ(cfg_read(1, 0, 0x0A, 2), 0x0601u);
  EXPECT_EQ(cfg_read(3, 0, 0x08, 4), 0x02000007u);
}

TEST_F(PciTest, AbsentFunctionsAndDisabledCyclesReadAllOnes) {
  EXPECT_EQ(cfg_read(2, 0, 0x00, 4), 0xFFFFFFFFu);
  EXPECT_EQ(cfg_read(0, 1, 0x00, 4), 0xFFFFFFFFu);
  EXPECT_EQ(cfg_read(31, 7, 0x00, 2), 0xFFFFu);
  EXPECT_EQ(cfg_read(2, 0, 0x00, 1), 0xFFu);
  bus.write(0xCF8, 4, 0x80010000u);  // bus 1: no bridge
  EXPECT_EQ(bus.read(0xCFC, 4), 0xFFFFFFFFu);
  bus.write(0xCF8, 4, 0x00000000u);  // enable bit clear
  EXPECT_EQ(bus.read(0xCFC, 4), 0xFFFFFFFFu);
  bus.write(0xCFC, 4, 0);  // dropped
  cfg_write(2, 0, 0x04, 2, 0x0007);  // to an empty slot: dropped
}

TEST_F(PciTest, ReadOnlyHeaderFieldsIgnoreWrites) {
  cfg_write(3, 0, 0x00, 4, 0xDEADBEEF);
  cfg_write(3, 0, 0x08, 4, 0xFFFFFFFF);
  cfg_write(3, 0, 0x3D, 1, 0x04);
  EXPECT_EQ(cfg_read(3, 0, 0x00, 4), 0x56781234u);
  EXPECT_EQ(cfg_read(3, 0, 0x08, 4), 0x02000007u);
  EXPECT_EQ(cfg_read(3, 0, 0x3D, 1), 0x01u);
  // Interrupt line is a read/write scratch register.
  cfg_write(3, 0, 0x3C, 1, 0x0B);
  EXPECT_EQ(cfg_read(3, 0, 0x3C, 1), 0x0Bu);
  EXPECT_EQ(dev.interrupt_line(), 0x0B);
}

TEST_F(PciTest, ByteAndWordWritesLandAtTheRightOffset) {
  cfg_write(3, 0, 0x40, 4, 0x11223344);
  cfg_write(3, 0, 0x42, 1, 0xAA);
  EXPECT_EQ(cfg_read(3, 0, 0x40, 4), 0x11AA3344u);
  cfg_write(3, 0, 0x42, 2, 0xBEEF);
  EXPECT_EQ(cfg_read(3, 0, 0x40, 4), 0xBEEF3344u);
  EXPECT_EQ(cfg_read(3, 0, 0x41, 2), 0xEF33u);  // unaligned word inside the dword
  EXPECT_EQ(cfg_read(3, 0, 0x43, 1), 0xBEu);
}

TEST_F(PciTest, CommandAndStatusRegisters) {
  cfg_write(3, 0, 0x04, 2, 0xFFFF);
  EXPECT_EQ(cfg_read(3, 0, 0x04, 2), 0x0547u);
  EXPECT_TRUE(dev.io_enabled());
  EXPECT_TRUE(dev.memory_enabled());
  EXPECT_TRUE(dev.bus_master_enabled());
  EXPECT_EQ(cfg_read(3, 0, 0x06, 2), 0x0200u);  // DEVSEL medium
  cfg_write(3, 0, 0x06, 2, 0xFFFF);              // W1C on clear bits: no change
  EXPECT_EQ(cfg_read(3, 0, 0x06, 2), 0x0200u);
}

TEST_F(PciTest, BarSizingAndPlacement) {
  std::vector<std::tuple<int, std::optional<uint32_t>, std::optional<uint32_t>>> changes;
  dev.on_bar_change([&](int bar, PciFunction::BarMapping o, PciFunction::BarMapping n) {
    changes.emplace_back(bar, o, n);
  });
  EXPECT_EQ(cfg_read(3, 0, 0x10, 4), 0x00000001u);  // I/O BAR type bit
  EXPECT_EQ(cfg_read(3, 0, 0x14, 4), 0x00000008u);  // prefetchable memory
  cfg_write(3, 0, 0x10, 4, 0xFFFFFFFF);
  cfg_write(3, 0, 0x14, 4, 0xFFFFFFFF);
  EXPECT_EQ(cfg_read(3, 0, 0x10, 4), 0xFFFFFFE1u);  // size 32
  EXPECT_EQ(cfg_read(3, 0, 0x14, 4), 0xFFFFF008u);  // size 4 KiB
  EXPECT_EQ(cfg_read(3, 0, 0x18, 4), 0x00000000u);  // unimplemented BAR
  cfg_write(3, 0, 0x18, 4, 0xFFFFFFFF);
  EXPECT_EQ(cfg_read(3, 0, 0x18, 4), 0x00000000u);
  // Enabling decode while the sizing value is in the BARs maps nothing.
  cfg_write(3, 0, 0x04, 2, 0x0003);
  EXPECT_TRUE(changes.empty());
  cfg_write(3, 0, 0x10, 4, 0xC000);
  cfg_write(3, 0, 0x14, 4, 0xFEBF1000);
  EXPECT_EQ(dev.bar_address(0), 0xC000u);
  EXPECT_EQ(dev.bar_address(1), 0xFEBF1000u);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(std::get<0>(changes[0]), 0);
  EXPECT_EQ(std::get<2>(changes[0]), std::optional<uint32_t>(0xC000));
  EXPECT_EQ(std::get<2>(changes[1]), std::optional<uint32_t>(0xFEBF1000));
  // Turning I/O decode off unmaps BAR 0 only.
  cfg_write(3, 0, 0x04, 2, 0x0002);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(std::get<0>(changes[2]), 0);
  EXPECT_EQ(std::get<1>(changes[2]), std::optional<uint32_t>(0xC000));
  EXPECT_FALSE(std::get<2>(changes[2]).has_value());
  // Unaligned address bits are dropped.
  cfg_write(3, 0, 0x14, 4, 0xFEBF2345);
  EXPECT_EQ(cfg_read(3, 0, 0x14, 4), 0xFEBF2008u);
  // Reset unmaps and clears the BARs.
  pci.reset();
  EXPECT_EQ(cfg_read(3, 0, 0x14, 4), 0x00000008u);
  EXPECT_EQ(cfg_read(3, 0, 0x04, 2), 0x0000u);
  EXPECT_FALSE(dev.bar_mapping(1).has_value());
}

TEST_F(PciTest, ExpansionRomBar) {
  std::vector<std::pair<int, std::optional<uint32_t>>> changes;
  dev.on_bar_change(
      [&](int bar, PciFunction::BarMapping, PciFunction::BarMapping n) { changes.emplace_back(bar, n); });
  EXPECT_EQ(cfg_read(3, 0, 0x30, 4), 0u);
  cfg_write(3, 0, 0x30, 4, 0xFFFFFFFE);  // sizing without the enable bit
  EXPECT_EQ(cfg_read(3, 0, 0x30, 4), 0xFFFF0000u);
  cfg_write(3, 0, 0x30, 4, 0xFEB80000);
  cfg_write(3, 0, 0x04, 2, 0x0002);
  EXPECT_TRUE(changes.empty());  // not enabled yet
  cfg_write(3, 0, 0x30, 4, 0xFEB80001);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, pci::kRomBar);
  EXPECT_EQ(changes[0].second, std::optional<uint32_t>(0xFEB80000));
  EXPECT_EQ(dev.bar_size(pci::kRomBar), 64u * 1024);
  cfg_write(3, 0, 0x30, 4, 0xFEB80000);  // disable
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_FALSE(changes[1].second.has_value());
  EXPECT_EQ(cfg_read(3, 0, 0x30, 4), 0xFEB80000u);
  // Functions without a ROM BAR read 0 there.
  cfg_write(0, 0, 0x30, 4, 0xFFFFFFFF);
  EXPECT_EQ(cfg_read(0, 0, 0x30, 4), 0u);
}

TEST_F(PciTest, DataPortAccessesPastTheDwordAreClipped) {
  select(0, 0, 0x00);
  EXPECT_EQ(bus.read(0xCFE, 4), 0xFFFF1237u);
  EXPECT_EQ(bus.read(0xCFF, 2), 0xFF12u);
}

TEST_F(PciTest, MultiFunctionBitOnFunctionZero) {
  EXPECT_EQ(cfg_read(1, 0, 0x0E, 1), 0x00u);
  TestFunction ide_like;
  EXPECT_TRUE(pci.add(1, 1, &ide_like));
  EXPECT_FALSE(pci.add(1, 1, &ide_like));
  EXPECT_FALSE(pci.add(32, 0, &ide_like));
  EXPECT_EQ(cfg_read(1, 0, 0x0E, 1), 0x80u);
  EXPECT_EQ(cfg_read(1, 1, 0x00, 4), 0x56781234u);
}

TEST_F(PciTest, PamChangesReportSegments) {
  pam_events.clear();
  cfg_write(0, 0, 0x59, 1, 0x30);  // 0xF0000: RAM read+write
  ASSERT_EQ(pam_events.size(), 1u);
  EXPECT_EQ(pam_events[0].base, 0xF0000u);
  EXPECT_EQ(pam_events[0].size, 0x10000u);
  EXPECT_TRUE(pam_events[0].re);
  EXPECT_TRUE(pam_events[0].we);
  EXPECT_EQ(cfg_read(0, 0, 0x59, 1), 0x30u);
  pam_events.clear();
  cfg_write(0, 0, 0x5A, 1, 0x21);  // 0xC0000 read-only RAM, 0xC4000 write-only RAM
  ASSERT_EQ(pam_events.size(), 2u);
  EXPECT_EQ(pam_events[0].base, 0xC0000u);
  EXPECT_EQ(pam_events[0].size, 0x4000u);
  EXPECT_TRUE(pam_events[0].re);
  EXPECT_FALSE(pam_events[0].we);
  EXPECT_EQ(pam_events[1].base, 0xC4000u);
  EXPECT_FALSE(pam_events[1].re);
  EXPECT_TRUE(pam_events[1].we);
  // A dword write over PAM3-PAM6 (0x5C-0x5F): only changed segments report.
  pam_events.clear();
  cfg_write(0, 0, 0x5C, 4, 0x33000000);  // PAM6 = 0x33: 0xE8000 and 0xEC000
  ASSERT_EQ(pam_events.size(), 2u);
  EXPECT_EQ(pam_events[0].base, 0xE8000u);
  EXPECT_EQ(pam_events[1].base, 0xEC000u);
  // Reserved bits do not stick; an unchanged rewrite reports nothing.
  pam_events.clear();
  cfg_write(0, 0, 0x59, 1, 0xFF);
  EXPECT_EQ(cfg_read(0, 0, 0x59, 1), 0x30u);
  EXPECT_TRUE(pam_events.empty());
  I440fxHostBridge::PamSegment seg = host.pam_segment(12);
  EXPECT_EQ(seg.base, 0xEC000u);
  EXPECT_TRUE(seg.read_ram && seg.write_ram);
  // Reset returns changed segments to the ROM side.
  pam_events.clear();
  pci.reset();
  EXPECT_EQ(pam_events.size(), 5u);
  for (const auto& e : pam_events) EXPECT_FALSE(e.re || e.we);
}

TEST_F(PciTest, SmramStoresAndLocks) {
  EXPECT_EQ(cfg_read(0, 0, 0x72, 1), 0x02u);
  cfg_write(0, 0, 0x72, 1, 0x4A);  // D_OPEN | G_SMRAME
  EXPECT_EQ(cfg_read(0, 0, 0x72, 1), 0x4Au);
  cfg_write(0, 0, 0x72, 1, 0x1A);  // lock
  EXPECT_EQ(cfg_read(0, 0, 0x72, 1), 0x1Au);
  cfg_write(0, 0, 0x72, 1, 0x40);  // D_OPEN refused, lock stays
  EXPECT_EQ(cfg_read(0, 0, 0x72, 1) & 0x50u, 0x10u);
}

TEST_F(PciTest, PirqRoutingWithSwizzleAndSharing) {
  EXPECT_EQ(cfg_read(1, 0, 0x60, 4), 0x80808080u);
  EXPECT_EQ(piix3.pirq_to_irq(0), -1);
  // Not routed yet: asserting INTA# of slot 3 (-> PIRQD) raises nothing.
  piix3.set_pci_intx(3, 1, true);
  EXPECT_TRUE(irq_events.empty());
  EXPECT_TRUE(piix3.pirq_level(3));
  // Route PIRQA..D to 10, 10, 11, 11 (one dword write).
  cfg_write(1, 0, 0x60, 4, 0x0B0B0A0A);
  EXPECT_EQ(piix3.pirq_to_irq(0), 10);
  EXPECT_EQ(piix3.pirq_to_irq(3), 11);
  ASSERT_EQ(irq_events.size(), 1u);
  EXPECT_EQ(irq_events[0], std::make_pair(11, true));
  // Slot 2 INTB# also lands on PIRQD: IRQ 11 stays high until both drop.
  irq_events.clear();
  piix3.set_pci_intx(2, 2, true);
  EXPECT_TRUE(irq_events.empty());
  piix3.set_pci_intx(3, 1, false);
  EXPECT_TRUE(irq_events.empty());
  EXPECT_TRUE(piix3.isa_irq_level(11));
  piix3.set_pci_intx(2, 2, false);
  ASSERT_EQ(irq_events.size(), 1u);
  EXPECT_EQ(irq_events[0], std::make_pair(11, false));
  // Two PIRQs on one ISA IRQ: slot 0 INTA# (PIRQA) and slot 1 INTA# (PIRQB) -> 10.
  irq_events.clear();
  piix3.set_pci_intx(0, 1, true);
  piix3.set_pci_intx(1, 1, true);
  piix3.set_pci_intx(0, 1, false);
  EXPECT_TRUE(piix3.isa_irq_level(10));
  piix3.set_pci_intx(1, 1, false);
  ASSERT_EQ(irq_events.size(), 2u);
  EXPECT_EQ(irq_events[1], std::make_pair(10, false));
}

TEST_F(PciTest, RerouteMovesAnAssertedLevelAndDisableDropsIt) {
  cfg_write(1, 0, 0x60, 1, 0x05);  // PIRQA -> IRQ 5
  piix3.set_pci_intx(4, 4, true);  // (4 + 4 - 1) & 3 = 3 -> PIRQD
  piix3.set_pci_intx(5, 4, true);  // (5 + 3) & 3 = 0 -> PIRQA
  irq_events.clear();
  cfg_write(1, 0, 0x60, 1, 0x09);  // PIRQA -> IRQ 9
  ASSERT_EQ(irq_events.size(), 2u);
  EXPECT_EQ(irq_events[0], std::make_pair(5, false));
  EXPECT_EQ(irq_events[1], std::make_pair(9, true));
  irq_events.clear();
  cfg_write(1, 0, 0x60, 1, 0x89);  // IRQROUTEN: disabled
  EXPECT_EQ(piix3.pirq_to_irq(0), -1);
  ASSERT_EQ(irq_events.size(), 1u);
  EXPECT_EQ(irq_events[0], std::make_pair(9, false));
  // Reserved targets are not routed.
  cfg_write(1, 0, 0x61, 1, 0x02);
  EXPECT_EQ(piix3.pirq_to_irq(1), -1);
  cfg_write(1, 0, 0x61, 1, 0x0D);
  EXPECT_EQ(piix3.pirq_to_irq(1), -1);
}

TEST_F(PciTest, FunctionIntxLineHonoursDisableBit) {
  dev.intx().connect(piix3.intx_input(3, dev.interrupt_pin()));
  cfg_write(1, 0, 0x63, 1, 0x0B);  // PIRQD -> IRQ 11
  dev.set_intx(true);
  EXPECT_TRUE(piix3.isa_irq_level(11));
  EXPECT_EQ(cfg_read(3, 0, 0x06, 2) & pci::kStatusInterrupt, pci::kStatusInterrupt);
  cfg_write(3, 0, 0x04, 2, pci::kCommandIntxDisable);
  EXPECT_FALSE(piix3.isa_irq_level(11));
  EXPECT_EQ(cfg_read(3, 0, 0x06, 2) & pci::kStatusInterrupt, pci::kStatusInterrupt);
  cfg_write(3, 0, 0x04, 2, 0);
  EXPECT_TRUE(piix3.isa_irq_level(11));
  dev.set_intx(false);
  EXPECT_FALSE(piix3.isa_irq_level(11));
}

TEST_F(PciTest, ResetControlRegister) {
  int resets = 0;
  piix3.on_reset_request([&] { ++resets; });
  bus.write(0xCF9, 1, 0x02);
  EXPECT_EQ(resets, 0);
  EXPECT_EQ(bus.read(0xCF9, 1), 0x02u);
  bus.write(0xCF9, 1, 0x06);
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(bus.read(0xCF8, 4), bus.read(0xCF8, 4));  // 0xCF8 still the address register
}

}  // namespace
}  // namespace popek

namespace popek {
namespace {

TEST_F(PciTest, ResetDropsRoutingAndRoutedLevels) {
  cfg_write(1, 0, 0x60, 1, 0x0A);
  piix3.set_pci_intx(0, 1, true);
  EXPECT_TRUE(piix3.isa_irq_level(10));
  irq_events.clear();
  pci.reset();
  EXPECT_EQ(bus.read(0xCF8, 4), 0u);
  EXPECT_EQ(cfg_read(1, 0, 0x60, 4), 0x80808080u);
  ASSERT_EQ(irq_events.size(), 1u);
  EXPECT_EQ(irq_events[0], std::make_pair(10, false));
}

TEST_F(PciTest, RandomConfigTrafficIsHarmless) {
  uint32_t seed = 777;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 4;
  };
  for (int i = 0; i < 100000; ++i) {
    const uint32_t r = next();
    const uint16_t port = static_cast<uint16_t>(0xCF8 + (r & 7));
    static constexpr unsigned kSizes[] = {1, 2, 4, 4};
    const unsigned size = kSizes[r >> 3 & 3];
    if (r >> 5 & 1) {
      bus.read(port, size);
    } else if (port == 0xCF8 && size == 4) {
      bus.write(port, 4, 0x80000000u | (next() & 0x0000FFFC) | ((r >> 6 & 1) << 16));
    } else if (port != 0xCF9) {
      bus.write(port, size, next());
    }
  }
  // Identity registers survive anything a guest writes.
  EXPECT_EQ(cfg_read(0, 0, 0x00, 4), 0x12378086u);
  EXPECT_EQ(cfg_read(1, 0, 0x00, 4), 0x70008086u);
  EXPECT_EQ(cfg_read(3, 0, 0x08, 4), 0x02000007u);
}

}  // namespace
}  // namespace popek

namespace popek {
namespace {

class NicLike : public PciFunction {
 public:
  NicLike() : PciFunction(0x10EC, 0x8029, 0x02, 0x00, 0x00) { set_interrupt_pin(1); }
};

class PciPlatformTest : public ::testing::Test {
 protected:
  PciPlatformTest() : isa([this](int irq, bool level) { pic.set_irq(irq, level); }) {
    pic.attach(bus);
    pci.attach(bus);
    isa.attach(bus);
    ide.attach(bus);
    pci.add(0, 0, &host);
    pci.add(1, 0, &isa);
    pci.add(1, 1, &ide);
    pci.add(3, 0, &nic);
    ide.irq14().connect(pic.input(14));
    ide.irq15().connect(pic.input(15));
    nic.intx().connect(isa.intx_input(3, nic.interrupt_pin()));
    // PC initialization: vectors 0x08 and 0x70, slave on IR2.
    for (auto [port, v] : {std::pair{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01},
                           {0xA0, 0x11}, {0xA1, 0x70}, {0xA1, 0x02}, {0xA1, 0x01}})
      bus.write(static_cast<uint16_t>(port), 1, static_cast<uint32_t>(v));
  }
  void cfg_write(int dev, int fn, uint8_t reg, unsigned size, uint32_t value) {
    bus.write(0xCF8, 4, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC));
    bus.write(static_cast<uint16_t>(0xCFC + (reg & 3)), size, value);
  }
  uint32_t cfg_read(int dev, int fn, uint8_t reg, unsigned size) {
    bus.write(0xCF8, 4, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC));
    return bus.read(static_cast<uint16_t>(0xCFC + (reg & 3)), size);
  }
  void eoi() {
    bus.write(0xA0, 1, 0x20);
    bus.write(0x20, 1, 0x20);
  }

  IoBus bus;
  Pic8259Pair pic;
  PciBus pci;
  I440fxHostBridge host;
  Piix3IsaBridge isa;
  PiixIde ide;
  NicLike nic;
};

TEST_F(PciPlatformTest, EnumerationSeesTheChipset) {
  EXPECT_EQ(cfg_read(0, 0, 0x00, 4), 0x12378086u);
  EXPECT_EQ(cfg_read(1, 0, 0x00, 4), 0x70008086u);
  EXPECT_EQ(cfg_read(1, 0, 0x0E, 1), 0x80u);  // multi-function: IDE at 01.1
  EXPECT_EQ(cfg_read(1, 1, 0x00, 4), 0x70108086u);
  EXPECT_EQ(cfg_read(1, 2, 0x00, 4), 0xFFFFFFFFu);
  EXPECT_EQ(cfg_read(2, 0, 0x00, 4), 0xFFFFFFFFu);
}

TEST_F(PciPlatformTest, IdeCompletionReachesThePicAsIrq14) {
  ide.primary().set_device(0, std::make_unique<AtaDisk>(DiskImage::blank(4096)));
  bus.write(0x1F6, 1, 0xA0);
  bus.write(0x1F7, 1, 0xEC);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x76);  // slave IR6
  bus.read(0x1F7, 1);                  // the handler reads status: INTRQ drops
  eoi();
  EXPECT_FALSE(pic.intr_pending());
}

TEST_F(PciPlatformTest, RoutedPciInterruptIsLevelTriggeredThroughElcr) {
  cfg_write(1, 0, 0x63, 1, 0x0B);  // PIRQD -> IRQ 11 (slot 3 INTA# -> PIRQD)
  bus.write(0x4D1, 1, 0x08);       // ELCR: IRQ 11 level triggered
  nic.set_intx(true);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x73);
  eoi();
  // Still asserted: a level-triggered input requests again after the EOI.
  EXPECT_TRUE(pic.intr_pending());
  EXPECT_TRUE(pic.irr() & (1u << 11));
  nic.set_intx(false);
  // The request leaves the IRR with the level. (The master's edge-latched
  // cascade input may still yield the spurious IRQ 15 vector; that is the
  // PIC's business.)
  EXPECT_FALSE(pic.irr() & (1u << 11));
}

}  // namespace
}  // namespace popek
