; privileged.asm - the privileged instructions act on the guest's (virtual)
; CPU state at CPL0 and raise #GP(0) at CPL3. Copied into the host's user
; mode, every one of them would fault on the host instead (MOV CRn/DRn,
; CLTS, WBINVD, INVD, INVLPG, HLT, LGDT...), so this ROM fails unless each
; is rewritten or run against the virtual CPU (docs/translator.md,
; "Sensitive instructions").
;  - MOV DRn: DR0-DR3 keep what was written; DR6 reads its reserved bits as
;    1 (0xFFFF0FF0), DR7 its bit 10; DR4/DR5 alias DR6/DR7 while CR4.DE is
;    clear and are #UD once it is set.
;  - MOV CRn: CR0.MP/NE and CR4.TSD/PCE written and read back.
;  - CLTS clears CR0.TS; LMSW sets MP/TS but cannot clear PE.
;  - WBINVD and INVD change no register at CPL0.
;  - At CPL3: MOV to/from CR0/CR3/DR0/DR7, CLTS, WBINVD, INVD, INVLPG, HLT,
;    LGDT, LIDT, LLDT, LTR, LMSW, RDMSR and WRMSR each raise #GP(0) at the
;    instruction, with nothing changed.
%define TEST_NAME "privileged"
%include "testlib.inc"

PM32_TEST_MAIN main32
main32:
        ; --- MOV DRn ---
        mov eax, 0x11111111
        mov dr0, eax
        mov eax, 0x22222222
        mov dr1, eax
        mov eax, 0x33333333
        mov dr2, eax
        mov eax, 0x44444444
        mov dr3, eax
        xor eax, eax
        mov dr6, eax
        mov dr7, eax
        mov eax, dr0
        CHECK eax, 0x11111111, "DR0 read back"
        mov ebx, dr1
        CHECK ebx, 0x22222222, "DR1 read back"
        mov ecx, dr2
        CHECK ecx, 0x33333333, "DR2 read back"
        mov edx, dr3
        CHECK edx, 0x44444444, "DR3 read back"
        mov eax, dr6
        CHECK eax, 0xFFFF0FF0, "DR6 after writing 0"
        mov eax, dr7
        CHECK eax, 0x00000400, "DR7 after writing 0"
        mov eax, 0x0000000F             ; B0-B3, through the DR4 alias
        mov dr4, eax
        mov eax, dr6
        CHECK eax, 0xFFFF0FFF, "DR6 written through DR4 (CR4.DE=0)"
        mov eax, dr5
        CHECK eax, 0x00000400, "DR7 read through DR5 (CR4.DE=0)"
        mov eax, cr4
        or eax, 0x08                    ; CR4.DE
        mov cr4, eax
        TRY
        mov eax, dr4
        CATCH 6, 0, "MOV from DR4 with CR4.DE=1"
        TRY
        mov dr5, eax
        CATCH 6, 0, "MOV to DR5 with CR4.DE=1"
        mov eax, cr4
        and eax, ~0x08
        mov cr4, eax
        xor eax, eax
        mov dr6, eax
        PRINTLN "MOV DRn: DR0-DR3, DR6/DR7 fixed bits, DR4/DR5 alias and #UD"

        ; --- MOV CRn ---
        mov eax, cr0
        or eax, 0x22                    ; MP, NE
        mov cr0, eax
        mov eax, cr0
        and eax, 0x3F
        CHECK eax, 0x33, "CR0 low bits after setting MP and NE (PE, ET kept)"
        mov eax, cr4
        or eax, 0x104                   ; TSD, PCE
        mov cr4, eax
        mov eax, cr4
        CHECK eax, 0x104, "CR4 after setting TSD and PCE"
        xor eax, eax
        mov cr4, eax
        mov eax, cr0
        and eax, ~0x22
        mov cr0, eax

        ; --- CLTS, LMSW ---
        mov eax, cr0
        or eax, 0x08                    ; TS
        mov cr0, eax
        clts
        mov eax, cr0
        and eax, 0x0F
        CHECK eax, 0x01, "CR0 low bits after CLTS"
        mov ax, 0x000A                  ; MP|TS, PE clear
        lmsw ax
        mov eax, cr0
        and eax, 0x0F
        CHECK eax, 0x0B, "CR0 low bits after LMSW 0x000A (PE stays)"
        clts
        mov eax, cr0
        and eax, ~0x02
        mov cr0, eax
        PRINTLN "MOV CRn, CLTS, LMSW: the guest's CR0/CR4"

        ; --- WBINVD, INVD ---
        mov eax, 0x12345678
        mov ecx, 0x9ABCDEF0
        wbinvd
        invd
        CHECK eax, 0x12345678, "EAX across WBINVD/INVD"
        CHECK ecx, 0x9ABCDEF0, "ECX across WBINVD/INVD"
        PRINTLN "WBINVD, INVD: no effect at CPL0"

        ; --- the same set at CPL3: #GP(0) each ---
        mov dword [LV_USER], 0
        RUN_RING3 ring3_privileged, 0x0002
        CHECK dword [LV_USER], 16, "privileged instructions that faulted at CPL3"
        mov eax, dr0
        CHECK eax, 0x11111111, "DR0 after the CPL3 attempts"
        mov eax, cr0
        and eax, 0x0F
        CHECK eax, 0x01, "CR0 low bits after the CPL3 attempts"
        PRINTLN "CPL3: every privileged instruction raised #GP(0)"
        PASS

; Each attempt must raise #GP(0) at the instruction; LV_USER counts them.
%macro GP_AT_CPL3 1+
        TRY
%%insn: %1
        CATCH_AT 13, 0, %%insn, "CPL3 ", %str(%1)
        inc dword [LV_USER]
%endmacro

ring3_privileged:
        GP_AT_CPL3 mov eax, cr0
        GP_AT_CPL3 mov cr0, eax
        GP_AT_CPL3 mov cr3, eax
        GP_AT_CPL3 mov eax, dr0
        GP_AT_CPL3 mov dr7, eax
        GP_AT_CPL3 clts
        GP_AT_CPL3 wbinvd
        GP_AT_CPL3 invd
        GP_AT_CPL3 invlpg [0x30000]
        GP_AT_CPL3 hlt
        GP_AT_CPL3 lgdt [0x30000]
        GP_AT_CPL3 lidt [0x30000]
        GP_AT_CPL3 lldt ax
        GP_AT_CPL3 ltr ax
        GP_AT_CPL3 rdmsr
        GP_AT_CPL3 wrmsr
        RING0_RETURN
