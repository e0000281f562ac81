; Native 32-bit Linux build of the irq_flags kernel (../irq_flags_kernel.inc):
; the same loop in user mode without CLI/STI (privileged at IOPL 0) and
; without interrupts; PUSHF/POPF run as they are.
%define NATIVE
%include "irq_flags_kernel.inc"
