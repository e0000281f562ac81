// Minimal ACPI 1.0 tables for direct kernel boot, so that a kernel can power
// the machine off (S5) and use the ACPI PM timer. They describe the AcpiPm
// block (devices/acpi_pm.h): RSDP -> RSDT -> FADT -> {FACS, DSDT}. The DSDT's
// AML is written out by hand: \_S5 (SLP_TYP 0, soft off) and the PCI root
// bridge \_SB.PCI0 (PNP0A03, bus 0, with its _CRS windows), without which a
// kernel that uses ACPI would not scan PCI. No MADT: the machine has only the 8259 PICs.
#include <bit>
#include <cstddef>
#include <cstring>
#include <string>

#include "core/linux_boot.h"
#include "devices/acpi_pm.h"

namespace popek {

namespace {

using Bytes = std::vector<uint8_t>;

void append(Bytes& to, const Bytes& from) { to.insert(to.end(), from.begin(), from.end()); }
// Little-endian, as every ACPI field is.
void put_le(Bytes& b, uint64_t v, unsigned size) {
  for (unsigned i = 0; i < size; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// The fixed-layout tables are packed structs copied byte for byte (the host
// is little-endian x86-64, as ACPI is).
static_assert(std::endian::native == std::endian::little);

// RSDP, ACPI 1.0 (5.2.4): 20 bytes.
struct [[gnu::packed]] Rsdp10 {
  char signature[8];
  uint8_t checksum;
  char oem_id[6];
  uint8_t revision;  // 0: ACPI 1.0
  uint32_t rsdt_address;
};
static_assert(sizeof(Rsdp10) == 20);

// The header every system description table starts with (5.2.5): 36 bytes.
struct [[gnu::packed]] SdtHeader {
  char signature[4];
  uint32_t length;
  uint8_t revision;
  uint8_t checksum;
  char oem_id[6];
  char oem_table_id[8];
  uint32_t oem_revision;
  char creator_id[4];
  uint32_t creator_revision;
};
static_assert(sizeof(SdtHeader) == 36);

// FACS, ACPI 1.0 (5.2.6): 64 bytes, 64-byte aligned. All zero but its
// signature and length: no waking vector, no global lock.
struct [[gnu::packed]] Facs10 {
  char signature[4];
  uint32_t length;
  uint32_t hardware_signature;
  uint32_t firmware_waking_vector;
  uint32_t global_lock;
  uint32_t flags;
  uint8_t reserved[40];
};
static_assert(sizeof(Facs10) == 64);

// FADT body after its header, ACPI 1.0 (5.2.5): 116 bytes in all.
struct [[gnu::packed]] Fadt10Body {
  uint32_t firmware_ctrl;
  uint32_t dsdt;
  uint8_t int_model;  // 0: dual PIC
  uint8_t reserved1;  // preferred PM profile in later revisions
  uint16_t sci_int;
  uint32_t smi_cmd;   // 0: ACPI mode is always on
  uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
  uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
  uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
  uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
  uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
  uint16_t iapc_boot_arch;  // reserved in 1.0
  uint8_t reserved2;
  uint32_t flags;
};
static_assert(sizeof(SdtHeader) + sizeof(Fadt10Body) == 116);

class TableWriter {
 public:
  explicit TableWriter(uint32_t base) : base_(base) {}
  uint32_t here() const { return base_ + static_cast<uint32_t>(bytes_.size()); }
  void align(unsigned a) {
    while (bytes_.size() % a) bytes_.push_back(0);
  }
  void put(uint64_t v, unsigned size) { put_le(bytes_, v, size); }
  void put_bytes(const Bytes& b) { append(bytes_, b); }
  template <typename T>
  void put_struct(const T& t) {
    const auto* p = reinterpret_cast<const uint8_t*>(&t);
    bytes_.insert(bytes_.end(), p, p + sizeof t);
  }
  template <typename T>
  void set_struct(uint32_t addr, const T& t) {
    std::memcpy(&bytes_[addr - base_], &t, sizeof t);
  }
  // Sets the byte at `checksum_at` so that [start, start+len) sums to 0.
  void checksum(uint32_t start, uint32_t len, uint32_t checksum_at) {
    uint8_t sum = 0;
    bytes_[checksum_at - base_] = 0;
    for (uint32_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + bytes_[start - base_ + i]);
    bytes_[checksum_at - base_] = static_cast<uint8_t>(-sum);
  }
  // A table's header, 16-byte aligned; returns the table's address (length
  // and checksum are set by end_table).
  uint32_t begin_table(const char (&sig)[5], uint8_t revision) {
    align(16);
    const uint32_t at = here();
    SdtHeader h{};
    std::memcpy(h.signature, sig, 4);
    h.revision = revision;
    std::memcpy(h.oem_id, "POPEK ", 6);
    std::memcpy(h.oem_table_id, "POPEKPC ", 8);
    h.oem_revision = 1;
    std::memcpy(h.creator_id, "POPK", 4);
    h.creator_revision = 1;
    put_struct(h);
    return at;
  }
  void end_table(uint32_t at) {
    const uint32_t len = here() - at;
    std::memcpy(&bytes_[at - base_ + offsetof(SdtHeader, length)], &len, 4);
    checksum(at, len, at + offsetof(SdtHeader, checksum));
  }
  Bytes& bytes() { return bytes_; }

 private:
  uint32_t base_;
  Bytes bytes_;
};

// ---- AML, by hand (ACPI 1.0 encoding) ----

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
// An opcode whose operands are `head` then `tail`, all counted by one PkgLength.
Bytes aml_pkg_op(Bytes opcode, Bytes head, const Bytes& tail) {
  append(head, tail);
  append(opcode, with_pkglength(head));
  return opcode;
}
Bytes aml_package(const std::vector<Bytes>& elements) {
  Bytes body;
  for (const Bytes& e : elements) append(body, e);
  return aml_pkg_op({0x12}, {static_cast<uint8_t>(elements.size())}, body);
}
Bytes aml_buffer(const Bytes& data) {
  const uint16_t n = static_cast<uint16_t>(data.size());
  return aml_pkg_op({0x11}, n < 0x100 ? Bytes{0x0a, uint8_t(n)} : Bytes{0x0b, uint8_t(n), uint8_t(n >> 8)}, data);
}
Bytes aml_scope(const Bytes& path, const Bytes& terms) { return aml_pkg_op({0x10}, path, terms); }
Bytes aml_device(const char* seg, const Bytes& terms) { return aml_pkg_op({0x5b, 0x82}, name_seg(seg), terms); }

// Resource descriptors (ACPI 6.4.3).
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
  // RSDP first, so that it sits on a 16-byte boundary in the BIOS area the
  // kernel scans; it is written last, once the RSDT's address is known.
  rsdp_addr = w.here();
  w.put_struct(Rsdp10{});

  const uint32_t dsdt = w.begin_table("DSDT", 1);
  w.put_bytes(dsdt_aml(ram_size));
  w.end_table(dsdt);

  w.align(64);
  const uint32_t facs = w.here();
  Facs10 facs_table{};
  std::memcpy(facs_table.signature, "FACS", 4);
  facs_table.length = sizeof facs_table;
  w.put_struct(facs_table);

  const uint32_t fadt = w.begin_table("FACP", 1);
  Fadt10Body f{};
  f.firmware_ctrl = facs;
  f.dsdt = dsdt;
  f.sci_int = 9;  // IRQ 9, as on the PIIX4
  f.pm1a_evt_blk = AcpiPm::kPm1aEvt;
  f.pm1a_cnt_blk = AcpiPm::kPm1aCnt;
  f.pm_tmr_blk = AcpiPm::kPmTmr;
  f.pm1_evt_len = 4;
  f.pm1_cnt_len = 2;
  f.pm_tmr_len = 4;
  f.p_lvl2_lat = 101;   // > 100: no C2
  f.p_lvl3_lat = 1001;  // > 1000: no C3
  f.century = 0x32;     // CMOS register 0x32
  // WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON (no fixed-feature buttons).
  f.flags = (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5);
  w.put_struct(f);
  w.end_table(fadt);

  const uint32_t rsdt = w.begin_table("RSDT", 1);
  w.put(fadt, 4);
  w.end_table(rsdt);

  Rsdp10 rsdp{};
  std::memcpy(rsdp.signature, "RSD PTR ", 8);
  std::memcpy(rsdp.oem_id, "POPEK ", 6);
  rsdp.rsdt_address = rsdt;
  w.set_struct(rsdp_addr, rsdp);
  w.checksum(rsdp_addr, sizeof rsdp, rsdp_addr + offsetof(Rsdp10, checksum));
  return std::move(w.bytes());
}

}  // namespace popek
