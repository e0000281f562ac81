#include "devices/pci_bus.h"

#include <cstdio>

namespace popek {

namespace {
uint32_t all_ones(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }

uint32_t round_up_pow2(uint32_t v) {
  if (v <= 1) return 1;
  if (v > 0x80000000u) return 0x80000000u;
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}
}  // namespace

// ----------------------------------------------------------------------------
// PciFunction
// ----------------------------------------------------------------------------

PciFunction::PciFunction(uint16_t vendor, uint16_t device, uint8_t base_class, uint8_t subclass,
                         uint8_t prog_if, uint8_t revision) {
  set_config16(pci::kVendorId, vendor);
  set_config16(pci::kDeviceId, device);
  config_[pci::kRevision] = revision;
  config_[pci::kProgIf] = prog_if;
  config_[pci::kSubclass] = subclass;
  config_[pci::kClass] = base_class;
  // Command: I/O, memory, bus master, parity response, SERR#, INTx disable.
  set_writable(pci::kCommand, 1, 0x47);
  set_writable(pci::kCommand + 1, 1, 0x05);
  // Status: the error bits are write-1-to-clear; DEVSEL timing reads "medium".
  set_config16(pci::kStatus, 0x0200);
  w1c_mask_[pci::kStatus + 1] = static_cast<uint8_t>(pci::kStatusErrorBits >> 8);
  set_writable(pci::kCacheLineSize, 1);
  set_writable(pci::kLatencyTimer, 1);
  set_writable(pci::kInterruptLine, 1);
}

uint16_t PciFunction::config16(uint8_t offset) const {
  return static_cast<uint16_t>(config_[offset] | config_[static_cast<uint8_t>(offset + 1)] << 8);
}

uint32_t PciFunction::config32(uint8_t offset) const {
  return config16(offset) | static_cast<uint32_t>(config16(static_cast<uint8_t>(offset + 2))) << 16;
}

void PciFunction::set_config16(uint8_t offset, uint16_t value) {
  config_[offset] = static_cast<uint8_t>(value);
  config_[static_cast<uint8_t>(offset + 1)] = static_cast<uint8_t>(value >> 8);
}

void PciFunction::set_config32(uint8_t offset, uint32_t value) {
  set_config16(offset, static_cast<uint16_t>(value));
  set_config16(static_cast<uint8_t>(offset + 2), static_cast<uint16_t>(value >> 16));
}

void PciFunction::set_writable(uint8_t offset, unsigned count, uint8_t mask) {
  for (unsigned i = 0; i < count && offset + i < 256; ++i) write_mask_[offset + i] = mask;
}

void PciFunction::set_multi_function(bool on) {
  config_[pci::kHeaderType] =
      static_cast<uint8_t>(on ? (config_[pci::kHeaderType] | 0x80) : (config_[pci::kHeaderType] & 0x7F));
}

void PciFunction::set_interrupt_pin(uint8_t pin) { config_[pci::kInterruptPin] = pin <= 4 ? pin : 0; }

void PciFunction::set_subsystem(uint16_t vendor, uint16_t device) {
  set_config16(pci::kSubsystemVendorId, vendor);
  set_config16(pci::kSubsystemId, device);
}

void PciFunction::define_bar(int bar, BarKind kind, uint32_t size, bool prefetchable) {
  if (bar < 0 || bar >= pci::kBarCount) return;
  Bar& b = bars_[bar];
  const uint8_t offset = static_cast<uint8_t>(pci::kBar0 + 4 * bar);
  // The expansion ROM has its own register (define_rom_bar); as a BAR kind
  // here it declares nothing.
  b.kind = kind == BarKind::Rom ? BarKind::None : kind;
  uint32_t writable = 0;
  switch (b.kind) {
    case BarKind::None:
    case BarKind::Rom:
      b.kind = BarKind::None;
      b.size = 0;
      b.type_bits = 0;
      break;
    case BarKind::Io:
      // Bit 0 = 1 (I/O space), bit 1 reserved; at least 4 bytes.
      b.size = round_up_pow2(size < 4 ? 4 : size);
      b.type_bits = 0x01;
      writable = ~(b.size - 1) & ~3u;
      break;
    case BarKind::Memory:
      // Bit 0 = 0 (memory), bits 2:1 = 00 (32-bit, anywhere), bit 3 prefetchable; at least 16 bytes.
      b.size = round_up_pow2(size < 16 ? 16 : size);
      b.type_bits = static_cast<uint8_t>(prefetchable ? 0x08 : 0x00);
      writable = ~(b.size - 1) & ~15u;
      break;
  }
  set_config32(offset, b.type_bits);
  for (int i = 0; i < 4; ++i) write_mask_[offset + i] = static_cast<uint8_t>(writable >> (8 * i));
}

void PciFunction::define_rom_bar(uint32_t size) {
  Bar& b = bars_[pci::kRomBar];
  b.kind = BarKind::Rom;
  b.size = round_up_pow2(size < 2048 ? 2048 : size);
  b.type_bits = 0;
  const uint32_t writable = (~(b.size - 1) & ~0x7FFu) | 1u;  // address bits and the enable bit
  set_config32(pci::kRomAddress, 0);
  for (int i = 0; i < 4; ++i) write_mask_[pci::kRomAddress + i] = static_cast<uint8_t>(writable >> (8 * i));
}

PciFunction::BarKind PciFunction::bar_kind(int bar) const {
  return bar >= 0 && bar < pci::kBarSlots ? bars_[bar].kind : BarKind::None;
}

uint32_t PciFunction::bar_size(int bar) const {
  return bar >= 0 && bar < pci::kBarSlots ? bars_[bar].size : 0;
}

uint32_t PciFunction::bar_address(int bar) const {
  if (bar < 0 || bar >= pci::kBarSlots) return 0;
  const uint32_t raw = config32(bar_offset(bar));
  switch (bars_[bar].kind) {
    case BarKind::None: return 0;
    case BarKind::Io: return raw & ~3u;
    case BarKind::Memory: return raw & ~15u;
    case BarKind::Rom: return raw & ~0x7FFu;
  }
  return 0;
}

PciFunction::BarMapping PciFunction::bar_mapping(int bar) const {
  if (bar < 0 || bar >= pci::kBarSlots) return std::nullopt;
  const Bar& b = bars_[bar];
  const uint32_t address = bar_address(bar);
  if (b.kind == BarKind::None || address == 0) return std::nullopt;
  const uint64_t end = uint64_t{address} + b.size;
  if (b.kind == BarKind::Io) {
    // x86 I/O space is 64 KiB; the all-ones sizing value lands above it.
    if (!io_enabled() || end > 0x10000) return std::nullopt;
  } else if (b.kind == BarKind::Rom) {
    const bool enabled = config8(pci::kRomAddress) & 1;
    if (!enabled || !memory_enabled() || address == (~(b.size - 1) & ~0x7FFu) || end > (uint64_t{1} << 32))
      return std::nullopt;
  } else {
    // The all-ones sizing value is not a real placement; nor is one that wraps.
    if (!memory_enabled() || address == (~(b.size - 1) & ~15u) || end > (uint64_t{1} << 32))
      return std::nullopt;
  }
  return address;
}

void PciFunction::refresh_bar_mappings() {
  for (int i = 0; i < pci::kBarSlots; ++i) {
    BarMapping now = bar_mapping(i);
    if (now != mapped_[i]) {
      BarMapping old = mapped_[i];
      mapped_[i] = now;
      if (bar_change_) bar_change_(i, old, now);
    }
  }
}

uint32_t PciFunction::config_read(uint8_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size && i < 4; ++i)
    value |= static_cast<uint32_t>(config_[static_cast<uint8_t>(offset + i)]) << (8 * i);
  return value;
}

