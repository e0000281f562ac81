; dbt_forms.asm - the instruction forms the translator runs without a
; generic interpreter fallback (docs/translator.md, the catalogue), each with
; its results and its faults:
;  - AH..BH beside a memory operand (CMP/MOV/ADD/SUB/XCHG): the high byte is
;    exchanged with its low partner around the host instruction; the partner
;    and the flags must come out exact.
;  - BT/BTS/BTR/BTC m16/m32, r: the signed register offset selects the unit
;    outside the operand (positive, negative, 16-bit); a unit on a
;    not-present page, and a unit crossing into one, raise #PF with the
;    unit's CR2 and write nothing; a unit past a segment limit raises #GP(0).
;  - the predecoded helper (the interpreter's handler on the block's decoded
;    instruction): MOV/POP Sreg, LAR/LSL/VERR/VERW, IRETD to the same level,
;    MOV CRn/DRn, INVLPG and x87 loads, stores and FNSTSW; the faulting cases
;    (MOV SS/POP DS with a bad selector, IRETD to a bad CS, FLD/FSTP on a
;    not-present page) raise the interpreter's fault with nothing changed.
; Each part runs twice (the second pass runs translated blocks that were
; already chained and their TLB entries filled).
%define TEST_NAME "dbt_forms"
%include "testlib.inc"

PD      equ 0x100000
PT0     equ 0x101000        ; identity 0-4 MiB
PTT     equ 0x102000        ; window 0x800000: page 0 present (0x200000), page 1 not present
WIN     equ 0x800000
S_LIM   equ SEL_FREE+0x00   ; writable data, base SCRATCH, limit 0xFFF
S_RO    equ SEL_FREE+0x08   ; read-only data (a bad SS)
S_NPD   equ SEL_FREE+0x10   ; not-present data
BUF     equ SCRATCH+0x800
FPV     equ SCRATCH+0x900   ; doubles

PM32_TEST_MAIN main32
main32:
        SETDESC S_LIM, SCRATCH, 0xFFF, ACC_DATA_W, FL_32
        SETDESC S_RO, 0, 0xFFFFF, ACC_DATA_RO, FL_32|FL_G
        SETDESC S_NPD, 0, 0xFFFFF, ACC_DATA_W & 0x7F, FL_32|FL_G
        ; paging: identity 0-4 MiB, and the window
        PAGING_CLEAR_IDENTITY PD, 3, PT0, 3
        mov dword [PD+0*4], PT0|3
        mov dword [PD+2*4], PTT|3
        mov dword [PTT+0*4], 0x200000|3
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        and eax, ~0x0C          ; EM=0, TS=0: the x87 is available
        or eax, 0x22            ; MP, NE
        mov cr0, eax
        fninit

        mov dword [LV_USER], 2
pass:
        call high_bytes
        call bit_strings
        call predecoded
        dec dword [LV_USER]
        jnz pass
        PASS

; ---------------------------------------------------------------- AH..BH with memory
high_bytes:
        mov dword [BUF], 0x11223344
        mov edx, 0x0000445A      ; DH = 0x44, DL = 0x5A
        cmp [BUF], dh            ; 0x44 - 0x44
        CHECKF F_ARITH, F_ZF|F_PF, "CMP m8,DH flags"
        CHECK edx, 0x445A, "CMP m8,DH keeps DL"
        cmp dh, [BUF+1]          ; 0x44 - 0x33
        CHECKF F_ARITH, F_PF, "CMP DH,m8 flags"
        mov eax, 0x12345678
        mov ah, [BUF+2]
        CHECK eax, 0x12342278, "MOV AH,m8"
        mov ecx, 0xCAFEAB01
        mov [BUF+4], ch
        CHECK [BUF+4], 0xAB, "MOV m8,CH"      ; the other bytes of BUF+4 were 0
        CHECK ecx, 0xCAFEAB01, "MOV m8,CH keeps ECX"
        mov byte [BUF+5], 0xF0
        mov ebx, 0x2000
        add [BUF+5], bh          ; 0xF0 + 0x20 = 0x110
        CHECKF F_CF|F_ZF|F_SF|F_OF, F_CF, "ADD m8,BH flags"
        CHECK [BUF+4], 0x10AB, "ADD m8,BH"
        mov ebx, 0x7F03
        sub bh, [BUF+5]          ; 0x7F - 0x10
        CHECKF F_CF|F_ZF|F_SF|F_OF, 0, "SUB BH,m8 flags"
        CHECK ebx, 0x6F03, "SUB BH,m8"
        mov edx, 0x9977
        xchg [BUF], dh           ; BUF byte 0x44 <-> 0x99
        CHECK edx, 0x4477, "XCHG m8,DH (register)"
        CHECK [BUF], 0x11223399, "XCHG m8,DH (memory)"
        ret

