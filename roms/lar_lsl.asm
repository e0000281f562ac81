; lar_lsl.asm - LAR/LSL/VERR/VERW answer from the guest's own GDT/LDT at the
; guest's CPL: ZF=1 with the access rights / limit for visible descriptors,
; ZF=0 (destination unchanged) for null, out-of-limit, wrong-type, and
; DPL < max(CPL,RPL) (non-conforming) descriptors.
; LAR result is checked under mask 0x00F0FF00 (bits 19:16 are undefined).
; SDM vs QEMU: loading CS (here by IRET to ring 3) sets the descriptor's
; accessed bit (Bochs does); QEMU 7.2 does not, so -DQEMU_REF accepts 0xFA.
%define TEST_NAME "lar_lsl"
%include "testlib.inc"

; test descriptors (never loaded, so the accessed bits stay as written)
S_CODE_R    equ SEL_FREE+0x00   ; code, readable, DPL0, G, limit 0xFFFFF
S_CODE_XO   equ SEL_FREE+0x08   ; code, execute-only, DPL0, byte limit 0x1234
S_DATA_RO   equ SEL_FREE+0x10   ; data, read-only, DPL0, byte limit 0xABCDE
S_DATA_W3   equ SEL_FREE+0x18   ; data, writable, DPL3, limit 0xFFF
S_CONF0     equ SEL_FREE+0x20   ; conforming readable code, DPL0
S_CALLG     equ SEL_FREE+0x28   ; 32-bit call gate, DPL3
S_INTG      equ SEL_FREE+0x30   ; interrupt-gate type in the GDT (invalid for LAR)
S_LDT       equ SEL_FREE+0x38   ; LDT descriptor, base LDT_BASE
S_NOTP      equ SEL_FREE+0x40   ; data, not present, DPL3
S_DATA_W0   equ SEL_FREE+0x48   ; data, writable, DPL0, limit 0x7FFF
LDT_BASE    equ 0x6000
S_LDT_DATA  equ 0x0004 | 3      ; LDT entry 0, RPL3: writable data, DPL3, limit 0x55
SENT        equ 0x5A5A5A5A

; LARCHK selector, expected ZF (0/1), expected value (if ZF=1), "what"
%macro LARCHK 4
        mov eax, SENT
        mov dx, %1
        lar eax, dx
        setz bl
        movzx ebx, bl
        CHECK ebx, %2, "LAR ZF ", %4
%if %2
        and eax, 0x00F0FF00
%endif
        CHECK eax, %3, "LAR value ", %4
%endmacro
%macro LSLCHK 4
        mov eax, SENT
        mov dx, %1
        lsl eax, dx
        setz bl
        movzx ebx, bl
        CHECK ebx, %2, "LSL ZF ", %4
        CHECK eax, %3, "LSL value ", %4
%endmacro
%macro VERRCHK 3
        mov dx, %1
        verr dx
        setz bl
        movzx ebx, bl
        CHECK ebx, %2, "VERR ", %3
%endmacro
%macro VERWCHK 3
        mov dx, %1
        verw dx
        setz bl
        movzx ebx, bl
        CHECK ebx, %2, "VERW ", %3
%endmacro

