; serial_echo.asm - COM1 input from the host, interrupt driven.
; skip-engines: interp dbt verify
;   (not run by the generic ROM harness: it needs bytes on COM1's receiver;
;   tests/platform/serial_echo.sh runs it with stdin piped into popek
;   --serial stdio, under each engine)
;
; Programs COM1 (115200 8N1, FIFO on with a 1-byte trigger, OUT2, RX data
; interrupt) and the master PIC (IRQ4 only, vector 0x0C), prints
; "SERIAL: ready" on COM1, then sleeps in HLT. The IRQ4 handler checks that
; the UART reports a receive interrupt (IIR: received data or character
; timeout, FIFO bits set), drains the receiver while LSR.DR is set and
; echoes every byte on COM1 with a-z turned into A-Z, so the output proves
; the bytes went through the guest. A '!' ends the test: it prints how many
; bytes and interrupts it saw on the debug console and passes if at least
; one byte came in and every interrupt had a receive cause.
; With no '!' on stdin, the ROM waits in HLT forever; popek then reports a
; halted guest once its input is at end of file.
%define TEST_NAME "serial_echo"
%include "testlib.inc"

COM1     equ 0x3f8
BYTES    equ 0x7000             ; word: bytes received
IRQS     equ 0x7002             ; word: IRQ4s taken
BADIRQ   equ 0x7004             ; word: IRQ4s without a receive cause
DONE     equ 0x7006             ; byte: '!' seen

section .text16
bits 16
test_main16:
        cli
        mov word [BYTES], 0
        mov word [IRQS], 0
        mov word [BADIRQ], 0
        mov byte [DONE], 0
        ; Master PIC: ICW1 edge + ICW4, vectors 0x08-0x0F, ICW3 slave on IR2,
        ; ICW4 8086 mode; only IRQ4 unmasked.
        mov al, 0x11
        out 0x20, al
        mov al, 0x08
        out 0x21, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x01
        out 0x21, al
        mov al, 0xef
        out 0x21, al
        mov al, 0xff
        out 0xa1, al
        mov word [0x0c * 4], irq4_handler
        mov word [0x0c * 4 + 2], cs

        ; COM1: divisor 1, 8N1, FIFO enabled and cleared (trigger 1 byte),
        ; DTR RTS OUT2, RX data interrupt.
        mov dx, COM1 + 3
        mov al, 0x80
        out dx, al
        mov dx, COM1
        mov al, 1
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 0x03
        out dx, al
        mov dx, COM1 + 2
        mov al, 0x07
        out dx, al
        mov dx, COM1 + 4
        mov al, 0x0b
        out dx, al
        mov dx, COM1 + 1
        mov al, 0x01
        out dx, al

        mov si, ready
.ready:
        mov al, [cs:si]
        test al, al
        jz .wait
        call com1_putc
        inc si
        jmp .ready

.wait:
        sti
        hlt
        cli
        cmp byte [DONE], 0
        je .wait

        PUTS "serial_echo: "
        PHEX [BYTES], 4
        PUTS " bytes in "
        PHEX [IRQS], 4
        PUTS " interrupts", 10
        cmp word [BYTES], 0
        je .no_bytes
        cmp word [BADIRQ], 0
        jne .bad_cause
        PASS
.no_bytes:
        FAIL "no byte received"
.bad_cause:
        FAIL "an IRQ4 without a receive interrupt in IIR"

irq4_handler:
        push ax
        push dx
        inc word [IRQS]
        mov dx, COM1 + 2
        in al, dx                       ; IIR
        mov ah, al
        and al, 0x0f
        cmp al, 0x04                    ; received data available
        je .cause_ok
        cmp al, 0x0c                    ; character timeout
        je .cause_ok
        inc word [BADIRQ]
.cause_ok:
        and ah, 0xc0                    ; FIFOs enabled
        cmp ah, 0xc0
        je .drain
        inc word [BADIRQ]
.drain:
        mov dx, COM1 + 5
        in al, dx                       ; LSR
        test al, 0x01                   ; data ready
        jz .done
        mov dx, COM1
        in al, dx                       ; RBR
        inc word [BYTES]
        cmp al, '!'
        jne .echo
        mov byte [DONE], 1
.echo:
        cmp al, 'a'
        jb .send
        cmp al, 'z'
        ja .send
        sub al, 'a' - 'A'
.send:
        call com1_putc
        jmp .drain
.done:
        mov al, 0x20                    ; EOI
        out 0x20, al
        pop dx
        pop ax
        iret

; Sends AL on COM1 once THR is empty.
com1_putc:
        push dx
        push ax
        mov dx, COM1 + 5
.busy:
        in al, dx
        test al, 0x20
        jz .busy
        pop ax
        mov dx, COM1
        out dx, al
        pop dx
        ret

ready:  db "SERIAL: ready", 13, 10, 0
