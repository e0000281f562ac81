; Native 32-bit Linux build of the calls_indirect kernel
; (../calls_indirect_kernel.inc): identical code, nothing privileged.
%define NATIVE
%include "calls_indirect_kernel.inc"
