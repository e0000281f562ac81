// Guest physical address space: RAM, ROM and MMIO regions at 4 KiB
// granularity, with the A20 gate applied to every access.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace popek {

class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  // `offset` is relative to the start of the region the device was mapped at.
  virtual uint32_t mmio_read(uint32_t offset, unsigned size) = 0;
  virtual void mmio_write(uint32_t offset, unsigned size, uint32_t value) = 0;
};

class PhysicalMemory {
 public:
  static constexpr uint32_t kPageShift = 12;
  static constexpr uint32_t kPageSize = 1u << kPageShift;
  static constexpr uint32_t kPages = 1u << 20;

  explicit PhysicalMemory(uint32_t ram_bytes);

  uint32_t ram_size() const { return ram_size_; }
  uint8_t* ram() { return ram_.get(); }

  // Maps `data` read-only at [base, base+size). Later mappings win.
  void map_rom(uint32_t base, const uint8_t* data, uint32_t size);
  void map_mmio(uint32_t base, uint32_t size, MmioDevice* device);
  // Makes [base, base+size) plain RAM again (if it lies inside RAM), or unmapped.
  void unmap(uint32_t base, uint32_t size);
  // Maps one page's reads and writes independently (chipset shadowing such as
  // the i440FX PAM registers): reads come from `read` (a ROM or RAM page, or
  // nullptr for unmapped, reading 0xff) and writes go to `write` (a RAM page,
  // or nullptr to drop them). Both point at the page's first byte and must
  // stay valid while mapped. Clears any MMIO mapping of the page; code-page
  // protection is kept (writes then still reach `write` through the hook).
  void set_page_access(uint32_t page, const uint8_t* read, uint8_t* write);
  // The host page behind reads of `page` (nullptr: MMIO or unmapped).
  const uint8_t* page_read_pointer(uint32_t page) const { return page < kPages ? read_page_[page] : nullptr; }

  void set_a20(bool enabled) { a20_mask_ = enabled ? 0xffffffffu : ~(1u << 20); }
  bool a20() const { return a20_mask_ == 0xffffffffu; }
  uint32_t a20_mask() const { return a20_mask_; }

  // Host pointer to the byte at `pa`, valid up to the end of its page, or
  // nullptr when the page is MMIO, unmapped, or (for writes) ROM.
  uint8_t* host_ptr_read(uint32_t pa) {
    pa &= a20_mask_;
    uint8_t* p = read_page_[pa >> kPageShift];
    return p ? p + (pa & (kPageSize - 1)) : nullptr;
  }
  uint8_t* host_ptr_write(uint32_t pa) {
    pa &= a20_mask_;
    uint8_t* p = write_page_[pa >> kPageShift];
    return p ? p + (pa & (kPageSize - 1)) : nullptr;
  }

  // Accesses of 1, 2 or 4 bytes; they may cross a page boundary.
  uint32_t read(uint32_t pa, unsigned size);
  void write(uint32_t pa, unsigned size, uint32_t value);
  uint8_t read8(uint32_t pa) { return static_cast<uint8_t>(read(pa, 1)); }
  uint16_t read16(uint32_t pa) { return static_cast<uint16_t>(read(pa, 2)); }
  uint32_t read32(uint32_t pa) { return read(pa, 4); }
  void write8(uint32_t pa, uint8_t v) { write(pa, 1, v); }
  void write16(uint32_t pa, uint16_t v) { write(pa, 2, v); }
  void write32(uint32_t pa, uint32_t v) { write(pa, 4, v); }
  // Bulk copy for loaders and DMA; MMIO/unmapped bytes are skipped on write
  // and read as 0xff.
  void write_bytes(uint32_t pa, const uint8_t* src, uint32_t len);
  void read_bytes(uint32_t pa, uint8_t* dst, uint32_t len);

  // Write hook for pages that hold translated code (self-modifying code).
  // Such pages get no direct write pointer, so every write reaches notify.
  using CodeWriteHook = void (*)(void* ctx, uint32_t pa, unsigned size);
  void set_code_write_hook(CodeWriteHook hook, void* ctx) {
    code_hook_ = hook;
    code_hook_ctx_ = ctx;
  }
  void protect_code_page(uint32_t page);
  void unprotect_code_page(uint32_t page);
  bool is_code_page(uint32_t page) const { return code_page_[page]; }
  // Bumps on every change of the memory map that can invalidate a cached host
  // pointer (for TLBs holding them); unprotect_code_page does not bump it.
  uint64_t map_generation() const { return map_generation_; }

 private:
  struct MmioSlot {
    MmioDevice* device;
    uint32_t base;
  };
  uint32_t read_slow(uint32_t pa, unsigned size);
  void write_slow(uint32_t pa, unsigned size, uint32_t value);
  void refresh_write_pointer(uint32_t page);

  uint32_t ram_size_;
  // Guest RAM: an anonymous mapping (zero-filled on first touch) with
  // transparent huge pages requested, so that guest accesses scattered over
  // RAM (a guest page walk's worth of them per access) miss the host TLB
  // far less.
  struct RamDeleter {
    void* mapping = nullptr;
    size_t bytes = 0;
    void operator()(uint8_t*) const;
  };
  static std::unique_ptr<uint8_t[], RamDeleter> allocate_ram(uint32_t bytes);
  std::unique_ptr<uint8_t[], RamDeleter> ram_;
  std::vector<std::unique_ptr<uint8_t[]>> rom_blocks_;
  std::vector<uint8_t*> read_page_;
  std::vector<uint8_t*> write_page_;
  std::vector<uint8_t*> backing_write_;  // write pointer before code protection
  std::vector<int32_t> mmio_index_;      // -1: none
  std::vector<MmioSlot> mmio_;
  std::vector<uint8_t> code_page_;
  uint32_t a20_mask_ = 0xffffffffu;
  CodeWriteHook code_hook_ = nullptr;
  void* code_hook_ctx_ = nullptr;
  uint64_t map_generation_ = 0;
};

}  // namespace popek
