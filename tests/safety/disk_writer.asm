; disk_writer.asm - a 64 KiB firmware image that writes the primary master
; disk through IDE PIO for ever, for the kill-during-writes test
; (test_kill_during_writes.cpp). Round r = 1, 2, ... (mod 256, skipping 0)
; writes every sector s of the first kSectors with 128 dwords of
;     0x5A000000 | (r << 16) | s
; in WRITE SECTORS commands of 8 sectors, and prints '.' to port 0xE9 after
; each round (one line each). A sector in the image is therefore intact when its 128 dwords
; are equal, say 0x5A, carry its own sector number, and any round (the test
; fills the image with round 0 first).
kSectors        equ 2048
kBatch          equ 8
kBufferSeg      equ 0x1000          ; 0x10000: the data of one batch

section .text start=0 vstart=0
bits 16
start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        mov ax, kBufferSeg
        mov ds, ax
        mov es, ax
        mov ebp, 1                  ; round
round:
        xor ebx, ebx                ; first sector of the batch
batch:
        ; Fill the batch buffer: sector k of the batch holds (round, ebx + k).
        xor di, di
        xor cx, cx                  ; k
.fill_sector:
        mov eax, ebp
        and eax, 0xFF
        shl eax, 16
        or eax, 0x5A000000
        movzx edx, cx
        add edx, ebx
        or eax, edx
        push cx
        mov cx, 128
        cld
        rep stosd
        pop cx
        inc cx
        cmp cx, kBatch
        jb .fill_sector
        ; WRITE SECTORS (LBA28) of kBatch sectors at ebx.
        call wait_ready
        mov dx, 0x1F6
        mov eax, ebx
        shr eax, 24
        and al, 0x0F
        or al, 0xE0
        out dx, al
        mov dx, 0x1F2
        mov al, kBatch
        out dx, al
        mov eax, ebx
        mov dx, 0x1F3
        out dx, al
        mov dx, 0x1F4
        shr eax, 8
        out dx, al
        mov dx, 0x1F5
        shr eax, 8
        out dx, al
        mov dx, 0x1F7
        mov al, 0x30
        out dx, al
        xor si, si
        mov cx, kBatch
.sector:
        call wait_drq
        push cx
        mov cx, 256
        mov dx, 0x1F0
        rep outsw
        pop cx
        loop .sector
        add ebx, kBatch
        cmp ebx, kSectors
        jb batch
        mov dx, 0xE9
        mov al, '.'
        out dx, al
        mov al, 10                  ; a line per round: popek flushes the log at each
        out dx, al
        inc ebp
        test ebp, 0xFF
        jnz round
        inc ebp                     ; round 0 is the test's initial fill
        jmp round

; Waits until BSY is clear (the channel accepts a command).
wait_ready:
        mov dx, 0x1F7
.poll:
        in al, dx
        test al, 0x80
        jnz .poll
        ret

; Waits until the drive asks for data (DRQ); an error (ERR/DF) hangs here
; visibly: the test sees no progress.
wait_drq:
        mov dx, 0x1F7
.poll:
        in al, dx
        test al, 0x80
        jnz .poll
        test al, 0x21
        jnz .error
        test al, 0x08
        jz .poll
        ret
.error:
        mov dx, 0xE9
        mov al, 'E'
        out dx, al
        cli
        hlt

section .reset start=0xFFF0 vstart=0xFFF0
        jmp 0xF000:start
        times 16-($-$$) db 0