PM32_TEST_MAIN main32
main32:
        SETDESC S_CODE_R,  0, 0xFFFFF, 0x9A, FL_G|FL_32
        SETDESC S_CODE_XO, 0x10000, 0x01234, 0x98, FL_32
        SETDESC S_DATA_RO, 0, 0xABCDE, 0x90, 0
        SETDESC S_DATA_W3, 0, 0x00FFF, 0xF2, FL_32
        SETDESC S_CONF0,   0, 0xFFFFF, 0x9E, FL_G|FL_32
        ; call gate: selector SEL_CODE32, offset 0x12345678, 2 params, DPL3
        mov dword [GDT_BASE+S_CALLG], (SEL_CODE32 << 16) | 0x5678
        mov dword [GDT_BASE+S_CALLG+4], 0x1234EC02
        mov dword [GDT_BASE+S_INTG], (SEL_CODE32 << 16) | 0x5678
        mov dword [GDT_BASE+S_INTG+4], 0x1234EE00
        SETDESC S_LDT, LDT_BASE, 0x0F, 0xE2, 0       ; LDT, DPL3
        SETDESC S_NOTP, 0, 0xFFFF, 0x72, 0           ; not present, DPL3
        SETDESC S_DATA_W0, 0, 0x7FFF, 0x92, 0
        ; LDT entry 0: data, writable, DPL3, limit 0x55
        mov dword [LDT_BASE], 0x00000055
        mov dword [LDT_BASE+4], 0x0000F200
        mov dword [LDT_BASE+8], 0
        mov dword [LDT_BASE+12], 0
        mov ax, S_LDT
        lldt ax

        ; ---- CPL0 ----
        LARCHK S_CODE_R, 1, 0x00C09A00, "code readable"
        LSLCHK S_CODE_R, 1, 0xFFFFFFFF, "code readable (G=1)"
        LARCHK S_CODE_XO, 1, 0x00409800, "code execute-only"
        LSLCHK S_CODE_XO, 1, 0x00001234, "code execute-only"
        LARCHK S_DATA_RO, 1, 0x00009000, "data read-only"
        LSLCHK S_DATA_RO, 1, 0x000ABCDE, "data read-only"
        LARCHK S_CALLG, 1, 0x0030EC00, "call gate (bits 23:20 are offset bits)"
        LSLCHK S_CALLG, 0, SENT, "call gate (no limit)"
        LARCHK S_INTG, 0, SENT, "interrupt gate type"
        LSLCHK S_INTG, 0, SENT, "interrupt gate type"
        LARCHK S_LDT, 1, 0x0000E200, "LDT descriptor"
        LSLCHK S_LDT, 1, 0x0000000F, "LDT descriptor"
        LARCHK SEL_TSS0, 1, 0x00008B00, "busy TSS"
        LSLCHK SEL_TSS0, 1, TSS0_LIMIT, "busy TSS"
        LARCHK S_NOTP, 1, 0x00007200, "not-present data (LAR ignores P)"
        LARCHK 0, 0, SENT, "null selector"
        LARCHK 0x0FF8, 0, SENT, "all-zero descriptor (reserved system type)"
        LARCHK S_LDT_DATA, 1, 0x0000F200, "LDT data selector"
        LSLCHK S_LDT_DATA, 1, 0x00000055, "LDT data selector"
        LARCHK S_DATA_W0|3, 0, SENT, "DPL0 data with RPL3 at CPL0"
        VERRCHK S_CODE_R, 1, "readable code"
        VERRCHK S_CODE_XO, 0, "execute-only code"
        VERWCHK S_CODE_R, 0, "code"
        VERRCHK S_DATA_RO, 1, "read-only data"
        VERWCHK S_DATA_RO, 0, "read-only data"
        VERWCHK S_DATA_W0, 1, "writable data"
        VERRCHK S_CALLG, 0, "call gate (bits 23:20 are offset bits)"
        VERRCHK 0, 0, "null selector"
        VERWCHK S_DATA_W0|3, 0, "DPL0 data with RPL3"
        PRINTLN "CPL0: LAR/LSL/VERR/VERW match the guest GDT/LDT"

        ; shrink the GDT limit: selectors past it give ZF=0
        lgdt [small_gdtr]
        LARCHK S_CODE_XO, 0, SENT, "selector beyond the GDT limit"
        VERRCHK S_DATA_RO, 0, "selector beyond the GDT limit"
        lgdt [full_gdtr]

        RUN_RING3 ring3_code, 2
        PRINTLN "CPL3: DPL rules applied at the guest's CPL"
        PASS

small_gdtr: dw S_CODE_XO-1
            dd GDT_BASE
full_gdtr:  dw GDT_LIMIT
            dd GDT_BASE

ring3_code:
        LARCHK S_CODE_R, 0, SENT, "CPL3: DPL0 code"
        LSLCHK S_CODE_R, 0, SENT, "CPL3: DPL0 code"
        LARCHK S_CONF0, 1, 0x00C09E00, "CPL3: DPL0 conforming code"
        LARCHK S_DATA_W3, 1, 0x0040F200, "CPL3: DPL3 data"
        LSLCHK S_DATA_W3, 1, 0x00000FFF, "CPL3: DPL3 data"
        LARCHK S_CALLG, 1, 0x0030EC00, "CPL3: DPL3 call gate"
        LARCHK SEL_TSS0, 0, SENT, "CPL3: DPL0 TSS"
%ifdef QEMU_REF
        ; QEMU 7.2 does not set the accessed bit when IRET loads CS
        LARCHK SEL_CODE32_R3, 1, 0x00C0FA00, "CPL3: own code segment"
%else
        LARCHK SEL_CODE32_R3, 1, 0x00C0FB00, "CPL3: own code segment (accessed bit set by the load)"
%endif
        LARCHK S_LDT, 1, 0x0000E200, "CPL3: DPL3 LDT descriptor"
        LARCHK S_LDT_DATA, 1, 0x0000F200, "CPL3: LDT data"
        VERRCHK S_DATA_W0, 0, "CPL3: DPL0 data"
        VERWCHK S_DATA_W0, 0, "CPL3: DPL0 data"
        VERRCHK S_DATA_W3, 1, "CPL3: DPL3 data"
        VERWCHK S_DATA_W3, 1, "CPL3: DPL3 data"
        VERRCHK S_CONF0, 1, "CPL3: conforming readable code"
        VERRCHK S_NOTP, 1, "CPL3: not-present DPL3 data (no P check)"
        RING0_RETURN
