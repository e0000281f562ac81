/* Native 32-bit runner for Popek's differential tests.
 *
 * Runs instruction snippets on the real CPU, as a 32-bit Linux process, and
 * reports the architectural state they leave. It is the highest authority
 * for user-mode integer instructions: Popek's interpreter and Unicorn are
 * both compared against it (tests/diff/, docs/differential-testing.md).
 *
 * Protocol (tests/native/native_protocol.h): a stream of struct
 * diff_request on stdin, one struct diff_reply on stdout for each, until EOF.
 *
 * How one snippet runs:
 *  - the code, data and stack areas are mapped once at fixed low addresses
 *    (below 64 KiB, so 16-bit addressing forms reach the data);
 *  - the snippet is copied to DIFF_CODE_BASE and followed by an absolute
 *    indirect jump to `diff_saver`, then by UD2 filler (a stray jump past the
 *    end faults instead of running stale bytes);
 *  - `diff_enter` saves the host registers, loads the eight GPRs and EFLAGS
 *    with POPAL/POPFL from a staging block, switches to the guest ESP and
 *    jumps to the snippet; `diff_saver` stores the guest GPRs and EFLAGS with
 *    PUSHFL/PUSHAL into a staging block and returns to C;
 *  - a fault (SIGSEGV/SIGILL/SIGFPE/SIGBUS/SIGTRAP) is caught on an
 *    alternate signal stack (the guest stack area must not be touched), the
 *    state at the fault is taken from the ucontext (the CPU reports it
 *    before the faulting instruction, i.e. precisely), and siglongjmp
 *    returns to the request loop. SIGALRM bounds a run that never ends.
 *
 * Build: gcc -m32 -static (tests/native/CMakeLists.txt).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "native_protocol.h"

#if !defined(__i386__)
#error "native_runner must be built for 32-bit x86 (-m32)"
#endif

/* EFLAGS bits a request may set: CF PF AF ZF SF DF OF, IF (always set by
 * the kernel for user code) and ID. TF, AC, NT and IOPL are never loaded. */
#define LOADABLE_FLAGS 0x00200ed5u
#define FIXED_FLAGS 0x00000202u

/* Staging blocks in POPAL/PUSHAL order followed by EFLAGS:
 * EDI ESI EBP ESP EBX EDX ECX EAX EFLAGS. */
struct pusha_block {
  uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax, eflags;
};

struct pusha_block diff_guest_in;
struct pusha_block diff_guest_out;
uint32_t diff_guest_in_esp;
uint32_t diff_guest_out_esp;
uint32_t diff_host_esp;
uint32_t diff_code_entry = DIFF_CODE_BASE;
uint32_t diff_saver_address;

void diff_enter(void);
void diff_saver(void);

/* diff_enter: PUSHAL/PUSHFL keep every host register; POPAL/POPFL load the
 * guest's from diff_guest_in (ESP pointing at it), then ESP is loaded and the
 * snippet entered with an indirect jump (no flags or registers touched).
 * diff_saver: the snippet's exit jump lands here with the guest state live.
 * It parks the guest ESP, points ESP just past diff_guest_out, and PUSHFL +
 * PUSHAL fill the block from the top down (EFLAGS at the top). CLD restores
 * the ABI's DF=0 before C code runs again. */
__asm__(
    ".text\n"
    ".globl diff_enter\n"
    "diff_enter:\n"
    "  pushal\n"
    "  pushfl\n"
    "  movl %esp, diff_host_esp\n"
    "  movl $diff_guest_in, %esp\n"
    "  popal\n"
    "  popfl\n"
    "  movl diff_guest_in_esp, %esp\n"
    "  jmp *diff_code_entry\n"
    ".globl diff_saver\n"
    "diff_saver:\n"
    "  movl %esp, diff_guest_out_esp\n"
    "  movl $diff_guest_out+36, %esp\n"
    "  pushfl\n"
    "  pushal\n"
    "  cld\n"
    "  movl diff_host_esp, %esp\n"
    "  popfl\n"
    "  popal\n"
    "  ret\n");

static sigjmp_buf fault_jump;
static volatile sig_atomic_t in_snippet;
static struct diff_reply reply;

static void on_fault(int signo, siginfo_t* info, void* ctx) {
  (void)info;
  if (!in_snippet) {
    /* A fault in the runner itself: report and die rather than loop. */
    static const char msg[] = "native_runner: fault outside the snippet\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(3);
  }
  ucontext_t* uc = (ucontext_t*)ctx;
  const greg_t* g = uc->uc_mcontext.gregs;
  reply.status = DIFF_FAULT;
  reply.signo = (uint32_t)signo;
  if (signo == SIGALRM) {
    reply.vector = 0xffffffffu;
    reply.error_code = 0;
  } else {
    reply.vector = (uint32_t)g[REG_TRAPNO];
    reply.error_code = (uint32_t)g[REG_ERR];
  }
  reply.eip = (uint32_t)g[REG_EIP];
  reply.regs[0] = (uint32_t)g[REG_EAX];
  reply.regs[1] = (uint32_t)g[REG_ECX];
  reply.regs[2] = (uint32_t)g[REG_EDX];
  reply.regs[3] = (uint32_t)g[REG_EBX];
  reply.regs[4] = (uint32_t)g[REG_UESP];
  reply.regs[5] = (uint32_t)g[REG_EBP];
  reply.regs[6] = (uint32_t)g[REG_ESI];
  reply.regs[7] = (uint32_t)g[REG_EDI];
  reply.eflags = (uint32_t)g[REG_EFL];
  in_snippet = 0;
  siglongjmp(fault_jump, 1);
}

