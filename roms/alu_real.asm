; alu_real.asm - real-mode integer ALU and flags, with 8/16/32-bit operands
; (operand- and address-size prefixes in real mode). Only the flags the SDM
; defines for each instruction are compared (mask per case); results and
; flags were worked out from the SDM and confirmed on QEMU and Bochs.
; Covers ADD/ADC/SUB/SBB/CMP/INC/DEC/NEG/AND/OR/XOR/TEST, shifts and
; rotates (by 1 and CL, masked counts, RCL/RCR mod 9/17/33), MUL/IMUL
; (1/2/3 operands), DIV/IDIV, DAA/DAS/AAA/AAS/AAM/AAD, BT/BTS/BTR/BTC
; (register and memory with bit offsets past the operand), BSF/BSR,
; SHLD/SHRD, XADD, CMPXCHG, CMPXCHG8B, BSWAP, CMOVcc, SETcc, string ops
; with REP/REPE/REPNE and DF=1, ENTER/LEAVE with nesting, BOUND in range,
; LOOP/JCXZ/JECXZ, 32-bit addressing (SIB) and CBW/CWDE/CWD/CDQ/MOVSX/MOVZX.
%define TEST_NAME "alu_real"
%include "testlib.inc"

A   equ F_ARITH              ; all six arithmetic flags defined
NA  equ F_ARITH & ~F_AF      ; logic ops, shifts by 1
SH  equ F_CF|F_ZF|F_SF|F_PF  ; shifts by >1 (OF, AF undefined)
CO  equ F_CF|F_OF            ; rotates by 1, MUL/IMUL
BUF equ 0x6000               ; real-mode buffers (DS=ES=0)

%assign TN 0
; ALU {insn}, eax_in, ebx_in, ecx_in, eflags_in, eax_expected, flags_expected, flag_mask
%macro ALU 8
%assign TN TN+1
%defstr TNS TN
        mov eax, %2
        mov ebx, %3
        mov ecx, %4
        push dword (%5)|2
        popfd
        %1
        pushfd
        pop dword [LV_TMP]
        CHECK eax, %6, "case ", TNS, " [", %str(%1), "] EAX"
        push edx
        mov edx, [LV_TMP]
        and edx, %8
        CHECK edx, %7, "case ", TNS, " [", %str(%1), "] flags"
        pop edx
%endmacro
; CHK reg, value: extra register check after the previous ALU case
%macro CHK 2
        CHECK %1, %2, "case ", TNS, " ", %str(%1)
%endmacro

