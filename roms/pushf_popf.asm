; pushf_popf.asm - PUSHF/POPF/CLI/STI follow the guest's CPL/IOPL rules:
;   CPL0: POPF changes IF and IOPL.
;   CPL3, IOPL0: POPF silently keeps IF and IOPL (no fault); AC, DF, arith
;     flags do change; CLI/STI raise #GP(0).
;   CPL3, IOPL3: POPF changes IF but still not IOPL; CLI/STI work.
;   PUSHF never shows VM or RF.
; Run natively in host user mode, POPF would drop the IF change at guest
; CPL0 and show the host's IOPL/IF.
; The PICs are masked by the lib, so IF=1 never lets an interrupt in.
%define TEST_NAME "pushf_popf"
%include "testlib.inc"

R3 equ LV_USER

section .text16
bits 16
test_main16:
        ; real mode: POPF changes IF both ways
        pushf
        pop ax
        or ax, F_IF
        push ax
        popf
        pushf
        pop ax
        movzx eax, ax
        and eax, F_IF
        CHECK eax, F_IF, "real-mode POPF sets IF"
        cli
        pushf
        pop ax
        movzx eax, ax
        and eax, F_IF
        CHECK eax, 0, "real-mode CLI clears IF"
        sti
        pushf
        pop ax
        movzx eax, ax
        and eax, F_IF
        CHECK eax, F_IF, "real-mode STI sets IF"
        cli
        PRINTLN "real mode: POPF/CLI/STI change IF"
        PM32_ENTER main32

section .text32
bits 32
main32:
        ; CPL0: POPFD sets IF and IOPL
        push dword 2
        popfd
        pushfd
        pop eax
        CHECK eax, 0x00000002, "CPL0 PUSHFD after entry"
        push dword F_IF | F_IOPL3 | F_CF | F_OF | 2
        popfd
        pushfd
        pop eax
        CHECK eax, F_IF | F_IOPL3 | F_CF | F_OF | 2, "CPL0 POPFD sets IF/IOPL/CF/OF"
        push dword 2
        popfd
        pushfd
        pop eax
        CHECK eax, 2, "CPL0 POPFD clears IF/IOPL"
        ; VM and RF cannot be set by POPFD and PUSHFD never shows them
        push dword F_VM | F_RF | 2
        popfd
        pushfd
        pop eax
        CHECK eax, 2, "CPL0 POPFD with VM|RF (ignored)"
        ; 16-bit POPF only touches the low word
        push dword F_AC | 2
        popfd
        pushfd
        pop eax
        CHECK eax, F_AC | 2, "CPL0 POPFD sets AC"
        push word F_IF | 2
        popfw
        pushfd
        pop eax
        CHECK eax, F_AC | F_IF | 2, "CPL0 POPF (16-bit) keeps AC"
        cli
        push dword 2
        popfd
        PRINTLN "CPL0: POPF changes IF and IOPL"

        ; CPL3, IOPL0, IF=1
        RUN_RING3 ring3_iopl0, F_IF | 2
        PUTS "CPL3 IOPL0: PUSHFD="
        PHEX [R3], 8
        PUTS " after POPFD(IF=0,IOPL=3,AC,DF,CF)="
        PHEX [R3+4], 8
        PUTS 10
        CHECK dword [R3], F_IF | 2, "CPL3 IOPL0 initial PUSHFD"
        CHECK dword [R3+4], F_IF | F_AC | F_DF | F_CF | 2, "CPL3 IOPL0 POPFD: IF/IOPL kept, AC/DF/CF changed"
        CHECK dword [R3+8], F_IF | 2, "CPL3 IOPL0 16-bit POPF(IF=0): IF kept"
        CHECK dword [R3+12], 13, "CPL3 IOPL0 CLI vector"
        CHECK dword [R3+16], 0, "CPL3 IOPL0 CLI error code"
        CHECK dword [R3+20], 13, "CPL3 IOPL0 STI vector"
        CHECK dword [R3+24], F_IF | 2, "CPL3 IOPL0 IF after faulting CLI"
        PRINTLN "CPL3 IOPL0: POPF ignores IF/IOPL silently, CLI/STI #GP(0)"

        ; CPL3, IOPL3, IF=0
        RUN_RING3 ring3_iopl3, F_IOPL3 | 2
        CHECK dword [R3+32], F_IOPL3 | 2, "CPL3 IOPL3 initial PUSHFD"
        CHECK dword [R3+36], F_IOPL3 | F_IF | 2, "CPL3 IOPL3 POPFD(IF=1,IOPL=0): IF set, IOPL kept"
        CHECK dword [R3+40], F_IOPL3 | 2, "CPL3 IOPL3 CLI clears IF"
        CHECK dword [R3+44], F_IOPL3 | F_IF | 2, "CPL3 IOPL3 STI sets IF"
        PRINTLN "CPL3 IOPL3: POPF/CLI/STI change IF, IOPL stays 3"
        PASS

ring3_iopl0:
        pushfd
        pop dword [R3]
        push dword F_IOPL3 | F_AC | F_DF | F_CF | 2    ; IF=0
        popfd
        pushfd
        pop dword [R3+4]
        cld
        push dword F_AC | 2
        popfd
        push word 2                     ; 16-bit POPF, IF=0
        popfw
        pushfd
        pop eax
        and eax, ~F_AC
        mov [R3+8], eax
        push dword F_IF | 2
        popfd
        mov dword [LV_RECOVER], .r1
        cli
        FAIL "CLI at CPL3 IOPL0 did not fault"
.r1:    mov eax, [LV_EXC_VEC]
        mov [R3+12], eax
        mov eax, [LV_EXC_ERR]
        mov [R3+16], eax
        mov dword [LV_RECOVER], .r2
        sti
        FAIL "STI at CPL3 IOPL0 did not fault"
.r2:    mov eax, [LV_EXC_VEC]
        mov [R3+20], eax
        pushfd
        pop dword [R3+24]
        RING0_RETURN

ring3_iopl3:
        pushfd
        pop dword [R3+32]
        push dword F_IF | 2             ; IOPL=0 requested
        popfd
        pushfd
        pop dword [R3+36]
        cli
        pushfd
        pop dword [R3+40]
        sti
        pushfd
        pop dword [R3+44]
        cli
        RING0_RETURN
