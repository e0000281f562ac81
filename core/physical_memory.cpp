#include "core/physical_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace popek {

PhysicalMemory::PhysicalMemory(uint32_t ram_bytes)
    : ram_size_(ram_bytes),
      ram_(allocate_ram(ram_bytes)),
      read_page_(kPages, nullptr),
      write_page_(kPages, nullptr),
      backing_write_(kPages, nullptr),
      mmio_index_(kPages, -1),
      code_page_(kPages, 0) {
  for (uint32_t p = 0; p < (ram_bytes >> kPageShift); ++p) {
    read_page_[p] = write_page_[p] = backing_write_[p] = ram_.get() + (size_t(p) << kPageShift);
  }
}

std::unique_ptr<uint8_t[], PhysicalMemory::RamDeleter> PhysicalMemory::allocate_ram(uint32_t bytes) {
  constexpr size_t kHuge = size_t(2) << 20;
  const size_t size = bytes ? bytes : 1;
  // 2 MiB more, so the RAM can start on a huge-page boundary.
  const size_t span = size + kHuge;
  void* m = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t aligned = (reinterpret_cast<uintptr_t>(m) + kHuge - 1) & ~(kHuge - 1);
  ::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);  // advice only: failure is harmless
  return std::unique_ptr<uint8_t[], RamDeleter>(reinterpret_cast<uint8_t*>(aligned), RamDeleter{m, span});
}

void PhysicalMemory::RamDeleter::operator()(uint8_t*) const {
  if (mapping) ::munmap(mapping, bytes);
}

void PhysicalMemory::map_rom(uint32_t base, const uint8_t* data, uint32_t size) {
  uint32_t pages = (size + kPageSize - 1) >> kPageShift;
  auto block = std::make_unique<uint8_t[]>(size_t(pages) << kPageShift);
  std::memset(block.get(), 0xff, size_t(pages) << kPageShift);
  std::memcpy(block.get(), data, size);
  for (uint32_t i = 0; i < pages; ++i) {
    uint32_t p = (base >> kPageShift) + i;
    if (p >= kPages) break;
    read_page_[p] = block.get() + (size_t(i) << kPageShift);
    write_page_[p] = backing_write_[p] = nullptr;
    mmio_index_[p] = -1;
  }
  rom_blocks_.push_back(std::move(block));
  ++map_generation_;
}

void PhysicalMemory::map_mmio(uint32_t base, uint32_t size, MmioDevice* device) {
  mmio_.push_back(MmioSlot{device, base});
  int32_t idx = static_cast<int32_t>(mmio_.size() - 1);
  uint32_t first = base >> kPageShift;
  uint32_t pages = (size + kPageSize - 1) >> kPageShift;
  for (uint32_t i = 0; i < pages && first + i < kPages; ++i) {
    uint32_t p = first + i;
    read_page_[p] = write_page_[p] = backing_write_[p] = nullptr;
    mmio_index_[p] = idx;
  }
  ++map_generation_;
}

void PhysicalMemory::unmap(uint32_t base, uint32_t size) {
  uint32_t first = base >> kPageShift;
  uint32_t pages = (size + kPageSize - 1) >> kPageShift;
  for (uint32_t i = 0; i < pages && first + i < kPages; ++i) {
    uint32_t p = first + i;
    mmio_index_[p] = -1;
    uint8_t* r = (uint64_t(p) << kPageShift) < ram_size_ ? ram_.get() + (size_t(p) << kPageShift) : nullptr;
    read_page_[p] = backing_write_[p] = r;
    write_page_[p] = code_page_[p] ? nullptr : r;
  }
  ++map_generation_;
}

void PhysicalMemory::set_page_access(uint32_t page, const uint8_t* read, uint8_t* write) {
  if (page >= kPages) return;
  mmio_index_[page] = -1;
  // read_page_ holds non-const pointers only because RAM pages share it; a
  // ROM page is never written through it (writes use write_page_).
  read_page_[page] = const_cast<uint8_t*>(read);
  backing_write_[page] = write;
  write_page_[page] = code_page_[page] ? nullptr : write;
  ++map_generation_;
}

void PhysicalMemory::protect_code_page(uint32_t page) {
  if (page >= kPages || code_page_[page]) return;
  code_page_[page] = 1;
  write_page_[page] = nullptr;
  ++map_generation_;
}

void PhysicalMemory::unprotect_code_page(uint32_t page) {
  if (page >= kPages || !code_page_[page]) return;
  code_page_[page] = 0;
  write_page_[page] = backing_write_[page];
  // No map_generation_ bump: a cache of host pointers cannot hold a write
  // pointer to a page that had none, and its read pointer is unchanged.
}