; ---------------------------------------------------------------- BT* m, r
bit_strings:
        mov edi, BUF
        mov ecx, 8
        xor eax, eax
        rep stosd
        mov dword [BUF+4], 0x00000008
        mov eax, 35              ; bit 3 of the dword at BUF+4
        xor ecx, ecx             ; ZF=1: BT leaves ZF alone
        bt [BUF], eax
        CHECKF F_CF|F_ZF, F_CF|F_ZF, "BT m32,r +35"
        mov ebx, BUF+16
        mov eax, -97             ; unit -4: BUF+0, bit 31
        bts [ebx], eax
        CHECKF F_CF, 0, "BTS m32,r -97 (CF)"
        CHECK [BUF], 0x80000000, "BTS m32,r -97"
        mov eax, -1              ; unit -1: BUF+12, bit 31
        btc dword [ebx], eax
        CHECK [BUF+12], 0x80000000, "BTC m32,r -1"
        mov eax, 35
        lock btr [BUF], eax
        CHECKF F_CF, F_CF, "LOCK BTR m32,r (CF)"
        CHECK [BUF+4], 0, "LOCK BTR m32,r"
        mov eax, 0xFFEF          ; 16-bit -17: unit -2 words from BUF+16 = BUF+12, bit 15
        or eax, 0x12340000       ; the upper half is not part of a 16-bit offset
        bts word [ebx], ax
        CHECK [BUF+12], 0x80008000, "BTS m16,r -17"
        mov eax, 16*3+1          ; unit +3 words: BUF+22, bit 1
        bts word [ebx], ax
        CHECK [BUF+20], 0x00020000, "BTS m16,r +49"
        ; the unit on a not-present page: #PF (read, supervisor) at its address
        mov ebx, WIN
        mov eax, 0x1000*8+5
        TRY
        bt [ebx], eax
        PF_CATCH 0, WIN+0x1000, "BT m32,r unit not present"
        ; a unit crossing into the not-present page: #PF (write) with CR2 on
        ; the second page, the first page untouched
        mov dword [WIN+0xFFC], 0
        mov ebx, WIN+0xFF6
        mov eax, 2*32+30         ; unit +2: the dword at WIN+0xFFE..WIN+0x1001
        TRY
        bts [ebx], eax
        PF_CATCH 2, WIN+0x1000, "BTS m32,r unit crossing a page"
        CHECK [WIN+0xFFC], 0, "BTS m32,r unit crossing a page (no write)"
        ; the unit past a segment limit: #GP(0)
        mov eax, S_LIM
        mov es, eax
        xor ebx, ebx
        mov eax, 0x1000*8
        TRY
        bt [es:ebx], eax
        CATCH 13, 0, "BT m32,r unit past the limit"
        mov eax, 0xFF8*8         ; unit at 0xFF8, bit 0: inside the limit
        bts [es:ebx], eax
        CHECK [SCRATCH+0xFF8], 1, "BTS m32,r in a limited segment"
        mov dword [SCRATCH+0xFF8], 0
        mov eax, SEL_DATA32
        mov es, eax
        ret

; ---------------------------------------------------------------- predecoded helper
predecoded:
        ; MOV Sreg, POP Sreg: good and bad selectors
        mov eax, S_LIM
        mov fs, ax
        mov edx, fs
        CHECK edx, S_LIM, "MOV FS,r16"
        CHECK [fs:0xFF8], 0, "FS base (MOV FS)"
        push dword SEL_DATA32
        pop gs
        mov edx, gs
        CHECK edx, SEL_DATA32, "POP GS"
        mov ax, S_RO
        TRY
        mov ss, ax
        CATCH 13, S_RO, "MOV SS,read-only data"
        mov edx, ss
        CHECK edx, SEL_DATA32, "SS kept after #GP"
        mov esi, esp
        push dword S_NPD
        TRY
        pop ds
        CATCH 11, S_NPD, "POP DS,not present (#NP)"
        lea edx, [esi-4]
        mov ecx, esp
        CHECK ecx, edx, "POP DS faulted: ESP kept"
        add esp, 4
        mov edx, ds
        CHECK edx, SEL_DATA32, "DS kept after #NP"
        ; POP m: the address uses the incremented ESP; a fault keeps ESP
        push dword 0xA5A5F00D
        pop dword [BUF+0x40]
        CHECK [BUF+0x40], 0xA5A5F00D, "POP m32"
        push dword 0x1234
        mov esi, esp
        TRY
        pop dword [WIN+0x1000]
        PF_CATCH 2, WIN+0x1000, "POP m32 not present"
        mov ecx, esp
        CHECK ecx, esi, "POP m32 faulted: ESP kept"
        push dword 0
        push dword 0x5678
        pop dword [esp]          ; addressed with the incremented ESP: the slot above
        pop eax
        CHECK eax, 0x5678, "POP [ESP]"
        pop eax
        CHECK eax, 0x1234, "POP m32 faulted: the slot kept"
        ; descriptor probes
        mov eax, S_LIM
        lar edx, eax
        CHECKF F_ZF, F_ZF, "LAR (ZF)"
        CHECK edx, 0x00409300, "LAR"
        lsl edx, eax
        CHECK edx, 0xFFF, "LSL"
        verw ax
        CHECKF F_ZF, F_ZF, "VERW writable data"
        mov ax, S_RO
        verw ax
        CHECKF F_ZF, 0, "VERW read-only data"
        verr ax
        CHECKF F_ZF, F_ZF, "VERR read-only data"
        ; IRETD to the same level, and to a bad CS
        pushfd
        or dword [esp], F_CF|F_ZF
        push dword SEL_CODE32
        push dword .back
        iretd
        FAIL "IRETD did not jump"
