; calls_indirect.asm - benchmark ROM: recursion, deep call chains, calls
; through a function-pointer table and a threaded (jump-table) bytecode
; interpreter, in flat 32-bit protected mode. Kernel: calls_indirect_kernel.inc.
%include "calls_indirect_kernel.inc"

WORK_ADDR equ 0x200000

section .text32
bench_setup:
bench_teardown:
        ret
