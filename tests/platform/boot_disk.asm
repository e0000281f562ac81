; A tiny bootable hard disk image for the platform test (tests/platform).
;
; Sector 0 (the boot sector, loaded by SeaBIOS at 0000:7C00) prints a line to
; the debug console (port 0xE9; INT 10h teletype too, for when a VGA exists),
; reads sector 1 through INT 13h (AH=02h, CHS 0/0/2) to 0000:7E00 and prints
; the message found there, then exits the emulator through port 0xF4:
; value 0 (exit status 1) on success, 1 (exit status 3) on failure.
; The image is padded to 1 MiB so that it is a plausible small disk.
bits 16
org 0x7c00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    mov [drive], dl                 ; boot drive from the BIOS (0x80)

    mov si, msg_hello
    call print

    ; INT 13h AH=02h: read 1 sector, cylinder 0, head 0, sector 2 -> ES:BX.
    mov ax, 0x0201
    mov cx, 0x0002
    xor dh, dh
    mov dl, [drive]
    mov bx, 0x7e00
    int 0x13
    jc .fail
    cmp word [0x7e00 + 510], 0x2B2B ; second sector's marker
    jne .fail

    mov si, 0x7e00
    call print
    mov si, msg_done
    call print
    xor al, al
    out 0xf4, al                    ; exit status 1: PASS
    jmp halt
.fail:
    mov si, msg_fail
    call print
    mov al, 1
    out 0xf4, al                    ; exit status 3: FAIL
halt:
    cli
    hlt
    jmp halt

; Prints the NUL-terminated string at DS:SI to port 0xE9 and through INT 10h.
print:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    push si
    mov ah, 0x0e
    mov bx, 0x0007
    int 0x10
    pop si
    jmp print
.done:
    ret

msg_hello: db "BOOT: boot sector running", 13, 10, 0
msg_done:  db "BOOT: PASS", 13, 10, 0
msg_fail:  db "BOOT: FAIL (INT 13h read)", 13, 10, 0
drive:     db 0

    times 510 - ($ - $$) db 0
    dw 0xaa55

; Sector 1: the message the boot sector reads through INT 13h.
sector1:
    db "BOOT: second sector read through INT 13h", 13, 10, 0
    times 510 - ($ - sector1) db 0
    dw 0x2B2B

    times 1024 * 1024 - ($ - $$) db 0
