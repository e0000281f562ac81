; big_code.asm - benchmark ROM with a large code footprint: the last 64 KiB
; of a 256 KiB image whose first 192 KiB are the kernel (big_code_kernel.inc
; assembled with -DBIG_CODE_BLOB; roms/bench/big_code.cmake joins them).
%include "big_code_kernel.inc"

WORK_ADDR equ 0x200000

section .text32
bench_setup:
bench_teardown:
        ret
