; idt_rings.asm - interrupts through the IDT with privilege changes:
;  - ring 3 INT n through a DPL3 interrupt gate: stack switch to
;    TSS.SS0:ESP0, pushed SS:ESP/EFLAGS/CS:EIP, IF cleared, IRET back;
;  - trap gate keeps IF, interrupt gate clears it (ring 0 and ring 3);
;  - INT n at CPL3 to a DPL0 gate: #GP(vector*8+2); not-present gate:
;    #NP(vector*8+2); vector past the IDT limit: #GP(vector*8+2);
;  - a ring-3 exception (UD2) arrives on the ring-0 stack with SS:ESP;
;  - same-privilege INT n: 3-dword frame, no stack switch;
;  - ring 3 -> ring 0 through a call gate copying 2 parameters, RETF 8 back.
%define TEST_NAME "idt_rings"
%include "testlib.inc"

S_CALLG  equ SEL_FREE            ; call gate, DPL3, to SEL_CODE32:callg_target, 2 dwords
R        equ LV_USER             ; results
V_INT    equ 0x40                ; DPL3 interrupt gate
V_TRAP   equ 0x41                ; DPL3 trap gate
V_DPL0   equ 0x42                ; DPL0 interrupt gate
V_NP     equ 0x43                ; not-present DPL3 gate

PM32_TEST_MAIN main32
main32:
        SETGATE V_INT, SEL_CODE32, h_int, GATE_INT32|ACC_DPL3
        SETGATE V_TRAP, SEL_CODE32, h_trap, GATE_TRAP32|ACC_DPL3
        SETGATE V_DPL0, SEL_CODE32, h_int, GATE_INT32
        SETGATE V_NP, SEL_CODE32, h_int, (GATE_INT32|ACC_DPL3) & 0x7F
        ; call gate: offset callg_target, selector SEL_CODE32, 2 params, DPL3, P
        mov eax, callg_target
        mov word [GDT_BASE+S_CALLG], ax
        mov word [GDT_BASE+S_CALLG+2], SEL_CODE32
        mov byte [GDT_BASE+S_CALLG+4], 2
        mov byte [GDT_BASE+S_CALLG+5], 0xEC
        shr eax, 16
        mov word [GDT_BASE+S_CALLG+6], ax

        ; ---- ring 0, same privilege ----
        sti
        mov ebx, esp
        int V_INT
r0_after_int:
        add dword [R+0], 12
        CHECK [R+0], ebx, "CPL0 INT: handler ESP = ESP-12 (no stack switch)"
        CHECK [R+8], r0_after_int, "CPL0 INT: pushed EIP"
        CHECK [R+12], SEL_CODE32, "CPL0 INT: pushed CS"
        mov eax, [R+4]
        and eax, F_IF
        CHECK eax, 0, "CPL0 interrupt gate clears IF"
        int V_TRAP
        mov eax, [R+0x30]
        and eax, F_IF
        CHECK eax, F_IF, "CPL0 trap gate keeps IF"
        cli
        PRINTLN "CPL0: same-privilege INT, interrupt vs trap gate IF"

        ; ---- ring 3 ----
        RUN_RING3 ring3_code, F_IF|2
        mov ebx, [LV_RING0_ESP]         ; = TSS0.ESP0 during the ring-3 run
        sub ebx, 20
        CHECK [R+0], ebx, "CPL3 INT: handler ESP = TSS.ESP0-20"
        CHECK [R+28], SEL_DATA32, "CPL3 INT: handler SS = TSS.SS0"
        CHECK [R+8], r3_after_int, "CPL3 INT: pushed EIP"
        CHECK [R+12], SEL_CODE32_R3, "CPL3 INT: pushed CS"
        CHECK [R+16], F_IF|2, "CPL3 INT: pushed EFLAGS"
        CHECK [R+20], STACK3_TOP-8, "CPL3 INT: pushed ESP"
        CHECK [R+24], SEL_DATA32_R3, "CPL3 INT: pushed SS"
        mov eax, [R+4]
        and eax, F_IF
        CHECK eax, 0, "CPL3 INT: interrupt gate clears IF"
        CHECK [R+0x40], F_IF, "CPL3 trap gate keeps IF"
        CHECK [R+0x44], STACK3_TOP-8, "ESP back in ring 3 after IRET"
        CHECK [R+0x48], F_IF|2, "EFLAGS back in ring 3 after IRET"
        PRINTLN "CPL3 INT through a DPL3 gate: stack switch and frame OK"
        ; call gate results
        CHECK [R+0x60], SEL_CODE32, "call gate: target CS"
        CHECK [R+0x64], r3_after_callg, "call gate: pushed EIP"
        CHECK [R+0x68], SEL_CODE32_R3, "call gate: pushed CS"
        CHECK [R+0x6C], 0x22222222, "call gate: copied param (last pushed)"
        CHECK [R+0x70], 0x11111111, "call gate: copied param (first pushed)"
        CHECK [R+0x74], STACK3_TOP-16, "call gate: pushed ESP (below the params)"
        CHECK [R+0x78], SEL_DATA32_R3, "call gate: pushed SS"
        mov ebx, [LV_RING0_ESP]
        sub ebx, 24
        CHECK [R+0x7C], ebx, "call gate: ring-0 ESP = ESP0-24"
        CHECK [R+0x80], STACK3_TOP-8, "ring-3 ESP after RETF 8"
        PRINTLN "call gate: 2 parameters copied, RETF 8 back to ring 3"

        ; vector past the IDT limit
        lidt [short_idtr]
        TRY
        int 0x50
        CATCH 13, 0x50*8+2, "INT 50h past the IDT limit"
        lidt [full_idtr]
        PASS

