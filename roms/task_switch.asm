; task_switch.asm - hardware task switches through TSS descriptors and a
; task gate: JMP far (old busy cleared, no back link, NT unchanged), CALL far
; (old stays busy, back link, NT=1), IRET with NT=1 back to the caller
; (nested task's busy cleared, NT cleared in its saved image), INT n through
; an IDT task gate; registers saved into the old TSS and loaded from the new
; one; CR0.TS set by every switch; CALL to a busy TSS raises #GP(sel).
%define TEST_NAME "task_switch"
%include "testlib.inc"

S_TSS1   equ SEL_FREE
S_TSS2   equ SEL_FREE+8
TSS1     equ 0x6000
TSS2     equ 0x6100
V_TASK   equ 0x50
T_LINK   equ 0x00
T_EIP    equ 0x20
T_EFL    equ 0x24
T_EAX    equ 0x28
T_ECX    equ 0x2C
T_EDX    equ 0x30
T_EBX    equ 0x34
T_ESP    equ 0x38
T_EBP    equ 0x3C
T_ESI    equ 0x40
T_EDI    equ 0x44
T_ES     equ 0x48
T_CS     equ 0x4C
T_SS     equ 0x50
T_DS     equ 0x54
T_FS     equ 0x58
T_GS     equ 0x5C

; BUSY selector, expected type nibble (9 available / 0xB busy), "what"
%macro TYPECHK 3+
        movzx eax, byte [GDT_BASE+(%1)+5]
        and eax, 0x0F
        CHECK eax, %2, %3
%endmacro

%macro SETREGS 1        ; all GPRs except ESP to %1 + i*0x01010101
        mov eax, %1
        mov ecx, %1 + 0x01010101
        mov edx, %1 + 0x02020202
        mov ebx, %1 + 0x03030303
        mov ebp, %1 + 0x04040404
        mov esi, %1 + 0x05050505
        mov edi, %1 + 0x06060606
%endmacro
%macro CHKREGS 2+
        CHECK eax, %1, %2, " EAX"
        CHECK ecx, %1 + 0x01010101, %2, " ECX"
        CHECK edx, %1 + 0x02020202, %2, " EDX"
        CHECK ebx, %1 + 0x03030303, %2, " EBX"
        CHECK ebp, %1 + 0x04040404, %2, " EBP"
        CHECK esi, %1 + 0x05050505, %2, " ESI"
        CHECK edi, %1 + 0x06060606, %2, " EDI"
%endmacro

PM32_TEST_MAIN main32
main32:
        SETDESC S_TSS1, TSS1, 0x67, ACC_TSS32, 0
        SETDESC S_TSS2, TSS2, 0x67, ACC_TSS32, 0
        SETGATE V_TASK, S_TSS2, 0, GATE_TASK

        ; ---------- JMP to a TSS ----------
        mov edi, TSS1
        mov eax, task1_jmp
        mov ebx, 0x2A000
        call init_tss
        TYPECHK SEL_TSS0, 0xB, "TSS0 busy before the switch"
        SETREGS 0xA0000000
        jmp S_TSS1:0
after_jmp:
        CHKREGS 0xA0000000, "task 0 after JMP back:"
        mov [LV_TMP], esp
        CHECK [LV_TMP], STACK0_TOP, "task 0 ESP after JMP back"
        str ax
        movzx eax, ax
        CHECK eax, SEL_TSS0, "TR after JMP back"
        TYPECHK S_TSS1, 0x9, "TSS1 available after JMP away from it"
        TYPECHK SEL_TSS0, 0xB, "TSS0 busy again"
        CHECK [TSS1+T_EAX], 0xB1B1B1B1, "TSS1 saved EAX"
        CHECK [TSS1+T_EIP], task1_jmp_back_done, "TSS1 saved EIP (after its JMP)"
        mov eax, cr0
        and eax, 8
        CHECK eax, 8, "CR0.TS set by the task switch"
        clts
        PRINTLN "JMP to a TSS and back: busy bits, registers, TR, CR0.TS"

        ; ---------- CALL to a TSS, IRET back ----------
        mov edi, TSS1
        mov eax, task1_call
        mov ebx, 0x2A000
        call init_tss
        SETREGS 0xC0000000
        call S_TSS1:0
after_call:
        CHKREGS 0xC0000000, "task 0 after IRET back:"
        pushfd
        pop eax
        and eax, F_NT
        CHECK eax, 0, "task 0 NT after the nested task returned"
        TYPECHK S_TSS1, 0x9, "TSS1 available after its IRET"
        TYPECHK SEL_TSS0, 0xB, "TSS0 still busy"
        mov eax, [TSS1+T_EFL]
        and eax, F_NT
        CHECK eax, 0, "NT cleared in TSS1's saved EFLAGS by IRET"
        CHECK [TSS1+T_LINK], SEL_TSS0, "TSS1 back link"
        clts
        PRINTLN "CALL to a TSS: NT, back link, busy; IRET returns"

        ; ---------- task gate in the IDT ----------
        mov edi, TSS2
        mov eax, task2_entry
        mov ebx, 0x2B000
        call init_tss
        SETREGS 0xE0000000
        int V_TASK
        CHKREGS 0xE0000000, "task 0 after the task-gate task returned:"
        CHECK [LV_USER+0x10], 1, "task-gate task ran"
        TYPECHK S_TSS2, 0x9, "TSS2 available after its IRET"
        clts
        PRINTLN "INT n through a task gate and IRET back"

        ; ---------- CALL to a busy TSS ----------
        TRY
        call SEL_TSS0:0
        CATCH 13, SEL_TSS0, "CALL to the busy current TSS"
        PASS

; edi = TSS base, eax = EIP, ebx = ESP: fresh ring-0 task state
init_tss:
        push eax
        push ecx
        push edi
        xor eax, eax
        mov ecx, 0x68/4
        rep stosd
        pop edi
        pop ecx
        pop eax
        mov [edi+T_EIP], eax
        mov [edi+T_ESP], ebx
        mov dword [edi+T_EFL], 2
        mov dword [edi+T_EAX], 0x11111111
        mov dword [edi+T_ECX], 0x12121212
        mov dword [edi+T_EDX], 0x13131313
        mov dword [edi+T_EBX], 0x14141414
        mov dword [edi+T_EBP], 0x15151515
        mov dword [edi+T_ESI], 0x16161616
        mov dword [edi+T_EDI], 0x17171717
        mov dword [edi+T_CS], SEL_CODE32
        mov dword [edi+T_SS], SEL_DATA32
        mov dword [edi+T_DS], SEL_DATA32
        mov dword [edi+T_ES], SEL_DATA32
        mov dword [edi+T_FS], SEL_DATA32
        mov dword [edi+T_GS], SEL_DATA32
        mov word [edi+0x66], 0x68
        ret

%macro CHKTSSREGS 1+
        CHECK eax, 0x11111111, %1, " EAX"
        CHECK ecx, 0x12121212, %1, " ECX"
        CHECK edx, 0x13131313, %1, " EDX"
        CHECK ebx, 0x14141414, %1, " EBX"
        CHECK ebp, 0x15151515, %1, " EBP"
        CHECK esi, 0x16161616, %1, " ESI"
        CHECK edi, 0x17171717, %1, " EDI"
%endmacro

task1_jmp:
        CHKTSSREGS "task 1 (JMP) loaded"
        mov [LV_TMP], esp
        CHECK [LV_TMP], 0x2A000, "task 1 ESP"
        str ax
        movzx eax, ax
        CHECK eax, S_TSS1, "TR in task 1"
        pushfd
        pop eax
        and eax, F_NT
        CHECK eax, 0, "NT in a task entered by JMP"
        TYPECHK S_TSS1, 0xB, "TSS1 busy in task 1"
        TYPECHK SEL_TSS0, 0x9, "TSS0 available after JMP away"
        CHECK [TSS1+T_LINK], 0, "no back link after JMP"
        CHECK [TSS0_BASE+T_EAX], 0xA0000000, "TSS0 saved EAX"
        CHECK [TSS0_BASE+T_EDI], 0xA6060606, "TSS0 saved EDI"
        CHECK [TSS0_BASE+T_ESP], STACK0_TOP, "TSS0 saved ESP"
        CHECK [TSS0_BASE+T_EIP], after_jmp, "TSS0 saved EIP"
        CHECK [TSS0_BASE+T_CS], SEL_CODE32, "TSS0 saved CS"
        PRINTLN "task 1 entered by JMP: state loaded, task 0 saved"
        mov eax, 0xB1B1B1B1
        jmp SEL_TSS0:0
task1_jmp_back_done:
        FAIL "task 1 resumed unexpectedly"

task1_call:
        CHKTSSREGS "task 1 (CALL) loaded"
        pushfd
        pop eax
        and eax, F_NT
        CHECK eax, F_NT, "NT in a task entered by CALL"
        CHECK [TSS1+T_LINK], SEL_TSS0, "back link after CALL"
        TYPECHK S_TSS1, 0xB, "TSS1 busy in task 1"
        TYPECHK SEL_TSS0, 0xB, "TSS0 stays busy after CALL"
        CHECK [TSS0_BASE+T_EIP], after_call, "TSS0 saved EIP (after CALL)"
        PRINTLN "task 1 entered by CALL: NT=1, back link, both busy"
        iretd
        FAIL "task 1 resumed after IRET"

task2_entry:
        CHKTSSREGS "task 2 (task gate) loaded"
        pushfd
        pop eax
        and eax, F_NT
        CHECK eax, F_NT, "NT in a task entered through a task gate"
        CHECK [TSS2+T_LINK], SEL_TSS0, "back link after INT via task gate"
        TYPECHK S_TSS2, 0xB, "TSS2 busy"
        mov dword [LV_USER+0x10], 1
        iretd
        FAIL "task 2 resumed after IRET"