uint32_t PhysicalMemory::read(uint32_t pa, unsigned size) {
  pa &= a20_mask_;
  uint32_t off = pa & (kPageSize - 1);
  if (off + size <= kPageSize) {
    if (const uint8_t* p = read_page_[pa >> kPageShift]) {
      p += off;
      // Constant sizes, so the copies compile to plain loads (a page walk
      // reads two dwords per TLB miss).
      if (size == 4) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
      }
      if (size == 2) {
        uint16_t v;
        std::memcpy(&v, p, 2);
        return v;
      }
      uint32_t v = 0;
      std::memcpy(&v, p, size);
      return v;
    }
  }
  return read_slow(pa, size);
}

void PhysicalMemory::write(uint32_t pa, unsigned size, uint32_t value) {
  pa &= a20_mask_;
  uint32_t off = pa & (kPageSize - 1);
  if (off + size <= kPageSize) {
    if (uint8_t* p = write_page_[pa >> kPageShift]) {
      std::memcpy(p + off, &value, size);
      return;
    }
  }
  write_slow(pa, size, value);
}

uint32_t PhysicalMemory::read_slow(uint32_t pa, unsigned size) {
  uint32_t off = pa & (kPageSize - 1);
  uint32_t page = pa >> kPageShift;
  if (off + size <= kPageSize && mmio_index_[page] >= 0) {
    const MmioSlot& m = mmio_[mmio_index_[page]];
    return m.device->mmio_read(pa - m.base, size);
  }
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t a = (pa + i) & a20_mask_;
    uint32_t pg = a >> kPageShift;
    uint32_t b;
    if (uint8_t* p = read_page_[pg]) b = p[a & (kPageSize - 1)];
    else if (mmio_index_[pg] >= 0) b = mmio_[mmio_index_[pg]].device->mmio_read(a - mmio_[mmio_index_[pg]].base, 1) & 0xff;
    else b = 0xff;
    v |= b << (8 * i);
  }
  return v;
}

void PhysicalMemory::write_slow(uint32_t pa, unsigned size, uint32_t value) {
  uint32_t off = pa & (kPageSize - 1);
  uint32_t page = pa >> kPageShift;
  if (off + size <= kPageSize && mmio_index_[page] >= 0) {
    const MmioSlot& m = mmio_[mmio_index_[page]];
    m.device->mmio_write(pa - m.base, size, value);
    return;
  }
  for (unsigned i = 0; i < size; ++i) {
    uint32_t a = (pa + i) & a20_mask_;
    uint32_t pg = a >> kPageShift;
    uint8_t b = static_cast<uint8_t>(value >> (8 * i));
    if (uint8_t* p = backing_write_[pg]) {
      p[a & (kPageSize - 1)] = b;
      if (code_page_[pg] && code_hook_) code_hook_(code_hook_ctx_, a, 1);
    } else if (mmio_index_[pg] >= 0) {
      mmio_[mmio_index_[pg]].device->mmio_write(a - mmio_[mmio_index_[pg]].base, 1, b);
    }
    // ROM and unmapped: dropped.
  }
}

// Bulk copies go a page at a time: a page with a direct pointer is copied
// with memcpy, a code-protected page too (then the SMC hook sees the whole
// chunk at once); ROM, MMIO and unmapped pages go byte by byte through the
// slow path, which applies their rules (drop, device).
void PhysicalMemory::write_bytes(uint32_t pa, const uint8_t* src, uint32_t len) {
  while (len) {
    uint32_t chunk = std::min(len, kPageSize - (pa & (kPageSize - 1)));
    const uint32_t page = (pa & a20_mask_) >> kPageShift;
    if (uint8_t* p = host_ptr_write(pa)) {
      std::memcpy(p, src, chunk);
    } else if (code_page_[page] && backing_write_[page] && mmio_index_[page] < 0) {
      // A code page (DMA or a loader over translated code): one copy and
      // one hook call for the whole chunk.
      std::memcpy(backing_write_[page] + (pa & (kPageSize - 1)), src, chunk);
      if (code_hook_) code_hook_(code_hook_ctx_, pa & a20_mask_, chunk);
    } else {
      for (uint32_t i = 0; i < chunk; ++i) write_slow(pa + i, 1, src[i]);
    }
    pa += chunk;
    src += chunk;
    len -= chunk;
  }
}

void PhysicalMemory::read_bytes(uint32_t pa, uint8_t* dst, uint32_t len) {
  while (len) {
    uint32_t chunk = std::min(len, kPageSize - (pa & (kPageSize - 1)));
    if (const uint8_t* p = host_ptr_read(pa)) {
      std::memcpy(dst, p, chunk);
    } else {
      for (uint32_t i = 0; i < chunk; ++i) dst[i] = static_cast<uint8_t>(read_slow(pa + i, 1));
    }
    pa += chunk;
    dst += chunk;
    len -= chunk;
  }
}

}  // namespace popek
