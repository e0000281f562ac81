#include "devices/ide.h"

#include <cstdio>

namespace popek {

namespace {
constexpr uint8_t kCommandExecuteDiagnostic = 0x90;

uint32_t all_ones(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }
}  // namespace

// ----------------------------------------------------------------------------
// IdeChannel
// ----------------------------------------------------------------------------

IdeChannel::IdeChannel(uint16_t command_base, uint16_t control_port)
    : command_base_(command_base), control_port_(control_port) {}

void IdeChannel::attach(IoBus& bus) {
  // The data register takes 16- and 32-bit accesses, so the block is wide.
  bus.register_ports(command_base_, 8, this, /*wide=*/true);
  bus.register_ports(control_port_, 1, this);
}

void IdeChannel::reset() {
  regs_ = AtaRegisters{};
  control_ = 0;
  for (auto& d : devices_)
    if (d) d->reset(regs_, /*hard=*/true);
  update_irq();
}

void IdeChannel::set_device(int index, std::unique_ptr<IdeDevice> device) {
  if (index != 0 && index != 1) return;
  devices_[index] = std::move(device);
  if (devices_[index]) devices_[index]->reset(regs_, /*hard=*/true);
  update_irq();
}

void IdeChannel::update_irq() {
  IdeDevice* d = selected();
  const bool level = d && d->interrupt_pending() && !(control_ & ata::kControlNien);
  if (level != irq_level_) {
    irq_level_ = level;
    irq_line_.set(level);
  }
}

uint32_t IdeChannel::io_read(uint16_t port, unsigned size) {
  if (port == control_port_) {
    // Alternate status: the status register without clearing the interrupt.
    IdeDevice* d = selected();
    if (!d) return 0;
    return control_ & ata::kControlSrst ? ata::kStatusBsy : d->status();
  }
  uint32_t value;
  const unsigned reg = static_cast<unsigned>(port - command_base_) & 7;
  if (reg == 0) {
    IdeDevice* d = selected();
    value = d && !(control_ & ata::kControlSrst) ? d->read_data(size, regs_) : all_ones(size);
  } else {
    // Wider accesses to the byte registers see only the addressed register.
    value = read_register(reg);
  }
  update_irq();
  return value;
}

void IdeChannel::io_write(uint16_t port, unsigned size, uint32_t value) {
  if (port == control_port_) {
    write_control(static_cast<uint8_t>(value));
  } else {
    const unsigned reg = static_cast<unsigned>(port - command_base_) & 7;
    if (reg == 0) {
      IdeDevice* d = selected();
      if (d && !(control_ & ata::kControlSrst)) d->write_data(size, value, regs_);
    } else {
      write_register(reg, static_cast<uint8_t>(value));
    }
  }
  update_irq();
}

uint8_t IdeChannel::read_register(unsigned reg) {
  IdeDevice* d = selected();
  if (reg == 6) return regs_.device;
  if (!d) return 0;
  if (control_ & ata::kControlSrst) return reg == 7 ? ata::kStatusBsy : 0;
  switch (reg) {
    case 1: return d->error();
    case 2: return regs_.sector_count;
    case 3: return regs_.lba_low;
    case 4: return regs_.lba_mid;
    case 5: return regs_.lba_high;
    case 7:
      // Reading the status register acknowledges the device's interrupt.
      d->clear_interrupt();
      return d->status();
    default: return 0;
  }
}

void IdeChannel::write_register(unsigned reg, uint8_t value) {
  switch (reg) {
    case 1: regs_.feature = value; return;
    case 2: regs_.sector_count = value; return;
    case 3: regs_.lba_low = value; return;
    case 4: regs_.lba_mid = value; return;
    case 5: regs_.lba_high = value; return;
    case 6: regs_.device = value; return;
    case 7: break;
    default: return;
  }
  // Command register.
  if (control_ & ata::kControlSrst) {
    log("ide: command written during software reset ignored");
    return;
  }
  if (value == kCommandExecuteDiagnostic) {
    execute_diagnostic();
    return;
  }
  IdeDevice* d = selected();
  if (!d) {
    log("ide: command to an absent device ignored");
    return;
  }
  d->clear_interrupt();
  d->execute(value, regs_);
}

void IdeChannel::execute_diagnostic() {
  // EXECUTE DEVICE DIAGNOSTIC is addressed to both devices whatever DEV says:
  // both run their diagnostics and load the signature (which selects device
  // 0); device 0 reports the result with an interrupt.
  if (!any_device()) return;
  for (auto& d : devices_)
    if (d) d->reset(regs_, /*hard=*/false);
  regs_.device = 0;
  // Device 0 (or a lone device 1) then completes the command, which posts
  // the interrupt; the diagnostic code 0x01 is already in its error register.
  IdeDevice* reporter = devices_[0] ? devices_[0].get() : devices_[1].get();
  reporter->execute(kCommandExecuteDiagnostic, regs_);
}

void IdeChannel::write_control(uint8_t value) {
  const bool was_reset = control_ & ata::kControlSrst;
  control_ = value & (ata::kControlNien | ata::kControlSrst | ata::kControlHob);
  const bool in_reset = control_ & ata::kControlSrst;
  if (was_reset && !in_reset) {
    // End of the SRST pulse: both devices come back with their signature.
    for (auto& d : devices_)
      if (d) d->reset(regs_, /*hard=*/false);
  } else if (!was_reset && in_reset) {
    // Start of SRST: abandon any transfer now; status reads BSY meanwhile.
    for (auto& d : devices_)
      if (d) d->reset(regs_, /*hard=*/false);
  }
}

// ----------------------------------------------------------------------------
// PiixIde
// ----------------------------------------------------------------------------

PiixIde::PiixIde()
    : PciFunction(0x8086, 0x7010, 0x01, 0x01, 0x80, 0x00),
      primary_(kPrimaryBase, kPrimaryControl),
      secondary_(kSecondaryBase, kSecondaryControl) {
  set_writable(0x40, 4);  // IDETIM primary/secondary (bit 15: IDE decode enable), stored only
  set_writable(0x44, 1);  // SIDETIM slave timing, stored only
}

void PiixIde::attach(IoBus& bus) {
  primary_.attach(bus);
  secondary_.attach(bus);
}

void PiixIde::reset_registers() {
  for (unsigned o = 0x40; o < 0x45; ++o) set_config8(static_cast<uint8_t>(o), 0);
  primary_.reset();
  secondary_.reset();
}

}  // namespace popek
