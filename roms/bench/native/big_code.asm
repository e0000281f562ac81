; Native 32-bit Linux build of the big_code kernel (../big_code_kernel.inc):
; identical code, nothing privileged.
%define NATIVE
%include "big_code_kernel.inc"
