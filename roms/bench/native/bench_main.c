/* bench_main.c - native 32-bit Linux driver for one benchmark kernel.
 *
 * Linked with roms/bench/native/<name>.asm (nasm -f elf32), which assembles
 * the very kernel the ROM runs (roms/bench/<name>_kernel.inc) with NATIVE
 * defined: the same instructions, counts and checksum, minus the privileged
 * steps noted in docs/benchmarks.md.
 *
 * Usage: <name>_native [quick | ITERATIONS]
 * Prints "<name> iterations=0xNNNNNNNN checksum=0xCCCCCCCC" (the ROM's line),
 * then "native_seconds=S" for the kernel's wall time. Exit status 0 when the
 * checksum matches the expected value for the full or quick count (or when
 * the count is a custom one), 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

extern uint32_t bench_kernel(uint32_t iters, void *work);
extern const uint32_t bench_full_iter, bench_quick_iter;
extern const uint32_t bench_expect_full, bench_expect_quick;
extern const uint32_t bench_work_size;
extern const char bench_name[];

int main(int argc, char **argv) {
  uint32_t iters = bench_full_iter;
  if (argc > 1) {
    if (strcmp(argv[1], "quick") == 0)
      iters = bench_quick_iter;
    else
      iters = (uint32_t)strtoul(argv[1], NULL, 0);
  }
  /* Readable, writable and executable: the smc kernel writes code here. */
  void *work = mmap(NULL, bench_work_size, PROT_READ | PROT_WRITE | PROT_EXEC,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (work == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint32_t sum = bench_kernel(iters, work);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  printf("%s iterations=0x%08X checksum=0x%08X\n", bench_name, iters, sum);
  printf("native_seconds=%.6f\n", secs);
  int ok = 1;
  if (iters == bench_full_iter) ok = sum == bench_expect_full;
  else if (iters == bench_quick_iter) ok = sum == bench_expect_quick;
  if (!ok) {
    printf("FAIL %s: checksum mismatch\n", bench_name);
    return 1;
  }
  return 0;
}
