; vga_mode13.asm - VGA mode 13h (320x200, 256 colours, chain-4) programmed
; register by register, then drawn through the 0xA0000 window:
;   four quadrants in DAC colours 1 (red), 2 (green), 3 (blue), 4 (white),
;   pixel (10,10) in colour 5 = (10,20,30) and pixel (300,190) in colour
;   200 = (32,16,8) (6-bit DAC components).
; The ROM checks the window reads back what it wrote; tests/platform's
; vga_screenshot test checks the PNG (640x400: every pixel 2x2).
%define TEST_NAME "vga_mode13"
%include "testlib.inc"

section .text16
bits 16
%include "vga_setup.inc"

mode13_regs:
        db 0x63                                         ; misc
        db 0x03, 0x01, 0x0F, 0x00, 0x0E                 ; sequencer
        db 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F ; CRTC 00-07
        db 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 ; CRTC 08-0F
        db 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3 ; CRTC 10-17
        db 0xFF                                         ; CRTC 18
        db 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF ; GC
        VGA_AC_IDENTITY_PALETTE                         ; AC 00-0F
        db 0x41, 0x00, 0x0F, 0x00, 0x00                 ; AC 10-14

test_main16:
        mov si, mode13_regs
        call vga_set_regs16
        VGA_DAC 0, 0, 0, 0
        VGA_DAC 1, 63, 0, 0
        VGA_DAC 2, 0, 63, 0
        VGA_DAC 3, 0, 0, 63
        VGA_DAC 4, 63, 63, 63
        VGA_DAC 5, 10, 20, 30
        VGA_DAC 200, 32, 16, 8
        ; DAC read-back of entry 5
        mov dx, 0x3C7
        mov al, 5
        out dx, al
        mov dx, 0x3C9
        xor eax, eax
        in al, dx
        mov bl, al
        in al, dx
        mov bh, al
        in al, dx
        shl eax, 16
        mov ax, bx
        CHECK eax, 0x001E140A, "DAC entry 5 read back (R, G, B)"

        mov ax, 0xA000
        mov es, ax
        cld
        xor di, di
        xor dx, dx              ; row
.row:   mov al, 1
        cmp dx, 100
        jb .top
        mov al, 3
.top:   mov cx, 160
        rep stosb
        inc al
        mov cx, 160
        rep stosb
        inc dx
        cmp dx, 200
        jb .row
        mov byte [es:10*320+10], 5
        mov byte [es:190*320+300], 200

        movzx eax, byte [es:10*320+10]
        CHECK eax, 5, "pixel (10,10)"
        movzx eax, byte [es:0]
        CHECK eax, 1, "pixel (0,0)"
        movzx eax, byte [es:199*320+319]
        CHECK eax, 4, "pixel (319,199)"
        mov eax, [es:150*320+158]
        CHECK eax, 0x04040303, "pixels (158..161,150)"
        PASS