section .text16
bits 16
test_main16:
        ; ---------------- add/sub family ----------------
        ALU {add eax, ebx}, 0x7FFFFFFF, 1, 0, 0, 0x80000000, F_OF|F_SF|F_AF|F_PF, A
        ALU {add eax, ebx}, 0xFFFFFFFF, 1, 0, 0, 0, F_CF|F_ZF|F_AF|F_PF, A
        ALU {adc eax, ebx}, 0x12345678, 0x11111111, 0, F_CF, 0x2345678A, 0, A
        ALU {adc eax, ebx}, 0x0000000F, 0, 0, F_CF, 0x00000010, F_AF, A
        ALU {sub eax, ebx}, 0x80000000, 1, 0, 0, 0x7FFFFFFF, F_OF|F_AF|F_PF, A
        ALU {sub eax, ebx}, 0, 1, 0, 0, 0xFFFFFFFF, F_CF|F_SF|F_AF|F_PF, A
        ALU {sbb eax, ebx}, 5, 3, 0, F_CF, 1, 0, A
        ALU {sbb eax, ebx}, 0, 0, 0, F_CF, 0xFFFFFFFF, F_CF|F_SF|F_AF|F_PF, A
        ALU {cmp eax, ebx}, 3, 5, 0, 0, 3, F_CF|F_SF|F_AF, A
        ALU {inc eax}, 0x7FFFFFFF, 0, 0, F_CF, 0x80000000, F_CF|F_OF|F_SF|F_AF|F_PF, A
        ALU {dec eax}, 0, 0, 0, 0, 0xFFFFFFFF, F_SF|F_AF|F_PF, A
        ALU {neg eax}, 0, 0, 0, F_CF, 0, F_ZF|F_PF, A
        ALU {neg eax}, 0x80000000, 0, 0, 0, 0x80000000, F_CF|F_OF|F_SF|F_PF, A
        ALU {neg eax}, 1, 0, 0, 0, 0xFFFFFFFF, F_CF|F_SF|F_AF|F_PF, A
        ALU {add al, bl}, 0xAAAAAA7F, 1, 0, 0, 0xAAAAAA80, F_OF|F_SF|F_AF, A
        ALU {sub ax, bx}, 0x55550000, 1, 0, 0, 0x5555FFFF, F_CF|F_SF|F_AF|F_PF, A
        ALU {adc ax, 0x7FFF}, 0, 0, 0, F_CF, 0x8000, F_OF|F_SF|F_AF|F_PF, A
        ALU {cmp al, 0x80}, 0x7F, 0, 0, 0, 0x7F, F_CF|F_OF|F_SF|F_PF, A
        PRINTLN "add/adc/sub/sbb/cmp/inc/dec/neg: results and flags"
        ; ---------------- logic ----------------
        ALU {and eax, ebx}, 0xF0F0F0F0, 0x0FF00FF0, 0, F_CF|F_OF, 0x00F000F0, F_PF, NA
        ALU {or eax, ebx}, 0x80000000, 1, 0, 0, 0x80000001, F_SF, NA
        ALU {xor eax, ebx}, 0x1234, 0x1234, 0, 0, 0, F_ZF|F_PF, NA
        ALU {test al, bl}, 0x80, 0x80, 0, 0, 0x80, F_SF, NA
        ALU {not eax}, 0x0F0F0F0F, 0, 0, F_CF|F_ZF, 0xF0F0F0F0, F_CF|F_ZF, A
        PRINTLN "and/or/xor/test/not"
        ; ---------------- shifts ----------------
        ALU {shl eax, 1}, 0x80000001, 0, 0, 0, 2, F_CF|F_OF, NA
        ALU {shl eax, cl}, 0x12345678, 0, 4, 0, 0x23456780, F_CF, SH
        ALU {shr eax, 1}, 0x80000001, 0, 0, 0, 0x40000000, F_CF|F_OF|F_PF, NA
        ALU {sar eax, cl}, 0x80001234, 0, 8, 0, 0xFF800012, F_SF|F_PF, SH
        ALU {sar eax, 1}, 0xFFFFFFFF, 0, 0, 0, 0xFFFFFFFF, F_CF|F_SF|F_PF, NA
        ALU {shr al, 1}, 0x01, 0, 0, 0, 0, F_CF|F_ZF|F_PF, NA
        ALU {shl eax, cl}, 0x12345678, 0, 32, F_CF|F_ZF|F_OF, 0x12345678, F_CF|F_ZF|F_OF, A
        ALU {shl ax, cl}, 0xFFFF8001, 0, 17, 0, 0xFFFF0000, F_ZF|F_PF, F_ZF|F_SF|F_PF
        ALU {sal bx, 1}, 0, 0x4000, 0, 0, 0, F_OF|F_SF|F_PF, NA
        CHK ebx, 0x8000
        PRINTLN "shl/shr/sar by 1 and CL (masked counts)"
        ; ---------------- rotates ----------------
        ALU {rol eax, 1}, 0x80000000, 0, 0, 0, 1, F_CF|F_OF, CO
        ALU {ror eax, cl}, 0x12345678, 0, 4, 0, 0x81234567, F_CF, F_CF
        ALU {rcl eax, 1}, 0x80000000, 0, 0, 0, 0, F_CF|F_OF, CO
        ALU {rcl eax, cl}, 0x10000000, 0, 4, F_CF, 8, F_CF, F_CF
        ALU {rcr eax, 1}, 1, 0, 0, F_CF, 0x80000000, F_CF|F_OF, CO
        ALU {rcr eax, cl}, 0xFF, 0, 8, 0, 0xFE000000, F_CF, F_CF
        ALU {rcr ax, cl}, 0x1234, 0, 17, F_CF, 0x1234, F_CF, F_CF
        ALU {rcl al, cl}, 0x81, 0, 9, 0, 0x81, 0, F_CF
        ALU {rcl al, cl}, 0x81, 0, 10, 0, 0x02, F_CF, F_CF
        ALU {rol al, cl}, 0x01, 0, 8, 0, 0x01, F_CF, F_CF
        ALU {ror ax, 1}, 0x0001, 0, 0, 0, 0x8000, F_CF|F_OF, CO
        ALU {rcr bl, 1}, 0, 0x01, 0, 0, 0, F_CF, CO
        CHK ebx, 0
        PRINTLN "rol/ror/rcl/rcr by 1 and CL, 8/16/32-bit"
        ; ---------------- multiply / divide ----------------
        mov edx, 0x5A5A5A5A
        ALU {mul ebx}, 0x80000000, 2, 0, 0, 0, F_CF|F_OF, CO
        CHK edx, 1
        ALU {mul bl}, 0x12345610, 0x10, 0, 0, 0x12340100, F_CF|F_OF, CO
        ALU {mul bx}, 0x1234, 0x10, 0, 0, 0x2340, F_CF|F_OF, CO
        CHK edx, 0x00000001
        ALU {imul ebx}, 0xFFFFFFFF, 0xFFFFFFFF, 0, F_CF|F_OF, 1, 0, CO
        CHK edx, 0
        ALU {imul eax, ebx, 3}, 0, 0x40000000, 0, 0, 0xC0000000, F_CF|F_OF, CO
        ALU {imul eax, ebx}, 0x10000, 0x10000, 0, 0, 0, F_CF|F_OF, CO
        ALU {imul ax, bx, -2}, 0xABCD0000, 0x4000, 0, F_CF|F_OF, 0xABCD8000, 0, CO
        ALU {imul bl}, 0xFF, 0x80, 0, 0, 0x0080, F_CF|F_OF, CO
        mov edx, 1
        ALU {div ebx}, 0, 0x10, 0, 0, 0x10000000, 0, 0
        CHK edx, 0
        mov edx, 0xFFFFFFFF
        ALU {idiv ebx}, 0xFFFFFFF9, 2, 0, 0, 0xFFFFFFFD, 0, 0
        CHK edx, 0xFFFFFFFF
        ALU {div bl}, 0x00FF, 0x10, 0, 0, 0x0F0F, 0, 0
        xor edx, edx
        ALU {idiv bx}, 100, 0xFFF9, 0, 0, 0xFFF2, 0, 0
        CHK edx, 2
        PRINTLN "mul/imul (1/2/3 operands), div/idiv"
        ; ---------------- BCD ----------------
        ALU {daa}, 0xAE, 0, 0, 0, 0x14, F_CF|F_AF|F_PF, F_CF|F_AF|F_ZF|F_SF|F_PF
        ALU {das}, 0xEE, 0, 0, F_CF|F_AF, 0x88, F_CF|F_AF|F_SF|F_PF, F_CF|F_AF|F_ZF|F_SF|F_PF
        ALU {daa}, 0x12, 0, 0, 0, 0x12, F_PF, F_CF|F_AF|F_ZF|F_SF|F_PF
        ALU {aaa}, 0x000B, 0, 0, 0, 0x0101, F_CF|F_AF, F_CF|F_AF
        ALU {aaa}, 0x0005, 0, 0, F_CF|F_AF, 0x010B, F_CF|F_AF, F_CF|F_AF
        ALU {aas}, 0x020B, 0, 0, 0, 0x0105, F_CF|F_AF, F_CF|F_AF
        ALU {aas}, 0x0205, 0, 0, 0, 0x0205, 0, F_CF|F_AF
        ALU {aam}, 0x4F, 0, 0, 0, 0x0709, F_PF, F_ZF|F_SF|F_PF
        ALU {aad}, 0x0709, 0, 0, 0, 0x004F, 0, F_ZF|F_SF|F_PF
        ALU {aam 16}, 0x4F, 0, 0, 0, 0x040F, F_PF, F_ZF|F_SF|F_PF
        ALU {aad 16}, 0x040F, 0, 0, 0, 0x004F, 0, F_ZF|F_SF|F_PF
        PRINTLN "daa/das/aaa/aas/aam/aad"
        ; ---------------- bit ops ----------------
        ALU {bt eax, ebx}, 0x00010000, 16, 0, 0, 0x00010000, F_CF, F_CF
        ALU {bts eax, 3}, 0, 0, 0, F_CF, 8, 0, F_CF
        ALU {btr eax, ebx}, 0x80000001, 31, 0, 0, 1, F_CF, F_CF
        ALU {btc eax, 0}, 1, 0, 0, 0, 0, F_CF, F_CF
        ALU {btc ax, bx}, 0, 17, 0, F_CF, 0x0002, 0, F_CF
        mov dword [BUF], 0
        mov dword [BUF+4], 0x00000008
        mov dword [BUF-4], 0x80000000
        ALU {bt dword [BUF], ebx}, 0, 35, 0, 0, 0, F_CF, F_CF
        ALU {bt dword [BUF], ebx}, 0, -1, 0, 0, 0, F_CF, F_CF
        ALU {bts word [BUF], bx}, 0, 33, 0, 0, 0, 0, F_CF
        CHECK dword [BUF+4], 0x0000000A, "BTS word [BUF],33 sets bit 1 of BUF+4"
        ALU {bsf eax, ebx}, 0, 0x00080000, 0, F_ZF, 19, 0, F_ZF
        ALU {bsr eax, ebx}, 0, 0x00080001, 0, F_ZF, 19, 0, F_ZF
        ALU {bsr ax, bx}, 0xFFFF0000, 0x8000, 0, F_ZF, 0xFFFF000F, 0, F_ZF
        mov ebx, 0
        push dword 2
        popfd
        bsf eax, ebx                    ; source 0: ZF=1, destination undefined
        CHECKF F_ZF, F_ZF, "BSF of 0 sets ZF"
        PRINTLN "bt/bts/btr/btc (reg and memory offsets), bsf/bsr"
        ; ---------------- double shifts ----------------
        mov ebx, 0x9ABCDEF0
        ALU {shld eax, ebx, 8}, 0x12345678, 0x9ABCDEF0, 0, 0, 0x3456789A, F_PF, SH
        ALU {shrd eax, ebx, cl}, 0x12345678, 0x9ABCDEF0, 4, 0, 0x01234567, F_CF, SH
        ALU {shld ax, bx, 4}, 0x1234, 0xABCD, 0, 0, 0x234A, F_CF, SH
        ALU {shrd eax, ebx, 1}, 0x00000001, 0x00000001, 0, 0, 0x80000000, F_CF|F_OF|F_SF|F_PF, NA
        ALU {shld eax, ebx, cl}, 0x12345678, 0, 32, F_CF|F_ZF, 0x12345678, F_CF|F_ZF, A
        PRINTLN "shld/shrd"
        ; ---------------- exchange / compare ----------------
        ALU {xadd eax, ebx}, 5, 3, 0, 0, 8, 0, A
        CHK ebx, 5
        ALU {xadd bl, al}, 0xF0, 0x20, 0, 0, 0x20, F_CF, A
        CHK ebx, 0x10
        mov edx, 9
        ALU {cmpxchg ebx, edx}, 5, 5, 0, 0, 5, F_ZF|F_PF, A
        CHK ebx, 9
        ALU {cmpxchg ebx, edx}, 5, 7, 0, F_ZF, 7, F_CF|F_SF|F_AF, A
        CHK ebx, 7
        mov dword [BUF], 0x22222222
        mov dword [BUF+4], 0x11111111
        mov edx, 0x11111111
        mov eax, 0x22222222
        mov ecx, 0x33333333
        mov ebx, 0x44444444
        cmpxchg8b [BUF]
        CHECKF F_ZF, F_ZF, "CMPXCHG8B equal: ZF"
        CHECK dword [BUF], 0x44444444, "CMPXCHG8B equal: low stored"
        CHECK dword [BUF+4], 0x33333333, "CMPXCHG8B equal: high stored"
        mov eax, 0
        mov edx, 0
        cmpxchg8b [BUF]
        CHECKF F_ZF, 0, "CMPXCHG8B unequal: ZF"
        CHECK eax, 0x44444444, "CMPXCHG8B unequal: EAX loaded"
        CHECK edx, 0x33333333, "CMPXCHG8B unequal: EDX loaded"
        ALU {bswap eax}, 0x12345678, 0, 0, 0, 0x78563412, 0, 0
        ALU {xchg eax, ebx}, 1, 2, 0, 0, 2, 0, 0
        CHK ebx, 1
        PRINTLN "xadd/cmpxchg/cmpxchg8b/bswap/xchg"
        ; ---------------- cmov / setcc ----------------
        ALU {cmovz eax, ebx}, 1, 2, 0, F_ZF, 2, 0, 0
        ALU {cmovz eax, ebx}, 1, 2, 0, 0, 1, 0, 0
        ALU {cmovl eax, ebx}, 1, 2, 0, F_SF, 2, 0, 0
        ALU {cmovl eax, ebx}, 1, 2, 0, F_SF|F_OF, 1, 0, 0
        ALU {cmova ax, bx}, 0xFFFF0001, 2, 0, 0, 0xFFFF0002, 0, 0
        ALU {cmovbe eax, ebx}, 1, 2, 0, F_CF, 2, 0, 0
        ALU {cmovp eax, ebx}, 1, 2, 0, F_PF, 2, 0, 0
        ALU {cmovno eax, ebx}, 1, 2, 0, F_OF, 1, 0, 0
        ALU {setb al}, 0xFFFFFFFF, 0, 0, F_CF, 0xFFFFFF01, 0, 0
        ALU {setle al}, 0xFFFFFFFF, 0, 0, F_ZF, 0xFFFFFF01, 0, 0
        ALU {setg al}, 0xFFFFFFFF, 0, 0, F_OF, 0xFFFFFF00, 0, 0
        ALU {setnp al}, 0xFFFFFFFF, 0, 0, F_PF, 0xFFFFFF00, 0, 0
        ALU {seto al}, 0, 0, 0, F_OF, 1, 0, 0
        ALU {setns al}, 0, 0, 0, F_SF, 0, 0, 0
        PRINTLN "cmovcc/setcc"
        ; ---------------- sign/zero extension ----------------
        ALU {cbw}, 0x12345680, 0, 0, 0, 0x1234FF80, 0, 0
        ALU {cwde}, 0x12348000, 0, 0, 0, 0xFFFF8000, 0, 0
        mov edx, 0
        ALU {cdq}, 0x80000000, 0, 0, 0, 0x80000000, 0, 0
        CHK edx, 0xFFFFFFFF
        mov edx, 0x12340000
        ALU {cwd}, 0x8000, 0, 0, 0, 0x8000, 0, 0
        CHK edx, 0x1234FFFF
        ALU {movsx eax, bl}, 0, 0x80, 0, 0, 0xFFFFFF80, 0, 0
        ALU {movzx eax, bx}, 0xFFFFFFFF, 0xFFFF8000, 0, 0, 0x00008000, 0, 0
        ALU {lea eax, [ebx+ecx*8+0x100]}, 0, 0x1000, 0x10, 0, 0x1180, 0, 0
        xor si, si
        ALU {lea ax, [bx+si+0x10]}, 0xFFFFFFFF, 0x1000, 0, 0, 0xFFFF1010 + 0, 0, 0
        PRINTLN "cbw/cwde/cwd/cdq/movsx/movzx/lea"
        jmp part2

