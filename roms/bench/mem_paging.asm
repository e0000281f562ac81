; mem_paging.asm - benchmark ROM: memory-heavy kernel (mem_paging_kernel.inc)
; with paging on. Page tables: the first 8 MiB identity mapped (code, stacks,
; the tables themselves); the work area at linear 0x40000000: its first page
; (kernel variables) at physical 0x800000, data page d at physical
; 0x801000 + ((1029*d) mod 2048)*4 KiB, so neighbouring linear pages are
; scattered physically. Needs 17 MiB of RAM (Popek's default is 32 MiB).
%include "mem_paging_kernel.inc"

WORK_ADDR equ 0x40000000
MP_PD     equ 0x100000          ; page directory
MP_PT_ID  equ 0x101000          ; 2 tables: identity 0-8 MiB
MP_PT_WIN equ 0x103000          ; 3 tables: the work area (PDEs 256-258)
MP_PHYS   equ 0x800000

section .text32
bench_setup:
        mov edi, MP_PD
        mov ecx, 6*1024
        xor eax, eax
        cld
        rep stosd
        ; PDEs
        mov dword [MP_PD+0*4], MP_PT_ID+0x3
        mov dword [MP_PD+1*4], MP_PT_ID+0x1000+0x3
        mov dword [MP_PD+256*4], MP_PT_WIN+0x3
        mov dword [MP_PD+257*4], MP_PT_WIN+0x1000+0x3
        mov dword [MP_PD+258*4], MP_PT_WIN+0x2000+0x3
        ; identity PTEs for 0-8 MiB
        xor ecx, ecx
.id:    mov eax, ecx
        shl eax, 12
        or eax, 0x3
        mov [MP_PT_ID+ecx*4], eax
        inc ecx
        cmp ecx, 2048
        jb .id
        ; the work area: variables page, then the scrambled data pages
        mov dword [MP_PT_WIN], MP_PHYS+0x3
        xor ecx, ecx
.win:   imul eax, ecx, 1029
        and eax, 2047
        shl eax, 12
        add eax, MP_PHYS+0x1000+0x3
        mov [MP_PT_WIN+4+ecx*4], eax
        inc ecx
        cmp ecx, 2048
        jb .win
        mov eax, MP_PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        jmp .pg
.pg:    ret

bench_teardown:
        ret
