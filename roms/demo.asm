; demo.asm - the demo guest the README boots: greets, switches to 32-bit
; protected mode, computes a few things, and exits with PASS.
%define TEST_NAME "demo"
%include "testlib.inc"

section .text16
bits 16
test_main16:
        PRINTLN "=============================================="
        PRINTLN "  Hello from Popek's demo ROM!"
        PRINTLN "  A tiny guest running without any BIOS."
        PRINTLN "=============================================="
        smsw ax
        PUTS "real mode: CS="
        mov bx, cs
        PHEX ebx, 4
        PUTS " CR0.PE="
        and eax, 1
        PHEX eax, 1
        PUTS 10
        PM32_ENTER main32

section .text32
bits 32
main32:
        mov eax, cr0
        PUTS "protected mode: CS="
        mov bx, cs
        movzx ebx, bx
        PHEX ebx, 4
        PUTS " CR0="
        PHEX eax, 8
        PUTS 10
        ; sum 1..100
        xor eax, eax
        mov ecx, 100
.sum:   add eax, ecx
        loop .sum
        PUTS "sum of 1..100 = 0x"
        PHEX eax, 4
        PUTS 10
        CHECK eax, 5050, "sum 1..100"
        ; fib(30) iteratively
        xor eax, eax
        mov ebx, 1
        mov ecx, 30
.fib:   xadd eax, ebx
        loop .fib
        PUTS "fib(30) = 0x"
        PHEX eax, 8
        PUTS 10
        CHECK eax, 832040, "fib(30)"
        ; x87: sqrt(2) * sqrt(2) rounded
        finit
        fld1
        fadd st0, st0
        fsqrt
        fmul st0, st0
        fistp dword [SCRATCH]
        CHECK dword [SCRATCH], 2, "sqrt(2)^2"
        PRINTLN "x87: sqrt(2)^2 rounds to 2"
        PRINTLN "All done, goodbye."
        PASS
