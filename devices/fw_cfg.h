// QEMU's firmware configuration interface (fw_cfg), traditional I/O form,
// only as far as SeaBIOS needs it to run POST and boot (docs/platform.md).
//
// Ports:
//   0x510 selector, 16-bit writes only: bits 13:0 the item key, bit 14 the
//         write channel (ignored: items are read-only here), bit 15 the
//         architecture-local key space (kept as part of the key). Selecting
//         an item rewinds its read offset to 0.
//   0x511 data, 8-bit reads only: the selected item's next byte; past its
//         end, or for an item that does not exist, 0. Writes are ignored
//         (QEMU deprecated them long ago).
// Any other access (byte to the selector, wide data access, port 0x512/0x513)
// is logged and ignored; reads of it return all ones.
//
// Not emulated: the DMA interface at 0x514 (the ID item does not advertise
// it, so SeaBIOS uses the port interface), the MMIO form of other machines,
// and guest-writable items.
//
// Items: fixed keys (signature, ID, RAM size, CPU counts, boot menu...) are
// set by the owner with set_item(); named files get keys from 0x20 upwards
// through add_file(), and the file directory (key 0x19) lists them:
//   be32 count, then per file: be32 size, be16 key, be16 reserved 0,
//   char name[56] (NUL-terminated).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/io_bus.h"

namespace popek {

class FwCfg : public IoDevice {
 public:
  static constexpr uint16_t kSelectorPort = 0x510;
  static constexpr uint16_t kDataPort = 0x511;

  // Item keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h numbering).
  static constexpr uint16_t kSignature = 0x00;   // "QEMU"
  static constexpr uint16_t kId = 0x01;          // le32 feature bits: bit 0 traditional interface, bit 1 DMA
  static constexpr uint16_t kRamSize = 0x03;     // le64 RAM bytes
  static constexpr uint16_t kNoGraphic = 0x04;   // le16 (0: graphics present)
  static constexpr uint16_t kNbCpus = 0x05;      // le16 CPUs present at boot
  static constexpr uint16_t kBootMenu = 0x0E;    // le16 1: show the boot menu
  static constexpr uint16_t kMaxCpus = 0x0F;     // le16 CPUs possible
  static constexpr uint16_t kFileDir = 0x19;     // the file directory
  static constexpr uint16_t kFirstFile = 0x20;   // keys of add_file() items
  static constexpr uint16_t kArchLocal = 0x8000;  // selector bit 15: architecture-local keys
  static constexpr uint16_t kWriteChannel = 0x4000;  // selector bit 14: write channel (ignored)
  static constexpr uint16_t kKeyMask = 0x3FFF;
  static constexpr uint32_t kIdTraditional = 1u << 0;
  static constexpr size_t kFileNameSize = 56;  // including the terminating NUL
  static constexpr size_t kMaxFiles = kKeyMask + 1 - kFirstFile;

  // The signature item and an ID of "traditional interface only".
  FwCfg();

  // Registers 0x510-0x511 (with wide accesses, so a 16-bit selector write
  // arrives whole).
  void attach(IoBus& bus);
  // Selects the signature item at offset 0 (power-on state); items are kept.
  void reset();

  // Sets (replaces) the item `key` (architecture bit included).
  void set_item(uint16_t key, std::vector<uint8_t> data);
  void set_u16(uint16_t key, uint16_t value);
  void set_u32(uint16_t key, uint32_t value);
  void set_u64(uint16_t key, uint64_t value);
  // Adds or replaces the named file; returns its key, or 0 when the name is
  // empty, does not fit the 56-byte directory field, or keys ran out.
  uint16_t add_file(const std::string& name, std::vector<uint8_t> data);
  // The item under `key`, or nullptr.
  const std::vector<uint8_t>* item(uint16_t key) const;

  uint16_t selector() const { return selector_; }
  uint64_t ignored_accesses() const { return ignored_; }
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }

  uint32_t io_read(uint16_t port, unsigned size) override;
  void io_write(uint16_t port, unsigned size, uint32_t value) override;

 private:
  void rebuild_directory();
  void ignore(std::string_view what);

  std::map<uint16_t, std::vector<uint8_t>> items_;  // key -> contents
  std::vector<std::pair<std::string, uint16_t>> files_;  // directory order: name, key
  uint16_t selector_ = kSignature;  // last selector written (bits 15 and 13:0)
  uint32_t offset_ = 0;             // read offset in the selected item
  uint64_t ignored_ = 0;
  std::function<void(std::string_view)> log_;
};

}  // namespace popek
