; irq_flags.asm - benchmark ROM: PUSHF/POPF/CLI/STI loop (irq_flags_kernel.inc)
; under a high rate of timer interrupts. Setup: both 8259s initialised with
; ICW1-4 (master vectors 20h-27h, slave 28h-2Fh on IRQ 2), only IRQ 0
; unmasked; 8254 channel 0 in mode 2 with divisor 60 (1193182/60 = 19.9 kHz);
; with a local APIC (QEMU) LINT0 set to ExtINT (virtual wire);
; vector 20h an interrupt gate to a handler that counts and sends a
; non-specific EOI. After the kernel: interrupts off, the count printed and
; required to be non-zero (it depends on wall or virtual time, so it is not
; part of the checksum).
%include "irq_flags_kernel.inc"

WORK_ADDR equ 0x200000
IRQ_COUNT equ LV_USER+0x10
PIT_DIV   equ 60
LAPIC_BASE equ 0xFEE00000

section .text32
bench_setup:
        mov dword [IRQ_COUNT], 0
        SETGATE 0x20, SEL_CODE32, irq0_handler, GATE_INT32
        mov al, 0x11                    ; ICW1: edge, cascade, ICW4 follows
        out 0x20, al
        out 0xA0, al
        mov al, 0x20                    ; ICW2: vector bases
        out 0x21, al
        mov al, 0x28
        out 0xA1, al
        mov al, 0x04                    ; ICW3: slave on IRQ 2 / slave id 2
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01                    ; ICW4: 8086 mode, normal EOI
        out 0x21, al
        out 0xA1, al
        mov al, 0xFE                    ; OCW1: only IRQ 0
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al
        ; With a local APIC (CPUID.1:EDX bit 9, e.g. QEMU), the 8259's INTR
        ; reaches the CPU only through LINT0, which is masked at reset: set
        ; up virtual-wire mode as a BIOS does (APIC software-enabled, LINT0
        ; ExtINT). Popek has no local APIC and does not report one.
        mov eax, 1
        cpuid
        test edx, 1 << 9
        jz .no_apic
        mov dword [LAPIC_BASE+0xF0], 0x1FF      ; spurious vector FFh, enabled
        mov dword [LAPIC_BASE+0x350], 0x700     ; LVT LINT0: ExtINT, unmasked
.no_apic:
        mov al, 0x34                    ; channel 0, lobyte/hibyte, mode 2
        out 0x43, al
        mov al, PIT_DIV & 0xFF
        out 0x40, al
        mov al, PIT_DIV >> 8
        out 0x40, al
        sti
        ret

bench_teardown:
        cli
        mov al, 0xFF
        out 0x21, al
        PUTS "irq0 count=0x"
        PHEX [IRQ_COUNT], 8
        PUTS 10
        cmp dword [IRQ_COUNT], 0
        jne .ok
        FAIL "no timer interrupt was received"
.ok:    ret

irq0_handler:
        push eax
        inc dword [IRQ_COUNT]
        mov al, 0x20                    ; non-specific EOI
        out 0x20, al
        pop eax
        iretd
