#include "devices/i440fx.h"

namespace popek {

// ----------------------------------------------------------------------------
// i440FX host bridge
// ----------------------------------------------------------------------------

namespace {
constexpr uint8_t kSmramOpen = 0x40;    // D_OPEN: SMRAM visible outside SMM
constexpr uint8_t kSmramClose = 0x20;   // D_CLS: data accesses go to PCI
constexpr uint8_t kSmramLock = 0x10;    // D_LCK: locks D_OPEN and D_LCK
constexpr uint8_t kSmramEnable = 0x08;  // G_SMRAME: global SMRAM enable
constexpr uint8_t kSmramFixed = 0x02;   // C_BASE_SEG: hard-wired 010b (0xA0000)
}  // namespace

I440fxHostBridge::I440fxHostBridge() : PciFunction(0x8086, 0x1237, 0x06, 0x00, 0x00, 0x02) {
  set_writable(0x50, 9);   // PMCCFG, DETURBO, DBC, AXC, DRT, DRAMC, DRAMT (storage only)
  set_writable(kPam0, 1, 0x30);  // PAM0: only the 0xF0000 nibble's RE/WE (bits 5:4)
  set_writable(0x5A, 6, 0x33);   // PAM1-PAM6: RE/WE of both nibbles
  set_writable(0x60, 8);   // DRB0-DRB7 DRAM row boundaries (storage only)
  set_writable(0x70, 2);   // MTT, CLT (storage only)
  set_writable(kSmram, 1, kSmramOpen | kSmramClose | kSmramLock | kSmramEnable);
  set_writable(0x78, 2);   // ERRCMD/ERRSTS-style scratch (storage only)
  reset_registers();
}

void I440fxHostBridge::reset_registers() {
  // After a reset every segment reads and writes the ROM side again; report
  // what changed (the machine may already have shadowed segments to RAM).
  const std::array<uint8_t, 7> before = pam_bytes();
  smram_locked_ = false;
  for (unsigned o = 0x50; o < 0x80; ++o) set_config8(static_cast<uint8_t>(o), 0);
  set_config8(kSmram, kSmramFixed);
  notify_pam(before);
}

std::array<uint8_t, 7> I440fxHostBridge::pam_bytes() const {
  std::array<uint8_t, 7> pam{};
  for (int i = 0; i < 7; ++i) pam[i] = config8(static_cast<uint8_t>(kPam0 + i));
  return pam;
}

unsigned I440fxHostBridge::pam_bits(const std::array<uint8_t, 7>& pam, int i) {
  if (i == 0) return pam[0] >> 4 & 3;
  const int index = i - 1;  // 0..11, two per PAM register from PAM1
  const uint8_t reg = pam[1 + index / 2];
  return (index % 2 ? reg >> 4 : reg) & 3;
}

I440fxHostBridge::PamSegment I440fxHostBridge::pam_segment(int i) const {
  if (i < 0 || i >= kPamSegments) return PamSegment{0, 0, false, false};
  const unsigned bits = pam_bits(pam_bytes(), i);
  const uint32_t base = i == 0 ? 0xF0000u : 0xC0000u + 0x4000u * static_cast<uint32_t>(i - 1);
  const uint32_t size = i == 0 ? 0x10000u : 0x4000u;
  return PamSegment{base, size, (bits & 1) != 0, (bits & 2) != 0};
}

void I440fxHostBridge::announce_pam() const {
  if (!pam_change_) return;
  for (int i = 0; i < kPamSegments; ++i) {
    PamSegment s = pam_segment(i);
    pam_change_(s.base, s.size, s.read_ram, s.write_ram);
  }
}

void I440fxHostBridge::notify_pam(const std::array<uint8_t, 7>& before) {
  const std::array<uint8_t, 7> now = pam_bytes();
  for (int i = 0; i < kPamSegments; ++i) {
    if (pam_bits(before, i) == pam_bits(now, i)) continue;
    PamSegment s = pam_segment(i);
    if (pam_change_) pam_change_(s.base, s.size, s.read_ram, s.write_ram);
  }
}

void I440fxHostBridge::config_written(uint8_t offset, unsigned size, uint32_t old_dword) {
  const uint8_t dword = static_cast<uint8_t>(offset & ~3u);
  // PAM registers span the dwords at 0x58 and 0x5C.
  if (offset + size > kPam0 && offset <= kPam6) {
    std::array<uint8_t, 7> before = pam_bytes();
    for (unsigned i = 0; i < 4; ++i) {
      const unsigned o = dword + i;
      if (o >= kPam0 && o <= kPam6) before[o - kPam0] = static_cast<uint8_t>(old_dword >> (8 * i));
    }
    notify_pam(before);
  }
  if (offset <= kSmram && offset + size > kSmram) {
    uint8_t value = config8(kSmram);
    if (smram_locked_) {
      // D_LCK set: D_OPEN reads 0 and cannot be set; D_LCK stays set.
      value = static_cast<uint8_t>((value & ~kSmramOpen) | kSmramLock);
    } else if (value & kSmramLock) {
      smram_locked_ = true;
      value = static_cast<uint8_t>(value & ~kSmramOpen);
    }
    set_config8(kSmram, static_cast<uint8_t>(value | kSmramFixed));
  }
}

// ----------------------------------------------------------------------------
// PIIX3 PCI-to-ISA bridge
// ----------------------------------------------------------------------------

Piix3IsaBridge::Piix3IsaBridge(IsaIrqSink isa_irq)
    : PciFunction(0x8086, 0x7000, 0x06, 0x01, 0x00, 0x00), isa_irq_(std::move(isa_irq)) {
  set_writable(0x4C, 1);                 // IORT
  set_writable(0x4E, 2);                 // XBCS
  set_writable(kPirqRouteBase, kPirqs, 0x8F);  // PIRQRC[A:D]: IRQROUTEN + IRQ number
  set_writable(0x69, 1);                 // TOM
  set_writable(0x6A, 2);                 // MSTAT
  set_writable(0x70, 1);                 // MBIRQ0
  set_writable(0x76, 2);                 // MBDMA0/1
  set_writable(0x80, 1);                 // APICBASE
  set_writable(0x82, 1);                 // DLC
  set_writable(0xA0, 16);                // SMICNTL, SMIEN, SEE, FTMR, SMIREQ, CTLTMR...
  reset_registers();
}

void Piix3IsaBridge::attach(IoBus& bus) { bus.register_ports(kResetControlPort, 1, this); }

void Piix3IsaBridge::reset_registers() {
  for (unsigned o = 0x40; o < 0x100; ++o) set_config8(static_cast<uint8_t>(o), 0);
  set_config8(0x4C, 0x4D);  // IORT power-on value
  set_config16(0x4E, 0x0003);  // XBCS: RTC and keyboard controller decode
  for (int i = 0; i < kPirqs; ++i) set_config8(static_cast<uint8_t>(kPirqRouteBase + i), kPirqDisabled);
  set_config8(0x69, 0x02);  // TOM: 1 MiB
  set_config16(0x6A, 0x0000);
  set_config8(0x70, 0x80);  // MBIRQ0 disabled
  set_config16(0x76, 0x0C0C);  // MBDMA disabled
  set_config8(0x82, 0x00);
  reset_control_ = 0;
  update_irq();
}

int Piix3IsaBridge::pirq_to_irq(int pirq) const {
  if (pirq < 0 || pirq >= kPirqs) return -1;
  const uint8_t route = config8(static_cast<uint8_t>(kPirqRouteBase + pirq));
  if (route & kPirqDisabled) return -1;
  const int irq = route & 0x0F;
  // Reserved steering targets: 0 (timer), 1 (keyboard), 2 (cascade), 8 (RTC), 13 (FPU).
  if (irq <= 2 || irq == 8 || irq == 13) return -1;
  return irq;
}

bool Piix3IsaBridge::pirq_level(int pirq) const {
  if (pirq < 0 || pirq >= kPirqs) return false;
  for (int slot = 0; slot < pci::kDevices; ++slot) {
    for (int pin = 1; pin <= 4; ++pin) {
      if ((intx_asserted_[slot] >> (pin - 1) & 1) && ((slot + pin - 1) & 3) == pirq) return true;
    }
  }
  return false;
}

void Piix3IsaBridge::set_pci_intx(int device, int pin, bool level) {
  if (device < 0 || device >= pci::kDevices || pin < 1 || pin > 4) {
    log("piix3: INTx from an invalid slot/pin ignored");
    return;
  }
  const uint8_t bit = static_cast<uint8_t>(1u << (pin - 1));
  intx_asserted_[device] =
      static_cast<uint8_t>(level ? (intx_asserted_[device] | bit) : (intx_asserted_[device] & ~bit));
  update_irq();
}

std::function<void(bool)> Piix3IsaBridge::intx_input(int device, int pin) {
  return [this, device, pin](bool level) { set_pci_intx(device, pin, level); };
}

void Piix3IsaBridge::update_irq() {
  uint16_t levels = 0;
  for (int pirq = 0; pirq < kPirqs; ++pirq) {
    const int irq = pirq_to_irq(pirq);
    if (irq >= 0 && pirq_level(pirq)) levels = static_cast<uint16_t>(levels | 1u << irq);
  }
  const uint16_t changed = static_cast<uint16_t>(levels ^ driven_);
  driven_ = levels;
  if (!isa_irq_) return;
  for (int irq = 0; irq < 16; ++irq)
    if (changed >> irq & 1) isa_irq_(irq, levels >> irq & 1);
}

void Piix3IsaBridge::config_written(uint8_t offset, unsigned size, uint32_t) {
  if (offset < kPirqRouteBase + kPirqs && offset + size > kPirqRouteBase) update_irq();
}

uint32_t Piix3IsaBridge::io_read(uint16_t, unsigned) { return reset_control_; }

void Piix3IsaBridge::io_write(uint16_t, unsigned, uint32_t value) {
  const uint8_t old = reset_control_;
  // Bits 3:1 are defined (FULL_RST, RCPU, SRST); the rest read as 0.
  reset_control_ = static_cast<uint8_t>(value & 0x0E);
  // RCPU 0->1 starts the reset; SRST selects a hard one (same for us).
  if (!(old & 0x04) && (reset_control_ & 0x04)) {
    reset_control_ = static_cast<uint8_t>(reset_control_ & ~0x04);
    if (reset_request_) reset_request_();
  }
}

}  // namespace popek
