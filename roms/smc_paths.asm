; smc_paths.asm - self-modifying code through every kind of write: the guest
; must always run the bytes that are in memory, whichever instruction wrote
; them and wherever they are relative to the running code.
;
; The translator invalidates only the blocks whose guest bytes a write
; overlaps (a per-page bitmap of translated bytes), so this ROM also mixes
; code and data on one page and rewrites one routine next to others that
; must stay correct. Cases (each template is copied to RAM and reached
; through EBP = its copy, so the templates are position independent):
;   1 real mode: a store into the next instruction of the running block
;   2 a store into the next instruction of the running block (32-bit)
;   3 a word store over the last two bytes of a block (an immediate and RET)
;   4 two routines on one page: rewriting one, the other keeps running right
;   5 REP MOVSD over translated code
;   6 PUSH onto a code page (the stack overwrites an immediate)
;   7 writes by instructions the translator hands to the interpreter
;     (POP to memory, XCHG with memory) and a read-modify-write ADD
;   8 data writes next to hot code on one page, 2000 of them, while the
;     code keeps running (the page changes back to direct writes)
%define TEST_NAME "smc_paths"
%include "testlib.inc"

RM_CODE equ 0x7000              ; real-mode copy (0000:7000)
CODE    equ 0x40000             ; 32-bit copies, one page each from here

section .text16
bits 16
test_main16:
        ; ---- 1: real mode, store into the running block ----
        cld
        mov ax, cs
        mov ds, ax
        xor ax, ax
        mov es, ax
        mov si, rm_tpl
        mov di, RM_CODE
        mov cx, rm_tpl_end - rm_tpl
        rep movsb
        mov ds, ax
        xor dx, dx
        call 0:RM_CODE
        cmp dx, 1
        jne .rm_fail
        test ax, ax
        jne .rm_fail
        call 0:RM_CODE            ; the store finds "inc dx" already there
        cmp dx, 2
        jne .rm_fail
        PM32_ENTER main32
.rm_fail:
        FAIL "real mode: a store into the running block was not seen"

; mov byte [next], 0x42 (inc dx); inc ax; retf
rm_tpl:
        mov byte [RM_CODE + (rm_tpl.next - rm_tpl)], 0x42
.next:  inc ax
        retf
rm_tpl_end:

section .text32
bits 32
; copy_tpl src, len, dst: copies a template to RAM (clobbers ESI/EDI/ECX).
%macro COPY_TPL 3
        mov esi, %1
        mov edi, %3
        mov ecx, %2
        cld
        rep movsb
%endmacro

main32:
        ; ---- 2: store into the next instruction of the running block ----
        COPY_TPL t2, t2_end - t2, CODE
        mov ebp, CODE
        xor eax, eax
        xor edx, edx
        call ebp
        CHECK edx, 1, "2: the running block ran the new instruction"
        CHECK eax, 0, "2: the old instruction did not run"
        mov byte [ebp + (t2.next - t2)], 0x40   ; back to inc eax
        call ebp                                ; translated again, rewritten again
        CHECK edx, 2, "2: second run"
        CHECK eax, 0, "2: second run, old instruction"

        ; ---- 3: a word store over the last two bytes of a block ----
        COPY_TPL t3, t3_end - t3, CODE + 0x1000
        mov ebp, CODE + 0x1000
        xor eax, eax
        call ebp                    ; translate: eax = 1
        CHECK eax, 1, "3: before"
        mov word [ebp + (t3.imm8 - t3)], 0xc305   ; imm8 = 5, RET kept
        call ebp
        CHECK eax, 5, "3: a store over the last bytes of a block"

        ; ---- 4: two routines on one page; rewrite one ----
        COPY_TPL t4, t4_end - t4, CODE + 0x2000
        mov ebp, CODE + 0x2000
        xor ebx, ebx
        xor edx, edx
        mov ecx, 50
