// Unit tests for the 8259A pair: programmed through its ports on an IoBus,
// with interrupts raised through set_irq() and IrqLine sinks, and INTA cycles
// performed through the InterruptController interface the CPU uses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/io_bus.h"
#include "core/irq.h"
#include "devices/pic8259.h"

namespace popek {
namespace {

class PicTest : public ::testing::Test {
 protected:
  PicTest() {
    pic.attach(bus);
    pic.set_log([this](std::string_view m) { log.emplace_back(m); });
  }

  void out(uint16_t port, uint8_t value) { bus.write(port, 1, value); }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(bus.read(port, 1)); }

  // The PC BIOS/Linux sequence: edge triggered, cascade, ICW4 (8086 mode).
  void init_master(uint8_t base = 0x08, uint8_t icw4 = 0x01) {
    out(0x20, 0x11);
    out(0x21, base);
    out(0x21, 0x04);  // slave on IR2
    out(0x21, icw4);
  }
  void init_slave(uint8_t base = 0x70, uint8_t icw4 = 0x01) {
    out(0xA0, 0x11);
    out(0xA1, base);
    out(0xA1, 0x02);  // slave ID 2
    out(0xA1, icw4);
  }
  void init_pc(uint8_t icw4 = 0x01) {
    init_master(0x08, icw4);
    init_slave(0x70, icw4);
  }
  uint8_t read_isr(uint16_t command_port) {
    out(command_port, 0x0B);
    return in(command_port);
  }
  uint8_t read_irr(uint16_t command_port) {
    out(command_port, 0x0A);
    return in(command_port);
  }
  void eoi(uint16_t command_port) { out(command_port, 0x20); }
  void pulse(int irq) {
    pic.set_irq(irq, true);
    pic.set_irq(irq, false);
  }

  IoBus bus;
  Pic8259Pair pic;
  std::vector<std::string> log;
};

TEST_F(PicTest, NothingPendingAfterConstruction) {
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(pic.irr(), 0);
  EXPECT_EQ(pic.isr(), 0);
  EXPECT_EQ(pic.imr(), 0);
}

TEST_F(PicTest, InitializedIrqGivesVectorBasePlusLine) {
  init_pc();
  EXPECT_TRUE(pic.master().initialized());
  pic.set_irq(1, true);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x09);
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(read_isr(0x20), 0x02);
  EXPECT_EQ(read_irr(0x20), 0x00);  // edge latch consumed by INTA
}

TEST_F(PicTest, Icw2LowBitsAreIgnoredInX86Mode) {
  init_master(0x2F);
  pic.set_irq(3, true);
  EXPECT_EQ(pic.acknowledge(), 0x2B);
}

TEST_F(PicTest, SingleModeSkipsIcw3) {
  out(0x20, 0x13);  // single, IC4
  out(0x21, 0x40);  // ICW2
  out(0x21, 0x03);  // ICW4: 8086, AEOI -- not taken as ICW3
  EXPECT_TRUE(pic.master().auto_eoi());
  out(0x21, 0xF0);  // now OCW1
  EXPECT_EQ(in(0x21), 0xF0);
  pic.set_irq(3, true);
  EXPECT_EQ(pic.acknowledge(), 0x43);
  EXPECT_EQ(read_isr(0x20), 0x00);  // auto-EOI
}

TEST_F(PicTest, NoIcw4MeansNextDataByteIsTheMask) {
  out(0x20, 0x12);  // single, no ICW4
  out(0x21, 0x50);  // ICW2
  out(0x21, 0x7F);  // OCW1
  EXPECT_EQ(in(0x21), 0x7F);
  EXPECT_FALSE(pic.master().auto_eoi());
}

TEST_F(PicTest, Icw4WithoutX86ModeIsLoggedButWorks) {
  init_master(0x08, 0x00);  // uPM = 0: MCS-80 mode
  EXPECT_EQ(pic.ignored_writes(), 1u);
  pic.set_irq(4, true);
  EXPECT_EQ(pic.acknowledge(), 0x0C);
}

TEST_F(PicTest, Icw1ClearsMaskAndInService) {
  init_pc();
  out(0x21, 0xFF);
  pic.set_irq(0, true);
  out(0x21, 0x00);
  EXPECT_EQ(pic.acknowledge(), 0x08);
  EXPECT_EQ(read_isr(0x20), 0x01);
  out(0x21, 0xAA);
  init_master();
  EXPECT_EQ(in(0x21), 0x00);
  EXPECT_EQ(read_isr(0x20), 0x00);
}