void PciFunction::config_write(uint8_t offset, unsigned size, uint32_t value) {
  const uint8_t dword = static_cast<uint8_t>(offset & ~3u);
  const uint32_t old_dword = config32(dword);
  bool ignored = false;
  for (unsigned i = 0; i < size && i < 4; ++i) {
    const uint8_t o = static_cast<uint8_t>(offset + i);
    const uint8_t byte = static_cast<uint8_t>(value >> (8 * i));
    const uint8_t wm = write_mask_[o];
    if ((byte & ~wm & ~w1c_mask_[o]) != (config_[o] & ~wm & ~w1c_mask_[o])) ignored = true;
    uint8_t next = static_cast<uint8_t>((config_[o] & ~wm) | (byte & wm));
    next = static_cast<uint8_t>(next & ~(byte & w1c_mask_[o]));
    config_[o] = next;
  }
  if (ignored && dword >= 0x40) {
    char message[80];
    std::snprintf(message, sizeof message, "pci %04x:%04x: write to read-only bits at offset 0x%02x ignored",
                  vendor_id(), device_id(), offset);
    log(message);
  }
  if (dword == pci::kCommand || dword == pci::kRomAddress ||
      (dword >= pci::kBar0 && dword < pci::kBar0 + 4 * pci::kBarCount)) {
    refresh_bar_mappings();
    update_intx();
  }
  config_written(offset, size, old_dword);
}

void PciFunction::reset() {
  // Every guest-writable bit of the standard header powers on as zero; the
  // read-only bits (IDs, class, BAR type bits, interrupt pin) stay.
  for (unsigned o = 0x04; o < 0x40; ++o)
    config_[o] = static_cast<uint8_t>(config_[o] & ~(write_mask_[o] | w1c_mask_[o]));
  intx_request_ = false;
  reset_registers();
  refresh_bar_mappings();
  update_intx();
}

