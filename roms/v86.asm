; v86.asm - virtual-8086 mode: entry by IRETD with VM=1 from ring 0, real-mode
; segment arithmetic, I/O through the TSS bitmap (console port allowed, port
; 80h denied), IOPL-sensitive instructions (INT n, CLI, PUSHF) raising #GP(0)
; to the ring-0 monitor when IOPL<3, the V86 frame on the ring-0 stack
; (EIP, CS, EFLAGS.VM, ESP, SS, ES, DS, FS, GS) with DS..GS zeroed on entry,
; IOPL=3: CLI/STI/PUSHF/POPF work and INT n goes through the IDT (DPL3 gate
; to ring 0, DPL0 gate -> #GP(vec*8+2)); HLT leaves V86 through the monitor.
%define TEST_NAME "v86"
%include "testlib.inc"

MON      equ LV_USER            ; monitor log: one 64-byte record per #GP
M_COUNT  equ LV_USER+0x3F0
V        equ 0x0A00             ; results written by V86 code (DS=0)
V86_SS   equ 0x2000
V86_SP   equ 0x1000
; record layout
R_ERR    equ 0
R_EIP    equ 4
R_CS     equ 8
R_EFL    equ 12
R_ESP    equ 16
R_SS     equ 20
R_ES     equ 24
R_DS     equ 28
R_FS     equ 32
R_GS     equ 36
R_OP     equ 40
R_OP2    equ 44
R_R0DS   equ 48              ; DS seen by the ring-0 handler on entry
R_R0SS   equ 52

section .text16
bits 16
test_main16:
        PM32_ENTER main32

; ----------------------- V86 code (IOPL 0) -----------------------
v86_iopl0:
        mov ax, cs
        mov [V+0], ax
        mov ax, ss
        mov [V+2], ax
        mov [V+4], sp
        mov ax, es
        mov [V+6], ax
        mov ax, 0x3000              ; real-mode segment arithmetic
        mov es, ax
        mov word [es:0x10], 0xBEEF
        mov ax, 0x2345
int21_site:
        int 0x21                    ; IOPL<3: #GP(0) to the monitor
cli_site:
        cli
pushf_site:
        pushf
        PRINTLN "  hello from V86 mode (port E9 allowed by the I/O bitmap)"
        mov al, 0x55
out80_site:
        out 0x80, al                ; denied by the I/O bitmap
        mov word [V+8], 1           ; reached after the monitor skipped the OUT
        hlt                         ; privileged: leaves V86 via the monitor

; ----------------------- V86 code (IOPL 3) -----------------------
v86_iopl3:
        cli
        pushf
        pop ax
        mov [V+0x10], ax
        sti
        pushf
        pop ax
        mov [V+0x12], ax
        push word 0x0002            ; POPF: IF=0, works at IOPL 3
        popf
        pushf
        pop ax
        mov [V+0x14], ax
int30_site:
        int 0x30                    ; through the IDT to ring 0
        mov [V+0x16], ax            ; the handler returned AX=0x3030
int31_site:
        int 0x31                    ; DPL0 gate: #GP(0x31*8+2)
        hlt

section .text32
bits 32
main32:
        SETGATE 13, SEL_CODE32, gp_monitor, GATE_INT32
        SETGATE 0x30, SEL_CODE32, int30_handler, GATE_INT32|ACC_DPL3
        SETGATE 0x31, SEL_CODE32, int30_handler, GATE_INT32
        mov dword [M_COUNT], 0

        ; ---------------- IOPL 0 ----------------
        mov eax, v86_iopl0
        mov ecx, F_VM|2
        call enter_v86
        CHECK [V+0], 0xF000 | (V86_SS << 16), "V86 CS and SS"
        movzx eax, word [V+4]
        CHECK eax, V86_SP, "V86 SP"
        movzx eax, word [V+6]
        CHECK eax, 0x1234, "V86 ES at entry"
        movzx eax, word [0x30010]
        CHECK eax, 0xBEEF, "V86 write to 3000:0010 lands at 0x30010"
        CHECK [M_COUNT], 5, "monitor #GP count (INT, CLI, PUSHF, OUT, HLT)"
        ; INT 21h record
        CHECK [MON+0*64+R_ERR], 0, "INT 21h #GP error code"
        CHECK [MON+0*64+R_EIP], int21_site, "INT 21h #GP EIP"
        CHECK [MON+0*64+R_CS], 0xF000, "INT 21h #GP pushed CS"
        mov eax, [MON+0*64+R_EFL]
        and eax, F_VM|F_IOPL3|F_IF
        CHECK eax, F_VM, "INT 21h #GP pushed EFLAGS (VM=1, IOPL 0)"
        CHECK [MON+0*64+R_ESP], V86_SP, "INT 21h #GP pushed ESP"
        CHECK [MON+0*64+R_SS], V86_SS, "INT 21h #GP pushed SS"
        CHECK [MON+0*64+R_ES], 0x3000, "INT 21h #GP pushed ES"
        CHECK [MON+0*64+R_DS], 0x0000, "INT 21h #GP pushed DS"
        CHECK [MON+0*64+R_FS], 0x2345, "INT 21h #GP pushed FS"
        CHECK [MON+0*64+R_GS], 0x3456, "INT 21h #GP pushed GS"
        CHECK [MON+0*64+R_OP], 0xCD, "INT 21h opcode"
        CHECK [MON+0*64+R_OP2], 0x21, "INT 21h vector byte"
        CHECK [MON+0*64+R_R0DS], 0, "ring-0 DS on entry from V86 (zeroed)"
        CHECK [MON+0*64+R_R0SS], SEL_DATA32, "ring-0 SS from TSS.SS0"
        CHECK [MON+1*64+R_EIP], cli_site, "CLI #GP EIP"
        CHECK [MON+1*64+R_OP], 0xFA, "CLI opcode"
        CHECK [MON+2*64+R_EIP], pushf_site, "PUSHF #GP EIP"
        CHECK [MON+2*64+R_OP], 0x9C, "PUSHF opcode"
        CHECK [MON+3*64+R_EIP], out80_site, "OUT 80h #GP EIP"
        CHECK [MON+3*64+R_OP], 0xE6, "OUT 80h opcode"
        CHECK [MON+4*64+R_OP], 0xF4, "HLT opcode"
        movzx eax, word [V+8]
        CHECK eax, 1, "V86 code resumed after the monitor"
        PRINTLN "V86 IOPL0: #GP(0) for INT/CLI/PUSHF/denied OUT/HLT, V86 frame OK"

        ; ---------------- IOPL 3 ----------------
        mov dword [M_COUNT], 0
        mov eax, v86_iopl3
        mov ecx, F_VM|F_IOPL3|F_IF|2
        call enter_v86
        movzx eax, word [V+0x10]
        CHECK eax, F_IOPL3|2, "IOPL3 V86 PUSHF after CLI"
        movzx eax, word [V+0x12]
        CHECK eax, F_IOPL3|F_IF|2, "IOPL3 V86 PUSHF after STI"
        movzx eax, word [V+0x14]
        CHECK eax, F_IOPL3|2, "IOPL3 V86 POPF cleared IF (IOPL unchanged)"
        CHECK [LV_USER+0x400+R_EIP], int30_site+2, "INT 30h via IDT: pushed EIP"
        CHECK [LV_USER+0x400+R_CS], 0xF000, "INT 30h via IDT: pushed CS"
        mov eax, [LV_USER+0x400+R_EFL]
        and eax, F_VM|F_IOPL3
        CHECK eax, F_VM|F_IOPL3, "INT 30h via IDT: pushed EFLAGS"
        CHECK [LV_USER+0x400+R_SS], V86_SS, "INT 30h via IDT: pushed SS"
        CHECK [LV_USER+0x400+R_ES], 0x1234, "INT 30h via IDT: pushed ES"
        CHECK [LV_USER+0x400+R_GS], 0x3456, "INT 30h via IDT: pushed GS"
        CHECK [LV_USER+0x400+R_R0DS], 0, "INT 30h handler: DS zeroed"
        movzx eax, word [V+0x16]
        CHECK eax, 0x3030, "AX returned by the INT 30h handler"
        CHECK [M_COUNT], 2, "monitor #GP count (INT 31h, HLT)"
        CHECK [MON+0*64+R_ERR], 0x31*8+2, "INT 31h to a DPL0 gate: #GP error code"
        CHECK [MON+0*64+R_EIP], int31_site, "INT 31h #GP EIP"
        PRINTLN "V86 IOPL3: CLI/STI/POPF work, INT n through the IDT"
        PASS

; eax = IP in F000, ecx = EFLAGS (with VM). Returns when V86 code HLTs.
enter_v86:
        mov [LV_RING0_ESP], esp
        mov [TSS0_BASE+4], esp
        push dword 0x3456               ; GS
        push dword 0x2345               ; FS
        push dword 0x0000               ; DS
        push dword 0x1234               ; ES
        push dword V86_SS
        push dword V86_SP
        push ecx
        push dword 0xF000
        push eax
        iretd

; frame: [esp] err, +4 eip, +8 cs, +12 eflags, +16 esp, +20 ss, +24 es,
; +28 ds, +32 fs, +36 gs
gp_monitor:
        test dword [esp+12], F_VM
        jz pm_isr_13                    ; not from V86: the lib's handler
        push ebp
        mov ebp, esp
        push eax
        push ebx
        push esi
        push edi
        xor eax, eax
        mov ax, ds
        mov bx, ss
        push eax
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        mov edi, [M_COUNT]
        shl edi, 6
        add edi, MON
        pop eax
        mov [edi+R_R0DS], eax
        movzx ebx, bx
        mov [edi+R_R0SS], ebx
        xor esi, esi
.copy:  mov eax, [ebp+4+esi]
        mov [edi+esi], eax
        add esi, 4
        cmp esi, 40
        jb .copy
        inc dword [M_COUNT]
        movzx eax, word [ebp+4+8]       ; CS
        shl eax, 4
        add eax, [ebp+4+4]              ; + IP
        movzx ebx, byte [eax]
        mov [edi+R_OP], ebx
        movzx esi, byte [eax+1]
        mov [edi+R_OP2], esi
        cmp bl, 0xF4
        je .leave
        mov esi, 1
        cmp bl, 0xCD
        je .two
        cmp bl, 0xE6
        jne .skip
.two:   mov esi, 2
.skip:  add [ebp+4+4], esi
        pop edi
        pop esi
        pop ebx
        pop eax
        pop ebp
        add esp, 4
        iretd
.leave: mov ax, SEL_DATA32
        mov fs, ax
        mov gs, ax
        mov esp, [LV_RING0_ESP]
        ret

; INT 30h from V86 (IOPL3) through a DPL3 interrupt gate
; frame: +0 eip, +4 cs, +8 eflags, +12 esp, +16 ss, +20 es, +24 ds, +28 fs, +32 gs
int30_handler:
        push eax
        xor eax, eax
        mov ax, ds
        push eax
        mov ax, SEL_DATA32
        mov ds, ax
        pop eax
        mov [LV_USER+0x400+R_R0DS], eax
        mov eax, [esp+4]
        mov [LV_USER+0x400+R_EIP], eax
        mov eax, [esp+8]
        mov [LV_USER+0x400+R_CS], eax
        mov eax, [esp+12]
        mov [LV_USER+0x400+R_EFL], eax
        mov eax, [esp+20]
        mov [LV_USER+0x400+R_SS], eax
        mov eax, [esp+24]
        mov [LV_USER+0x400+R_ES], eax
        mov eax, [esp+36]
        mov [LV_USER+0x400+R_GS], eax
        pop eax
        mov ax, 0x3030
        iretd
