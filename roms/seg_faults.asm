; seg_faults.asm - protected-mode segment protection faults and error codes.
;  Selector loads: #GP(0) for null SS / null CS, #GP(sel) for wrong type,
;  RPL/DPL mismatch, beyond the table limit, no LDT; #NP(sel) for a not-present
;  data segment, #SS(sel) for a not-present stack segment.
;  Accesses: #GP(0) past a data limit (byte and page granular), #SS(0) past a
;  stack limit (SS-relative read at CPL0, PUSH at CPL3), expand-down data
;  (16- and 32-bit upper bounds), writes to read-only data and readable code,
;  reads through an execute-only CS, use of a null selector, a near jump past
;  the CS limit.
; SDM vs QEMU: QEMU 7.2 TCG checks none of the access-time checks (limits,
; read-only, execute-only, null selector use, CS limit on near jumps); they
; are assembled out with -DQEMU_REF and verified on Bochs instead.
%define TEST_NAME "seg_faults"
%include "testlib.inc"

S_RO     equ SEL_FREE+0x00   ; read-only data, base SCRATCH, limit 0xFFF
S_LIM    equ SEL_FREE+0x08   ; writable data, base SCRATCH, limit 0xFFF
S_LIMG   equ SEL_FREE+0x10   ; writable data, base SCRATCH, limit 0 with G=1 (4 KiB)
S_ED32   equ SEL_FREE+0x18   ; expand-down, B=1, limit 0xFFF
S_ED16   equ SEL_FREE+0x20   ; expand-down, B=0, limit 0xFFF
S_XO     equ SEL_FREE+0x28   ; execute-only flat 32-bit code
S_CODE_R equ SEL_FREE+0x30   ; readable flat 32-bit code
S_NP     equ SEL_FREE+0x38   ; writable data, not present
S_SS3    equ SEL_FREE+0x40   ; DPL3 writable data, base SCRATCH, limit 0xFFF (ring-3 stack)
S_SS1M   equ SEL_FREE+0x48   ; writable data, base 0, byte limit 0xFFFFF, B=1
S_CSLIM  equ SEL_FREE+0x50   ; flat 32-bit code whose limit ends at cslim_edge-1
S_NPCODE equ SEL_FREE+0x58   ; not-present code

PM32_TEST_MAIN main32
main32:
        SETDESC S_RO,    SCRATCH, 0xFFF, ACC_DATA_RO, FL_32
        SETDESC S_LIM,   SCRATCH, 0xFFF, ACC_DATA_W, FL_32
        SETDESC S_LIMG,  SCRATCH, 0, ACC_DATA_W, FL_32|FL_G
        SETDESC S_ED32,  SCRATCH, 0xFFF, ACC_DATA_W_ED, FL_32
        SETDESC S_ED16,  SCRATCH, 0xFFF, ACC_DATA_W_ED, 0
        SETDESC S_XO,    0, 0xFFFFF, ACC_CODE_XO, FL_32|FL_G
        SETDESC S_CODE_R, 0, 0xFFFFF, ACC_CODE_R, FL_32|FL_G
        SETDESC S_NP,    0, 0xFFFFF, ACC_DATA_W & 0x7F, FL_32|FL_G
        SETDESC S_SS3,   SCRATCH, 0xFFF, ACC_DATA_W|ACC_DPL3, FL_32
        SETDESC S_SS1M,  0, 0xFFFFF, ACC_DATA_W, FL_32
%ifndef QEMU_REF
        SETDESC S_CSLIM, 0, cslim_edge-1, ACC_CODE_R, FL_32