TEST_F(PicTest, Icw1ResetsEdgeSenseSoAHighInputNeedsANewEdge) {
  init_pc();
  pic.set_irq(5, true);  // held high
  init_master();
  EXPECT_FALSE(pic.intr_pending());
  pic.set_irq(5, false);
  pic.set_irq(5, true);
  EXPECT_TRUE(pic.intr_pending());
}

TEST_F(PicTest, MaskInhibitsAndUnmaskDelivers) {
  init_pc();
  out(0x21, 0x08);
  EXPECT_EQ(in(0x21), 0x08);
  pulse(3);
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(read_irr(0x20), 0x08);  // request stays latched while masked
  out(0x21, 0x00);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x0B);
}

TEST_F(PicTest, HighestPriorityServedFirst) {
  init_pc();
  pulse(3);
  pulse(1);
  pulse(6);
  EXPECT_EQ(pic.acknowledge(), 0x09);
  eoi(0x20);
  EXPECT_EQ(pic.acknowledge(), 0x0B);
  eoi(0x20);
  EXPECT_EQ(pic.acknowledge(), 0x0E);
  eoi(0x20);
  EXPECT_FALSE(pic.intr_pending());
}

TEST_F(PicTest, FullyNestedInServiceBlocksEqualAndLowerOnly) {
  init_pc();
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x0B);
  pulse(5);
  EXPECT_FALSE(pic.intr_pending());  // lower priority than IR3 in service
  pulse(1);
  ASSERT_TRUE(pic.intr_pending());  // higher priority nests
  EXPECT_EQ(pic.acknowledge(), 0x09);
  EXPECT_EQ(read_isr(0x20), 0x0A);
  eoi(0x20);  // clears IR1, the highest in service
  EXPECT_EQ(read_isr(0x20), 0x08);
  EXPECT_FALSE(pic.intr_pending());
  eoi(0x20);  // clears IR3
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x0D);
}

TEST_F(PicTest, SpecificEoiClearsOnlyTheNamedLevel) {
  init_pc();
  pulse(4);
  EXPECT_EQ(pic.acknowledge(), 0x0C);
  pulse(0);
  EXPECT_EQ(pic.acknowledge(), 0x08);
  EXPECT_EQ(read_isr(0x20), 0x11);
  out(0x20, 0x60 | 4);  // specific EOI IR4
  EXPECT_EQ(read_isr(0x20), 0x01);
  out(0x20, 0x60 | 0);
  EXPECT_EQ(read_isr(0x20), 0x00);
}

TEST_F(PicTest, RotateOnNonSpecificEoiMakesServedLevelLowest) {
  init_pc();
  pulse(0);
  EXPECT_EQ(pic.acknowledge(), 0x08);
  out(0x20, 0xA0);  // rotate on non-specific EOI
  EXPECT_EQ(pic.master().lowest_priority(), 0);
  EXPECT_EQ(read_isr(0x20), 0x00);
  pulse(0);
  pulse(5);
  EXPECT_EQ(pic.acknowledge(), 0x0D);  // IR1 is now highest, IR0 lowest
  out(0x20, 0xA0);                     // rotate again: IR5 lowest, IR6 highest
  pulse(4);
  EXPECT_EQ(pic.acknowledge(), 0x08);  // order 6,7,0,1,2,3,4,5: IR0 before IR4
  out(0x20, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x0C);
}

TEST_F(PicTest, SetPriorityCommand) {
  init_pc();
  out(0x20, 0xC0 | 3);  // IR3 lowest, IR4 highest
  EXPECT_EQ(pic.master().lowest_priority(), 3);
  pulse(1);
  pulse(4);
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x0C);
  // IR4 in service: IR1 and IR3 rank below it.
  EXPECT_FALSE(pic.intr_pending());
  eoi(0x20);
  EXPECT_EQ(pic.acknowledge(), 0x09);
  eoi(0x20);
  EXPECT_EQ(pic.acknowledge(), 0x0B);
}

TEST_F(PicTest, NonSpecificEoiFollowsRotatedPriority) {
  init_pc();
  out(0x20, 0xC0 | 4);  // order 5,6,7,0,1,2,3,4
  pulse(1);
  EXPECT_EQ(pic.acknowledge(), 0x09);
  pulse(6);
  EXPECT_EQ(pic.acknowledge(), 0x0E);  // IR6 outranks IR1 now
  eoi(0x20);
  EXPECT_EQ(read_isr(0x20), 0x02);  // IR6 was the highest in service
}

