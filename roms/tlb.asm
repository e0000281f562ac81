; tlb.asm - the TLB semantics the translator's inline TLB relies on, with
; the translations cached before each change (every page is touched first,
; at each privilege and for reads and writes, so that a stale entry would
; be used if one survived where it must not):
;  - user and supervisor accesses to the same pages while CPL goes back and
;    forth (INT to a DPL3 gate, IRET): a supervisor entry never serves a user
;    access; CR0.WP=0 lets ring 0 write a user read-only page while ring 3
;    still faults on it, CR0.WP=1 faults ring 0 too;
;  - INVLPG drops one page, for reads and writes at both privileges, and
;    every 4 KiB slice of a 4 MiB page; a page fault drops the faulting
;    page's entries (a handler may change the PTE and return without INVLPG);
;  - a CR3 load drops non-global pages at both privileges;
;  - global pages (PTE.G with CR4.PGE) survive a CR3 load, die on INVLPG and
;    on a CR4.PGE toggle; with CR4.PGE clear PTE.G means nothing;
;  - code: an indirect CALL to a page remapped then flushed runs the new code.
; Keeping a global entry across a CR3 load and keeping the entries of pages
; INVLPG did not name are what Popek's TLBs do (the SDM allows them to be
; dropped at any time); the ROM requires them so that the engines agree and
; over-flushing shows up. Everything else is architectural.
%define TEST_NAME "tlb"
%include "testlib.inc"

PD      equ 0x100000
PT0     equ 0x101000        ; identity 0-4 MiB, 4 KiB pages, user+writable
PTT     equ 0x102000        ; page table for 0x800000-0xBFFFFF
FA      equ 0x200000        ; physical frames with markers
FB      equ 0x201000
FC      equ 0x202000
FCODE0  equ 0x203000        ; code frames: mov eax, CODE0 / CODE1; ret
FCODE1  equ 0x204000
MA      equ 0xAAAA0000
MB      equ 0xBBBB0000
MC      equ 0xCCCC0000
CODE0   equ 0x11111111
CODE1   equ 0x22222222
P_P     equ 1
P_W     equ 2
P_U     equ 4
P_AD    equ 0x60            ; accessed+dirty: writes can be cached at once
P_PS    equ 0x80
P_G     equ 0x100
SVC_VEC equ 0x70            ; DPL3 gate: ring 3 runs [eax] at ring 0
; Test pages at 0x840000+: their page numbers share no TLB index with the
; pages the scaffolding touches (low RAM, stacks, page tables, the ROM), in
; the interpreter's 256-entry TLB or the translator's, so what stays cached
; depends only on the flushes under test.
WIN     equ 0x840000
%define PG(i) (WIN + (i)*0x1000)
%define PTE(i) (PTT + 0x100 + (i)*4)
LARGE   equ 0xC00000        ; PD[3]: a 4 MiB page
PHYS_LA equ 0x400000        ; its frames: 4-8 MiB, then 0-4 MiB
PHYS_LB equ 0x000000

; SVC fn: run fn at ring 0 from ring 3 (eax = result)
%macro SVC 1
        mov eax, %1
        int SVC_VEC
%endmacro

PM32_TEST_MAIN main32
main32:
        SETGATE SVC_VEC, SEL_CODE32, svc_handler, GATE_INT32|ACC_DPL3
        PAGING_CLEAR_IDENTITY PD, 3, PT0, P_P|P_W|P_U
        mov dword [PD+0*4], PT0|P_P|P_W|P_U
        mov dword [PD+2*4], PTT|P_P|P_W|P_U
        mov dword [PD+3*4], PHYS_LA|P_PS|P_P|P_W|P_U|P_AD
        mov dword [PTE(0)], FB|P_P|P_U|P_AD       ; user read-only
        mov dword [PTE(1)], FA|P_P|P_W|P_AD       ; supervisor read/write
        mov dword [PTE(2)], FC|P_P|P_AD           ; supervisor read-only
        mov dword [PTE(3)], FA|P_P|P_W|P_U|P_AD   ; INVLPG: both privileges
        mov dword [PTE(4)], FA|P_P|P_W|P_U|P_AD   ; untouched by INVLPG PG(3)
        mov dword [PTE(5)], FA|P_P|P_W|P_U|P_AD   ; CR3 load, non-global
        mov dword [PTE(6)], FA|P_P|P_W|P_U|P_AD|P_G  ; global
        mov dword [PTE(7)], FA|P_P|P_U|P_AD       ; copy on write
        mov dword [PTE(8)], FCODE0|P_P|P_U|P_AD   ; code page
        mov dword [FA], MA
        mov dword [FB], MB
        mov dword [FC], MC
        mov dword [PHYS_LA+0x41000], MA
        mov dword [PHYS_LA+0x42000], MA
        mov dword [PHYS_LB+0x41000], MB
        mov dword [PHYS_LB+0x42000], MB
        ; code frames: mov eax, imm32 / ret
        mov byte [FCODE0], 0xB8
        mov dword [FCODE0+1], CODE0
        mov byte [FCODE0+5], 0xC3
        mov byte [FCODE1], 0xB8
        mov dword [FCODE1+1], CODE1
        mov byte [FCODE1+5], 0xC3
        PAGING_ON_PSE PD, 0x80000000    ; PG, WP=0
        jmp .on
