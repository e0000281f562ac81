; Native 32-bit Linux build of the int_mix kernel (see ../int_mix_kernel.inc),
; linked with bench_main.c. Same code, same counts, same checksum as the ROM.
%define NATIVE
%include "int_mix_kernel.inc"