TEST_F(PicTest, RotateOnSpecificEoi) {
  init_pc();
  pulse(6);
  EXPECT_EQ(pic.acknowledge(), 0x0E);
  out(0x20, 0xE0 | 6);  // clear IR6, make it lowest (IR7 highest)
  EXPECT_EQ(read_isr(0x20), 0x00);
  EXPECT_EQ(pic.master().lowest_priority(), 6);
  pulse(0);
  pulse(7);
  EXPECT_EQ(pic.acknowledge(), 0x0F);
}

TEST_F(PicTest, NoOperationOcw2ChangesNothing) {
  init_pc();
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x0B);
  out(0x20, 0x40);
  EXPECT_EQ(read_isr(0x20), 0x08);
  EXPECT_EQ(pic.master().lowest_priority(), 7);
}

TEST_F(PicTest, AutoEoiLeavesInServiceClear) {
  init_pc(0x03);
  EXPECT_TRUE(pic.master().auto_eoi());
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x0B);
  EXPECT_EQ(read_isr(0x20), 0x00);
  pulse(5);  // lower priority, but nothing is in service
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x0D);
  EXPECT_EQ(pic.master().lowest_priority(), 7);  // no rotation by default
}

TEST_F(PicTest, RotateInAutoEoiModeSetAndClear) {
  init_pc(0x03);
  out(0x20, 0x80);  // rotate in AEOI mode: set
  pulse(1);
  EXPECT_EQ(pic.acknowledge(), 0x09);
  EXPECT_EQ(pic.master().lowest_priority(), 1);
  pulse(0);
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x0B);  // IR2 highest now; IR3 before IR0
  EXPECT_EQ(pic.master().lowest_priority(), 3);
  out(0x20, 0x00);  // rotate in AEOI mode: clear
  EXPECT_EQ(pic.acknowledge(), 0x08);
  EXPECT_EQ(pic.master().lowest_priority(), 3);
}

TEST_F(PicTest, EdgeTriggeredNeedsANewEdgeAfterEoi) {
  init_pc();
  pic.set_irq(4, true);
  EXPECT_EQ(pic.acknowledge(), 0x0C);
  eoi(0x20);
  EXPECT_FALSE(pic.intr_pending());  // still high, but no new edge
  pic.set_irq(4, true);              // same level again: not an edge
  EXPECT_FALSE(pic.intr_pending());
  pic.set_irq(4, false);
  pic.set_irq(4, true);
  EXPECT_TRUE(pic.intr_pending());
}

TEST_F(PicTest, EdgeRequestStaysLatchedAfterThePulse) {
  init_pc();
  IrqLine line(pic.input(6));
  line.pulse();
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x0E);
}

TEST_F(PicTest, LevelTriggeredViaElcrRetriggersUntilLowered) {
  init_pc();
  out(0x4D0, 0x08);  // IRQ3 level
  EXPECT_EQ(in(0x4D0), 0x08);
  pic.set_irq(3, true);
  EXPECT_EQ(pic.acknowledge(), 0x0B);
  EXPECT_EQ(read_irr(0x20), 0x08);  // IRR follows the held line
  EXPECT_FALSE(pic.intr_pending());  // in service
  eoi(0x20);
  ASSERT_TRUE(pic.intr_pending());  // still asserted: interrupts again
  EXPECT_EQ(pic.acknowledge(), 0x0B);
  pic.set_irq(3, false);
  eoi(0x20);
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(read_irr(0x20), 0x00);
}

TEST_F(PicTest, LevelTriggeredViaIcw1Ltim) {
  out(0x20, 0x19);  // LTIM, cascade, IC4
  out(0x21, 0x20);
  out(0x21, 0x04);
  out(0x21, 0x01);
  pic.set_irq(5, true);
  EXPECT_EQ(pic.acknowledge(), 0x25);
  eoi(0x20);
  EXPECT_TRUE(pic.intr_pending());
  pic.set_irq(5, false);
  EXPECT_FALSE(pic.intr_pending());
}

TEST_F(PicTest, LevelInputPickedUpWhenElcrSwitchesIt) {
  init_pc();
  pic.set_irq(9, true);
  EXPECT_EQ(pic.acknowledge(), 0x71);
  out(0xA0, 0x20);
  out(0x20, 0x20);
  EXPECT_FALSE(pic.intr_pending());
  out(0x4D1, 0x02);  // IRQ9 level: the held line requests again
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x71);
}

TEST_F(PicTest, ElcrReservedBitsReadAsZeroAndAreLogged) {
  out(0x4D0, 0xFF);
  out(0x4D1, 0xFF);
  EXPECT_EQ(in(0x4D0), 0xF8);
  EXPECT_EQ(in(0x4D1), 0xDE);
  EXPECT_EQ(pic.ignored_writes(), 2u);
  EXPECT_EQ(log.size(), 2u);
}

