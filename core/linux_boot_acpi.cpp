// Minimal ACPI 1.0 tables for direct kernel boot, so that a kernel can power
// the machine off (S5) and use the ACPI PM timer. They describe the AcpiPm
// block (devices/acpi_pm.h): RSDP -> RSDT -> FADT -> {FACS, DSDT}. The DSDT's
// AML is written out by hand: \_S5 (SLP_TYP 0, soft off) and the PCI root
// bridge \_SB.PCI0 (PNP0A03, bus 0, with its _CRS windows), without which a
// kernel that uses ACPI would not scan PCI. No MADT: the machine has only the 8259 PICs.
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

// ---- AML, by hand (ACPI 1.0 encoding) ----
using Bytes = std::vector<uint8_t>;

void append(Bytes& to, const Bytes& from) { to.insert(to.end(), from.begin(), from.end()); }

// `body` prefixed with its PkgLength, which counts its own bytes.
Bytes with_pkglength(const Bytes& body) {
  Bytes out;
  const size_t n = body.size();
  if (n + 1 < 0x40) {
    out.push_back(static_cast<uint8_t>(n + 1));
  } else {
    const size_t len = n + 2;  // two-byte form: up to 4095
    out.push_back(static_cast<uint8_t>(0x40 | (len & 0x0f)));
    out.push_back(static_cast<uint8_t>(len >> 4));
  }
  append(out, body);
  return out;
}
Bytes name_seg(const char* s) { return Bytes(s, s + 4); }
Bytes aml_name(const char* seg, const Bytes& value) {  // Name (seg, value)
  Bytes out{0x08};
  append(out, name_seg(seg));
  append(out, value);
  return out;
}
Bytes aml_byte(uint8_t v) { return v == 0 ? Bytes{0x00} : Bytes{0x0a, v}; }
Bytes aml_dword(uint32_t v) {
  return {0x0c, uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}
Bytes aml_package(const std::vector<Bytes>& elements) {
  Bytes body{static_cast<uint8_t>(elements.size())};
  for (const Bytes& e : elements) append(body, e);
  Bytes out{0x12};
  append(out, with_pkglength(body));
  return out;
}
Bytes aml_buffer(const Bytes& data) {
  Bytes body;
  if (data.size() < 0x100) body = {0x0a, static_cast<uint8_t>(data.size())};
  else body = {0x0b, static_cast<uint8_t>(data.size()), static_cast<uint8_t>(data.size() >> 8)};
  append(body, data);
  Bytes out{0x11};
  append(out, with_pkglength(body));
  return out;
}
Bytes aml_scope(const Bytes& path, const Bytes& terms) {
  Bytes body = path;
  append(body, terms);
  Bytes out{0x10};
  append(out, with_pkglength(body));
  return out;
}
Bytes aml_device(const char* seg, const Bytes& terms) {
  Bytes body = name_seg(seg);
  append(body, terms);
  Bytes out{0x5b, 0x82};
  append(out, with_pkglength(body));
  return out;
}

// Resource descriptors (ACPI 6.4.3): little-endian fields.
void put_le(Bytes& b, uint64_t v, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
// Word address space descriptor, a producer with fixed min and max.
Bytes word_space(uint8_t resource_type, uint8_t type_flags, uint16_t min, uint16_t max) {
  Bytes d{0x88, 0x0d, 0x00, resource_type, 0x0c, type_flags};
  put_le(d, 0, 2);                    // granularity
  put_le(d, min, 2);
  put_le(d, max, 2);
  put_le(d, 0, 2);                    // translation
  put_le(d, uint32_t(max) - min + 1, 2);
  return d;
}
Bytes dword_memory(uint32_t min, uint32_t max) {
  Bytes d{0x87, 0x17, 0x00, 0x00, 0x0c, 0x03};  // memory, fixed, read-write cacheable
  put_le(d, 0, 4);
  put_le(d, min, 4);
  put_le(d, max, 4);
  put_le(d, 0, 4);
  put_le(d, uint64_t(max) - min + 1, 4);
  return d;
}

// The PCI root bridge's resources: bus 0-255, the config ports, all other
// I/O ports, the VGA window and the PCI hole from the top of RAM (rounded
// up to 256 MiB) to 0xFEBFFFFF, as QEMU's DSDT gives them.
Bytes pci_root_resources(uint32_t ram_size) {
  Bytes r = word_space(2, 0x00, 0x0000, 0x00ff);              // bus numbers
  append(r, {0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08});  // IO (Decode16, 0xCF8, 0xCF8, 1, 8)
  append(r, word_space(1, 0x03, 0x0000, 0x0cf7));             // I/O below the config ports
  append(r, word_space(1, 0x03, 0x0d00, 0xffff));             // and above
  append(r, dword_memory(0x000a0000, 0x000bffff));            // VGA window
  const uint64_t hole = (uint64_t(ram_size) + 0x0fffffff) & ~0x0fffffffull;
  if (hole < 0xfec00000ull) append(r, dword_memory(static_cast<uint32_t>(hole), 0xfebfffff));
  append(r, {0x79, 0x00});  // end tag (checksum 0: none)
  return r;
}

Bytes dsdt_aml(uint32_t ram_size) {
  const uint8_t s5 = AcpiPm::kSoftOffType;
  Bytes aml;
  // Name (\_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 })
  append(aml, {0x08, '\\', '_', 'S', '5', '_'});
  append(aml, aml_package({aml_byte(s5), aml_byte(s5), aml_byte(0), aml_byte(0)}));
  // Scope (\_SB) { Device (PCI0) { _HID PNP0A03, _ADR 0, _UID 0, _BBN 0, _CRS } }
  Bytes pci;
  append(pci, aml_name("_HID", aml_dword(0x030ad041)));  // EisaId ("PNP0A03")
  append(pci, aml_name("_ADR", aml_byte(0)));
  append(pci, aml_name("_UID", aml_byte(0)));
  append(pci, aml_name("_BBN", aml_byte(0)));
  append(pci, aml_name("_CRS", aml_buffer(pci_root_resources(ram_size))));
  append(aml, aml_scope({'\\', '_', 'S', 'B', '_'}, aml_device("PCI0", pci)));
  return aml;
}

}  // namespace

std::vector<uint8_t> build_acpi_tables(uint32_t base, uint32_t ram_size, uint32_t& rsdp_addr) {
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
  w.put_bytes(dsdt_aml(ram_size));
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