.t4_loop:
        call [t4_r1_ptr]
        mov [ebp + (t4.r2_imm - t4)], ecx       ; routine 2 adds the count
        call [t4_r2_ptr]
        dec ecx
        jnz .t4_loop
        CHECK edx, 50, "4: routine 1, untouched, ran every time"
        CHECK ebx, 1275, "4: routine 2 ran each new immediate (50+49+...+1)"

        ; ---- 5: REP MOVSD over translated code ----
        COPY_TPL t5a, t5a_end - t5a, CODE + 0x3000
        mov ebp, CODE + 0x3000
        call ebp
        CHECK eax, 0x11111111, "5: before"
        mov esi, t5b
        mov edi, ebp
        mov ecx, 2
        rep movsd
        call ebp
        CHECK eax, 0x22222222, "5: REP MOVSD over translated code"

        ; ---- 6: PUSH onto a code page ----
        COPY_TPL t6, t6_end - t6, CODE + 0x4000
        mov ebp, CODE + 0x4000
        call ebp
        CHECK eax, 0x01010101, "6: before"
        mov [LV_USER], esp
        lea esp, [ebp + 5]          ; the push writes bytes 1..4: the immediate
        push dword 0x5a5a5a5a
        mov esp, [LV_USER]
        call ebp
        CHECK eax, 0x5a5a5a5a, "6: PUSH over an immediate"

        ; ---- 7: writes by POP r/m, XCHG r/m, ADD r/m ----
        COPY_TPL t6, t6_end - t6, CODE + 0x5000
        mov ebp, CODE + 0x5000
        call ebp
        CHECK eax, 0x01010101, "7: before"
        push dword 0x00000777
        pop dword [ebp + 1]
        call ebp
        CHECK eax, 0x777, "7: POP to memory over an immediate"
        mov eax, 0x00000888
        xchg [ebp + 1], eax
        CHECK eax, 0x777, "7: XCHG read the old immediate"
        call ebp
        CHECK eax, 0x888, "7: XCHG over an immediate"
        add dword [ebp + 1], 0x111
        call ebp
        CHECK eax, 0x999, "7: ADD to an immediate"

        ; ---- 8: hot data next to hot code ----
        COPY_TPL t6, t6_end - t6, CODE + 0x6000
        mov ebp, CODE + 0x6000
        mov ecx, 2000
        xor edx, edx
.t8_loop:
        mov [ebp + 0x800], ecx      ; data on the code page
        call ebp
        add edx, eax
        mov [ebp + 0x804], edx
        dec ecx
        jnz .t8_loop
        CHECK edx, (2000 * 0x01010101) & 0xffffffff, "8: the code kept running"
        CHECK dword [ebp + 0x804], (2000 * 0x01010101) & 0xffffffff, "8: the data"
        mov dword [ebp + 1], 3      ; and a code write after all that
        call ebp
        CHECK eax, 3, "8: a code write after many data writes"
        PASS

t4_r1_ptr: dd CODE + 0x2000 + (t4.r1 - t4)
t4_r2_ptr: dd CODE + 0x2000 + (t4.r2 - t4)

; 2: mov byte [ebp+next], 0x42 (inc edx) / inc eax / ret
t2:     mov byte [ebp + (t2.next - t2)], 0x42
.next:  inc eax
        ret
t2_end:

; 3: xor eax, eax / add eax, imm8 / ret
t3:     xor eax, eax
        add eax, strict byte 1
.imm8   equ $-1
        ret
t3_end:

; 4: routine 1 at +0, routine 2 at +0x40
t4:
.r1:    inc edx
        ret
        times 0x40 - ($ - t4) db 0xcc
.r2:    add ebx, strict dword 0
.r2_imm equ $-4
        ret
t4_end:

; 5: mov eax, 0x11111111 / ret / pad, and its replacement
t5a:    mov eax, 0x11111111
        ret
        nop
        nop
t5a_end:
t5b:    mov eax, 0x22222222
        ret
        nop
        nop

; 6, 7, 8: mov eax, imm32 / ret
t6:     mov eax, 0x01010101
        ret
t6_end:
