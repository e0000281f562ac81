; vga_planar.asm - VGA mode 12h (640x480, 16 colours, four planes)
; programmed register by register, then drawn with the graphics
; controller's write and read modes:
;   write mode 2: sixteen stripes of 30 lines, stripe s in colour s;
;   write mode 2 with bit mask 0xAA over loaded latches: line 5, pixels
;     8-15 alternate colour 15 and the old colour 0;
;   write mode 0 with set/reset (colour 9): line 100, pixels 80-95;
;   write mode 0 with map mask 0001b: line 250, byte 20 = 0x0F sets
;     plane 0 of pixels 164-167 (colour 8 -> 9);
;   write mode 1 (latch copy): line 5 byte 1 copied to line 470 byte 40;
;   read mode 1 (colour compare) and read mode 0 (read map select) checked.
; DAC entry c = (4c, 63-4c, c odd ? 63 : 0); the attribute palette is the
; identity. tests/platform's vga_screenshot test checks the PNG (640x480).
; skip-engines: verify
; (--engine verify re-reads MMIO through the machine for its shadow
; interpreter, and these reads load the VGA latches, so the shadow sees the
; device after the translator's writes: a verify limitation, not a VGA bug.)
%define TEST_NAME "vga_planar"
%include "testlib.inc"

section .text16
bits 16
%include "vga_setup.inc"

mode12_regs:
        db 0xE3                                         ; misc
        db 0x03, 0x01, 0x0F, 0x00, 0x06                 ; sequencer
        db 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E ; CRTC 00-07
        db 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 ; CRTC 08-0F
        db 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3 ; CRTC 10-17
        db 0xFF                                         ; CRTC 18
        db 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF ; GC
        VGA_AC_IDENTITY_PALETTE                         ; AC 00-0F
        db 0x01, 0x00, 0x0F, 0x00, 0x00                 ; AC 10-14

%define LINE(y) ((y) * 80)

test_main16:
        mov si, mode12_regs
        call vga_set_regs16
        ; DAC 0-15
        mov dx, 0x3C8
        xor al, al
        out dx, al
        inc dx
        xor cx, cx
.dac:   mov al, cl
        shl al, 2
        out dx, al              ; R = 4c
        mov al, 63
        sub al, cl
        sub al, cl
        sub al, cl
        sub al, cl
        out dx, al              ; G = 63 - 4c
        mov al, cl
        and al, 1
        neg al
        and al, 63
        out dx, al              ; B = 63 if c is odd
        inc cx
        cmp cx, 16
        jb .dac

        mov ax, 0xA000
        mov es, ax
        cld
        ; write mode 2: stripes
        VGA_OUT 0x3CE, 5, 0x02
        xor di, di
        xor al, al
.stripe: mov cx, 30*80
        rep stosb
        inc al
        cmp al, 16
        jb .stripe

        ; bit mask 0xAA, write mode 2, colour 15 over latches of colour 0
        VGA_OUT 0x3CE, 8, 0xAA
        mov al, [es:LINE(5)+1]  ; load the latches
        mov byte [es:LINE(5)+1], 15
        VGA_OUT 0x3CE, 8, 0xFF

        ; write mode 0 with set/reset on all planes, colour 9
        VGA_OUT 0x3CE, 5, 0x00
        VGA_OUT 0x3CE, 1, 0x0F
        VGA_OUT 0x3CE, 0, 0x09
        mov word [es:LINE(100)+10], 0x1234   ; data ignored: set/reset
        VGA_OUT 0x3CE, 1, 0x00

        ; write mode 0, map mask plane 0 only
        VGA_OUT 0x3C4, 2, 0x01
        mov byte [es:LINE(250)+20], 0x0F
        VGA_OUT 0x3C4, 2, 0x0F

        ; write mode 1: copy through the latches
        mov al, [es:LINE(5)+1]
        VGA_OUT 0x3CE, 5, 0x01
        mov byte [es:LINE(470)+40], 0x00     ; data ignored
        VGA_OUT 0x3CE, 5, 0x00

        ; read mode 1: colour compare 9 on all planes
        VGA_OUT 0x3CE, 5, 0x08
        VGA_OUT 0x3CE, 2, 0x09
        VGA_OUT 0x3CE, 7, 0x0F
        movzx eax, byte [es:LINE(100)+10]
        CHECK eax, 0xFF, "read mode 1: set/reset pixels are colour 9"
        movzx eax, byte [es:LINE(100)+9]
        CHECK eax, 0x00, "read mode 1: stripe 3 is not colour 9"
        movzx eax, byte [es:LINE(250)+20]
        CHECK eax, 0x0F, "read mode 1: map-mask byte, pixels 4-7 colour 9"
        VGA_OUT 0x3CE, 7, 0x08                ; compare plane 3 only
        movzx eax, byte [es:LINE(250)+20]
        CHECK eax, 0xFF, "read mode 1, don't care: plane 3 only"
        ; read mode 0 with read map select
        VGA_OUT 0x3CE, 5, 0x00
        VGA_OUT 0x3CE, 4, 0x00
        movzx eax, byte [es:LINE(250)+20]
        CHECK eax, 0x0F, "read map 0 of the map-mask byte"
        VGA_OUT 0x3CE, 4, 0x03
        movzx eax, byte [es:LINE(250)+20]
        CHECK eax, 0xFF, "read map 3 of stripe 8"
        VGA_OUT 0x3CE, 4, 0x00
        movzx eax, byte [es:LINE(470)+40]
        CHECK eax, 0xAA, "read map 0 of the latch copy"
        PASS
