; cs_ss_rpl.asm - MOV r,CS / MOV r,SS / PUSH CS / PUSH SS report the guest's
; selectors: RPL 0 at CPL0, RPL 3 at CPL3, RPL 1 at CPL1, and plain segment
; numbers in real mode. A translator that ran these natively would expose the
; host's selectors (e.g. RPL 3 even in guest ring 0).
%define TEST_NAME "cs_ss_rpl"
%include "testlib.inc"

SEL_CODE32_R1   equ SEL_FREE+0x00+1     ; 0x41 DPL1 code
SEL_DATA32_R1   equ SEL_FREE+0x08+1     ; 0x49 DPL1 data

section .text16
bits 16
test_main16:
        mov ax, cs
        movzx eax, ax
        CHECK eax, 0xF000, "real-mode MOV AX,CS"
        mov ax, ss
        movzx eax, ax
        CHECK eax, 0x0000, "real-mode MOV AX,SS"
        push cs
        pop ax
        movzx eax, ax
        CHECK eax, 0xF000, "real-mode PUSH CS"
        PRINTLN "real mode: CS=F000 SS=0000"
        PM32_ENTER main32

section .text32
bits 32
main32:
        mov eax, 0xFFFFFFFF
        mov ax, cs
        CHECK eax, 0xFFFF0008, "CPL0 MOV AX,CS (16-bit form keeps upper bits)"
        xor eax, eax
        mov ax, ss
        CHECK eax, SEL_DATA32, "CPL0 MOV AX,SS"
        push cs
        pop eax
        and eax, 0xFFFF
        CHECK eax, SEL_CODE32, "CPL0 PUSH CS"
        push ss
        pop eax
        and eax, 0xFFFF
        CHECK eax, SEL_DATA32, "CPL0 PUSH SS"
        PRINTLN "CPL0: CS=0008 SS=0010 (RPL 0)"

        RUN_RING3 ring3_code, 0x0002
        PUTS "CPL3: CS="
        PHEX [LV_USER], 4
        PUTS " SS="
        PHEX [LV_USER+4], 4
        PUTS 10
        CHECK dword [LV_USER], SEL_CODE32_R3, "CPL3 MOV AX,CS"
        CHECK dword [LV_USER+4], SEL_DATA32_R3, "CPL3 MOV AX,SS"
        CHECK dword [LV_USER+8], SEL_CODE32_R3, "CPL3 PUSH CS"
        CHECK dword [LV_USER+12], SEL_DATA32_R3, "CPL3 PUSH SS"
        CHECK dword [LV_USER+16], SEL_DATA32_R3, "CPL3 MOV AX,DS"

        ; ring 1 through IRET (same stack layout as ring 3)
        SETDESC SEL_CODE32_R1, 0, 0xFFFFF, ACC_CODE_R|0x20, FL_G|FL_32
        SETDESC SEL_DATA32_R1, 0, 0xFFFFF, ACC_DATA_W|0x20, FL_G|FL_32
        call enter_ring1
        jmp after_ring1
enter_ring1:                            ; returns via RING0_RETURN
        mov [LV_RING0_ESP], esp
        mov [TSS0_BASE+4], esp
        mov ax, SEL_DATA32_R3           ; DPL3 data stays valid at CPL1
        mov ds, ax
        mov es, ax
        push dword SEL_DATA32_R1
        push dword STACK1_TOP
        push dword 0x0002
        push dword SEL_CODE32_R1
        push dword ring1_code
        iretd
after_ring1:
        CHECK dword [LV_USER+20], SEL_CODE32_R1, "CPL1 MOV AX,CS"
        CHECK dword [LV_USER+24], SEL_DATA32_R1, "CPL1 MOV AX,SS"
        PRINTLN "CPL1: CS=0041 SS=0049 (RPL 1)"
        PASS

ring3_code:
        xor eax, eax
        mov ax, cs
        mov [LV_USER], eax
        mov ax, ss
        mov [LV_USER+4], eax
        push cs
        pop eax
        and eax, 0xFFFF
        mov [LV_USER+8], eax
        push ss
        pop eax
        and eax, 0xFFFF
        mov [LV_USER+12], eax
        xor eax, eax
        mov ax, ds
        mov [LV_USER+16], eax
        RING0_RETURN

ring1_code:
        xor eax, eax
        mov ax, cs
        mov [LV_USER+20], eax
        mov ax, ss
        mov [LV_USER+24], eax
        int RING0_RETURN_VEC