.on:    PRINTLN "paging on"

        ; ---- user and supervisor on the same pages, CPL back and forth ----
        mov dword [LV_USER], 0          ; round counter
        RUN_RING3 ring3_privilege, 2
        CHECK [LV_USER], 3, "ring-3 rounds"
        PRINTLN "user/supervisor entries: 3 rounds of CPL 3 -> 0 -> 3, WP=0"

        ; ---- CR0.WP=1: ring 0 faults on read-only pages, user or not ----
        CHECK [PG(0)+8], 0x0A0A0A0A, "ring 0 reads what it wrote with WP=0"
        mov eax, cr0
        or eax, 0x10000
        mov cr0, eax
        TRY
        mov dword [PG(0)+8], 0
        PF_CATCH 3, PG(0)+8, "WP=1 ring-0 write to a user read-only page"
        TRY
        mov dword [PG(2)+8], 0
        PF_CATCH 3, PG(2)+8, "WP=1 ring-0 write to a supervisor read-only page"
        CHECK [FB+8], 0x0A0A0A0A, "user read-only page unchanged by the faulting write"
        RUN_RING3 ring3_wp1, 2
        mov eax, cr0
        and eax, ~0x10000
        mov cr0, eax
        mov dword [PG(2)+8], 0x0C0C0C0C
        CHECK [FC+8], 0x0C0C0C0C, "WP=0 again: ring-0 write to a supervisor read-only page"
        PRINTLN "CR0.WP: 1 faults ring-0 writes to read-only pages, 0 allows them"

        ; ---- INVLPG: one page, both kinds, both privileges ----
        mov dword [PG(3)+4], 0x0303                 ; ring-0 read and write entries
        CHECK [PG(3)], MA, "INVLPG page at ring 0 before"
        CHECK [PG(4)], MA, "neighbour page before"
        RUN_RING3 ring3_fill_3_4, 2                 ; ring-3 read and write entries
        mov dword [PTE(3)], FB|P_P|P_W|P_U|P_AD
        mov dword [PTE(4)], FB|P_P|P_W|P_U|P_AD     ; changed, not flushed
        invlpg [PG(3)]
        CHECK [PG(3)], MB, "ring-0 read after INVLPG"
        mov dword [PG(3)+0x10], 0x3B3B3B3B
        CHECK [FB+0x10], 0x3B3B3B3B, "ring-0 write after INVLPG reaches the new frame"
        CHECK [FA+0x10], 0, "ring-0 write after INVLPG: old frame untouched"
        RUN_RING3 ring3_after_invlpg, 2
        CHECK [FB+0x14], 0x3C3C3C3C, "ring-3 write after INVLPG reaches the new frame"
        CHECK [FA+0x14], 0, "ring-3 write after INVLPG: old frame untouched"
        CHECK [PG(4)], MA, "the page INVLPG did not name keeps its entry"
        mov dword [PTE(4)], FA|P_P|P_W|P_U|P_AD
        PRINTLN "INVLPG drops its page for reads and writes at both privileges, and only it"

        ; ---- a page fault drops the faulting page's entries ----
        RUN_RING3 ring3_cow, 2
        mov dword [PTE(7)], FB|P_P|P_W|P_U|P_AD     ; "copy on write": no INVLPG
        RUN_RING3 ring3_cow_after, 2
        CHECK [FB+0x20], 0x7777, "ring-3 write after the fault reached the new frame"
        PRINTLN "a #PF drops the entries of its page: the new PTE is used without INVLPG"

        ; ---- 4 MiB pages: INVLPG anywhere in the page drops every slice ----
        CHECK [LARGE+0x41000], MA, "4 MiB page slice 0x41000 before"
        CHECK [LARGE+0x42000], MA, "4 MiB page slice 0x42000 before"
        RUN_RING3 ring3_large, 2
        mov dword [PD+3*4], PHYS_LB|P_PS|P_P|P_W|P_U|P_AD
        invlpg [LARGE+0x42000]
        CHECK [LARGE+0x41000], MB, "other slice of the 4 MiB page after INVLPG"
        RUN_RING3 ring3_large_after, 2
        PRINTLN "INVLPG in a 4 MiB page drops all its slices at both privileges"

        ; ---- CR3 load: non-global pages die, global ones (CR4.PGE) stay ----
        mov eax, cr4
        or eax, 0x80                                ; PGE
        mov cr4, eax
        CHECK [PG(5)], MA, "non-global page before the CR3 load"
        CHECK [PG(6)], MA, "global page before the CR3 load"
        mov dword [PG(6)+0x30], 0x6666
        RUN_RING3 ring3_fill_5_6, 2
        mov dword [PTE(5)], FB|P_P|P_W|P_U|P_AD
        mov dword [PTE(6)], FB|P_P|P_W|P_U|P_AD|P_G
        mov eax, cr3
        mov cr3, eax
        CHECK [PG(5)], MB, "non-global page after the CR3 load (ring 0)"
        CHECK [PG(6)], MA, "global page kept across the CR3 load (ring 0)"
        mov dword [PG(6)+0x34], 0x6A6A
        CHECK [FA+0x34], 0x6A6A, "ring-0 write to the kept global page: old frame"
        RUN_RING3 ring3_after_cr3, 2
        invlpg [PG(6)]
        CHECK [PG(6)], MB, "global page after INVLPG (ring 0)"
        RUN_RING3 ring3_global_invlpg, 2
        ; a CR4.PGE toggle drops global entries
        mov dword [PTE(6)], FA|P_P|P_W|P_U|P_AD|P_G
        invlpg [PG(6)]
        CHECK [PG(6)], MA, "global page back on frame A"
        mov dword [PTE(6)], FB|P_P|P_W|P_U|P_AD|P_G
        mov eax, cr4
        and eax, ~0x80
        mov cr4, eax
        CHECK [PG(6)], MB, "global page after clearing CR4.PGE"
        ; with PGE clear, PTE.G does not keep an entry across a CR3 load
        mov dword [PTE(6)], FA|P_P|P_W|P_U|P_AD|P_G
        mov eax, cr3
        mov cr3, eax
        CHECK [PG(6)], MA, "PTE.G page without CR4.PGE after a CR3 load"
        PRINTLN "CR3 load: non-global pages dropped, global kept; INVLPG and CR4.PGE drop global"

        ; ---- code: indirect calls into a remapped page ----
        mov eax, cr4
        or eax, 0x80
        mov cr4, eax
        mov esi, PG(8)
        call code_thrice
        CHECK eax, CODE0, "indirect call, code frame 0"
        mov dword [PTE(8)], FCODE1|P_P|P_U|P_AD
        mov eax, cr3
        mov cr3, eax
        call code_thrice
        CHECK eax, CODE1, "indirect call after remap + CR3 load (non-global)"
        mov dword [PTE(8)], FCODE0|P_P|P_U|P_AD|P_G
        invlpg [PG(8)]
        call code_thrice
        CHECK eax, CODE0, "indirect call, global code page on frame 0"
        mov dword [PTE(8)], FCODE1|P_P|P_U|P_AD|P_G
        mov eax, cr3
        mov cr3, eax
        call code_thrice
        CHECK eax, CODE0, "global code page kept across the CR3 load"
        invlpg [PG(8)]
        call code_thrice
        CHECK eax, CODE1, "global code page after INVLPG"
        RUN_RING3 ring3_code, 2
        PRINTLN "indirect calls follow remapped code pages"

        mov eax, cr0
        and eax, 0x7FFFFFFF
        mov cr0, eax
        PASS

