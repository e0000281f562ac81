; pf_forms.asm - #PF raised by each form of memory access the translator
; runs in translated code (docs/translator.md, "Page faults without
; exceptions"), with the exact error code, CR2, the EIP of the faulting
; instruction, and every register (ESP included) as before the instruction:
;  - CPL0: MOV load/store, ALU r,m and m,r (a read-modify-write destination
;    reports a write), INC with CR0.WP on a read-only page, CMOVcc with a
;    false condition (the source is read anyway), MOVZX, SETcc, XCHG,
;    BTS m,imm, DIV m, PUSH m (the operand read first), JMP/CALL m,
;    MOVS/CMPS/STOS/LODS on either operand, REP STOS/MOVS/SCAS on the first
;    element (nothing done) and on a later page (the iterations before it
;    kept), a region whose PDE is not
;    present, a read-only 4 MiB page, and instruction fetches (JMP, and a
;    CALL whose push completed before the target's fetch faulted).
;  - CPL3: PUSH r/imm, CALL rel/m, RET, POP, LEAVE with the stack on a
;    not-present, read-only or supervisor page (ESP unchanged), a read of a
;    supervisor page, and a fetch from a not-present page.
; Each part runs twice (the second pass runs blocks already translated and
; chained, with the neighbouring TLB entries filled).
%define TEST_NAME "pf_forms"
%include "testlib.inc"

PD      equ 0x100000
PT0     equ 0x101000        ; identity 0-4 MiB, user + writable
PTT     equ 0x102000        ; the window at 0x800000
FA      equ 0x200000        ; frames
FB      equ 0x201000
FS_     equ 0x202000
WIN     equ 0x800000
%define PG(i) (WIN + (i)*0x1000)
%define PTE(i) (PTT + (i)*4)
; PG(0) not present; PG(1) user RW (FA); PG(2) user RO (FB); PG(3) not
; present (fetches); PG(4) supervisor RW (FS_).
NOPDE   equ 0xC00000        ; PD[3] not present
BIG_RO  equ 0x1000000       ; PD[4]: 4 MiB supervisor read-only page at 4 MiB

R3_ESP      equ LV_USER+0x00    ; ring-3 ESP at entry
FAULT_ESP   equ LV_USER+0x04    ; ESP when the handler resumed a stack fault
PASSES      equ LV_USER+0x08
MARK        equ 0x5A5A5A5A

; PF_AT err, cr2, eip, "what" (ends a TRY): #PF with this error code, CR2
; and reported EIP.
%macro PF_AT 4+
        CATCH_AT 14, %1, %3, %4
        CHECK [LV_EXC_CR2], %2, %4, " (CR2)"
%endmacro

; STACK_PF_AT err, cr2, eip, esp, "what" (ends a TRY at CPL3 whose ESP
; addressed a bad page): the handler resumes with that ESP, which is saved
; and replaced by the good ring-3 stack before anything is checked.
%macro STACK_PF_AT 5+
        mov dword [LV_RECOVER], 0
        mov esp, [R3_ESP]
        FAIL "no exception: ", %5
%$rec:
        mov [FAULT_ESP], esp
        mov esp, [R3_ESP]
        CHECK [LV_EXC_VEC], 14, %5, " (vector)"
        CHECK [LV_EXC_ERR], %1, %5, " (error code)"
        CHECK [LV_EXC_CR2], %2, %5, " (CR2)"
        CHECK [LV_EXC_EIP], %3, %5, " (EIP)"
        CHECK [FAULT_ESP], %4, %5, " (ESP unchanged)"
        %pop
%endmacro

PM32_TEST_MAIN main32
main32:
        PAGING_CLEAR_IDENTITY PD, 3, PT0, 7
        mov dword [PD+0*4], PT0|7
        mov dword [PD+2*4], PTT|7
        mov dword [PD+4*4], 0x400000|0x81          ; 4 MiB, present, supervisor, read-only
        mov dword [PTE(1)], FA|7
        mov dword [PTE(2)], FB|5
        mov dword [PTE(4)], FS_|3
        PAGING_ON_PSE PD, 0x80010000                ; PG, WP

        mov dword [PASSES], 2
.pass:  call supervisor_forms
        RUN_RING3 user_forms, 2
        dec dword [PASSES]
        jnz .pass
        PASS

; ---------------------------------------------------------------- CPL0
supervisor_forms:
        mov eax, MARK
        mov ecx, 0x11111111
        mov edx, 0x22222222
        TRY
.load:  mov eax, [PG(0)+0x10]
        PF_AT 0, PG(0)+0x10, .load, "MOV r32,m not present"
        CHECK eax, MARK, "MOV r32,m: EAX unchanged"
        TRY
.store: mov dword [PG(0)+0x20], 0x1234
        PF_AT 2, PG(0)+0x20, .store, "MOV m32,imm not present"
        TRY
.rmw:   add [PG(0)+0x30], ecx
        PF_AT 2, PG(0)+0x30, .rmw, "ADD m32,r not present (a write)"
        TRY
.aluld: add ecx, [PG(0)+0x40]
        PF_AT 0, PG(0)+0x40, .aluld, "ADD r32,m not present"
        CHECK ecx, 0x11111111, "ADD r32,m: ECX unchanged"
        TRY
.inc:   inc dword [PG(2)+8]
        PF_AT 3, PG(2)+8, .inc, "INC m32 on a read-only page with WP=1"
        CHECK [FB+8], 0, "INC m32: nothing written"
        cmp eax, eax                    ; ZF=1: CMOVNZ's condition is false
        TRY
.cmov:  cmovnz eax, [PG(0)+0x50]
        PF_AT 0, PG(0)+0x50, .cmov, "CMOVNZ with a false condition reads its source"
        CHECK eax, MARK, "CMOVNZ: EAX unchanged"
        TRY
.movzx: movzx eax, byte [PG(0)+0x60]
        PF_AT 0, PG(0)+0x60, .movzx, "MOVZX r32,m8 not present"
        TRY
.setcc: setz byte [PG(0)+0x61]
        PF_AT 2, PG(0)+0x61, .setcc, "SETZ m8 not present"
        TRY
.xchg:  xchg [PG(2)+0x10], eax
        PF_AT 3, PG(2)+0x10, .xchg, "XCHG m32,r on a read-only page"
        CHECK eax, MARK, "XCHG: EAX unchanged"
        TRY
.bts:   bts dword [PG(0)+0x68], 3
        PF_AT 2, PG(0)+0x68, .bts, "BTS m32,imm not present"
        TRY
.div:   div dword [PG(0)+0x70]
        PF_AT 0, PG(0)+0x70, .div, "DIV m32 not present"
        CHECK eax, MARK, "DIV: EAX unchanged"
        CHECK edx, 0x22222222, "DIV: EDX unchanged"
        mov ebx, esp
        TRY
.pushm: push dword [PG(0)+0x80]
        PF_AT 0, PG(0)+0x80, .pushm, "PUSH m32 not present (the operand read)"
        mov edi, esp                    ; (CHECK pushes before it reads ESP)
        CHECK edi, ebx, "PUSH m32: ESP unchanged"
        TRY
.jmpm:  jmp [PG(0)+0x90]
        PF_AT 0, PG(0)+0x90, .jmpm, "JMP m32 not present"
        TRY
.callm: call [PG(0)+0x94]
        PF_AT 0, PG(0)+0x94, .callm, "CALL m32 not present"
        mov edi, esp                    ; (CHECK pushes before it reads ESP)
        CHECK edi, ebx, "CALL m32: ESP unchanged"

        ; string forms: ESI/EDI unchanged
        cld
        mov esi, PG(0)+0xA0
        mov edi, PG(1)+0xA0
        TRY
.movs1: movsd
        PF_AT 0, PG(0)+0xA0, .movs1, "MOVSD source not present"
        CHECK esi, PG(0)+0xA0, "MOVSD: ESI unchanged"
        CHECK edi, PG(1)+0xA0, "MOVSD: EDI unchanged"
        xchg esi, edi
        TRY
.movs2: movsd
        PF_AT 2, PG(0)+0xA0, .movs2, "MOVSD destination not present"
        CHECK esi, PG(1)+0xA0, "MOVSD (destination): ESI unchanged"
        TRY
.cmps:  cmpsd
        PF_AT 0, PG(0)+0xA0, .cmps, "CMPSD second operand not present"
        TRY
.stos:  stosd
        PF_AT 2, PG(0)+0xA0, .stos, "STOSD not present"
        CHECK edi, PG(0)+0xA0, "STOSD: EDI unchanged"
        xchg esi, edi
        TRY
.lods:  lodsd
        PF_AT 0, PG(0)+0xA0, .lods, "LODSD not present"
        CHECK eax, MARK, "LODSD: EAX unchanged"

        ; REP strings: a fault on the first element changes nothing; one
        ; on a later page keeps the iterations done before it
        mov ecx, 5
        mov edi, PG(0)+0xC0
        TRY
.rstos: rep stosd
        PF_AT 2, PG(0)+0xC0, .rstos, "REP STOSD not present"
        CHECK ecx, 5, "REP STOSD: ECX unchanged"
        CHECK edi, PG(0)+0xC0, "REP STOSD: EDI unchanged"
        mov esi, PG(0)+0xD0
        mov edi, PG(1)+0xD0
        TRY
.rmovs: rep movsd
        PF_AT 0, PG(0)+0xD0, .rmovs, "REP MOVSD source not present"
        xchg esi, edi
        TRY
.rmovd: rep movsd
        PF_AT 2, PG(0)+0xD0, .rmovd, "REP MOVSD destination not present"
        CHECK esi, PG(1)+0xD0, "REP MOVSD (destination): ESI unchanged"
        mov edi, PG(0)+0xE0
        TRY
.rscas: repne scasb
        PF_AT 0, PG(0)+0xE0, .rscas, "REPNE SCASB not present"
        CHECK ecx, 5, "REPNE SCASB: ECX unchanged"
        mov edi, PG(2)-8                ; PG(1)'s last two dwords, then PG(2) (read-only)
        TRY
.rcross: rep stosd
        PF_AT 3, PG(2), .rcross, "REP STOSD into a read-only page"
        CHECK ecx, 3, "REP STOSD into a read-only page: two iterations done"
        CHECK edi, PG(2), "REP STOSD into a read-only page: EDI at the fault"
        CHECK [PG(1)+0xFF8], MARK, "REP STOSD into a read-only page: the first store"

        ; paging structures: no page table, and a read-only 4 MiB page
        TRY
.nopde: mov [NOPDE+0x10], ecx
        PF_AT 2, NOPDE+0x10, .nopde, "write where the PDE is not present"
        TRY
.big:   mov [BIG_RO+0x20], ecx
        PF_AT 3, BIG_RO+0x20, .big, "write to a read-only 4 MiB page with WP=1"
        CHECK [BIG_RO+0x20], 0, "4 MiB read-only page: nothing written"

        ; instruction fetches
        TRY
        jmp PG(3)+0x10
        PF_AT 0, PG(3)+0x10, PG(3)+0x10, "fetch from a not-present page (JMP)"
        TRY
.call:  call PG(3)+0x20
        PF_AT 0, PG(3)+0x20, PG(3)+0x20, "fetch from a not-present page (CALL)"
        pop eax
        CHECK eax, .call+5, "CALL to a not-present page: the return address was pushed"
        mov edi, esp                    ; (CHECK pushes before it reads ESP)
        CHECK edi, ebx, "CALL to a not-present page: ESP after the pop"
        ret

; ---------------------------------------------------------------- CPL3
user_forms:
        mov [R3_ESP], esp
        mov eax, MARK
        mov ebx, 0x33333333
        mov ebp, 0x44444444
        TRY
        mov esp, PG(0)+0x100
.push:  push eax
        STACK_PF_AT 6, PG(0)+0xFC, .push, PG(0)+0x100, "PUSH r32: stack not present"
        TRY
        mov esp, PG(2)+0x100
.pushi: push dword 7
        STACK_PF_AT 7, PG(2)+0xFC, .pushi, PG(2)+0x100, "PUSH imm: stack on a read-only page"
        TRY
        mov esp, PG(4)+0x100
.pushs: push eax
        STACK_PF_AT 7, PG(4)+0xFC, .pushs, PG(4)+0x100, "PUSH r32: stack on a supervisor page"
        TRY
        mov esp, PG(0)+0x200
.callr: call .callr
        STACK_PF_AT 6, PG(0)+0x1FC, .callr, PG(0)+0x200, "CALL rel: stack not present"
        TRY
        mov esp, PG(0)+0x300
.ret:   ret
        STACK_PF_AT 4, PG(0)+0x300, .ret, PG(0)+0x300, "RET: stack not present"
        TRY
        mov esp, PG(0)+0x400
.pop:   pop ebx
        STACK_PF_AT 4, PG(0)+0x400, .pop, PG(0)+0x400, "POP r32: stack not present"
        CHECK ebx, 0x33333333, "POP r32: EBX unchanged"
        mov ecx, ebp
        mov ebp, PG(0)+0x500
        TRY
        mov esp, PG(1)+0x100
.leave: leave
        STACK_PF_AT 4, PG(0)+0x500, .leave, PG(1)+0x100, "LEAVE: the frame not present"
        CHECK ebp, PG(0)+0x500, "LEAVE: EBP unchanged"
        mov ebp, ecx
        mov dword [PG(1)+0x10], .leave  ; any target
        TRY
        mov esp, PG(0)+0x600
.callm: call [PG(1)+0x10]
        STACK_PF_AT 6, PG(0)+0x5FC, .callm, PG(0)+0x600, "CALL m32: stack not present"
        TRY
.sup:   mov eax, [PG(4)]
        PF_AT 5, PG(4), .sup, "CPL3 read of a supervisor page"
        CHECK eax, MARK, "CPL3 read of a supervisor page: EAX unchanged"
        TRY
        jmp PG(3)+0x30
        PF_AT 4, PG(3)+0x30, PG(3)+0x30, "CPL3 fetch from a not-present page"
        RING0_RETURN
