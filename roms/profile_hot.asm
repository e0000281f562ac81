; profile_hot.asm - a known hot spot for popek --profile (tests/bench/
; test_profile_cli.cpp). In flat 32-bit protected mode it runs a cool loop
; (three instructions, 1000 times) and then a hot loop: one LOOP
; instruction, alone in its block, executed exactly HOT_COUNT times. A block
; of one instruction is never split by the end of an instruction slice, so
; the profile must count exactly HOT_COUNT executions of it.
; It prints the hot block's address for the test to find it.
; skip-engines: verify (20 million steps in lockstep take about a minute; the ROM exists for the dbt profile)
%define TEST_NAME "profile_hot"
%include "testlib.inc"

HOT_COUNT equ 20000000

PM32_TEST_MAIN main32
main32:
        PUTS "hot loop at 0x"
        PHEX hot_loop, 8
        PUTS 10
        xor eax, eax
        mov ecx, 1000
.cool:  add eax, ecx
        dec ecx
        jnz .cool
        mov ecx, HOT_COUNT
        jmp hot_loop
        align 16
hot_loop:
        loop hot_loop
        CHECK eax, 500500, "sum of the cool loop"
        CHECK ecx, 0, "ecx after the hot loop"
        PASS