; three indirect calls to [esi] (the first may miss the indirect cache)
code_thrice:
        call esi
        call esi
        call esi
        ret

; ring 0 from ring 3 through the DPL3 gate: call eax, return to ring 3
svc_handler:
        call eax
        iretd

; ring-0 actions (SVC)
r0_write_user_ro:                       ; WP=0: allowed
        mov dword [PG(0)+8], 0x0A0A0A0A
        mov eax, [PG(0)+8]
        ret
r0_touch_supervisor:
        mov eax, [PG(1)]
        mov dword [PG(1)+4], 0x1111
        mov eax, [PG(1)+4]
        ret

ring3_privilege:
.round:
        CHECK [PG(0)], MB, "ring-3 read of a user read-only page"
        TRY
        mov dword [PG(0)+8], 0
        PF_CATCH 7, PG(0)+8, "ring-3 write to a user read-only page"
        SVC r0_write_user_ro
        CHECK eax, 0x0A0A0A0A, "ring-0 write to a user read-only page with WP=0"
        CHECK [PG(0)+8], 0x0A0A0A0A, "ring 3 reads the ring-0 write"
        TRY
        mov dword [PG(0)+8], 0
        PF_CATCH 7, PG(0)+8, "ring-3 write after the ring-0 write (supervisor entry not shared)"
        SVC r0_touch_supervisor
        CHECK eax, 0x1111, "ring-0 read/write of a supervisor page"
        TRY
        mov eax, [PG(1)]
        PF_CATCH 5, PG(1), "ring-3 read of a supervisor page ring 0 just used"
        TRY
        mov dword [PG(1)+4], 0
        PF_CATCH 7, PG(1)+4, "ring-3 write of a supervisor page ring 0 just used"
        inc dword [LV_USER]
        cmp dword [LV_USER], 3
        jb .round
        RING0_RETURN

