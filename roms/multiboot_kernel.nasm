; A multiboot v1 test kernel (ELF32, linked at 1 MiB by roms/CMakeLists.txt)
; for popek --kernel. It checks what the loader hands over and prints
; "PASS multiboot_kernel" to port 0xE9, then exits through port 0xF4
; (0 = pass, 1 = fail). Run it with
;   --kernel multiboot_kernel.elf --initrd multiboot_module.txt --append "mbtest=42"
; Checks: EAX = 0x2BADB002; flat 32-bit code and data segments; info flags
; (mem, cmdline, mods, mmap); mem_lower = 639 KiB; mem_upper equals the
; size of the mmap's RAM range at 1 MiB; the command line ends in
; "mbtest=42"; one module, page-aligned, after the kernel, starting with
; "POPEK-MODULE".
; With "mbreboot" in its command line (e.g. "mbreboot mbtest=42") it
; checks that a reset reloads it (popek --kernel reloads the kernel, its
; module and command line on a reset, as QEMU's -kernel does): it counts its
; boots in conventional memory that the loader leaves alone (0x80000, which a
; reset does not clear), prints "boot N", resets the machine through the
; 8042 (0xFE to port 0x64) until it has booted 3 times, then passes. Each
; boot must find its .data as the file has it (loaded afresh).
bits 32
REBOOT_AREA equ 0x80000               ; dword magic, dword boot count
REBOOT_MAGIC equ 0x21544252           ; "RBT!"
REBOOTS equ 3
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003               ; page-aligned modules, memory info
section .text                         ; the header first, inside the first 8 KiB of the file
align 4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

global _start
_start:
    cld
    mov esp, stack_top
    cmp eax, 0x2BADB002
    jne fail_magic
    mov ax, ds                        ; the data segments must be flat and writable
    mov [saved_ds], ax
    mov dword [scratch], 0x12345678
    cmp dword [scratch], 0x12345678
    jne fail_segments

    mov eax, [ebx]                    ; flags: mem (0), cmdline (2), mods (3), mmap (6)
    and eax, 0x4D
    cmp eax, 0x4D
    jne fail_flags
    cmp dword [ebx + 4], 639          ; mem_lower
    jne fail_mem_lower

    ; mem_upper (KiB) against the mmap entry that starts at 1 MiB.
    mov esi, [ebx + 48]               ; mmap_addr
    mov ecx, [ebx + 44]               ; mmap_length
    add ecx, esi
.mmap:
    cmp esi, ecx
    jae fail_mmap
    cmp dword [esi + 4], 0x100000     ; base_addr low
    jne .next
    cmp dword [esi + 20], 1           ; type: RAM
    jne fail_mmap
    mov eax, [esi + 12]               ; length low
    shr eax, 10
    cmp eax, [ebx + 8]
    jne fail_mem_upper
    jmp .mmap_ok
.next:
    add esi, [esi]
    add esi, 4
    jmp .mmap
.mmap_ok:

    ; The command line ends in "mbtest=42".
    mov esi, [ebx + 16]
    mov edi, esi
.strend:
    cmp byte [edi], 0
    je .gotend
    inc edi
    jmp .strend
.gotend:
    sub edi, expect_cmd_len
    cmp edi, esi
    jb fail_cmdline
    mov esi, expect_cmd
    mov ecx, expect_cmd_len
    repe cmpsb
    jne fail_cmdline

    ; One module, page-aligned, above the kernel, holding "POPEK-MODULE".
    cmp dword [ebx + 20], 1           ; mods_count
    jne fail_mods
    mov edx, [ebx + 24]               ; mods_addr
    mov esi, [edx]                    ; mod_start
    test esi, 0xFFF
    jnz fail_mods
    cmp esi, kernel_end
    jb fail_mods
    mov eax, [edx + 4]                ; mod_end
    sub eax, esi
    cmp eax, expect_mod_len
    jb fail_mods
    mov edi, expect_mod
    mov ecx, expect_mod_len
    repe cmpsb
    jne fail_mods

    ; "mbreboot" in the command line (after the kernel's path, as the
    ; loader passes it): boot REBOOTS times through resets.
    mov edx, [ebx + 16]
.find:
    cmp byte [edx], 0
    je .passed
    mov esi, edx
    mov edi, reboot_cmd
    mov ecx, reboot_cmd_len
    repe cmpsb
    je .reboot
    inc edx
    jmp .find
.reboot:
    cmp byte [fresh], 1               ; .data as in the file: reloaded on reset
    jne fail_reload
    mov byte [fresh], 0
    cmp dword [REBOOT_AREA], REBOOT_MAGIC
    je .counted
    mov dword [REBOOT_AREA], REBOOT_MAGIC
    mov dword [REBOOT_AREA + 4], 0
.counted:
    inc dword [REBOOT_AREA + 4]
    mov esi, boot_msg
    call print
    mov al, [REBOOT_AREA + 4]
    add al, '0'
    out 0xE9, al
    mov al, 10
    out 0xE9, al
    cmp dword [REBOOT_AREA + 4], REBOOTS
    jae .passed
    mov al, 0xFE                      ; the 8042's reset pulse
    out 0x64, al
.wait_reset:
    hlt
    jmp .wait_reset

.passed:
    mov esi, pass_msg
    call print
    mov al, 0
    out 0xF4, al
    hlt

%macro FAIL 2
%1:
    mov esi, %2
    jmp fail
%endmacro
FAIL fail_magic, m_magic
FAIL fail_segments, m_segments
FAIL fail_flags, m_flags
FAIL fail_mem_lower, m_mem_lower
FAIL fail_mem_upper, m_mem_upper
FAIL fail_mmap, m_mmap
FAIL fail_cmdline, m_cmdline
FAIL fail_mods, m_mods
FAIL fail_reload, m_reload

fail:
    push esi
    mov esi, fail_msg
    call print
    pop esi
    call print
    mov esi, newline
    call print
    mov al, 1
    out 0xF4, al
    hlt

print:                                ; ESI: NUL-terminated string to port 0xE9
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp print
.done:
    ret

section .data
pass_msg:    db "PASS multiboot_kernel", 10, 0
fail_msg:    db "FAIL multiboot_kernel: ", 0
newline:     db 10, 0
m_magic:     db "EAX is not 0x2BADB002", 0
m_segments:  db "data segment not usable", 0
m_flags:     db "info flags lack mem/cmdline/mods/mmap", 0
m_mem_lower: db "mem_lower is not 639", 0
m_mem_upper: db "mem_upper disagrees with the mmap", 0
m_mmap:      db "mmap has no RAM range at 1 MiB", 0
m_cmdline:   db "command line does not end in mbtest=42", 0
m_mods:      db "module missing, misplaced or wrong", 0
m_reload:    db "after a reset, .data was not reloaded from the kernel file", 0
boot_msg:    db "boot ", 0
reboot_cmd:  db "mbreboot"
reboot_cmd_len equ $ - reboot_cmd
fresh:       db 1
expect_cmd:  db "mbtest=42"
expect_cmd_len equ $ - expect_cmd
expect_mod:  db "POPEK-MODULE"
expect_mod_len equ $ - expect_mod

section .bss
align 16
saved_ds: resw 1
scratch:  resd 1
stack:    resb 4096
stack_top:
kernel_end:
