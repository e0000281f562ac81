// Minimal ACPI 1.0 tables for direct kernel boot, so that a kernel can power
// the machine off (S5) and use the ACPI PM timer. They describe the AcpiPm
// block (devices/acpi_pm.h): RSDP -> RSDT -> FADT -> {FACS, DSDT}. The DSDT's
// AML is written out by hand: \_S5 (SLP_TYP 0, soft off) and the PCI root
// bridge \_SB.PCI0 (PNP0A03, bus 0), without which a kernel that uses ACPI
// would not scan PCI. No MADT: the machine has only the 8259 PICs.
#include <cstring>
#include <string>

#include "core/linux_boot.h"
#include "devices/acpi_pm.h"

namespace popek {

namespace {

class TableWriter {
 public:
  explicit TableWriter(uint32_t base) : base_(base) {}
  uint32_t here() const { return base_ + static_cast<uint32_t>(bytes_.size()); }
  void align(unsigned a) {
    while (bytes_.size() % a) bytes_.push_back(0);
  }
  void put(uint64_t v, unsigned size) {
    for (unsigned i = 0; i < size; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void put_str(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) bytes_.push_back(static_cast<uint8_t>(s[i]));
  }
  void put_bytes(const std::vector<uint8_t>& b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  void set(uint32_t addr, uint64_t v, unsigned size) {
    for (unsigned i = 0; i < size; ++i) bytes_[addr - base_ + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  // Sets the byte at `checksum_at` so that [start, start+len) sums to 0.
  void checksum(uint32_t start, uint32_t len, uint32_t checksum_at) {
    uint8_t sum = 0;
    bytes_[checksum_at - base_] = 0;
    for (uint32_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + bytes_[start - base_ + i]);
    bytes_[checksum_at - base_] = static_cast<uint8_t>(-sum);
  }
  // Standard 36-byte header; returns the table's address (length and checksum set by end_table).
  uint32_t begin_table(const char sig[4], uint8_t revision) {
    align(16);
    const uint32_t at = here();
    put_str(sig, 4);
    put(0, 4);  // length
    put(revision, 1);
    put(0, 1);  // checksum
    put_str("POPEK ", 6);
    put_str("POPEKPC ", 8);
    put(1, 4);  // OEM revision
    put_str("POPK", 4);
    put(1, 4);  // creator revision
    return at;
  }
  void end_table(uint32_t at) {
    const uint32_t len = here() - at;
    set(at + 4, len, 4);
    checksum(at, len, at + 9);
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  uint32_t base_;
  std::vector<uint8_t> bytes_;
};

// AML of the DSDT body (ACPI 1.0 encoding, short package lengths).
std::vector<uint8_t> dsdt_aml() {
  const uint8_t s5 = AcpiPm::kSoftOffType;
  return {
      // Name (\_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 })
      0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, s5, 0x0a, s5, 0x00, 0x00,
      // Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_ADR, 0) Name (_UID, 0) } }
      0x10, 0x23, '\\', '_', 'S', 'B', '_',
      0x5b, 0x82, 0x1b, 'P', 'C', 'I', '0',
      0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,
      0x08, '_', 'A', 'D', 'R', 0x00,
      0x08, '_', 'U', 'I', 'D', 0x00,
  };
}

}  // namespace

std::vector<uint8_t> build_acpi_tables(uint32_t base, uint32_t& rsdp_addr) {
  TableWriter w(base);
  // RSDP (ACPI 1.0, 20 bytes), first so that it sits on a 16-byte boundary
  // in the BIOS area the kernel scans.
  rsdp_addr = w.here();
  w.put_str("RSD PTR ", 8);
  w.put(0, 1);  // checksum
  w.put_str("POPEK ", 6);
  w.put(0, 1);  // revision 0: ACPI 1.0
  const uint32_t rsdt_ptr_at = w.here();
  w.put(0, 4);

  const uint32_t dsdt = w.begin_table("DSDT", 1);
  w.put_bytes(dsdt_aml());
  w.end_table(dsdt);

  w.align(64);
  const uint32_t facs = w.here();
  w.put_str("FACS", 4);
  w.put(64, 4);  // length
  w.put(0, 4);   // hardware signature
  w.put(0, 4);   // firmware waking vector
  w.put(0, 4);   // global lock
  w.put(0, 4);   // flags
  for (int i = 0; i < 40; ++i) w.put(0, 1);

  const uint32_t fadt = w.begin_table("FACP", 1);
  w.put(facs, 4);                 // FIRMWARE_CTRL
  w.put(dsdt, 4);                 // DSDT
  w.put(0, 1);                    // INT_MODEL (1.0): dual PIC
  w.put(0, 1);                    // reserved / preferred PM profile
  w.put(9, 2);                    // SCI_INT: IRQ 9, as on the PIIX4
  w.put(0, 4);                    // SMI_CMD 0: ACPI mode is always on
  w.put(0, 1);                    // ACPI_ENABLE
  w.put(0, 1);                    // ACPI_DISABLE
  w.put(0, 1);                    // S4BIOS_REQ
  w.put(0, 1);                    // PSTATE_CNT
  w.put(AcpiPm::kPm1aEvt, 4);     // PM1a_EVT_BLK
  w.put(0, 4);                    // PM1b_EVT_BLK
  w.put(AcpiPm::kPm1aCnt, 4);     // PM1a_CNT_BLK
  w.put(0, 4);                    // PM1b_CNT_BLK
  w.put(0, 4);                    // PM2_CNT_BLK
  w.put(AcpiPm::kPmTmr, 4);       // PM_TMR_BLK
  w.put(0, 4);                    // GPE0_BLK
  w.put(0, 4);                    // GPE1_BLK
  w.put(4, 1);                    // PM1_EVT_LEN
  w.put(2, 1);                    // PM1_CNT_LEN
  w.put(0, 1);                    // PM2_CNT_LEN
  w.put(4, 1);                    // PM_TMR_LEN
  w.put(0, 1);                    // GPE0_BLK_LEN
  w.put(0, 1);                    // GPE1_BLK_LEN
  w.put(0, 1);                    // GPE1_BASE
  w.put(0, 1);                    // CST_CNT
  w.put(101, 2);                  // P_LVL2_LAT > 100: no C2
  w.put(1001, 2);                 // P_LVL3_LAT > 1000: no C3
  w.put(0, 2);                    // FLUSH_SIZE
  w.put(0, 2);                    // FLUSH_STRIDE
  w.put(0, 1);                    // DUTY_OFFSET
  w.put(0, 1);                    // DUTY_WIDTH
  w.put(0, 1);                    // DAY_ALRM
  w.put(0, 1);                    // MON_ALRM
  w.put(0x32, 1);                 // CENTURY: CMOS register 0x32
  w.put(0, 2);                    // IAPC_BOOT_ARCH (reserved in 1.0)
  w.put(0, 1);                    // reserved
  // Flags: WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON (no fixed-feature buttons).
  w.put((1u << 0) | (1u << 2) | (1u << 4) | (1u << 5), 4);
  w.end_table(fadt);

  const uint32_t rsdt = w.begin_table("RSDT", 1);
  w.put(fadt, 4);
  w.end_table(rsdt);

  w.set(rsdt_ptr_at, rsdt, 4);
  w.checksum(rsdp_addr, 20, rsdp_addr + 8);
  return std::move(w.bytes());
}

}  // namespace popek
