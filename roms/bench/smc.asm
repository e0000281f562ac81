; smc.asm - benchmark ROM: self-modifying code (an immediate patched in a
; running loop, routines generated into a buffer and called), flat 32-bit
; protected mode, paging off. Kernel: smc_kernel.inc.
%include "smc_kernel.inc"

WORK_ADDR equ 0x200000

section .text32
bench_setup:
bench_teardown:
        ret