TEST_F(PicTest, SpuriousIrq7WhenLevelRequestVanishesBeforeInta) {
  init_pc();
  out(0x4D0, 0x20);  // IRQ5 level
  pic.set_irq(5, true);
  EXPECT_TRUE(pic.intr_pending());
  pic.set_irq(5, false);  // dropped before the CPU's INTA
  EXPECT_EQ(pic.acknowledge(), 0x0F);
  EXPECT_EQ(read_isr(0x20), 0x00);  // spurious: IR7 not in service
}

TEST_F(PicTest, SpuriousIrq7WithNothingPendingAtAll) {
  init_pc();
  EXPECT_EQ(pic.acknowledge(), 0x0F);
  EXPECT_EQ(pic.isr(), 0);
}

TEST_F(PicTest, SpuriousIrq15LeavesMasterCascadeInService) {
  init_pc();
  out(0x4D1, 0x08);  // IRQ11 level
  pic.set_irq(11, true);
  EXPECT_TRUE(pic.intr_pending());
  pic.set_irq(11, false);
  EXPECT_EQ(pic.acknowledge(), 0x77);
  EXPECT_EQ(read_isr(0xA0), 0x00);
  EXPECT_EQ(read_isr(0x20), 0x04);  // the OS must EOI the master
  eoi(0x20);
  EXPECT_EQ(pic.isr(), 0);
}

TEST_F(PicTest, CascadeDeliversSlaveVectorAndNeedsBothEois) {
  init_pc();
  pulse(12);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x74);
  EXPECT_EQ(read_isr(0x20), 0x04);
  EXPECT_EQ(read_isr(0xA0), 0x10);
  pulse(3);  // below IR2 on the master: blocked until the master's EOI
  EXPECT_FALSE(pic.intr_pending());
  pulse(0);  // above IR2: nests
  EXPECT_EQ(pic.acknowledge(), 0x08);
  eoi(0x20);  // IR0
  eoi(0xA0);
  EXPECT_FALSE(pic.intr_pending());
  eoi(0x20);  // IR2
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x0B);
}

TEST_F(PicTest, SlaveMaskAndMasterCascadeMask) {
  init_pc();
  out(0xA1, 0x01);
  pulse(8);
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(read_irr(0xA0), 0x01);
  out(0x21, 0x04);  // mask the cascade on the master
  out(0xA1, 0x00);
  EXPECT_FALSE(pic.intr_pending());
  out(0x21, 0x00);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x70);
}

TEST_F(PicTest, SlavePriorityWithTwoRequests) {
  init_pc();
  pulse(15);
  pulse(9);
  EXPECT_EQ(pic.acknowledge(), 0x71);
  out(0xA0, 0x20);
  out(0x20, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x77);
  EXPECT_EQ(read_isr(0xA0), 0x80);  // a real IRQ15, in service
}

TEST_F(PicTest, FullyNestedBlocksHigherSlaveLevelWhileCascadeInService) {
  init_pc();
  pulse(12);
  EXPECT_EQ(pic.acknowledge(), 0x74);
  pulse(8);  // higher on the slave, but the master's IR2 is in service
  EXPECT_FALSE(pic.intr_pending());
  out(0xA0, 0x20);
  out(0x20, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x70);
}

TEST_F(PicTest, SpecialFullyNestedLetsHigherSlaveLevelThrough) {
  init_master(0x08, 0x11);  // SFNM
  init_slave();
  EXPECT_TRUE(pic.master().special_fully_nested());
  pulse(12);
  EXPECT_EQ(pic.acknowledge(), 0x74);
  pulse(13);  // lower on the slave: still blocked by the slave's ISR
  EXPECT_FALSE(pic.intr_pending());
  pulse(8);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x70);
  EXPECT_EQ(read_isr(0xA0), 0x11);
  pulse(3);  // master IR3 is still below IR2 in service
  EXPECT_EQ(pic.acknowledge(), 0x0F);  // nothing serviceable: spurious
}

TEST_F(PicTest, SlaveAutoEoiKeepsMasterCascadeInService) {
  init_master();
  init_slave(0x70, 0x03);
  pulse(10);
  EXPECT_EQ(pic.acknowledge(), 0x72);
  EXPECT_EQ(read_isr(0xA0), 0x00);
  EXPECT_EQ(read_isr(0x20), 0x04);
}

