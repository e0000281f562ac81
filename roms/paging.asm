; paging.asm - two-level 32-bit paging: 4 KiB and 4 MiB (CR4.PSE) pages,
; #PF error codes (P, W/R, U/S) and CR2 for data and instruction fetches,
; accessed/dirty bits in PDEs/PTEs, CR0.WP for supervisor writes, INVLPG and
; CR3 reloads flushing changed translations, CR4.PGE global pages.
; A stale translation after a PTE change without a flush is *allowed* by the
; SDM but not required; likewise a global entry surviving a CR3 reload. The
; ROM prints what it sees for those and requires only the architectural
; guarantees (the value after INVLPG / CR3 reload / CR4.PGE toggle).
%define TEST_NAME "paging"
%include "testlib.inc"

PD      equ 0x100000
PT0     equ 0x101000        ; identity 0-4 MiB, 4 KiB pages, user+writable
PTT     equ 0x102000        ; page table for the test window 0x800000-0xBFFFFF
FA      equ 0x200000        ; physical frames with markers
FB      equ 0x201000
FC      equ 0x202000
MA      equ 0xAAAA0000
MB      equ 0xBBBB0000
P_P     equ 1
P_W     equ 2
P_U     equ 4
P_A     equ 0x20
P_D     equ 0x40
P_PS    equ 0x80
P_G     equ 0x100
WIN     equ 0x800000
%define PG(i) (WIN + (i)*0x1000)
%define PTE(i) (PTT + (i)*4)

PM32_TEST_MAIN main32
main32:
        ; page directory and tables
        PAGING_CLEAR_IDENTITY PD, 3, PT0, P_P|P_W|P_U
        mov dword [PD+0*4], PT0|P_P|P_W|P_U
        mov dword [PD+1*4], 0x400000|P_PS|P_P|P_W|P_U   ; 4 MiB identity
        mov dword [PD+2*4], PTT|P_P|P_W|P_U
        mov dword [PD+3*4], 0x400000|P_PS|P_P|P_W       ; 4 MiB alias, supervisor
        mov dword [PTE(0)], 0                           ; not present
        mov dword [PTE(1)], FA|P_P|P_W                  ; supervisor RW
        mov dword [PTE(2)], FB|P_P|P_U                  ; user RO
        mov dword [PTE(3)], FC|P_P|P_W|P_U              ; A/D test
        mov dword [PTE(4)], FA|P_P|P_W|P_U              ; INVLPG test
        mov dword [PTE(5)], FA|P_P|P_W|P_U|P_G          ; global test
        mov dword [PTE(6)], FB|P_P                      ; supervisor RO
        mov dword [PTE(7)], FA|P_P|P_W|P_U              ; CR3 reload test
        mov dword [FA], MA
        mov dword [FB], MB
        mov dword [FC], 0x12345678
        PAGING_ON_PSE PD, 0x80000000    ; PG
        jmp .flush