.back:  CHECKF F_CF|F_ZF, F_CF|F_ZF, "IRETD flags"
        mov esi, esp
        pushfd
        push dword S_LIM         ; a data segment as CS
        push dword .back
        TRY
        iretd
        CATCH 13, S_LIM, "IRETD to a data segment"
        lea edx, [esi-12]
        mov ecx, esp
        CHECK ecx, edx, "IRETD faulted: ESP kept"
        add esp, 12
        ; control and debug registers, INVLPG
        mov eax, cr3
        CHECK eax, PD, "MOV r32,CR3"
        mov cr3, eax
        mov eax, cr0
        CHECK eax, 0xE0000033, "MOV r32,CR0"   ; PG CD NW (from reset) NE ET MP PE
        mov eax, 0x12345678
        mov dr1, eax
        xor eax, eax
        mov eax, dr1
        CHECK eax, 0x12345678, "MOV DR1"
        mov dword [PTT+1*4], 0x201000|3
        invlpg [WIN+0x1000]
        mov dword [WIN+0x1000], 0x600DF00D
        CHECK [0x201000], 0x600DF00D, "INVLPG then the new page"
        mov dword [PTT+1*4], 0
        invlpg [WIN+0x1000]
        ; x87 loads, stores, FNSTSW
        mov dword [FPV], 0
        mov dword [FPV+4], 0x40080000      ; 3.0
        mov dword [FPV+8], 0
        mov dword [FPV+12], 0x3FF80000     ; 1.5
        fld qword [FPV]
        fadd qword [FPV+8]
        fst qword [FPV+16]
        CHECK [FPV+20], 0x40120000, "FLD/FADD/FST m64 (4.5)"
        fcomp qword [FPV+8]                ; 4.5 > 1.5: C0=C2=C3=0
        fnstsw ax
        and eax, 0x4700
        CHECK eax, 0, "FNSTSW AX after FCOMP"
        fild dword [FPV+12]
        fistp dword [FPV+24]
        CHECK [FPV+24], 0x3FF80000, "FILD/FISTP m32"
        TRY
        fld qword [WIN+0x1000]
        PF_CATCH 0, WIN+0x1000, "FLD m64 not present"
        TRY
        fld qword [WIN+0xFFC]
        PF_CATCH 0, WIN+0x1000, "FLD m64 crossing a page"
        fnstsw ax
        and eax, 0x3800
        CHECK eax, 0, "FLD faulted: TOP kept"
        fld1
        TRY
        fstp qword [WIN+0xFFC]
        PF_CATCH 2, WIN+0x1000, "FSTP m64 crossing a page"
        fnstsw ax
        and eax, 0x3800
        CHECK eax, 0x3800, "FSTP faulted: ST0 kept"
        fstp qword [FPV+16]
        CHECK [FPV+20], 0x3FF00000, "FSTP m64 after the fault (1.0)"
        ; FXSAVE/FXRSTOR: round trip, and #GP(0) when misaligned
        fldpi
        fxsave [SCRATCH+0xA00]
        fstp st0
        fxrstor [SCRATCH+0xA00]
        fnstsw ax
        and eax, 0x3800
        CHECK eax, 0x3800, "FXRSTOR restores TOP"
        fstp qword [FPV+16]
        CHECK [FPV+20], 0x400921FB, "FXRSTOR restores ST0 (pi)"
        TRY
        fxsave [SCRATCH+0xA08]
        CATCH 13, 0, "FXSAVE misaligned"
        ret
