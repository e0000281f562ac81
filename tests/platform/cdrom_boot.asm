; An El Torito no-emulation boot image for the platform test (tests/platform).
; CMake packs it with cd_hello.txt (as HELLO.TXT) into cdrom_boot.iso through
; `xorriso -as mkisofs -b cdrom_boot.bin -no-emul-boot -boot-load-size 4
; -boot-info-table`; SeaBIOS loads it at 0000:7C00 from the ATAPI CD-ROM.
;
; It prints on the debug console (port 0xE9) and through INT 10h, then uses
; the INT 13h extensions on the boot drive (DL) to:
;   1. check that they exist (AH=41h) and that the drive has 2048-byte
;      sectors (AH=48h);
;   2. read sector 16 and check the ISO 9660 primary volume descriptor;
;   3. read its own image back from the sector the boot info table names and
;      compare it with the copy in memory;
;   4. find HELLO.TXT in the root directory, read it and print it.
; Then it exits through port 0xF4: value 0 (exit status 1) on success,
; 1 (exit status 3) on failure, after printing which step failed.
bits 16
org 0x7c00

buf      equ 0x9000                 ; sector buffer (2048 bytes, after the image)
vars     equ 0x0600                 ; variables live outside the image
drive    equ vars + 0               ; byte: boot drive
dap      equ vars + 0x10            ; 16-byte disk address packet
params   equ vars + 0x20            ; AH=48h result buffer (30 bytes)

start:
    jmp short main
    nop
    times 8 - ($ - $$) db 0
; Boot info table, filled in by -boot-info-table.
bi_pvd:    dd 0                     ; LBA of the primary volume descriptor
bi_file:   dd 0                     ; LBA of this boot file
bi_length: dd 0                     ; its length in bytes
bi_csum:   dd 0
    times 40 db 0

main:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    mov [drive], dl

    mov si, msg_hello
    call print
    mov al, [drive]
    call print_hex8
    call newline

    ; 1. Extensions present, 2048-byte sectors.
    mov si, msg_step1
    mov ah, 0x41
    mov bx, 0x55aa
    mov dl, [drive]
    int 0x13
    jc fail
    cmp bx, 0xaa55
    jne fail
    mov word [params], 30
    mov ah, 0x48
    mov dl, [drive]
    mov si, params
    int 0x13
    mov si, msg_step1
    jc fail
    cmp word [params + 0x18], 2048
    jne fail
    mov si, msg_sector_size
    call print

    ; 2. The primary volume descriptor at sector 16.
    mov eax, 16
    call read_sector
    mov si, msg_step2
    jc fail
    cmp byte [buf], 1
    jne fail
    mov di, buf + 1
    mov si, cd001
    mov cx, 5
    repe cmpsb
    mov si, msg_step2
    jne fail
    cmp dword [bi_pvd], 16
    jne fail
    mov si, msg_pvd
    call print

    ; 3. This image, read back from the disc, equals the copy in memory.
    mov eax, [bi_file]
    call read_sector
    mov si, msg_step3
    jc fail
    mov si, 0x7c00
    mov di, buf
    mov cx, 2048 / 4
    repe cmpsd
    mov si, msg_step3
    jne fail
    mov si, msg_self
    call print

    ; 4. HELLO.TXT (case-insensitive): the root directory's extent is in the PVD's root
    ; directory record (offset 156; extent LBA at +2), each record holds the
    ; extent (+2), the data length (+10), the name length (+32) and name (+33).
    mov eax, 16
    call read_sector
    mov si, msg_step4
    jc fail
    mov eax, [buf + 156 + 2]
    call read_sector
    mov si, msg_step4
    jc fail
    mov bx, buf
.next_record:
    movzx cx, byte [bx]             ; record length; 0 ends the sector
    jcxz .not_found
    cmp byte [bx + 32], 11          ; "HELLO.TXT;1", in either case (xorriso
    jne .skip                       ; keeps lower case, genisoimage does not)
    lea di, [bx + 33]
    mov si, hello_name
    push cx
    mov cx, 11
.compare:
    mov al, [di]
    cmp al, 'a'
    jb .upper
    cmp al, 'z'
    ja .upper
    sub al, 'a' - 'A'
.upper:
    cmp al, [si]
    jne .differs
    inc si
    inc di
    loop .compare
    xor ax, ax                      ; all 11 matched: ZF = 1
.differs:
    pop cx
    je .found
.skip:
    add bx, cx
    cmp bx, buf + 2048
    jb .next_record
.not_found:
    mov si, msg_step4
    jmp fail
.found:
    mov eax, [bx + 2]
    call read_sector
    mov si, msg_step4
    jc fail
    mov byte [buf + 200], 0         ; the file is a short line; end the string
    mov si, msg_file
    call print
    mov si, buf
    call print

    mov si, msg_pass
    call print
    xor al, al
    out 0xf4, al                    ; exit status 1: PASS
    jmp halt

; SI: the name of the failed step.
fail:
    push si
    mov si, msg_fail
    call print
    pop si
    call print
    call newline
    mov al, 1
    out 0xf4, al                    ; exit status 3: FAIL
halt:
    cli
    hlt
    jmp halt

; Reads CD sector EAX into buf through INT 13h AH=42h; CF on error.
read_sector:
    mov byte [dap], 16
    mov byte [dap + 1], 0
    mov word [dap + 2], 1
    mov word [dap + 4], buf
    mov word [dap + 6], 0
    mov [dap + 8], eax
    mov dword [dap + 12], 0
    mov ah, 0x42
    mov dl, [drive]
    mov si, dap
    int 0x13
    ret

; Prints the NUL-terminated string at DS:SI to port 0xE9 and through INT 10h.
print:
    lodsb
    test al, al
    jz .done
    call putc
    jmp print
.done:
    ret

putc:
    out 0xe9, al
    pusha
    mov ah, 0x0e
    mov bx, 0x0007
    int 0x10
    popa
    ret

newline:
    mov al, 13
    call putc
    mov al, 10
    jmp putc

print_hex8:
    push ax
    shr al, 4
    call .digit
    pop ax
    and al, 0x0f
.digit:
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '0' - 10
.out:
    jmp putc

cd001:           db "CD001"
hello_name:      db "HELLO.TXT;1"
msg_hello:       db "CDBOOT: El Torito boot image running, boot drive 0x", 0
msg_sector_size: db "CDBOOT: INT 13h extensions present, 2048-byte sectors", 13, 10, 0
msg_pvd:         db "CDBOOT: primary volume descriptor read from sector 16", 13, 10, 0
msg_self:        db "CDBOOT: boot image read back from the disc matches", 13, 10, 0
msg_file:        db "CDBOOT: HELLO.TXT says: ", 0
msg_pass:        db "CDBOOT: PASS", 13, 10, 0
msg_fail:        db "CDBOOT: FAIL at ", 0
msg_step1:       db "INT 13h extensions / drive parameters", 0
msg_step2:       db "primary volume descriptor", 0
msg_step3:       db "boot image read-back", 0
msg_step4:       db "HELLO.TXT lookup", 0

    times 2048 - ($ - $$) db 0
