#include "devices/fw_cfg.h"

#include <algorithm>
#include <array>

namespace popek {

namespace {
void put_le(std::vector<uint8_t>& out, uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}
void put_be(std::vector<uint8_t>& out, uint64_t value, unsigned bytes) {
  for (unsigned i = bytes; i-- > 0;) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}
}  // namespace

FwCfg::FwCfg() {
  set_item(kSignature, {'Q', 'E', 'M', 'U'});
  set_u32(kId, kIdTraditional);
  rebuild_directory();
}

void FwCfg::attach(IoBus& bus) { bus.register_ports(kSelectorPort, 2, this, true); }

void FwCfg::reset() {
  selector_ = kSignature;
  offset_ = 0;
}

void FwCfg::set_item(uint16_t key, std::vector<uint8_t> data) {
  items_[static_cast<uint16_t>(key & (kKeyMask | kArchLocal))] = std::move(data);
}

void FwCfg::set_u16(uint16_t key, uint16_t value) {
  std::vector<uint8_t> d;
  put_le(d, value, 2);
  set_item(key, std::move(d));
}

void FwCfg::set_u32(uint16_t key, uint32_t value) {
  std::vector<uint8_t> d;
  put_le(d, value, 4);
  set_item(key, std::move(d));
}

void FwCfg::set_u64(uint16_t key, uint64_t value) {
  std::vector<uint8_t> d;
  put_le(d, value, 8);
  set_item(key, std::move(d));
}

uint16_t FwCfg::add_file(const std::string& name, std::vector<uint8_t> data) {
  if (name.empty() || name.size() >= kFileNameSize || name.find('\0') != std::string::npos) return 0;
  for (const auto& [n, key] : files_) {
    if (n == name) {
      set_item(key, std::move(data));
      rebuild_directory();
      return key;
    }
  }
  if (files_.size() >= kMaxFiles) return 0;
  uint16_t key = static_cast<uint16_t>(kFirstFile + files_.size());
  files_.emplace_back(name, key);
  set_item(key, std::move(data));
  rebuild_directory();
  return key;
}

const std::vector<uint8_t>* FwCfg::item(uint16_t key) const {
  auto it = items_.find(static_cast<uint16_t>(key & (kKeyMask | kArchLocal)));
  return it == items_.end() ? nullptr : &it->second;
}

void FwCfg::rebuild_directory() {
  std::vector<uint8_t> dir;
  put_be(dir, files_.size(), 4);
  for (const auto& [name, key] : files_) {
    put_be(dir, items_[key].size(), 4);  // size
    put_be(dir, key, 2);                 // select
    put_be(dir, 0, 2);                   // reserved
    std::array<char, kFileNameSize> field{};
    std::copy_n(name.begin(), std::min(name.size(), kFileNameSize - 1), field.begin());
    dir.insert(dir.end(), field.begin(), field.end());
  }
  items_[kFileDir] = std::move(dir);
}

void FwCfg::ignore(std::string_view what) {
  ++ignored_;
  if (log_) log_(what);
}

uint32_t FwCfg::io_read(uint16_t port, unsigned size) {
  if (port == kDataPort && size == 1) {
    const std::vector<uint8_t>* data = item(selector_);
    if (!data || offset_ >= data->size()) return 0;
    return (*data)[offset_++];
  }
  ignore("fw_cfg: unsupported read (only byte reads of the data port 0x511 are defined)");
  return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

void FwCfg::io_write(uint16_t port, unsigned size, uint32_t value) {
  if (port == kSelectorPort && size == 2) {
    selector_ = static_cast<uint16_t>(value & (kKeyMask | kArchLocal));
    offset_ = 0;
    if (value & kWriteChannel) ignore("fw_cfg: write channel selected; items are read-only");
    return;
  }
  if (port == kDataPort && size == 1) {
    ignore("fw_cfg: data port write ignored (items are read-only)");
    return;
  }
  ignore("fw_cfg: unsupported write (the selector takes 16-bit writes at 0x510)");
}

}  // namespace popek
