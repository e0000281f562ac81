; smsw_real.asm - SMSW reports the guest's (virtual) CR0, not the host's.
; Real mode: PE=0 (and ET=1 on a P6: 0x0010 after reset, MP/EM/TS clear);
; changing MP/TS with MOV CR0 / CLTS is visible; LMSW cannot clear PE;
; after entering protected mode PE=1, also at CPL3 (SMSW is unprivileged).
; SMSW r32 leaves bits 31:16 undefined (SDM), so only the low word is checked.
%define TEST_NAME "smsw_real"
%include "testlib.inc"

section .text16
bits 16
test_main16:
        mov eax, 0xFFFFFFFF
        smsw ax
        movzx eax, ax
        PUTS "real mode SMSW AX = "
        PHEX eax, 4
        PUTS 10
        CHECK eax, 0x0010, "real-mode SMSW AX (PE=0, ET=1)"
        mov word [LV_USER], 0xAAAA
        mov word [LV_USER+2], 0x5555
        smsw [LV_USER]
        CHECK dword [LV_USER], 0x55550010, "real-mode SMSW m16 (2 bytes stored)"
        ; set MP and TS through CR0: SMSW follows
        mov eax, cr0
        or eax, 0x0A
        mov cr0, eax
        smsw ax
        movzx eax, ax
        CHECK eax, 0x001A, "SMSW after CR0.MP|TS"
        clts
        smsw ax
        movzx eax, ax
        CHECK eax, 0x0012, "SMSW after CLTS"
        ; LMSW sets TS but ignores ET (bit 4 of the operand is reserved/ignored on P6)
        mov ax, 0x0008
        lmsw ax
        smsw ax
        movzx eax, ax
        CHECK eax, 0x0018, "SMSW after LMSW 0x0008 (TS set, MP cleared, ET kept)"
        clts
        PRINTLN "real mode: SMSW shows PE=0, follows MP/TS/CLTS/LMSW"
        PM32_ENTER main32

section .text32
bits 32
main32:
        xor eax, eax
        smsw ax
        PUTS "protected mode SMSW AX = "
        PHEX eax, 4
        PUTS 10
        CHECK eax, 0x0011, "pmode SMSW AX (PE=1)"
        ; LMSW with PE=0 must not leave protected mode
        mov ax, 0x0000
        lmsw ax
        xor eax, eax
        smsw ax
        CHECK eax, 0x0011, "SMSW after LMSW 0 (PE cannot be cleared by LMSW)"
        mov eax, cr0
        and eax, 0xFFFF
        CHECK eax, 0x0011, "CR0 low word after LMSW 0"
        ; ring 3: SMSW is unprivileged and reports the same value
        mov dword [LV_USER], 0xDEADBEEF
        RUN_RING3 ring3_code, 0x0002
        CHECK dword [LV_USER], 0xDEAD0011, "CPL3 SMSW m16"
        CHECK dword [LV_USER+4], 0x0011, "CPL3 SMSW AX"
        PRINTLN "protected mode: SMSW shows PE=1 at CPL0 and CPL3"
        ; LMSW at CPL3 is privileged: #GP(0)
        RUN_RING3 ring3_lmsw, 0x0002
        CHECK dword [LV_USER+8], 13, "CPL3 LMSW vector"
        PASS

ring3_code:
        smsw [LV_USER]
        xor eax, eax
        smsw ax
        mov [LV_USER+4], eax
        RING0_RETURN

ring3_lmsw:
        mov dword [LV_RECOVER], .rec
        xor eax, eax
        lmsw ax
        FAIL "LMSW at CPL3 did not fault"
.rec:   mov eax, [LV_EXC_VEC]
        mov [LV_USER+8], eax
        CHECK [LV_EXC_ERR], 0, "CPL3 LMSW error code"
        RING0_RETURN
