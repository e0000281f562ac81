; Native 32-bit Linux build of the mem_paging kernel (../mem_paging_kernel.inc):
; the same accesses on an anonymous mapping, without paging setup or the
; per-iteration CR3 reload (user mode cannot flush the TLB).
%define NATIVE
%include "mem_paging_kernel.inc"
