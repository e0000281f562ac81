; straddle.asm - instructions whose bytes cross a 4 KiB page boundary.
; The translator puts such an instruction at the end of a block that then
; holds bytes of two physical pages (docs/translator.md, "A block"), so the
; guest must always run the bytes its current mapping shows:
;   1 real mode (16-bit code): MOV AX, imm16 across a page; SMC to either
;     page's part of it
;   2 32-bit, paging on: MOV EAX, imm32 across a page, reached from two
;     entries (two blocks hold it); a store in the same block into the
;     instruction's second-page byte (SMC while the block runs); SMC to the
;     first page's part from outside
;   3 the second page remapped: PTE change + INVLPG, then a CR3 switch to
;     tables that map the old frame, and back
;   4 the second page not present: #PF with error code 0, CR2 = the second
;     page and EIP = the instruction's first byte
;   5 the second page present again with its accessed bit clear: the
;     instruction runs and sets PTE.A (and not PTE.D)
%define TEST_NAME "straddle"
%include "testlib.inc"

RM_SEG  equ 0x3000              ; real mode: 3000:0FF0 = linear 0x30FF0

section .text16
bits 16
test_main16:
        cld
        mov ax, RM_SEG
        mov es, ax
        ; 3000:0FF0  mov cx, 0x1234; 11 x nop; 0FFE: mov ax, 0x3344 (its
        ; high byte at 3000:1000, the next page); 1001: retf
        mov di, 0x0FF0
        mov al, 0xB9
        stosb
        mov ax, 0x1234
        stosw
        mov cx, 11
        mov al, 0x90
        rep stosb
        mov al, 0xB8
        stosb
        mov ax, 0x3344
        stosw
        mov al, 0xCB
        stosb
        xor cx, cx
        call RM_SEG:0x0FF0
        call RM_SEG:0x0FF0
        cmp ax, 0x3344
        jne .rm_fail
        cmp cx, 0x1234
        jne .rm_fail
        mov byte [es:0x1000], 0x55      ; the second page's byte
        call RM_SEG:0x0FF0
        cmp ax, 0x5544
        jne .rm_fail_smc2
        mov byte [es:0x0FFF], 0x66      ; the first page's byte
        call RM_SEG:0x0FF0
        cmp ax, 0x5566
        jne .rm_fail_smc1
        PM32_ENTER main32
.rm_fail:
        FAIL "real mode: MOV AX, imm16 across a page"
.rm_fail_smc2:
        FAIL "real mode: a store to the second page's byte was not seen"
.rm_fail_smc1:
        FAIL "real mode: a store to the first page's byte was not seen"

section .text32
bits 32
PD      equ 0x100000
PT0     equ 0x101000            ; identity 0-4 MiB
PTT     equ 0x102000            ; 0x800000-0xBFFFFF under PD
PD2     equ 0x103000
PTT2    equ 0x104000            ; 0x800000-0xBFFFFF under PD2
FA      equ 0x200000            ; frame of page A
FB      equ 0x201000            ; frames for page B
FC      equ 0x202000
CODE_A  equ 0x840000
CODE_B  equ 0x841000
PTE_A   equ 0x40*4              ; offsets of their PTEs in PTT/PTT2
PTE_B   equ 0x41*4
ENTRY_STORE equ CODE_A + 0xFF0  ; mov [CODE_B], dl; 6 x nop; then the straddler
ENTRY_PLAIN equ CODE_A + 0xFF6  ; 6 x nop; then the straddler
STRADDLER   equ CODE_A + 0xFFC  ; mov eax, imm32: imm bytes 0-2 on A, byte 3 on B
P_P     equ 1
P_W     equ 2
P_A     equ 0x20
P_D     equ 0x40

