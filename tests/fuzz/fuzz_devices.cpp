// Device fuzzer: the input is a program of port and MMIO reads and writes
// (width 1, 2 or 4), PCI configuration accesses, IDE data bursts (the
// multi-sector PIO transfers of READ/WRITE SECTORS and MULTIPLE), interrupt
// acknowledges and virtual-clock advances, run against a whole Machine's
// devices without the CPU. Run under ASan and UBSan, it checks that no
// sequence a guest can issue makes a device read or write out of bounds,
// overflow, or abort; docs/hardening.md lists the QEMU device CVEs it covers.
//
// Extra invariants checked here (beyond the sanitizers):
//  - a read of width w returns a value that fits in w bytes;
//  - when the PIC says INTR is pending, acknowledging yields a vector.
//
// The machine's VGA has 256 KiB of VRAM here (most VBE modes exceed it) and
// a VGA BIOS, so its ROM BAR can be placed anywhere too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/machine.h"
#include "devices/ata_disk.h"
#include "devices/disk_image.h"
#include "devices/ide.h"
#include "devices/pci_bus.h"
#include "devices/pic8259.h"
#include "devices/vga.h"
#include "devices/vga_pci.h"
#include "tests/fuzz/fuzz_input.h"

using namespace popek;

namespace {

// Port ranges the devices decode: most picks land on a live register.
struct PortRange {
  uint16_t base;
  uint16_t count;
};
constexpr PortRange kPorts[] = {
    {0x20, 2},   {0xA0, 2},   {0x4D0, 2},  {0x40, 4},   {0x61, 1},  {0x70, 2},   {0x60, 1},
    {0x64, 1},   {0x3F8, 8},  {0x2F8, 8},  {0xCF8, 8},  {0x1F0, 8}, {0x3F6, 1},  {0x170, 8},
    {0x376, 1},  {0x510, 4},  {0xE9, 1},   {0x402, 1},  {0x92, 1},  {0x3C0, 16}, {0x3D4, 2},
    {0x3DA, 1},  {0x3B4, 2},  {0x3BA, 1},  {0x1CE, 2},  {0x80, 1},  {0xF4, 1},
};
constexpr size_t kPortRanges = sizeof(kPorts) / sizeof(kPorts[0]);

constexpr uint32_t kLfbDefault = 0xE0000000;
// Small VRAM: VBE modes larger than it are the interesting case.
constexpr uint32_t kVramBytes = 256u << 10;

struct Rig {
  std::unique_ptr<Machine> machine;

