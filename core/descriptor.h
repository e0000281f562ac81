// Segment and gate descriptors as the i686 lays them out in the GDT, LDT and
// IDT (SDM vol. 3, 3.4.5 and 6.11), decoded field by field.
#pragma once
#include <cstdint>

#include "core/cpu_state.h"

namespace popek {

// System descriptor types (S = 0).
namespace sys_type {
constexpr unsigned TSS16_AVAIL = 0x1, LDT = 0x2, TSS16_BUSY = 0x3, CALL_GATE16 = 0x4,
                   TASK_GATE = 0x5, INT_GATE16 = 0x6, TRAP_GATE16 = 0x7, TSS32_AVAIL = 0x9,
                   TSS32_BUSY = 0xb, CALL_GATE32 = 0xc, INT_GATE32 = 0xe, TRAP_GATE32 = 0xf;
constexpr unsigned TSS_BUSY_BIT = 0x2;  // available -> busy
}  // namespace sys_type

struct Descriptor {
  uint32_t lo = 0, hi = 0;
  uint32_t addr = 0;  // linear address of the descriptor (for accessed/busy updates)

  unsigned type() const { return (hi >> 8) & 0xf; }
  bool s() const { return hi & (1u << 12); }  // code/data (1) or system (0)
  unsigned dpl() const { return (hi >> 13) & 3; }
  bool present() const { return hi & (1u << 15); }
  bool big() const { return hi & (1u << 22); }

  // Code and data segments (S = 1).
  bool is_code() const { return s() && (type() & 8); }
  bool is_data() const { return s() && !(type() & 8); }
  bool conforming() const { return is_code() && (type() & 4); }
  bool readable() const { return is_data() || (type() & 2); }  // data always, code if R
  bool writable_data() const { return is_data() && (type() & 2); }

  uint32_t base() const { return (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u); }
  // Byte-granular limit (G applied).
  uint32_t limit() const {
    uint32_t raw = (lo & 0xffff) | (hi & 0xf0000u);
    return (hi & (1u << 23)) ? (raw << 12) | 0xfff : raw;
  }
  // Bytes 5 and 6 of the descriptor, as kept in SegmentCache::attr.
  uint16_t attr() const { return static_cast<uint16_t>((hi >> 8) & 0xf0ff); }

  SegmentCache cache(uint16_t selector) const { return SegmentCache{selector, attr(), base(), limit()}; }

  // Gates (call, interrupt, trap, task).
  uint16_t gate_selector() const { return static_cast<uint16_t>(lo >> 16); }
  uint32_t gate_offset() const { return (lo & 0xffff) | (hi & 0xffff0000u); }
  unsigned gate_param_count() const { return hi & 0x1f; }
  bool gate32() const { return type() & 8; }

  // System-segment classification.
  bool is_tss() const {
    unsigned t = type();
    return !s() && (t == sys_type::TSS16_AVAIL || t == sys_type::TSS16_BUSY ||
                    t == sys_type::TSS32_AVAIL || t == sys_type::TSS32_BUSY);
  }
  bool tss_busy() const { return type() & sys_type::TSS_BUSY_BIT; }
};

// Selector fields.
inline bool selector_null(uint16_t sel) { return (sel & 0xfffc) == 0; }
inline unsigned selector_rpl(uint16_t sel) { return sel & 3; }
inline bool selector_ldt(uint16_t sel) { return sel & 4; }
// The selector as an error code: index and TI, with the EXT bit.
inline uint32_t selector_error(uint16_t sel, uint32_t ext = 0) { return (sel & 0xfffcu) | ext; }

}  // namespace popek
