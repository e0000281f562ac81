; sgdt_sidt.asm - SGDT/SIDT/SLDT/STR return exactly what the guest loaded
; (never the host's tables), in real mode, at CPL0 and at CPL3.
; Note: with a 16-bit operand size, current SDMs store the full 32-bit base,
; older ones (and QEMU 7.2) store 24 bits and zero the top byte, so the
; 16-bit-operand checks use a base below 16 MiB; 32-bit forms use a full base.
%define TEST_NAME "sgdt_sidt"
%include "testlib.inc"

SEL_LDT         equ SEL_FREE            ; LDT descriptor
LDT_BASE        equ 0x6000
BUF             equ LV_USER             ; 6-byte result buffers
BUF2            equ LV_USER+0x10
R3BUF           equ LV_USER+0x40

section .text16
bits 16
test_main16:
        ; fill buffers with a pattern so that short stores are detected
        mov dword [BUF], 0xCCCCCCCC
        mov dword [BUF+4], 0xCCCCCCCC
        o32 lgdt [cs:rm_gdtr32]
        o32 sgdt [BUF]
        CHECK dword [BUF], 0x56781234, "real-mode o32 SGDT limit|base lo"
        CHECK dword [BUF+4], 0xCCCC1234, "real-mode o32 SGDT base hi (2 bytes past untouched)"
        o32 lidt [cs:rm_idtr32]
        o32 sidt [BUF]
        CHECK dword [BUF], 0xBEEF0FFF, "real-mode o32 SIDT limit|base lo"
        CHECK dword [BUF+4], 0xCCCCDEAD, "real-mode o32 SIDT base hi"
        ; 16-bit operand size, base < 16 MiB
        lgdt [cs:rm_gdtr16]
        sgdt [BUF]
        CHECK dword [BUF], 0x4567FEDC, "real-mode SGDT (o16) limit|base lo"
        movzx eax, byte [BUF+4]
        CHECK eax, 0x23, "real-mode SGDT (o16) base bits 23:16"
        ; restore the real-mode IDT (IVT at 0, limit 0x3FF)
        o32 lidt [cs:rm_ivt]
        o32 sidt [BUF]
        CHECK dword [BUF], 0x000003FF, "real-mode SIDT after restoring the IVT"
        PRINTLN "real mode: SGDT/SIDT return the loaded values"
        PM32_ENTER main32

rm_gdtr32: dw 0x1234
           dd 0x12345678
rm_idtr32: dw 0x0FFF
           dd 0xDEADBEEF
rm_gdtr16: dw 0xFEDC
           dd 0x00234567
rm_ivt:    dw 0x03FF
           dd 0

section .text32
bits 32
main32:
        mov dword [BUF], 0xCCCCCCCC
        mov dword [BUF+4], 0xCCCCCCCC
        sgdt [BUF]
        CHECK dword [BUF], (GDT_BASE << 16) | GDT_LIMIT, "CPL0 SGDT limit|base lo"
        CHECK dword [BUF+4], 0xCCCC0000 | (GDT_BASE >> 16), "CPL0 SGDT base hi"
        sidt [BUF]
        CHECK dword [BUF], (IDT_BASE << 16) | IDT_LIMIT, "CPL0 SIDT limit|base lo"
        CHECK dword [BUF+4], 0xCCCC0000 | (IDT_BASE >> 16), "CPL0 SIDT base hi"
        ; no LDT yet: SLDT gives 0
        mov eax, 0x12345678
        sldt eax
        and eax, 0xFFFF
        CHECK eax, 0, "CPL0 SLDT before LLDT"
        mov eax, 0x12345678
        str eax
        and eax, 0xFFFF
        CHECK eax, SEL_TSS0, "CPL0 STR"
        ; an LDT, then SLDT
        SETDESC SEL_LDT, LDT_BASE, 0xFF, 0x82, 0
        mov ax, SEL_LDT
        lldt ax
        mov dword [BUF2], 0xCCCCCCCC
        sldt [BUF2]
        CHECK dword [BUF2], 0xCCCC0000 | SEL_LDT, "CPL0 SLDT m16 (2 bytes stored)"
        mov dword [BUF2], 0xCCCCCCCC
        str [BUF2]
        CHECK dword [BUF2], 0xCCCC0000 | SEL_TSS0, "CPL0 STR m16 (2 bytes stored)"
        ; reload with new unusual values and read them back
        lgdt [new_gdtr]
        sgdt [BUF]
        CHECK dword [BUF], (GDT_BASE << 16) | 0x01FF, "SGDT after LGDT limit 0x1FF"
        lidt [new_idtr]
        sidt [BUF]
        CHECK dword [BUF], (IDT_BASE << 16) | 0x03FF, "SIDT after LIDT limit 0x3FF"
        PRINTLN "CPL0: SGDT/SIDT/SLDT/STR return the guest's values"
        ; CPL3: the same values (the instructions are unprivileged)
        RUN_RING3 ring3_code, 0x0002
        CHECK dword [R3BUF], (GDT_BASE << 16) | 0x01FF, "CPL3 SGDT limit|base lo"
        CHECK dword [R3BUF+4], 0xCCCC0000 | (GDT_BASE >> 16), "CPL3 SGDT base hi"
        CHECK dword [R3BUF+8], (IDT_BASE << 16) | 0x03FF, "CPL3 SIDT limit|base lo"
        CHECK dword [R3BUF+12], 0xCCCC0000 | (IDT_BASE >> 16), "CPL3 SIDT base hi"
        CHECK dword [R3BUF+16], SEL_LDT, "CPL3 SLDT"
        CHECK dword [R3BUF+20], SEL_TSS0, "CPL3 STR"
        CHECK dword [R3BUF+24], 13, "CPL3 LGDT raises #GP"
        PRINTLN "CPL3: same values; LGDT at CPL3 faults"
        PASS

new_gdtr: dw 0x01FF
          dd GDT_BASE
new_idtr: dw 0x03FF
          dd IDT_BASE

ring3_code:
        mov edi, R3BUF
        mov eax, 0xCCCCCCCC
        mov ecx, 8
        rep stosd
        sgdt [R3BUF]
        sidt [R3BUF+8]
        mov word [R3BUF+16+2], 0
        sldt [R3BUF+16]
        mov word [R3BUF+20+2], 0
        str [R3BUF+20]
        mov dword [LV_RECOVER], .rec
        lgdt [new_gdtr]
        FAIL "LGDT at CPL3 did not fault"
.rec:   mov eax, [LV_EXC_VEC]
        mov [R3BUF+24], eax
        RING0_RETURN