ring3_wp1:
        CHECK [PG(0)+8], 0x0A0A0A0A, "ring 3 reads the user read-only page with WP=1"
        TRY
        mov dword [PG(0)+8], 0
        PF_CATCH 7, PG(0)+8, "WP=1 ring-3 write to a user read-only page"
        RING0_RETURN

ring3_fill_3_4:
        CHECK [PG(3)], MA, "INVLPG page at ring 3 before"
        mov dword [PG(3)+8], 0x0808
        CHECK [PG(4)], MA, "neighbour page at ring 3 before"
        RING0_RETURN

ring3_after_invlpg:
        CHECK [PG(3)], MB, "ring-3 read after INVLPG"
        mov dword [PG(3)+0x14], 0x3C3C3C3C
        CHECK [PG(4)], MA, "ring-3 read of the page INVLPG did not name"
        RING0_RETURN

ring3_cow:
        CHECK [PG(7)], MA, "copy-on-write page read at ring 3"
        TRY
        mov dword [PG(7)+0x20], 0x7777
        PF_CATCH 7, PG(7)+0x20, "ring-3 write to the copy-on-write page"
        RING0_RETURN

ring3_cow_after:
        ; a read first: the read entry filled before the fault must be gone
        CHECK [PG(7)], MB, "ring-3 read after the fault and the PTE change"
        mov dword [PG(7)+0x20], 0x7777
        RING0_RETURN

ring3_large:
        CHECK [LARGE+0x41000], MA, "4 MiB slice 0x41000 at ring 3 before"
        mov dword [LARGE+0x41004], 0x4141
        RING0_RETURN

ring3_large_after:
        CHECK [LARGE+0x41000], MB, "4 MiB slice at ring 3 after INVLPG"
        mov dword [LARGE+0x41008], 0x4242
        CHECK [PHYS_LB+0x41008], 0x4242, "ring-3 write to the 4 MiB page reaches the new frame"
        RING0_RETURN

ring3_fill_5_6:
        CHECK [PG(5)], MA, "non-global page at ring 3 before"
        CHECK [PG(6)], MA, "global page at ring 3 before"
        mov dword [PG(5)+0x38], 0x5555
        mov dword [PG(6)+0x38], 0x6666
        RING0_RETURN

ring3_after_cr3:
        CHECK [PG(5)], MB, "non-global page after the CR3 load (ring 3)"
        CHECK [PG(6)], MA, "global page kept across the CR3 load (ring 3)"
        mov dword [PG(5)+0x3C], 0x5B5B
        CHECK [FB+0x3C], 0x5B5B, "ring-3 write to the reloaded non-global page: new frame"
        RING0_RETURN

ring3_global_invlpg:
        CHECK [PG(6)], MB, "global page after INVLPG (ring 3)"
        RING0_RETURN

ring3_code:
        mov esi, PG(8)
        call code_thrice
        CHECK eax, CODE1, "ring-3 indirect calls into the code page"
        RING0_RETURN