SRC equ BUF+0x100
DST equ BUF+0x200
DST2 equ BUF+0x300
part2:
        ; ---------------- string ops ----------------
        cld
        mov di, SRC
        xor al, al
.fill:  stosb
        inc al
        cmp al, 16
        jb .fill
        mov si, SRC
        mov di, DST
        mov ecx, 0xFFFF0010             ; REP uses CX (16-bit address size)
        rep movsb
        CHECK ecx, 0xFFFF0000, "REP MOVSB: CX counted down, ECX high kept"
        movzx eax, si
        CHECK eax, SRC+16, "REP MOVSB: SI"
        movzx eax, di
        CHECK eax, DST+16, "REP MOVSB: DI"
        CHECK dword [DST+12], 0x0F0E0D0C, "REP MOVSB: data"
        std
        mov si, SRC+14
        mov di, DST2+14
        mov cx, 8
        rep movsw
        cld
        movzx eax, si
        CHECK eax, SRC-2, "STD REP MOVSW: SI"
        movzx eax, di
        CHECK eax, DST2-2, "STD REP MOVSW: DI"
        CHECK dword [DST2], 0x03020100, "STD REP MOVSW: first data"
        CHECK dword [DST2+12], 0x0F0E0D0C, "STD REP MOVSW: last data"
        mov eax, 0xDEADBEEF
        mov di, DST2
        mov cx, 3
        rep stosd
        CHECK dword [DST2+8], 0xDEADBEEF, "REP STOSD"
        CHECK dword [DST2+12], 0x0F0E0D0C, "REP STOSD: stops after 3"
        mov byte [DST+5], 0xFF
        mov si, SRC
        mov di, DST
        mov cx, 16
        repe cmpsb
        CHECKF F_ZF|F_CF, F_CF, "REPE CMPSB mismatch flags (5 - FFh)"
        movzx eax, cx
        CHECK eax, 10, "REPE CMPSB: CX at the mismatch"
        movzx eax, si
        CHECK eax, SRC+6, "REPE CMPSB: SI past the mismatch"
        mov al, 7
        mov di, SRC
        mov cx, 16
        repne scasb
        CHECKF F_ZF, F_ZF, "REPNE SCASB found: ZF"
        movzx eax, cx
        CHECK eax, 8, "REPNE SCASB found: CX"
        movzx eax, di
        CHECK eax, SRC+8, "REPNE SCASB found: DI"
        mov al, 0x77
        mov di, SRC
        mov cx, 16
        repne scasb
        CHECKF F_ZF, 0, "REPNE SCASB not found: ZF"
        movzx eax, cx
        CHECK eax, 0, "REPNE SCASB not found: CX"
        mov cx, 0
        mov si, SRC
        mov di, DST
        rep movsb
        movzx eax, di
        CHECK eax, DST, "REP with CX=0 moves nothing"
        mov esi, SRC
        a32 lodsd
        CHECK eax, 0x03020100, "A32 LODSD data"
        CHECK esi, SRC+4, "A32 LODSD: ESI"
        std
        mov si, SRC+3
        lodsb
        cld
        movzx eax, si
        CHECK eax, SRC+2, "STD LODSB decrements SI"
        PRINTLN "string ops: REP/REPE/REPNE, DF=1, A32"

        ; ---------------- ENTER / LEAVE ----------------
        mov bp, 0x7000
        mov word [0x7000-2], 0x1357
        movzx eax, sp
        mov [LV_USER], eax
        enter 4, 2
        movzx ebx, sp
        movzx ecx, bp
        mov edx, [LV_USER]
        sub edx, 2
        CHECK ecx, edx, "ENTER 4,2: BP = SP0-2"
        sub edx, 8
        CHECK ebx, edx, "ENTER 4,2: SP = SP0-10"
        movzx eax, word [bp]
        CHECK eax, 0x7000, "ENTER 4,2: saved BP"
        movzx eax, word [bp-2]
        CHECK eax, 0x1357, "ENTER 4,2: copied enclosing frame pointer"
        movzx eax, word [bp-4]
        CHECK eax, ecx, "ENTER 4,2: pushed new frame pointer"
        leave
        movzx ebx, sp
        movzx ecx, bp
        CHECK ebx, [LV_USER], "LEAVE: SP restored"
        CHECK ecx, 0x7000, "LEAVE: BP restored"
        enter 6, 0
        movzx ebx, sp
        mov edx, [LV_USER]
        sub edx, 8
        CHECK ebx, edx, "ENTER 6,0: SP = SP0-8"
        leave
        PRINTLN "enter/leave with nesting levels"

        ; ---------------- BOUND in range, LOOP/JCXZ ----------------
        mov word [BUF], 10
        mov word [BUF+2], 20
        mov ax, 20
        bound ax, [BUF]
        mov ax, 10
        bound ax, [BUF]
        mov dword [BUF], -5
        mov dword [BUF+4], 5
        mov eax, -5
        bound eax, [BUF]
        mov ecx, 0x00010003
        xor eax, eax