%endif
        SETDESC S_NPCODE, 0, 0xFFFFF, ACC_CODE_R & 0x7F, FL_32|FL_G

        ; ---------------- selector loads ----------------
        xor eax, eax
        TRY
        mov ss, ax
        CATCH 13, 0, "MOV SS,null"
        mov ax, S_RO
        TRY
        mov ss, ax
        CATCH 13, S_RO, "MOV SS,read-only data"
        mov ax, SEL_DATA32_R3
        TRY
        mov ss, ax
        CATCH 13, SEL_DATA32_R3 & ~3, "MOV SS,DPL3 data at CPL0"
        mov ax, SEL_DATA32|3
        TRY
        mov ss, ax
        CATCH 13, SEL_DATA32, "MOV SS,RPL3 selector at CPL0"
        mov ax, S_NP
        TRY
        mov ss, ax
        CATCH 12, S_NP, "MOV SS,not-present (#SS)"
        mov ax, S_XO
        TRY
        mov es, ax
        CATCH 13, S_XO, "MOV ES,execute-only code"
        mov ax, SEL_TSS0
        TRY
        mov es, ax
        CATCH 13, SEL_TSS0, "MOV ES,TSS descriptor"
        mov ax, 0x1000                  ; index 0x200: GDT limit is 0xFFF
        TRY
        mov es, ax
        CATCH 13, 0x1000, "MOV ES,selector beyond the GDT limit"
        mov ax, 0x000C                  ; TI=1 with no LDT loaded
        TRY
        mov es, ax
        CATCH 13, 0x000C, "MOV ES,LDT selector without an LDT"
        mov ax, S_NP
        TRY
        mov es, ax
        CATCH 11, S_NP, "MOV ES,not-present data (#NP)"
        mov ax, S_CODE_R
        mov es, ax                      ; readable code is a valid data selector
        xor eax, eax
        mov es, ax                      ; null is fine for ES..GS
        TRY
        jmp 0x0000:0
        CATCH 13, 0, "JMP FAR null CS"
        TRY
        jmp SEL_DATA32:0
        CATCH 13, SEL_DATA32, "JMP FAR to a data segment"
        TRY
        jmp S_NPCODE:0
        CATCH 11, S_NPCODE, "JMP FAR to a not-present code segment"
        mov ax, SEL_DATA32
        mov es, ax
        PRINTLN "selector loads: #GP/#NP/#SS with the right error codes"

        RUN_RING3 ring3_loads, 2
        PRINTLN "CPL3 selector loads checked"

%ifndef QEMU_REF
        ; ---------------- data limits ----------------
        mov ax, S_LIM
        mov es, ax
        mov eax, [es:0xFFC]             ; last dword inside
        TRY
        mov eax, [es:0xFFD]
        CATCH 13, 0, "dword read straddling the limit"
        TRY
        mov byte [es:0x1000], 1
        CATCH 13, 0, "byte write past the limit"
        mov ax, S_LIMG
        mov es, ax
        mov al, [es:0xFFF]              ; G=1: limit 0 covers 0..0xFFF
        TRY
        mov al, [es:0x1000]
        CATCH 13, 0, "read past a page-granular limit"
        PRINTLN "data limits: #GP(0)"
        ; ---------------- expand-down ----------------
        mov ax, S_ED32
        mov es, ax
        mov eax, [es:0x1000]
        mov eax, [es:0xFFFFFFFC]
        TRY
        mov eax, [es:0xFFF]
        CATCH 13, 0, "expand-down: read at the limit"
        TRY
        mov eax, [es:0xFFE]
        CATCH 13, 0, "expand-down: dword straddling the lower bound"
        mov ax, S_ED16
        mov es, ax
        mov ax, [es:0xFFFE]
        TRY
        mov ax, [es:0xFFFF]
        CATCH 13, 0, "16-bit expand-down: word past 0xFFFF"
        TRY
        mov al, [es:0x10000]
        CATCH 13, 0, "16-bit expand-down: byte at 0x10000"
        PRINTLN "expand-down data: bounds limit+1..0xFFFF / 0xFFFFFFFF"
        ; ---------------- rights ----------------
        mov ax, S_RO
        mov es, ax
        mov eax, [es:0]
        TRY
        mov [es:0], eax
        CATCH 13, 0, "write to read-only data"
        mov ax, S_CODE_R
        mov es, ax
        mov eax, [es:main32]
        TRY
        mov [es:SCRATCH], eax
        CATCH 13, 0, "write through a readable code segment"
        xor eax, eax
        mov es, ax
        TRY
        mov eax, [es:0]
        CATCH 13, 0, "read through a null ES"
        mov ax, SEL_DATA32
        mov es, ax
        ; execute-only CS: reading through CS faults
        jmp S_XO:xo_code
