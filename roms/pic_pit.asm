; pic_pit.asm - the 8259 PIC pair and the 8254 PIT driving CPU interrupts.
; Programs both PICs (ICW1-4, vectors 0x20/0x28), PIT channel 0 in mode 2 at
; about 10 kHz, and counts IRQ0s taken through the IDT while the CPU sits in
; HLT, checking:
;   - interrupts arrive only while IF=1 and IRQ0 is unmasked (IMR);
;   - the ISR bit is set during the handler and cleared by the EOI;
;   - the PIT counter counts down and the read-back status reports mode 2;
;   - a masked IRQ0 is held pending in the IRR and taken after unmasking;
;   - HLT wakes on the interrupt and resumes after the HLT.
; Under QEMU (validation only) the 8259's INTR reaches the CPU through the
; local APIC's LINT0, which QEMU masks at reset and only firmware unmasks, so
; this ROM sees no interrupts there; Popek models a P6 without a local APIC.
%define TEST_NAME "pic_pit"
%include "testlib.inc"

TICKS   equ 0x7000              ; dword counter bumped by the IRQ0 handler
ISRSEEN equ 0x7004              ; ISR value the handler read before its EOI

PM32_TEST_MAIN main32
main32:
        cli
        ; both 8259s: vectors 0x20/0x28, slave on IR2, everything masked for now
        PIC_INIT_MASKED
        SETGATE 0x20, SEL_CODE32, irq0_handler, GATE_INT32
        mov dword [TICKS], 0

        ; PIT channel 0: lobyte/hibyte, mode 2, count 119 (~10 kHz)
        mov al, 0x34
        out 0x43, al
        mov al, 119
        out 0x40, al
        xor al, al
        out 0x40, al

        ; read-back status of channel 0: mode 2, access lo/hi, OUT high
        mov al, 0xe2            ; read-back: status only, channel 0
        out 0x43, al
        in al, 0x40
        and al, 0x3f
        PUTS "PIT ch0 status (low 6 bits) = 0x"
        movzx eax, al
        PHEX eax, 2
        PUTS 10
        CHECK eax, 0x34, "read-back status: lo/hi access, mode 2"

        ; the counter moves: two latched reads differ. With a period of 119
        ; ticks, a spin that happens to last a whole number of periods reads
        ; the same value again, so try four different spin lengths.
        mov esi, 2000
.sample:
        mov al, 0x00
        out 0x43, al
        in al, 0x40
        mov bl, al
        in al, 0x40
        mov bh, al
        mov ecx, esi
.spin:  loop .spin
        mov al, 0x00
        out 0x43, al
        in al, 0x40
        mov dl, al
        in al, 0x40
        mov dh, al
        cmp bx, dx
        jne .moving
        add esi, 713
        cmp esi, 2000 + 4 * 713
        jb .sample
        FAIL "PIT channel 0 count did not change"
.moving:
        PUTS "PIT counts down", 10

        ; IF=1 but IRQ0 masked: nothing arrives; the IRR holds the request.
        ; Waiting is measured on the PIT itself (two count wrap-arounds), so
        ; the test does not depend on how fast the CPU engine runs.
        sti
        call wait_two_periods
        cli
        CHECK dword [TICKS], 0, "no IRQ0 while masked"
        mov al, 0x0a            ; OCW3: read IRR
        out 0x20, al
        in al, 0x20
        PUTS "IRR = 0x"
        movzx ebx, al
        PHEX ebx, 2
        PUTS 10
        test bl, 1
        jnz .irr_ok
        FAIL "masked IRQ0 not pending in the IRR"
.irr_ok:
        PUTS "masked IRQ0 held in the IRR", 10

        ; unmask IRQ0 with IF=0: still nothing
        mov al, 0xfe
        out 0x21, al
        call wait_two_periods
        CHECK dword [TICKS], 0, "no IRQ0 while IF=0"

        ; IF=1 and HLT: wake on each tick, 50 ticks
.wait:  sti
        hlt
        cli
        cmp dword [TICKS], 50
        jb .wait
        PUTS "50 timer interrupts taken through HLT", 10
        mov eax, [ISRSEEN]
        CHECK eax, 1, "ISR bit 0 set inside the handler"
        mov al, 0x0b            ; OCW3: read ISR
        out 0x20, al
        in al, 0x20
        movzx eax, al
        CHECK eax, 0, "ISR clear after the EOI"
        PASS

; Returns after PIT channel 0 has wrapped around twice (mode 2 reloads its
; count when it reaches 1, so a latched reading larger than the previous one
; marks a new period).
wait_two_periods:
        push eax
        push ebx
        push ecx
        mov ecx, 2
        call read_count
        mov ebx, eax
.next:  call read_count
        cmp eax, ebx
        mov ebx, eax
        jbe .next
        loop .next
        pop ecx
        pop ebx
        pop eax
        ret

read_count:                     ; EAX = latched channel 0 count
        mov al, 0x00
        out 0x43, al
        in al, 0x40
        mov ah, al
        in al, 0x40
        xchg al, ah
        movzx eax, ax
        ret

irq0_handler:
        push eax
        inc dword [TICKS]
        mov al, 0x0b            ; OCW3: read ISR
        out 0x20, al
        in al, 0x20
        movzx eax, al
        mov [ISRSEEN], eax
        mov al, 0x20            ; non-specific EOI
        out 0x20, al
        pop eax
        iretd
