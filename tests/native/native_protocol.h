/* Wire format and memory layout shared by the native 32-bit runner
 * (tests/native/native_runner.c, built -m32) and the differential-test
 * harness (tests/diff/, 64-bit C++). Plain C so both sides include it.
 *
 * The guest-visible layout is the same for all three executors (Popek,
 * Unicorn, the real CPU): an 8 KiB data area (two pages, so accesses can
 * cross a page boundary) and a 4 KiB stack area right above it, both below
 * 64 KiB (so 16-bit addressing forms can reach them), and the code page
 * above. Nothing else is mapped. A request carries the code, the 8 GPRs, EFLAGS and the initial
 * contents of both areas; the reply carries the same after the run, or the
 * state at the first fault.
 */
#ifndef POPEK_TESTS_NATIVE_PROTOCOL_H
#define POPEK_TESTS_NATIVE_PROTOCOL_H
#include <stdint.h>

#define DIFF_DATA_BASE 0x4000u
#define DIFF_DATA_SIZE 0x2000u /* two pages: accesses may cross between them */
#define DIFF_STACK_BASE 0x6000u
#define DIFF_STACK_SIZE 0x1000u
#define DIFF_CODE_BASE 0x10000u
#define DIFF_CODE_SIZE 0x1000u
/* Room the native runner keeps after the snippet for its exit jump. */
#define DIFF_CODE_MAX (DIFF_CODE_SIZE - 16u)

#define DIFF_REQ_MAGIC 0x51455244u  /* "DREQ" */
#define DIFF_REP_MAGIC 0x50455244u  /* "DREP" */

/* GPRs in encoding order: EAX ECX EDX EBX ESP EBP ESI EDI. */
struct diff_request {
  uint32_t magic;
  uint32_t code_len; /* <= DIFF_CODE_MAX */
  uint32_t regs[8];
  uint32_t eflags;
  uint8_t code[DIFF_CODE_MAX];
  uint8_t data[DIFF_DATA_SIZE];
  uint8_t stack[DIFF_STACK_SIZE];
};

enum diff_status { DIFF_OK = 0, DIFF_FAULT = 1 };

struct diff_reply {
  uint32_t magic;
  uint32_t status;  /* enum diff_status */
  uint32_t signo;   /* host signal, when status == DIFF_FAULT */
  uint32_t vector;  /* CPU exception vector (trap number) */
  uint32_t error_code;
  uint32_t eip;     /* end of snippet, or the faulting instruction */
  uint32_t regs[8];
  uint32_t eflags;
  uint8_t data[DIFF_DATA_SIZE];
  uint8_t stack[DIFF_STACK_SIZE];
};

#endif