xo_back:
        CHECK [LV_USER], 13, "read through an execute-only CS (vector)"
        CHECK [LV_USER+4], 0, "read through an execute-only CS (error code)"
        PRINTLN "rights: read-only / code writes / execute-only reads / null use"
        ; ---------------- stack limits ----------------
        mov ax, S_SS1M
        mov ss, ax
        mov ebp, 0x100000
        TRY
        mov eax, [ebp]
        CATCH 12, 0, "SS-relative read past the SS limit (#SS(0))"
        mov ax, SEL_DATA32
        mov ss, ax
        RUN_RING3 ring3_stack, 2
        CHECK [LV_USER+8], 12, "CPL3 PUSH past the SS limit (vector)"
        CHECK [LV_USER+12], 0, "CPL3 PUSH past the SS limit (error code)"
        CHECK [LV_USER+16], 0x1002, "CPL3 ESP unchanged by the faulting PUSH"
        PRINTLN "stack limits: #SS(0)"
        ; ---------------- CS limit ----------------
        jmp S_CSLIM:cslim_code
cslim_back:
        CHECK [LV_USER+20], 13, "near JMP past the CS limit (vector)"
        CHECK [LV_USER+24], cslim_jmp, "near JMP past the CS limit (EIP = the JMP)"
        PRINTLN "CS limit: #GP(0) at the jump"
%else
        PRINTLN "note: access-time limit/rights checks skipped (QEMU_REF)"
%endif
        PASS

%ifndef QEMU_REF
xo_code:
        mov dword [LV_RECOVER], .rec
        mov eax, [cs:main32]
        jmp SEL_CODE32:xo_fail
.rec:   mov eax, [LV_EXC_VEC]
        mov [LV_USER], eax
        mov eax, [LV_EXC_ERR]
        mov [LV_USER+4], eax
        jmp SEL_CODE32:xo_back
xo_fail:
        FAIL "read through an execute-only CS did not fault"

cslim_code:
        mov dword [LV_RECOVER], cslim_rec
cslim_jmp:
        jmp cslim_edge
cslim_rec:   mov eax, [LV_EXC_VEC]
        mov [LV_USER+20], eax
        mov eax, [LV_EXC_EIP]
        mov [LV_USER+24], eax
        jmp SEL_CODE32:cslim_back
cslim_edge:                             ; first byte past S_CSLIM's limit
        jmp SEL_CODE32:cslim_fail
cslim_fail:
        FAIL "near JMP past the CS limit did not fault"

ring3_stack:
        mov ax, S_SS3 | 3
        mov ss, ax
        mov esp, 0x1002                 ; PUSH writes 0xFFE..0x1001: past the limit
        mov dword [LV_RECOVER], .rec
        push eax
        mov dword [LV_USER+8], 0xFFFFFFFF
        RING0_RETURN
.rec:   mov eax, [LV_EXC_VEC]
        mov [LV_USER+8], eax
        mov eax, [LV_EXC_ERR]
        mov [LV_USER+12], eax
        mov [LV_USER+16], esp
        RING0_RETURN
%endif

ring3_loads:
        mov ax, SEL_DATA32              ; DPL0 data, RPL0, at CPL3
        TRY
        mov es, ax
        CATCH 13, SEL_DATA32, "CPL3 MOV ES,DPL0 data"
        mov ax, S_SS1M | 3
        TRY
        mov es, ax
        CATCH 13, S_SS1M, "CPL3 MOV ES,DPL0 data with RPL3"
        mov ax, SEL_DATA32_R3 & ~3      ; DPL3 data, RPL0 at CPL3: allowed
        mov es, ax
        mov ax, SEL_DATA32_R3
        mov es, ax
        mov ax, S_SS3                   ; DPL3 stack with RPL0 at CPL3
        TRY
        mov ss, ax
        CATCH 13, S_SS3, "CPL3 MOV SS,RPL0 selector"
        mov ax, SEL_DATA32              ; DPL0 stack at CPL3
        TRY
        mov ss, ax
        CATCH 13, SEL_DATA32, "CPL3 MOV SS,DPL0 data"
        TRY
        jmp SEL_CODE32:0
        CATCH 13, SEL_CODE32, "CPL3 JMP FAR to DPL0 non-conforming code"
        RING0_RETURN