.l1:    inc eax
        loop .l1
        CHECK eax, 3, "LOOP (CX) iterations"
        CHECK ecx, 0x00010000, "LOOP uses CX only"
        jcxz .j1
        FAIL "JCXZ with CX=0 did not jump"
.j1:    jecxz .j2f
        mov ecx, 2
        xor eax, eax
.l2:    inc eax
        a32 loop .l2
        CHECK eax, 2, "A32 LOOP (ECX) iterations"
        CHECK ecx, 0, "A32 LOOP ECX"
        mov cx, 5
        xor bx, bx
.l3:    inc bx
        cmp bx, 3
        loopne .l3
        movzx ecx, cx
        CHECK ecx, 2, "LOOPNE exit on ZF"
        jmp .j2
.j2f:   FAIL "JECXZ with ECX!=0 jumped"
.j2:    PRINTLN "bound (in range), loop/loopne/jcxz/jecxz"

        ; ---------------- 32-bit addressing and operands ----------------
        mov dword [BUF+16], 0xCAFEBABE
        mov ebx, BUF
        mov ecx, 2
        mov eax, [ebx+ecx*4+8]
        CHECK eax, 0xCAFEBABE, "SIB addressing in real mode"
        mov eax, [ebx+ecx*8]
        CHECK eax, 0xCAFEBABE, "scaled index without base displacement"
        movzx eax, sp
        push eax
        movzx ebx, sp
        pop eax
        sub eax, ebx
        CHECK eax, 4, "PUSH EAX in real mode moves SP by 4"
        mov eax, 1
        mov ebx, 2
        pushad
        xor eax, eax
        xor ebx, ebx
        popad
        CHECK eax, 1, "PUSHAD/POPAD EAX"
        CHECK ebx, 2, "PUSHAD/POPAD EBX"
        mov eax, 0x12345678
        add eax, 0x11111111
        CHECK eax, 0x23456789, "32-bit immediate in real mode"
        PRINTLN "32-bit operands and addressing in real mode"
        PASS