static int install_handlers(void) {
  static uint8_t alt_stack[64 * 1024];
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  if (sigaltstack(&ss, NULL) != 0) return -1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = {SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGTRAP, SIGALRM};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; ++i)
    if (sigaction(sigs[i], &sa, NULL) != 0) return -1;
  return 0;
}

static void* map_fixed(uint32_t base, uint32_t size, int prot) {
  void* want = (void*)(uintptr_t)base;
  void* p = mmap(want, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED || p != want) {
    fprintf(stderr, "native_runner: cannot map 0x%x (+0x%x): %s (vm.mmap_min_addr?)\n", base, size,
            strerror(errno));
    return NULL;
  }
  return p;
}

static int read_full(void* buf, size_t len) {
  uint8_t* p = (uint8_t*)buf;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(0, p + got, len - got);
    if (n == 0) return got == 0 ? 0 : -1;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    got += (size_t)n;
  }
  return 1;
}

static int write_full(const void* buf, size_t len) {
  const uint8_t* p = (const uint8_t*)buf;
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(1, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += (size_t)n;
  }
  return 0;
}

static void place_code(uint8_t* code, const struct diff_request* rq) {
  memcpy(code, rq->code, rq->code_len);
  uint8_t* p = code + rq->code_len;
  /* jmp dword [diff_saver_address] */
  uint32_t slot = (uint32_t)(uintptr_t)&diff_saver_address;
  p[0] = 0xff;
  p[1] = 0x25;
  memcpy(p + 2, &slot, 4);
  /* UD2 filler up to the end of the page. */
  for (uint8_t* f = p + 6; f + 1 < code + DIFF_CODE_SIZE; f += 2) {
    f[0] = 0x0f;
    f[1] = 0x0b;
  }
}

static void run_one(const struct diff_request* rq, uint8_t* code, uint8_t* data, uint8_t* stack) {
  place_code(code, rq);
  memcpy(data, rq->data, DIFF_DATA_SIZE);
  memcpy(stack, rq->stack, DIFF_STACK_SIZE);
  diff_guest_in.eax = rq->regs[0];
  diff_guest_in.ecx = rq->regs[1];
  diff_guest_in.edx = rq->regs[2];
  diff_guest_in.ebx = rq->regs[3];
  diff_guest_in.esp = 0;
  diff_guest_in.ebp = rq->regs[5];
  diff_guest_in.esi = rq->regs[6];
  diff_guest_in.edi = rq->regs[7];
  diff_guest_in.eflags = (rq->eflags & LOADABLE_FLAGS) | FIXED_FLAGS;
  diff_guest_in_esp = rq->regs[4];

  memset(&reply, 0, sizeof reply);
  reply.magic = DIFF_REP_MAGIC;
  alarm(5);
  if (sigsetjmp(fault_jump, 1) == 0) {
    in_snippet = 1;
    diff_enter();
    in_snippet = 0;
    reply.status = DIFF_OK;
    reply.eip = DIFF_CODE_BASE + rq->code_len;
    reply.regs[0] = diff_guest_out.eax;
    reply.regs[1] = diff_guest_out.ecx;
    reply.regs[2] = diff_guest_out.edx;
    reply.regs[3] = diff_guest_out.ebx;
    reply.regs[4] = diff_guest_out_esp;
    reply.regs[5] = diff_guest_out.ebp;
    reply.regs[6] = diff_guest_out.esi;
    reply.regs[7] = diff_guest_out.edi;
    reply.eflags = diff_guest_out.eflags;
  }
  alarm(0);
  memcpy(reply.data, data, DIFF_DATA_SIZE);
  memcpy(reply.stack, stack, DIFF_STACK_SIZE);
}

int main(void) {
  diff_saver_address = (uint32_t)(uintptr_t)&diff_saver;
  uint8_t* code = map_fixed(DIFF_CODE_BASE, DIFF_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
  uint8_t* data = map_fixed(DIFF_DATA_BASE, DIFF_DATA_SIZE, PROT_READ | PROT_WRITE);
  uint8_t* stack = map_fixed(DIFF_STACK_BASE, DIFF_STACK_SIZE, PROT_READ | PROT_WRITE);
  if (!code || !data || !stack) return 2;
  if (install_handlers() != 0) {
    perror("native_runner: signal setup");
    return 2;
  }
  static struct diff_request rq;
  for (;;) {
    int r = read_full(&rq, sizeof rq);
    if (r == 0) return 0;
    if (r < 0 || rq.magic != DIFF_REQ_MAGIC || rq.code_len > DIFF_CODE_MAX) {
      fprintf(stderr, "native_runner: bad request\n");
      return 2;
    }
    run_one(&rq, code, data, stack);
    if (write_full(&reply, sizeof reply) != 0) return 2;
  }
}
