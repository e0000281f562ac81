; storm.asm - a guest that abuses the emulator's resources, for the RSS test
; (test_resource_limits.cpp). In flat 32-bit protected mode, for ever:
;  1. SMC and code-footprint storm: writes "mov eax, imm32; ret" at 64-byte
;     steps over 1 MiB above 2 MiB (16384 distinct code addresses, each
;     rewritten on the next pass) and calls each one right after writing it:
;     every call is a fresh translation and every write an SMC invalidation;
;  2. page-fault storm: 16384 reads of a not-present page, each a #PF whose
;     handler skips the read;
;  3. interrupt storm: PIT channel 0 at its fastest rate (divisor 2) on IRQ0
;     with IF=1, while the CPU spins for 16384 iterations; the handler only
;     acknowledges.
; Each pass prints "." and a newline to port 0xE9. The test bounds the run
; by instruction count.
%define TEST_NAME "storm"
%include "testlib.inc"

CODE_AREA       equ 0x200000
CODE_BYTES      equ 0x100000
PD              equ 0x100000
PT              equ 0x101000        ; 8 page tables: identity 0-32 MiB
HOLE            equ 0x3000000       ; 48 MiB: not present

section .text16
bits 16
test_main16:
        PM32_ENTER main32

section .text32
bits 32
main32:
        cli
        ; Paging: identity map of 0-32 MiB; above that not present.
        mov edi, PT
        mov eax, 0x007              ; present, writable, user
        mov ecx, 8 * 1024
.pte:   stosd
        add eax, 0x1000
        loop .pte
        mov edi, PD
        mov eax, PT | 0x007
        mov ecx, 8
.pde:   stosd
        add eax, 0x1000
        loop .pde
        mov ecx, 1024 - 8
        xor eax, eax
        rep stosd
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        jmp .paged
.paged:
        SETGATE 14, SEL_CODE32, pf_handler, GATE_INT32
        SETGATE 0x20, SEL_CODE32, irq0_handler, GATE_INT32
        ; PICs: vectors 0x20/0x28, everything masked but IRQ0 later.
        PIC_INIT_MASKED

pass:
        ; 1. SMC / footprint storm.
        mov edi, CODE_AREA
.smc:   mov byte [edi], 0xB8        ; mov eax, imm32
        mov [edi+1], edi
        mov byte [edi+5], 0xC3      ; ret
        call edi
        add edi, 64
        cmp edi, CODE_AREA + CODE_BYTES
        jb .smc
        ; 2. Page-fault storm.
        mov esi, HOLE
        mov ecx, 16384
.pf:    mov eax, [esi]              ; 2 bytes: the handler skips them
        loop .pf
        ; 3. Interrupt storm: PIT channel 0, mode 2, divisor 2.
        mov al, 0x34
        out 0x43, al
        mov al, 2
        out 0x40, al
        xor al, al
        out 0x40, al
        mov al, 0xfe
        out 0x21, al
        sti
        mov ecx, 16384
.spin:  loop .spin
        cli
        mov al, 0xff
        out 0x21, al
        mov al, '.'
        out PORT_CON, al
        mov al, 10
        out PORT_CON, al
        jmp pass

pf_handler:
        add esp, 4                  ; error code
        add dword [esp], 2          ; skip "mov eax, [esi]"
        iretd

irq0_handler:
        push eax
        mov al, 0x20
        out 0x20, al
        pop eax
        iretd
