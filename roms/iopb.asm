; iopb.asm - TSS I/O permission bitmap at CPL3 with IOPL 0: permitted ports
; work, denied ports raise #GP(0), multi-byte accesses need every covered
; bit clear (straddles within a bitmap byte and across a byte boundary),
; INS/OUTS are checked too, IOPL 3 bypasses the bitmap, an I/O map base at
; or beyond the TSS limit denies everything, and a TSS limit that truncates
; the bitmap denies ports whose bitmap bytes lie past the limit.
; Test ports 0x300-0x30F and 0x7F0/0x808 have no device (reads give junk,
; only faults are checked).
%define TEST_NAME "iopb"
%include "testlib.inc"

BM      equ TSS0_IOPB

; port 0x300..0x30F: allowed 300,301,303-308; denied 302,309-30F
%macro ALLOW 1
        and byte [BM + (%1)/8], ~(1 << ((%1) & 7))
%endmacro

%macro DENY_TRY 1+      ; the instruction must raise #GP(0)
        TRY
        %1
        CATCH 13, 0, "denied: ", %str(%1)
%endmacro

PM32_TEST_MAIN main32
main32:
        ALLOW 0x300
        ALLOW 0x301
        ALLOW 0x303
        ALLOW 0x304
        ALLOW 0x305
        ALLOW 0x306
        ALLOW 0x307
        ALLOW 0x308
        ALLOW 0x7F0
        ; CPL0 ignores the bitmap
        mov dx, 0x302
        in al, dx
        PRINTLN "CPL0: denied port accessible"
        RUN_RING3 ring3_bitmap, 2
        PRINTLN "CPL3 IOPL0: bitmap honoured per byte/word/dword and for INS/OUTS"
        RUN_RING3 ring3_iopl3, F_IOPL3|2
        PRINTLN "CPL3 IOPL3: bitmap bypassed"

        ; I/O map base beyond the TSS limit: everything denied
        mov word [TSS0_BASE+0x66], TSS0_LIMIT+1
        RUN_RING3 ring3_nomap, 2
        mov word [TSS0_BASE+0x66], 0x68
        CHECK [LV_USER], 13, "map base beyond limit: OUT E9 vector"
        CHECK [LV_USER+4], 0, "map base beyond limit: OUT E9 error code"
        CHECK [LV_USER+8], 13, "map base beyond limit: IN 300h vector"
        PRINTLN "I/O map base beyond the TSS limit: all ports denied"

        ; truncate the bitmap: limit covers bitmap bytes 0..0x100 (ports 0..0x807)
        and byte [BM + 0x808/8], ~1             ; bit clear, but past the limit
        and byte [GDT_BASE+SEL_TSS0+5], ~2      ; busy -> available for LTR
        SETDESC SEL_TSS0, TSS0_BASE, 0x68+0x100, ACC_TSS32, 0
        mov ax, SEL_TSS0
        ltr ax
        RUN_RING3 ring3_trunc, 2
        PRINTLN "bitmap bytes past the TSS limit deny their ports"
        PASS

ring3_bitmap:
        mov dx, 0x300
        in al, dx
        out dx, al
        in ax, dx                       ; 300,301
        mov dx, 0x301
        in al, dx
        DENY_TRY in ax, dx              ; 301,302
        mov dx, 0x302
        DENY_TRY in al, dx
        DENY_TRY out dx, al
        mov dx, 0x300
        DENY_TRY in eax, dx             ; 300-303 includes 302
        mov dx, 0x303
        in eax, dx                      ; 303-306
        mov dx, 0x305
        out dx, eax                     ; 305-308 crosses a bitmap byte
        mov dx, 0x307
        in ax, dx                       ; 307,308 across the byte boundary
        DENY_TRY in eax, dx             ; 307-30A
        mov dx, 0x308
        in al, dx
        DENY_TRY in ax, dx              ; 308,309
        DENY_TRY in al, 0x80            ; immediate form, default-denied port
        ; string I/O
        mov edi, SCRATCH
        mov esi, SCRATCH
        mov dx, 0x300
        insb
        outsw
        mov dx, 0x302
        DENY_TRY insb
        mov dx, 0x301
        DENY_TRY outsw
        CHECK edi, SCRATCH+1, "EDI unchanged by the faulting INSB"
        RING0_RETURN

ring3_iopl3:
        mov dx, 0x302
        in al, dx
        out dx, al
        mov dx, 0x309
        in eax, dx
        in al, 0x80
        RING0_RETURN

ring3_nomap:                            ; no printing possible here
        mov dword [LV_RECOVER], .r1
        mov al, '!'
        out PORT_CON, al
        mov dword [LV_USER], 0
        RING0_RETURN
.r1:    mov eax, [LV_EXC_VEC]
        mov [LV_USER], eax
        mov eax, [LV_EXC_ERR]
        mov [LV_USER+4], eax
        mov dword [LV_RECOVER], .r2
        mov dx, 0x300
        in al, dx
        mov dword [LV_USER+8], 0
        RING0_RETURN
.r2:    mov eax, [LV_EXC_VEC]
        mov [LV_USER+8], eax
        RING0_RETURN

ring3_trunc:
        mov dx, 0x7F0
        in al, dx                       ; bitmap byte 0xFE: inside the limit
        mov dx, 0x808
        DENY_TRY in al, dx              ; bitmap byte 0x101: past the limit
        mov dx, 0x300
        in al, dx
        RING0_RETURN
