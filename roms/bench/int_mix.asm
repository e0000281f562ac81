; int_mix.asm - benchmark ROM: integer mix (lists, matrix, state machine,
; CRC-32) in flat 32-bit protected mode, paging off. The kernel and its
; description are in int_mix_kernel.inc; bench.inc has the build variants.
%include "int_mix_kernel.inc"

WORK_ADDR equ 0x200000

section .text32
bench_setup:
bench_teardown:
        ret