TEST_F(PicTest, PollCommandActsAsAcknowledge) {
  init_pc();
  out(0x21, 0xFF);  // polled systems run with INT masked
  out(0x21, 0x00);
  pulse(5);
  pulse(6);
  out(0x20, 0x0C);  // OCW3 poll
  EXPECT_EQ(in(0x20), 0x85);
  EXPECT_EQ(read_isr(0x20), 0x20);
  EXPECT_EQ(read_irr(0x20), 0x40);
  out(0x20, 0x0C);
  EXPECT_EQ(in(0x21), 0x00);  // IR6 blocked by IR5 in service: no request
  eoi(0x20);
  out(0x20, 0x0C);
  EXPECT_EQ(in(0x21), 0x86);  // the data port answers a poll too
  EXPECT_EQ(in(0x21), 0x00);  // one read per poll command: this is the IMR
}

TEST_F(PicTest, PollOfSlaveThroughCascade) {
  init_pc();
  pulse(11);
  out(0x20, 0x0C);
  EXPECT_EQ(in(0x20), 0x82);  // the master reports its cascade level
  out(0xA0, 0x0C);
  EXPECT_EQ(in(0xA0), 0x83);
  EXPECT_EQ(pic.isr(), 0x0804);
}

TEST_F(PicTest, ReadRegisterSelectionPersists) {
  init_pc();
  EXPECT_EQ(in(0x20), 0x00);  // IRR selected after ICW1
  pulse(1);
  pulse(4);
  EXPECT_EQ(in(0x20), 0x12);
  EXPECT_EQ(pic.acknowledge(), 0x09);
  out(0x20, 0x0B);
  EXPECT_EQ(in(0x20), 0x02);
  EXPECT_EQ(in(0x20), 0x02);  // still ISR
  out(0x20, 0x08);            // OCW3 without RR: selection unchanged
  EXPECT_EQ(in(0x20), 0x02);
  out(0x20, 0x0A);
  EXPECT_EQ(in(0x20), 0x10);
}

TEST_F(PicTest, SpecialMaskModeEnablesLowerLevels) {
  init_pc();
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x0B);
  out(0x21, 0x08);  // mask own level
  out(0x20, 0x68);  // ESMM + SMM
  EXPECT_TRUE(pic.master().special_mask_mode());
  pulse(5);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x0D);
  pulse(6);  // IR5 in service, but in SMM it does not block IR6
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x0E);
  out(0x20, 0x48);  // ESMM, SMM = 0: back to normal masking
  EXPECT_FALSE(pic.master().special_mask_mode());
  pulse(7);
  EXPECT_FALSE(pic.intr_pending());
  out(0x20, 0x28);  // SMM without ESMM: ignored
  EXPECT_FALSE(pic.master().special_mask_mode());
}

TEST_F(PicTest, IntrOutputLineFollowsPending) {
  init_pc();
  std::vector<bool> levels;
  pic.intr_output().connect([&](bool l) { levels.push_back(l); });
  pulse(0);
  EXPECT_EQ(pic.acknowledge(), 0x08);
  eoi(0x20);
  EXPECT_EQ(levels, (std::vector<bool>{true, false}));
}

TEST_F(PicTest, InvalidInputsAreLoggedAndIgnored) {
  init_pc();
  pic.set_irq(2, true);
  pic.set_irq(16, true);
  pic.set_irq(-1, true);
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(pic.ignored_writes(), 3u);
  EXPECT_EQ(log.size(), 3u);
}

TEST_F(PicTest, ResetReturnsToPowerOnStateButKeepsPinLevels) {
  init_pc();
  out(0x4D0, 0x08);
  out(0x21, 0x55);
  pulse(1);
  pic.reset();
  EXPECT_FALSE(pic.intr_pending());
  EXPECT_EQ(pic.imr(), 0);
  EXPECT_EQ(pic.isr(), 0);
  EXPECT_EQ(pic.irr(), 0);
  EXPECT_EQ(in(0x4D0), 0x00);
  EXPECT_FALSE(pic.master().initialized());
}

TEST_F(PicTest, WordAccessOnTheBusSplitsIntoBytes) {
  bus.write(0x20, 2, 0x3011);  // ICW1 to 0x20, then ICW2 0x30 to 0x21
  out(0x21, 0x04);
  out(0x21, 0x01);
  pulse(1);
  EXPECT_EQ(pic.acknowledge(), 0x31);
}

TEST_F(PicTest, ManyPulsesWhileMaskedCollapseIntoOneRequest) {
  init_pc();
  out(0x21, 0x01);
  for (int i = 0; i < 5; ++i) pulse(0);
  out(0x21, 0x00);
  EXPECT_EQ(pic.acknowledge(), 0x08);
  eoi(0x20);
  EXPECT_FALSE(pic.intr_pending());
}

}  // namespace
}  // namespace popek
