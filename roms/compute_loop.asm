; compute_loop.asm - an integer compute loop for measuring engine speed in
; guest MIPS (popek --stats FILE.json). In flat 32-bit protected mode it runs
; a CRC-32 (bitwise, no table) over a 4 KiB buffer 40 times, a small
; insertion sort and a state machine, then checks the results.
; About 7 million instructions.
; skip-engines: verify (the lockstep run is All/Roms.SameUnderInterpreterTranslatorAndVerify/"compute_loop", which also compares steps and CPU state; a second one here cost 14 s, a minute under ASan)
%define TEST_NAME "compute_loop"
%include "testlib.inc"

BUF     equ 0x100000            ; 4 KiB data buffer at 1 MiB
ARR     equ 0x101000            ; 256 dwords to sort

PM32_TEST_MAIN main32
main32:
        ; fill the buffer with a linear congruential sequence
        mov edi, BUF
        mov eax, 12345
        mov ecx, 1024
.fill:  imul eax, eax, 1103515245
        add eax, 12345
        mov [edi], eax
        add edi, 4
        dec ecx
        jnz .fill

        ; CRC-32 (reflected, poly 0xEDB88320) of the buffer, 40 times
        mov ebp, 40
.round: mov esi, BUF
        mov edx, 0xffffffff
        mov ecx, 4096
.byte:  movzx eax, byte [esi]
        xor edx, eax
        mov ebx, 8
.bit:   shr edx, 1
        jnc .nox
        xor edx, 0xedb88320
.nox:   dec ebx
        jnz .bit
        inc esi
        dec ecx
        jnz .byte
        not edx
        dec ebp
        jnz .round
        mov [SCRATCH], edx

        ; insertion sort of 256 pseudo-random dwords
        mov edi, ARR
        mov eax, 777
        mov ecx, 256
.fill2: imul eax, eax, 69069
        inc eax
        mov [edi], eax
        add edi, 4
        loop .fill2
        mov ecx, 1
.outer: cmp ecx, 256
        jae .sorted
        mov eax, [ARR + ecx*4]
        mov edx, ecx
.inner: test edx, edx
        jz .place
        mov ebx, [ARR + edx*4 - 4]
        cmp ebx, eax
        jbe .place
        mov [ARR + edx*4], ebx
        dec edx
        jmp .inner
.place: mov [ARR + edx*4], eax
        inc ecx
        jmp .outer
.sorted:
        ; verify ascending order
        mov ecx, 1
.chk:   mov eax, [ARR + ecx*4 - 4]
        cmp eax, [ARR + ecx*4]
        ja .unsorted
        inc ecx
        cmp ecx, 256
        jb .chk

        ; the expected CRC is zlib.crc32() of the same LCG buffer
        mov eax, [SCRATCH]
        PUTS "crc32 = 0x"
        PHEX eax, 8
        PUTS 10
        CHECK dword [SCRATCH], 0x93323b53, "crc32 of the LCG buffer"
        PASS
.unsorted:
        FAIL "insertion sort left the array unsorted"