main32:
        PAGING_CLEAR_IDENTITY PD, 5, PT0, P_P|P_W
        mov dword [PD+0*4], PT0|P_P|P_W
        mov dword [PD+2*4], PTT|P_P|P_W
        mov dword [PD2+0*4], PT0|P_P|P_W
        mov dword [PD2+2*4], PTT2|P_P|P_W
        mov dword [PTT+PTE_A], FA|P_P|P_W|P_A|P_D
        mov dword [PTT+PTE_B], FB|P_P|P_W|P_A|P_D
        mov dword [PTT2+PTE_A], FA|P_P|P_W|P_A|P_D
        mov dword [PTT2+PTE_B], FB|P_P|P_W|P_A|P_D
        ; page A: FF0 mov [CODE_B], dl (88 15 addr32); FF6 6 x nop;
        ; FFC B8 44 33 22 | page B: 11 (or 99 in FC); C3 (ret)
        mov word [FA+0xFF0], 0x1588
        mov dword [FA+0xFF2], CODE_B
        mov dword [FA+0xFF6], 0x90909090
        mov word [FA+0xFFA], 0x9090
        mov dword [FA+0xFFC], 0x223344B8
        mov word [FB], 0xC311
        mov word [FC], 0xC399
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        jmp .on
.on:    PRINTLN "real mode: MOV AX, imm16 across a page, SMC on both pages"

        ; ---- 2: execution and SMC ----
        mov ecx, 3
.again: call ENTRY_PLAIN
        CHECK eax, 0x11223344, "MOV EAX, imm32 across a page"
        loop .again
        mov dl, 0x11
        call ENTRY_STORE
        CHECK eax, 0x11223344, "the same, from the entry that stores first"
        mov dl, 0x55
        call ENTRY_STORE                ; the store changes the instruction's byte on B
        CHECK eax, 0x55223344, "a store in the block into its second-page byte"
        CHECK [FB], 0xC355, "the second page's frame after the store"
        call ENTRY_PLAIN
        CHECK eax, 0x55223344, "the other block after the store"
        mov byte [CODE_A+0xFFF], 0x66   ; the first page's part
        call ENTRY_PLAIN
        CHECK eax, 0x55663344, "a store to the first page's part"
        mov byte [CODE_A+0xFFF], 0x22
        mov dl, 0x11
        call ENTRY_STORE
        CHECK eax, 0x11223344, "both bytes back"
        PRINTLN "MOV EAX, imm32 across a page, SMC on both pages (also from its own block)"

        ; ---- 3: the second page remapped ----
        mov dword [PTT+PTE_B], FC|P_P|P_W|P_A|P_D
        invlpg [CODE_B]
        call ENTRY_PLAIN
        CHECK eax, 0x99223344, "PTE change + INVLPG of the second page"
        mov eax, PD2                    ; maps B to FB
        mov cr3, eax
        call ENTRY_PLAIN
        CHECK eax, 0x11223344, "CR3 switch to tables mapping the old frame"
        mov eax, PD
        mov cr3, eax
        call ENTRY_PLAIN
        CHECK eax, 0x99223344, "CR3 switch back"
        PRINTLN "second page remapped: INVLPG, CR3 switch and back"

        ; ---- 4: the second page not present ----
        mov dword [PTT+PTE_B], 0
        invlpg [CODE_B]
        mov eax, 0x5A5A5A5A
        TRY
        call ENTRY_PLAIN
        CATCH_AT 14, 0, STRADDLER, "fetch across into a not-present page"
        add esp, 4                      ; the return address of the call
        CHECK [LV_EXC_CR2], CODE_B, "CR2 of the fetch fault"
        CHECK eax, 0x5A5A5A5A, "EAX unchanged by the faulting instruction"
        PRINTLN "second page not present: #PF, CR2 = second page, EIP = the instruction"

        ; ---- 5: present again, accessed bit clear ----
        mov dword [PTT+PTE_B], FB|P_P|P_W
        call ENTRY_PLAIN
        CHECK eax, 0x11223344, "second page present again"
        mov eax, [PTT+PTE_B]
        and eax, P_A|P_D
        CHECK eax, P_A, "the fetch set PTE.A of the second page, not PTE.D"
        call ENTRY_PLAIN
        CHECK eax, 0x11223344, "and again"
        PRINTLN "second page back with A clear: the fetch sets A"
        PASS