void PciFunction::set_intx(bool level) {
  intx_request_ = level;
  update_intx();
}

void PciFunction::update_intx() {
  // Status bit 3 shows the request even while INTx# is disabled.
  if (intx_request_)
    config_[pci::kStatus] = static_cast<uint8_t>(config_[pci::kStatus] | pci::kStatusInterrupt);
  else
    config_[pci::kStatus] = static_cast<uint8_t>(config_[pci::kStatus] & ~pci::kStatusInterrupt);
  const bool level = intx_request_ && !(command() & pci::kCommandIntxDisable);
  if (level != intx_level_) {
    intx_level_ = level;
    intx_line_.set(level);
  }
}

// ----------------------------------------------------------------------------
// PciBus
// ----------------------------------------------------------------------------

void PciBus::attach(IoBus& bus) {
  bus.register_ports(kAddressPort, 1, this, /*wide=*/true);
  bus.register_ports(kDataPort, 4, this, /*wide=*/true);
}

void PciBus::reset() {
  config_address_ = 0;
  for (auto& device : slots_)
    for (PciFunction* fn : device)
      if (fn) fn->reset();
}

bool PciBus::add(int device, int function, PciFunction* fn) {
  if (!fn || device < 0 || device >= pci::kDevices || function < 0 || function >= pci::kFunctions)
    return false;
  if (slots_[device][function]) return false;
  slots_[device][function] = fn;
  // Function 0 advertises the others through its header type bit 7.
  bool multi = false;
  for (int f = 1; f < pci::kFunctions; ++f) multi = multi || slots_[device][f];
  if (slots_[device][0]) slots_[device][0]->set_multi_function(multi);
  return true;
}

PciFunction* PciBus::function(int device, int function) const {
  if (device < 0 || device >= pci::kDevices || function < 0 || function >= pci::kFunctions) return nullptr;
  return slots_[device][function];
}

uint32_t PciBus::config_read(int bus, int device, int function, uint8_t offset, unsigned size) {
  PciFunction* fn = bus == 0 ? this->function(device, function) : nullptr;
  // No device answers: the master aborts and the host bridge returns all ones.
  if (!fn || size == 0 || size > 4 || (offset & 3) + size > 4) return all_ones(size);
  return fn->config_read(offset, size) & all_ones(size);
}

void PciBus::config_write(int bus, int device, int function, uint8_t offset, unsigned size, uint32_t value) {
  PciFunction* fn = bus == 0 ? this->function(device, function) : nullptr;
  if (!fn || size == 0 || size > 4 || (offset & 3) + size > 4) return;
  fn->config_write(offset, size, value & all_ones(size));
}

uint32_t PciBus::io_read(uint16_t port, unsigned size) {
  if (port == kAddressPort) return size == 4 ? config_address_ : all_ones(size);
  const unsigned k = static_cast<unsigned>(port - kDataPort) & 3;
  if (!(config_address_ & kAddressEnable)) return all_ones(size);
  const int bus = static_cast<int>(config_address_ >> 16 & 0xFF);
  const int device = static_cast<int>(config_address_ >> 11 & 0x1F);
  const int function = static_cast<int>(config_address_ >> 8 & 0x7);
  const uint8_t reg = static_cast<uint8_t>(config_address_ & 0xFC);
  if (k + size <= 4 && size != 3)
    return config_read(bus, device, function, static_cast<uint8_t>(reg | k), size);
  // Runs past 0xCFF: only the bytes inside the dword are configuration data.
  uint32_t value = all_ones(size);
  for (unsigned i = 0; i < size && k + i < 4; ++i) {
    uint32_t byte = config_read(bus, device, function, static_cast<uint8_t>(reg | (k + i)), 1);
    value = (value & ~(0xFFu << (8 * i))) | byte << (8 * i);
  }
  return value;
}

void PciBus::io_write(uint16_t port, unsigned size, uint32_t value) {
  if (port == kAddressPort) {
    // Only a dword access loads CONFIG_ADDRESS.
    if (size == 4) config_address_ = value & kAddressWritable;
    return;
  }
  const unsigned k = static_cast<unsigned>(port - kDataPort) & 3;
  if (!(config_address_ & kAddressEnable)) return;
  const int bus = static_cast<int>(config_address_ >> 16 & 0xFF);
  const int device = static_cast<int>(config_address_ >> 11 & 0x1F);
  const int function = static_cast<int>(config_address_ >> 8 & 0x7);
  const uint8_t reg = static_cast<uint8_t>(config_address_ & 0xFC);
  if (k + size <= 4 && size != 3) {
    config_write(bus, device, function, static_cast<uint8_t>(reg | k), size, value);
    return;
  }
  for (unsigned i = 0; i < size && k + i < 4; ++i)
    config_write(bus, device, function, static_cast<uint8_t>(reg | (k + i)), 1, value >> (8 * i) & 0xFF);
}

}  // namespace popek