.flush:
        CHECK [PG(1)], MA, "read through a 4 KiB mapping"
        CHECK [PG(2)], MB, "read of a user RO page at CPL0"
        PRINTLN "paging on: identity + test window mapped"

        ; ---- 4 MiB pages ----
        mov dword [0xC00010], 0x4D4D4D4D
        CHECK [0x400010], 0x4D4D4D4D, "4 MiB alias: write at 0xC00010 seen at 0x400010"
        mov eax, [PD+3*4]
        and eax, P_A|P_D|P_PS
        CHECK eax, P_A|P_D|P_PS, "4 MiB PDE accessed+dirty after a write"
        PRINTLN "4 MiB pages: alias works, PDE A/D set"

        ; ---- #PF at CPL0 ----
        TRY
        mov eax, [PG(0)+0x123]
        PF_CATCH 0, PG(0)+0x123, "CPL0 read of a not-present page"
        TRY
        mov dword [PG(0)+0xFFC], 1
        PF_CATCH 2, PG(0)+0xFFC, "CPL0 write to a not-present page"
        ; a dword straddling into the not-present page from the previous one
        TRY
        mov eax, [PG(0)-2]
        PF_CATCH 0, PG(0), "CPL0 read straddling into a not-present page"
        TRY
        jmp PG(0)+0x10
        PF_CATCH 0, PG(0)+0x10, "instruction fetch from a not-present page"
        CHECK [LV_EXC_EIP], PG(0)+0x10, "instruction fetch #PF: EIP = target"
        ; WP=0: supervisor writes to read-only pages succeed
        mov dword [PG(6)+8], 0x66666666
        mov dword [PG(2)+8], 0x22222222
        CHECK [FB+8], 0x22222222, "WP=0 supervisor write to a RO page"
        mov eax, cr0
        or eax, 0x10000                 ; WP
        mov cr0, eax
        TRY
        mov dword [PG(6)+8], 0
        PF_CATCH 3, PG(6)+8, "WP=1 CPL0 write to a supervisor RO page"
        TRY
        mov dword [PG(2)+8], 0
        PF_CATCH 3, PG(2)+8, "WP=1 CPL0 write to a user RO page"
        CHECK [FB+8], 0x22222222, "RO page unchanged after the faulting write"
        PRINTLN "CPL0 #PF: error codes 0/2/3, CR2, WP honoured"

        ; ---- #PF at CPL3 ----
        RUN_RING3 ring3_code, 2
        PRINTLN "CPL3 #PF: error codes 4/5/7, CR2"

        ; ---- accessed / dirty ----
        mov eax, [PTE(3)]
        and eax, P_A|P_D
        CHECK eax, 0, "PTE A/D before any access"
        mov eax, [PG(3)]
        CHECK eax, 0x12345678, "A/D page read"
        mov eax, [PTE(3)]
        and eax, P_A|P_D
        CHECK eax, P_A, "PTE after a read: A=1 D=0"
        mov dword [PG(3)+4], 1
        mov eax, [PTE(3)]
        and eax, P_A|P_D
        CHECK eax, P_A|P_D, "PTE after a write: A=1 D=1"
        mov eax, [PD+2*4]
        and eax, P_A
        CHECK eax, P_A, "PDE accessed bit"
        PRINTLN "accessed/dirty bits set by the CPU"

        ; ---- INVLPG ----
        CHECK [PG(4)], MA, "INVLPG page before the change"
        mov dword [PTE(4)], FB|P_P|P_W|P_U
        mov eax, [PG(4)]
        PUTS "  after a PTE change without flush: "
        PHEX eax, 8
        PUTS " (stale or new both allowed)", 10
        invlpg [PG(4)]
        CHECK [PG(4)], MB, "read after INVLPG"
        ; ---- CR3 reload ----
        CHECK [PG(7)], MA, "CR3 page before the change"
        mov dword [PTE(7)], FB|P_P|P_W|P_U
        mov eax, cr3
        mov cr3, eax
        CHECK [PG(7)], MB, "read after a CR3 reload"
        PRINTLN "INVLPG and CR3 reload flush changed translations"

        ; ---- global pages ----
        mov eax, cr4
        or eax, 0x80                    ; PGE
        mov cr4, eax
        CHECK [PG(5)], MA, "global page before the change"
        mov dword [PTE(5)], FB|P_P|P_W|P_U|P_G
        mov eax, cr3
        mov cr3, eax
        mov eax, [PG(5)]
        PUTS "  global page after CR3 reload: "
        PHEX eax, 8
        cmp eax, MA
        je .survived
        PUTS " (entry not kept: allowed)", 10
        jmp .g2
.survived:
        PUTS " (global entry survived the CR3 reload)", 10
.g2:    invlpg [PG(5)]
        CHECK [PG(5)], MB, "global page after INVLPG"
        mov dword [PTE(5)], FA|P_P|P_W|P_U|P_G
        mov eax, cr4
        and eax, ~0x80
        mov cr4, eax                    ; clearing PGE flushes global entries
        or eax, 0x80
        mov cr4, eax
        CHECK [PG(5)], MA, "global page after toggling CR4.PGE"
        PRINTLN "global pages: INVLPG and CR4.PGE toggle flush them"

        ; paging off again
        mov eax, cr0
        and eax, 0x7FFFFFFF
        mov cr0, eax
        CHECK [FA], MA, "physical access with paging off"
        PASS

ring3_code:
        CHECK [PG(2)], MB, "CPL3 read of a user RO page"
        TRY
        mov eax, [PG(1)+4]
        PF_CATCH 5, PG(1)+4, "CPL3 read of a supervisor page"
        TRY
        mov dword [PG(2)+0x10], 0
        PF_CATCH 7, PG(2)+0x10, "CPL3 write to a user RO page"
        TRY
        mov eax, [PG(0)]
        PF_CATCH 4, PG(0), "CPL3 read of a not-present page"
        TRY
        mov dword [PG(0)], 0
        PF_CATCH 6, PG(0), "CPL3 write to a not-present page"
        TRY
        mov dword [PG(6)], 0
        PF_CATCH 7, PG(6), "CPL3 write to a supervisor RO page"
        TRY
        mov eax, [0xC00010]
        PF_CATCH 5, 0xC00010, "CPL3 read of a supervisor 4 MiB page"
        RING0_RETURN
