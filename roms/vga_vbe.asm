; vga_vbe.asm - a Bochs VBE (dispi) linear mode programmed directly: the
; VGA's PCI framebuffer BAR (00:02.0 BAR0) placed at 0xE0000000, then
; 320x240 at 32 bpp with the linear framebuffer enabled, and drawn there:
;   pixel (x, y) = R x & 0xFF, G y, B (x + y) & 0xFF,
; except VRAM offset 0x10000 (pixel (64,51)), written as 0xABCDEF through
; the 0xA0000 window with bank 1. tests/platform's vga_screenshot test
; checks the PNG (320x240).
%define TEST_NAME "vga_vbe"
%include "testlib.inc"

LFB     equ 0xE0000000
XRES    equ 320
YRES    equ 240

%macro DISPI 2
        mov dx, 0x1CE
        mov ax, %1
        out dx, ax
        inc dx
        mov ax, %2
        out dx, ax
%endmacro
%macro DISPI_READ 1
        mov dx, 0x1CE
        mov ax, %1
        out dx, ax
        inc dx
        xor eax, eax
        in ax, dx
%endmacro

PM32_TEST_MAIN main32
main32:
        ; PCI 00:02.0: identity, BAR0, memory decode
        mov dx, 0xCF8
        mov eax, 0x80000000 | (2 << 11)
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        CHECK eax, 0x11111234, "PCI 00:02.0 vendor/device (stdvga)"
        mov dx, 0xCF8
        mov eax, 0x80000000 | (2 << 11) | 0x10
        out dx, eax
        mov dx, 0xCFC
        mov eax, LFB
        out dx, eax
        mov dx, 0xCF8
        mov eax, 0x80000000 | (2 << 11) | 0x04
        out dx, eax
        mov dx, 0xCFC
        mov ax, 0x0002
        out dx, ax

        DISPI 0, 0xB0C5
        DISPI_READ 0
        CHECK eax, 0xB0C5, "dispi ID"
        DISPI 4, 0              ; disabled while the mode is set
        DISPI 1, XRES
        DISPI 2, YRES
        DISPI 3, 32
        DISPI 4, 0x41           ; enabled, LFB
        DISPI_READ 6
        CHECK eax, XRES, "dispi virtual width"
        DISPI_READ 0xA
        CHECK eax, 256, "dispi video memory (64 KiB units)"

        cld
        mov edi, LFB
        xor ebx, ebx            ; y
.row:   xor ecx, ecx            ; x
.col:   movzx eax, cl           ; R = x & 0xFF
        shl eax, 16
        mov ah, bl              ; G = y
        lea edx, [ecx + ebx]
        mov al, dl              ; B = (x + y) & 0xFF
        stosd
        inc ecx
        cmp ecx, XRES
        jb .col
        inc ebx
        cmp ebx, YRES
        jb .row

        ; the banked window: bank 1 = VRAM 0x10000
        DISPI 5, 1
        mov dword [0xA0000], 0x00ABCDEF
        DISPI 5, 0
        mov eax, [LFB + 0x10000]
        CHECK eax, 0x00ABCDEF, "bank 1 write seen through the LFB"
        mov eax, [LFB + (100 * XRES + 300) * 4]
        CHECK eax, 0x002C6490, "pixel (300,100) read back"
        mov eax, [0xA0000 + 4]
        CHECK eax, 0x00010001, "pixel (1,0) through bank 0"
        PASS