  Rig() {
    MachineConfig cfg;
    cfg.ram_mb = 2;
    cfg.deterministic = true;
    cfg.vga_vram_bytes = kVramBytes;
    // A VGA BIOS, so the ROM BAR exists and can be moved around.
    cfg.vga_bios.assign(32 * 1024, 0xCC);
    cfg.vga_bios[0] = 0x55;
    cfg.vga_bios[1] = 0xAA;
    cfg.vga_bios[2] = 64;
    machine = std::make_unique<Machine>(cfg);
  }
  uint32_t lfb_base() { return machine->vga_pci().bar_address(VgaPci::kFramebufferBar); }
};

unsigned width(uint8_t bits) {
  static constexpr unsigned kWidths[4] = {1, 2, 4, 1};
  return kWidths[bits & 3];
}

uint32_t fit(uint32_t value, unsigned size) { return size == 4 ? value : value & ((1u << (8 * size)) - 1); }

void check_width(uint32_t value, unsigned size, const char* what, uint32_t where) {
  if (size < 4 && value >> (8 * size)) {
    std::fprintf(stderr, "%s 0x%x: %u-byte read returned 0x%x\n", what, where, size, value);
    std::abort();
  }
}

uint16_t pick_port(fuzz::FuzzInput& in) {
  uint8_t sel = in.u8();
  if (sel < kPortRanges * 8) {
    const PortRange& r = kPorts[sel % kPortRanges];
    return static_cast<uint16_t>(r.base + in.u8() % r.count);
  }
  return in.u16();
}

uint32_t pick_address(fuzz::FuzzInput& in, Rig& rig) {
  uint8_t sel = in.u8();
  switch (sel & 7) {
    case 0: case 1: case 2:
      return Vga::kLegacyBase + (in.u32() % Vga::kLegacySize);
    case 3: case 4:
      return (rig.lfb_base() ? rig.lfb_base() : kLfbDefault) + in.u32() % (kVramBytes + 8);
    case 5:
      return in.u32() % (rig.machine->memory().ram_size() + 4096);
    case 6:
      return rig.machine->vga_pci().bar_address(pci::kRomBar) + in.u32() % (128 * 1024);
    default:
      return in.u32();
  }
}

// A PCI configuration access through mechanism #1 (0xCF8 address, 0xCFC data).
void pci_config(Machine& m, fuzz::FuzzInput& in) {
  uint8_t sel = in.u8();
  static constexpr uint8_t kDevfn[] = {0x00, 0x08, 0x09, 0x10};
  uint32_t devfn = sel & 0x80 ? in.u8() : kDevfn[sel & 3];
  uint8_t offset = in.u8();
  unsigned size = width(sel >> 2);
  uint32_t address = 0x80000000u | devfn << 8 | (offset & 0xFC);
  m.io().write(0xCF8, 4, address);
  uint16_t port = static_cast<uint16_t>(0xCFC + (offset & (4 - size)));
  if (sel & 0x40) {
    m.io().write(port, size, fit(in.u32(), size));
  } else {
    check_width(m.io().read(port, size), size, "pci config", offset);
  }
}

void run_program(Rig& rig, fuzz::FuzzInput& in) {
  Machine& m = *rig.machine;
  unsigned ops = 0;
  while (!in.empty() && ops++ < 4096) {
    uint8_t op = in.u8();
    switch (op % 11) {
      case 0: {  // port read
        uint16_t port = pick_port(in);
        unsigned size = width(op >> 4);
        check_width(m.io().read(port, size), size, "port", port);
        break;
      }
      case 1: case 2: {  // port write
        uint16_t port = pick_port(in);
        unsigned size = width(op >> 4);
        m.io().write(port, size, fit(in.u32(), size));
        break;
      }
      case 3: {  // memory-mapped read
        uint32_t pa = pick_address(in, rig);
        unsigned size = width(op >> 4);
        check_width(m.memory().read(pa, size), size, "mmio", pa);
        break;
      }
      case 4: {  // memory-mapped write
        uint32_t pa = pick_address(in, rig);
        unsigned size = width(op >> 4);
        m.memory().write(pa, size, fit(in.u32(), size));
        break;
      }
      case 5: {  // virtual time passes (as if the CPU retired instructions)
        uint32_t n = in.u16();
        if (op & 0x80) n <<= 8;
        m.clock().retire(n);
        m.clock().run_expired();
        break;
      }
      case 6: {  // idle until the next timer (HLT)
        if (m.clock().advance_to_next_deadline()) m.clock().run_expired();
        break;
      }
      case 7: {  // IDE data burst: REP INSW/OUTSW of up to 16 sectors
        uint16_t base = op & 0x80 ? PiixIde::kSecondaryBase : PiixIde::kPrimaryBase;
        unsigned size = op & 0x40 ? 4 : 2;
        unsigned count = (in.u8() + 1u) * 32u / size;
        bool write = op & 0x20;
        uint32_t value = in.u32();
        for (unsigned i = 0; i < count; ++i) {
          if (write) m.io().write(base, size, fit(value + i, size));
          else check_width(m.io().read(base, size), size, "ide data", base);
        }
        break;
      }
      case 8: {  // the CPU takes an interrupt
        if (m.pic().intr_pending()) (void)m.pic().acknowledge();
        break;
      }
      case 9:
        pci_config(m, in);
        break;
      case 10: {  // rare events
        uint8_t what = in.u8();
        if (what == 0xA5) {
          m.reset();
        } else if (what == 0x5A) {
          (void)m.pic().acknowledge();  // spurious INTA with nothing pending
        } else if (what < 0x40) {
          // A burst of VGA window writes (a planar fill, as a BIOS clears the screen).
          uint32_t start = in.u16();
          uint8_t value = in.u8();
          for (uint32_t i = 0; i < 256; ++i) m.memory().write(Vga::kLegacyBase + ((start + i) & 0x1FFFF), 1, value);
        }
        break;
      }
    }
  }
  // Rendering reads VRAM through every index the registers hold.
  Framebuffer picture;
  m.vga().render(picture);
  if (picture.pixels.size() != static_cast<size_t>(picture.width) * static_cast<size_t>(picture.height)) {
    std::fprintf(stderr, "render: %zu pixels for %dx%d\n", picture.pixels.size(), picture.width, picture.height);
    std::abort();
  }
  (void)m.vga().text_screen();
  (void)m.vga().text_screen_utf8();
}

// Building a Machine costs milliseconds (its page tables cover 4 GiB), so one
// rig is reused: each input starts from a machine reset, fresh disks and an
// unmapped BARs, the state a guest sees after a reset.
Rig& rig() {
  static Rig* r = new Rig;
  return *r;
}

void fresh_state(Rig& rig) {
  Machine& m = *rig.machine;
  m.reset();  // also the PCI BARs: the framebuffer and ROM BAR are unmapped
  // Disks of awkward sizes: 16 sectors (CHS geometry degenerates), one
  // sector, and 20000 sectors on the secondary channel.
  m.attach_hard_disk(0, DiskImage::blank(16));
  m.attach_hard_disk(1, DiskImage::blank(1));
  m.ide().secondary().set_device(0, std::make_unique<AtaDisk>(DiskImage::blank(20000)));
  m.ide().reset();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Rig& r = rig();
  fresh_state(r);
  fuzz::FuzzInput in(data, size);
  run_program(r, in);
  return 0;
}