short_idtr: dw 0x50*8-1
            dd IDT_BASE
full_idtr:  dw IDT_LIMIT
            dd IDT_BASE

; SAVE_FRAME dest, n: copies the n dwords above the saved EAX ([esp+4]...)
; to dest... (clobbers EAX, which the handler has pushed).
%macro SAVE_FRAME 2
%assign i 0
%rep %2
        mov eax, [esp+4+4*i]
        mov [%1+4*i], eax
%assign i i+1
%endrep
%endmacro

; interrupt/trap handlers: record ESP, EFLAGS, frame, SS
h_trap:
        push eax
        pushfd
        pop eax
        mov [R+0x30], eax
        pop eax
        iretd

h_int:
        mov [R+0], esp
        push eax
        pushfd
        pop eax
        mov [R+4], eax
        SAVE_FRAME R+8, 5               ; EIP, CS, EFLAGS, ESP, SS
        xor eax, eax
        mov ax, ss
        mov [R+28], eax
        pop eax
        iretd

callg_target:
        mov [R+0x7C], esp
        push eax
        xor eax, eax
        mov ax, cs
        mov [R+0x60], eax
        SAVE_FRAME R+0x64, 6            ; EIP, CS, 2 params, ESP, SS
        pop eax
        retf 8

ring3_code:
        push dword 0                    ; ESP = STACK3_TOP-8 from here on
        push dword 0
        int V_INT
r3_after_int:
        mov [R+0x44], esp
        pushfd
        pop dword [R+0x48]
        ; trap gate
        int V_TRAP
        mov eax, [R+0x30]
        and eax, F_IF
        mov [R+0x40], eax
        ; INT to a DPL0 gate
        TRY
        int V_DPL0
        CATCH 13, V_DPL0*8+2, "CPL3 INT to a DPL0 gate"
        ; not-present gate
        TRY
        int V_NP
        CATCH 11, V_NP*8+2, "CPL3 INT to a not-present gate"
        ; an exception at ring 3 arrives with the outer SS:ESP
        TRY
        ud2
        CATCH 6, 0, "CPL3 UD2"
        CHECK [LV_EXC_CS], SEL_CODE32_R3, "CPL3 UD2: pushed CS"
        CHECK [LV_EXC_SS], SEL_DATA32_R3, "CPL3 UD2: pushed SS"
        CHECK [LV_EXC_ESP], STACK3_TOP-8, "CPL3 UD2: pushed ESP"
        ; call gate with two parameters
        push dword 0x11111111
        push dword 0x22222222
        call S_CALLG:0
r3_after_callg:
        mov [R+0x80], esp
        RING0_RETURN
