; pmode_switch.asm - real mode -> 16-bit protected mode -> 32-bit protected
; mode -> back to real mode, checking CR0, operand-size defaults, descriptor
; caches, and that segment limits loaded in protected mode survive the
; return to real mode ("unreal mode": a 4 GiB FS limit keeps working, a
; 64 KiB GS limit still faults past 0xFFFF).
; QEMU TCG never checks data-segment limits, so the GS check is assembled
; out with -DQEMU_REF when validating against QEMU.
%define TEST_NAME "pmode_switch"
%include "testlib.inc"

S_CACHE     equ SEL_FREE        ; data segment whose GDT entry we rewrite
HIGH_ADDR   equ 0x00200000      ; above 1 MiB

section .text16
bits 16
test_main16:
        mov eax, cr0
        and eax, 0x80000001
        CHECK eax, 0, "real mode CR0.PE/PG"
        ; the lib's GDT is built by PM32_ENTER; build it here by hand instead
        mov di, GDT_BASE
        mov cx, 0x800
        xor ax, ax
        rep stosw
        mov di, GDT_BASE
        mov si, gdt_template
        mov cx, gdt_template_end - gdt_template
.copy:  mov al, [cs:si]
        stosb
        inc si
        loop .copy
        o32 lgdt [cs:gdtr_value]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp SEL_CODE16:pm16             ; 16-bit far jump into 16-bit pmode

pm16:   ; CS = 16-bit code segment, base 0xF0000: same offsets as real mode
        mov ax, SEL_DATA16
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, RM_STACK_TOP
        smsw ax
        movzx eax, ax
        and eax, 1
        CHECK eax, 1, "16-bit pmode: CR0.PE"
        mov ax, cs
        movzx eax, ax
        CHECK eax, SEL_CODE16, "16-bit pmode: CS"
        ; default operand size 16: PUSH AX moves SP by 2
        mov bx, sp
        push ax
        sub bx, sp
        pop ax
        movzx ebx, bx
        CHECK ebx, 2, "16-bit pmode: PUSH AX size"
        ; the selector's RPL/TI shows; the base is the descriptor's (0)
        mov dword [LV_USER], 0x13572468
        mov ax, SEL_DATA16
        mov fs, ax
        CHECK dword [fs:LV_USER], 0x13572468, "16-bit pmode: FS base 0"
        PRINTLN "16-bit protected mode: PE=1, CS=0018, 16-bit defaults"
        jmp dword SEL_CODE32:pm32

section .text32
bits 32
pm32:
        mov ax, SEL_DATA32
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STACK0_TOP
        ; default operand size 32
        mov ebx, esp
        push eax
        sub ebx, esp
        pop eax
        CHECK ebx, 4, "32-bit pmode: PUSH EAX size"
        mov dword [HIGH_ADDR], 0xCAFEF00D
        CHECK dword [HIGH_ADDR], 0xCAFEF00D, "32-bit pmode: memory above 1 MiB"
        ; descriptor cache: rewriting the GDT entry does not change a loaded
        ; segment until it is reloaded
        mov dword [SCRATCH], 0x11111111
        mov dword [SCRATCH+0x10000], 0x22222222
        SETDESC S_CACHE, SCRATCH, 0xFFFF, ACC_DATA_W, 0
        mov ax, S_CACHE
        mov gs, ax
        CHECK dword [gs:0], 0x11111111, "GS base SCRATCH"
        SETDESC S_CACHE, SCRATCH+0x10000, 0xFFFF, ACC_DATA_W, 0
        CHECK dword [gs:0], 0x11111111, "GS base cached after GDT rewrite"
        mov ax, S_CACHE
        mov gs, ax
        CHECK dword [gs:0], 0x22222222, "GS base after reload"
        PRINTLN "32-bit protected mode: 32-bit defaults, descriptor cache"

        ; back to real mode: FS gets a 4 GiB limit, GS a 64 KiB limit
        mov ax, SEL_DATA32
        mov fs, ax
        mov ax, SEL_DATA16
        mov gs, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, RM_STACK_TOP
        jmp SEL_CODE16:pm16_back

section .text16
bits 16
pm16_back:
        mov eax, cr0
        and eax, ~1
        mov cr0, eax
        jmp 0xF000:real_again
real_again:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, RM_STACK_TOP
        mov fs, ax              ; real-mode load: base 0, limit unchanged (4 GiB)
        mov gs, ax              ; base 0, limit unchanged (64 KiB)
        mov eax, cr0
        and eax, 1
        CHECK eax, 0, "back in real mode: CR0.PE"
        mov ax, cs
        movzx eax, ax
        CHECK eax, 0xF000, "back in real mode: CS"
        mov ebx, HIGH_ADDR      ; 32-bit address (a32 prefix) in real mode
        CHECK dword [fs:ebx], 0xCAFEF00D, "unreal mode: FS:[0x200000] read"
        mov dword [fs:ebx+4], 0x600DCAFE
        CHECK dword [fs:ebx+4], 0x600DCAFE, "unreal mode: FS:[0x200004] write"
        PRINTLN "real mode again: FS keeps its 4 GiB limit"
        ; GS kept the 64 KiB limit: an access past 0xFFFF raises #GP (int 13)
%ifndef QEMU_REF
        mov ebx, 0x10000
        TRY
        mov eax, [gs:ebx]
        CATCH 13, 0, "real mode GS:[0x10000] with a 64 KiB limit"
%else
        PRINTLN "note: GS limit check skipped (QEMU TCG does not check data segment limits)"
%endif
        ; IVT interrupts work again in real mode
        TRY
        int 0x42
        CATCH 0x42, 0, "real-mode INT 42h through the IVT"
        PRINTLN "real mode again: GS limit 64 KiB still enforced, IVT works"
        PASS
