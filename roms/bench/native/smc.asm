; Native 32-bit Linux build of the smc kernel (../smc_kernel.inc): identical
; code, run in a read-write-execute anonymous mapping (bench_main.c), so the
; host CPU sees the same stores into code.
%define NATIVE
%include "smc_kernel.inc"
