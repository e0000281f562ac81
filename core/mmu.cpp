#include "core/mmu.h"

#include "core/fault.h"

namespace popek {

namespace pte {
constexpr uint32_t P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
}

void Mmu::flush(bool include_global) {
  for (Entry& e : tlb_)
    if (include_global || !(e.perms & kGlobal)) e = Entry{0, 0, 0};
  if (hook_) hook_(hook_ctx_, include_global ? TlbInvalidation::All : TlbInvalidation::NonGlobal, 0);
}

void Mmu::invlpg(uint32_t linear) {
  Entry& e = tlb_[(linear >> 12) % kEntries];
  if (e.tag == (linear >> 12) + 1) e = Entry{0, 0, 0};
  // Any address inside a 4 MiB page invalidates the whole page (SDM INVLPG).
  for (Entry& s : tlb_)
    if ((s.perms & kLarge) && s.tag && ((s.tag - 1) >> 10) == (linear >> 22)) s = Entry{0, 0, 0};
  if (hook_) hook_(hook_ctx_, TlbInvalidation::Page, linear);
}

GuestFault Mmu::take_page_fault(uint32_t linear, uint32_t error_code) {
  // A page fault drops the TLB entries for the faulting address (SDM
  // 4.10.4.1), global or not: a handler that makes a read-only page
  // writable, or points it elsewhere (copy on write), may return without
  // INVLPG and the retried access must see the new entry.
  invlpg(linear);
  cpu_.cr2 = linear;
  return GuestFault{vec::PF, true, error_code};
}

uint32_t Mmu::translate(uint32_t linear, AccessType type, bool user) {
  const Translation t = try_translate(linear, type, user);
  if (t.fault) throw take_page_fault(linear, t.error_code);
  return t.pa;
}

Mmu::Translation Mmu::walk(uint32_t linear, AccessType type, bool user) {
  const bool write = type == AccessType::Write;
  const bool wp = cpu_.cr0 & cr0::WP;
  // The #PF error code: P (a protection violation, else not present), W/R, U/S.
  auto fault = [&](bool present) {
    return Translation{0, true, (present ? 1u : 0u) | (write ? 2u : 0u) | (user ? 4u : 0u)};
  };
  uint32_t pde_addr = (cpu_.cr3 & 0xfffff000u) + ((linear >> 22) << 2);
  uint32_t pde = mem_.read32(pde_addr);
  if (!(pde & pte::P)) return fault(false);

  uint32_t phys_page, eff_rw, eff_us, leaf_addr, leaf;
  bool global = false, big = (pde & pte::PS) && (cpu_.cr4 & cr4::PSE);
  if (big) {
    phys_page = ((pde & 0xffc00000u) >> 12) | ((linear >> 12) & 0x3ff);
    eff_rw = pde & pte::RW;
    eff_us = pde & pte::US;
    leaf_addr = pde_addr;
    leaf = pde;
    global = (pde & pte::G) && (cpu_.cr4 & cr4::PGE);
  } else {
    uint32_t pte_addr = (pde & 0xfffff000u) + (((linear >> 12) & 0x3ff) << 2);
    leaf = mem_.read32(pte_addr);
    if (!(leaf & pte::P)) return fault(false);
    phys_page = leaf >> 12;
    eff_rw = pde & leaf & pte::RW;
    eff_us = pde & leaf & pte::US;
    leaf_addr = pte_addr;
    global = (leaf & pte::G) && (cpu_.cr4 & cr4::PGE);
  }

  // Permission check (i686: no NX, no SMEP/SMAP).
  if (user && !eff_us) return fault(true);
  if (write && !eff_rw && (user || wp)) return fault(true);

  // Accessed and dirty bits are set only for an access that succeeds.
  if (!big && !(pde & pte::A)) mem_.write32(pde_addr, pde | pte::A);
  uint32_t new_leaf = leaf | pte::A | (write ? pte::D : 0);
  if (new_leaf != leaf) mem_.write32(leaf_addr, new_leaf);

  uint8_t perms = kReadSup;
  if (eff_us) perms |= kReadUser;
  // Writes are cached only once the dirty bit is set, so the first write
  // to a clean page always walks and sets D.
  if (new_leaf & pte::D) {
    if (eff_rw || !wp) perms |= kWriteSup;
    if (eff_rw && eff_us) perms |= kWriteUser;
  }
  if (global) perms |= kGlobal;
  if (big) perms |= kLarge;
  tlb_[(linear >> 12) % kEntries] = Entry{(linear >> 12) + 1, phys_page, perms};
  return Translation{(phys_page << 12) | (linear & 0xfff), false, 0};
}

Mmu::Peek Mmu::peek(uint32_t linear, AccessType type, bool user) const {
  if (!(cpu_.cr0 & cr0::PG)) return {true, linear, true, false};
  const Entry& e = tlb_[(linear >> 12) % kEntries];
  if (e.tag == (linear >> 12) + 1 && (e.perms & needed(type, user)))
    return {true, (e.phys_page << 12) | (linear & 0xfff), (e.perms & kGlobal) != 0, (e.perms & kLarge) != 0};
  const bool write = type == AccessType::Write;
  const uint32_t pde = mem_.read32((cpu_.cr3 & 0xfffff000u) + ((linear >> 22) << 2));
  if (!(pde & pte::P) || !(pde & pte::A)) return {};
  const bool big = (pde & pte::PS) && (cpu_.cr4 & cr4::PSE);
  uint32_t leaf = pde, phys_page;
  if (big) {
    phys_page = ((pde & 0xffc00000u) >> 12) | ((linear >> 12) & 0x3ff);
  } else {
    leaf = mem_.read32((pde & 0xfffff000u) + (((linear >> 12) & 0x3ff) << 2));
    if (!(leaf & pte::P) || !(leaf & pte::A)) return {};
    phys_page = leaf >> 12;
  }
  const uint32_t rw = pde & leaf & pte::RW, us = pde & leaf & pte::US;
  if (user && !us) return {};
  if (write && (!(leaf & pte::D) || (!rw && (user || (cpu_.cr0 & cr0::WP))))) return {};
  return {true, (phys_page << 12) | (linear & 0xfff), (leaf & pte::G) && (cpu_.cr4 & cr4::PGE), big};
}

uint32_t Mmu::read(uint32_t linear, unsigned size, AccessType type, bool user) {
  if ((linear & 0xfff) + size <= 0x1000) return mem_.read(translate(linear, type, user), size);
  uint32_t v = 0;
  uint32_t first = translate(linear, type, user);
  uint32_t second = translate((linear | 0xfff) + 1, type, user);
  unsigned n1 = 0x1000 - (linear & 0xfff);
  for (unsigned i = 0; i < size; ++i)
    v |= uint32_t(mem_.read8(i < n1 ? first + i : second + (i - n1))) << (8 * i);
  return v;
}

uint64_t Mmu::read64(uint32_t linear, bool user) {
  // Both ends are translated first, so a #PF on the second page happens
  // before any byte (possibly MMIO) is read.
  translate(linear, AccessType::Read, user);
  translate(linear + 7, AccessType::Read, user);
  uint64_t lo = read(linear, 4, AccessType::Read, user);
  uint64_t hi = read(linear + 4, 4, AccessType::Read, user);
  return lo | (hi << 32);
}

void Mmu::check_write(uint32_t linear, unsigned size, bool user) {
  translate(linear, AccessType::Write, user);
  // The second page is reported at its first byte, as Mmu::write faults.
  if ((linear & 0xfff) + size > 0x1000) translate((linear | 0xfff) + 1, AccessType::Write, user);
}

void Mmu::write(uint32_t linear, unsigned size, uint32_t value, bool user) {
  if ((linear & 0xfff) + size <= 0x1000) {
    mem_.write(translate(linear, AccessType::Write, user), size, value);
    return;
  }
  uint32_t first = translate(linear, AccessType::Write, user);
  uint32_t second = translate((linear | 0xfff) + 1, AccessType::Write, user);
  unsigned n1 = 0x1000 - (linear & 0xfff);
  for (unsigned i = 0; i < size; ++i)
    mem_.write8(i < n1 ? first + i : second + (i - n1), static_cast<uint8_t>(value >> (8 * i)));
}

void Mmu::write64(uint32_t linear, uint64_t value, bool user) {
  check_write(linear, 8, user);
  write(linear, 4, static_cast<uint32_t>(value), user);
  write(linear + 4, 4, static_cast<uint32_t>(value >> 32), user);
}

}  // namespace popek
