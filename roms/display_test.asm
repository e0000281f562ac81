; display_test.asm - the guest of the desktop app's window test (tests/gui/).
; popek: interactive (waits for keys: not run by the headless ROM tests)
; Without any BIOS it:
;   1. programs the VGA registers for 80x25 colour text (mode 3, 720x400,
;      cursor off), loads its own glyphs (GLYPHS16 table below) into plane 2
;      and writes two lines of text, then prints "TEXT READY" on port 0xE9;
;   2. waits for one key through the 8042 with translation on (set 1), and
;      checks it was the A key pressed and released (1E 9E);
;   3. programs mode 13h (320x200, 256 colours) with a known DAC palette and
;      a known pattern (below), selects scancode set 2 with translation off,
;      and prints "MODE13 READY";
;   4. waits for the Up arrow key and checks its set-2 bytes (E0 75 E0 F0 75);
;   5. turns on the PS/2 mouse (aux port, reporting), prints "MOUSE READY",
;      reads 3-byte packets until it has seen a movement to the right and the
;      left button down (each packet's first byte must have bit 3 set;
;      keyboard bytes in between, such as Ctrl+Alt+G's, are shown and skipped), and
;      exits through port 0xF4 with PASS.
; Every received byte is printed, so a failure says what arrived.
;
; Text: row 2, column 4: "POPEK VGA TEXT" in attribute 0x1E (yellow on
; blue); row 4, column 4: "PRESS A KEY" in 0x4F (white on red); all other
; cells are character 0, attribute 0 (black).
; Mode 13h: pixel (x, y) has colour ((x / 20) | (y / 25) << 4) ^ (0x80 if
; x + y is odd); DAC entry i is (R, G, B) = ((i & 7) * 9, ((i >> 3) & 7) * 9,
; (i >> 6) * 21), 6-bit.
; tests/gui/gui_check.cpp computes the expected pictures from this same
; description and from the GLYPHS16 table in the ROM image.
%define TEST_NAME "display_test"
%include "testlib.inc"

KBC_DATA        equ 0x60
KBC_STATUS      equ 0x64
RX_BUF          equ LV_USER          ; bytes received from the keyboard
RX_COUNT        equ LV_USER+0x40     ; word

; ROW "X......X": one glyph row, X = dot on.
%macro ROW 1
 %assign %%v 0
 %assign %%i 1
 %rep 8
   %substr %%c %1 %%i
   %assign %%v (%%v << 1) | (%%c == 'X')
   %assign %%i %%i+1
 %endrep
        db %%v
%endmacro
%macro GLYPH 1
        db %1
%endmacro

section .text16
bits 16
test_main16:
        call set_text_mode
        call load_glyphs
        mov di, (2*80+4)*2
        mov ah, 0x1E
        mov si, msg_title
        call put_text
        mov di, (4*80+4)*2
        mov ah, 0x4F
        mov si, msg_press
        call put_text
        ; 8042: IRQs off, system flag, translation on; drop stale bytes.
        mov al, 0x60
        out KBC_STATUS, al
        mov al, 0x44
        out KBC_DATA, al
        call flush_kbc
        PRINTLN "TEXT READY"
        mov cx, 2
        call receive
        call check_first_key

        call set_mode13
        call draw_pattern
        ; translation off, then the keyboard to set 2 (ACK for each byte).
        mov al, 0x60
        out KBC_STATUS, al
        mov al, 0x04
        out KBC_DATA, al
        call flush_kbc
        mov al, 0xF0
        call kbd_command
        mov al, 0x02
        call kbd_command
        PRINTLN "MODE13 READY"
        mov cx, 5
        call receive
        call check_second_key
        call mouse_test
        PASS

; --- keyboard -------------------------------------------------------------
flush_kbc:
        in al, KBC_STATUS
        test al, 1
        jz .done
        in al, KBC_DATA
        jmp flush_kbc
.done:  ret

; al: byte for the keyboard; waits for its ACK (0xFA).
kbd_command:
        out KBC_DATA, al
.wait:  in al, KBC_STATUS
        test al, 1
        jz .wait
        in al, KBC_DATA
        cmp al, 0xFA
        jne .bad
        ret
.bad:   PUTS "keyboard answered "
        movzx eax, al
        PHEX eax, 2
        PUTS 10
        FAIL "no ACK"

; Receives cx bytes into RX_BUF, printing each.
receive:
        mov word [RX_COUNT], 0
        PUTS "received:"
.next:  in al, KBC_STATUS
        test al, 1
        jz .next
        in al, KBC_DATA
        mov bx, [RX_COUNT]
        mov [RX_BUF+bx], al
        inc word [RX_COUNT]
        PUTS " "
        movzx eax, al
        PHEX eax, 2
        loop .next
        PUTS 10
        ret

check_first_key:
        mov si, expect_a
        mov cx, 2
        jmp compare_rx
check_second_key:
        mov si, expect_up
        mov cx, 5
compare_rx:
        xor bx, bx
.l:     mov al, [cs:si+bx]
        cmp al, [RX_BUF+bx]
        jne .bad
        inc bx
        loop .l
        ret
.bad:   FAIL "unexpected scancodes"

expect_a:  db 0x1E, 0x9E
expect_up: db 0xE0, 0x75, 0xE0, 0xF0, 0x75

; --- mouse --------------------------------------------------------------------
SEEN            equ LV_USER+0x42     ; bit 0 moved right, bit 1 left button

; Waits for a byte from the 8042; al = byte, ah = status (bit 5: mouse data).
read_kbc:
        in al, KBC_STATUS
        test al, 1
        jz read_kbc
        mov ah, al
        in al, KBC_DATA
        ret

mouse_test:
        mov al, 0xA8            ; enable the auxiliary interface
        out KBC_STATUS, al
        mov al, 0xD4            ; next byte to the mouse: enable reporting
        out KBC_STATUS, al
        mov al, 0xF4
        out KBC_DATA, al
        call read_kbc
        cmp al, 0xFA
        je .acked
        FAIL "mouse did not ACK 0xF4"
.acked: mov byte [SEEN], 0
        PRINTLN "MOUSE READY"
.packet:
        PUTS "packet:"
        mov cx, 3
        xor bx, bx
.byte:  call read_kbc
        test ah, 0x20
        jnz .aux
        ; Ctrl and Alt of Ctrl+Alt+G reach the guest too: shown, not counted.
        PUTS " (key "
        movzx eax, al
        PHEX eax, 2
        PUTS ")"
        jmp .byte
.aux:   mov [RX_BUF+bx], al
        inc bx
        PUTS " "
        movzx eax, al
        PHEX eax, 2
        dec cx
        jnz .byte
        PUTS 10
        mov al, [RX_BUF]
        test al, 0x08
        jnz .sync
        FAIL "packet without bit 3 in its first byte"
.sync:  test al, 0x01
        jz .no_left
        or byte [SEEN], 2
.no_left:
        test al, 0x10           ; X sign
        jnz .no_right
        cmp byte [RX_BUF+1], 0
        je .no_right
        or byte [SEEN], 1
.no_right:
        cmp byte [SEEN], 3
        jne .packet
        ret

; --- VGA registers ----------------------------------------------------------
; ds:si table of cx bytes to the indexed register pair at dx (index 0 up).
write_indexed:
        xor bl, bl
.l:     mov al, bl
        out dx, al
        inc dx
        mov al, [cs:si]
        out dx, al
        dec dx
        inc si
        inc bl
        loop .l
        ret

; si: 21 attribute controller values (0x00-0x14); leaves the display on.
write_attributes:
        mov dx, 0x3DA
        in al, dx               ; flip-flop to index
        mov dx, 0x3C0
        xor bl, bl
        mov cx, 21
.l:     mov al, bl
        out dx, al
        mov al, [cs:si]
        out dx, al
        inc si
        inc bl
        loop .l
        mov al, 0x20            ; palette address source: display on
        out dx, al
        ret

; si: misc, then 5 sequencer, 25 CRTC, 9 graphics, 21 attribute values.
set_registers:
        mov dx, 0x3C2
        mov al, [cs:si]
        out dx, al
        inc si
        mov dx, 0x3C4
        mov cx, 5
        call write_indexed
        mov dx, 0x3D4           ; unlock CRTC 0-7 (0x11 bit 7)
        mov ax, 0x0011
        out dx, ax
        mov cx, 25
        call write_indexed
        mov dx, 0x3CE
        mov cx, 9
        call write_indexed
        call write_attributes
        ret

set_text_mode:
        mov si, mode3_regs
        call set_registers
        ; the 16 EGA colours at the DAC entries the attribute palette names
        mov si, ega_dac
        xor di, di
.c:     mov al, [cs:mode3_regs+1+5+25+9+di]   ; attribute palette entry di
        mov dx, 0x3C8
        out dx, al
        inc dx
        mov cx, 3
.rgb:   mov al, [cs:si]
        out dx, al
        inc si
        loop .rgb
        inc di
        cmp di, 16
        jb .c
        ; clear the text page (characters and attributes: planes 0/1)
        push es
        mov ax, 0xB800
        mov es, ax
        xor di, di
        xor ax, ax
        mov cx, 80*25
        rep stosw
        pop es
        ret

; Copies the GLYPHS16 table into plane 2 at character * 32.
load_glyphs:
        mov dx, 0x3C4
        mov ax, 0x0402          ; map mask: plane 2
        out dx, ax
        mov ax, 0x0604          ; memory mode: sequential, extended
        out dx, ax
        mov dx, 0x3CE
        mov ax, 0x0204          ; read map 2
        out dx, ax
        mov ax, 0x0005          ; write mode 0, no odd/even
        out dx, ax
        mov ax, 0x0406          ; A0000, 64 KiB, text
        out dx, ax
        push es
        mov ax, 0xA000
        mov es, ax
        mov si, glyph_table+8
        mov bl, [cs:si]         ; count
        inc si
.g:     movzx di, byte [cs:si]
        shl di, 5
        inc si
        mov cx, 16
.r:     mov al, [cs:si]
        stosb
        inc si
        loop .r
        dec bl
        jnz .g
        pop es
        mov dx, 0x3C4
        mov ax, 0x0302
        out dx, ax
        mov ax, 0x0204
        out dx, ax
        mov dx, 0x3CE
        mov ax, 0x0004
        out dx, ax
        mov ax, 0x1005
        out dx, ax
        mov ax, 0x0E06
        out dx, ax
        ret

; cs:si NUL-terminated text to B800:di in attribute ah.
put_text:
        push es
        mov bx, 0xB800
        mov es, bx
.l:     mov al, [cs:si]
        test al, al
        jz .d
        stosw
        inc si
        jmp .l
.d:     pop es
        ret

set_mode13:
        mov si, mode13_regs
        call set_registers
        mov dx, 0x3C8
        xor al, al
        out dx, al
        inc dx
        xor bx, bx
.c:     mov al, bl              ; R = (i & 7) * 9
        and al, 7
        mov ah, 9
        mul ah
        out dx, al
        mov al, bl              ; G = ((i >> 3) & 7) * 9
        shr al, 3
        and al, 7
        mov ah, 9
        mul ah
        out dx, al
        mov al, bl              ; B = (i >> 6) * 21
        shr al, 6
        mov ah, 21
        mul ah
        out dx, al
        inc bx
        cmp bx, 256
        jb .c
        ret

draw_pattern:
        push es
        mov ax, 0xA000
        mov es, ax
        xor di, di
        xor dx, dx              ; y
.y:     xor cx, cx              ; x
.x:     mov ax, cx
        mov bl, 20
        div bl                  ; al = x / 20
        mov bh, al
        mov ax, dx
        mov bl, 25
        div bl                  ; al = y / 25
        shl al, 4
        or al, bh
        mov bx, cx
        add bx, dx
        test bl, 1
        jz .even
        xor al, 0x80
.even:  stosb
        inc cx
        cmp cx, 320
        jb .x
        inc dx
        cmp dx, 200
        jb .y
        pop es
        ret

msg_title: db "POPEK VGA TEXT", 0
msg_press: db "PRESS A KEY", 0

; misc; sequencer 0-4; CRTC 0-0x18; graphics 0-8; attribute 0-0x14
mode3_regs:
        db 0x67
        db 0x03, 0x00, 0x03, 0x00, 0x02
        db 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x2D, 0x0E, 0x00, 0x00, 0x00, 0x00
        db 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF
        db 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF
        db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F
        db 0x0C, 0x00, 0x0F, 0x08, 0x00
mode13_regs:
        db 0x63
        db 0x03, 0x01, 0x0F, 0x00, 0x0E
        db 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
        db 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF
        db 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF
        db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F
        db 0x41, 0x00, 0x0F, 0x00, 0x00
; The EGA colours 0-15 as 6-bit R, G, B.
ega_dac:
        db 0,0,0,    0,0,42,   0,42,0,   0,42,42,  42,0,0,   42,0,42,  42,21,0,  42,42,42
        db 21,21,21, 21,21,63, 21,63,21, 21,63,63, 63,21,21, 63,21,63, 63,63,21, 63,63,63

; The glyphs: "GLYPHS16", a count, then per glyph its character and 16 rows.
glyph_table:
        db "GLYPHS16"
        db 12
        GLYPH 'P'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "XXXXXX.."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XXXXXX.."
        ROW "XX......"
        ROW "XX......"
        ROW "XX......"
        ROW "XX......"
        ROW "XX......"
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'O'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW ".XXXXX.."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW ".XXXXX.."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'E'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "XXXXXXX."
        ROW "XX......"
        ROW "XX......"
        ROW "XX......"
        ROW "XXXXXX.."
        ROW "XX......"
        ROW "XX......"
        ROW "XX......"
        ROW "XX......"
        ROW "XXXXXXX."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'K'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "XX...XX."
        ROW "XX..XX.."
        ROW "XX.XX..."
        ROW "XXXX...."
        ROW "XXX....."
        ROW "XXXX...."
        ROW "XX.XX..."
        ROW "XX..XX.."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'V'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW ".XX.XX.."
        ROW ".XX.XX.."
        ROW "..XXX..."
        ROW "...X...."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'G'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW ".XXXXX.."
        ROW "XX...XX."
        ROW "XX......"
        ROW "XX......"
        ROW "XX.XXXX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX..XXX."
        ROW ".XXXX.X."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'A'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "..XXX..."
        ROW ".XX.XX.."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XXXXXXX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'T'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "XXXXXXXX"
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'X'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "XX...XX."
        ROW "XX...XX."
        ROW ".XX.XX.."
        ROW "..XXX..."
        ROW "..XXX..."
        ROW "..XXX..."
        ROW ".XX.XX.."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'R'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "XXXXXX.."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "XXXXXX.."
        ROW "XXXX...."
        ROW "XX.XX..."
        ROW "XX..XX.."
        ROW "XX...XX."
        ROW "XX...XX."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'S'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW ".XXXXX.."
        ROW "XX...XX."
        ROW "XX......"
        ROW "XXX....."
        ROW ".XXXXX.."
        ROW "....XXX."
        ROW ".....XX."
        ROW ".....XX."
        ROW "XX...XX."
        ROW ".XXXXX.."
        ROW "........"
        ROW "........"
        ROW "........"
        GLYPH 'Y'
        ROW "........"
        ROW "........"
        ROW "........"
        ROW "XX....XX"
        ROW "XX....XX"
        ROW ".XX..XX."
        ROW "..XXXX.."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "...XX..."
        ROW "........"
        ROW "........"
        ROW "........"
