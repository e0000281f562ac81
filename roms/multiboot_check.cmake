# Boots the multiboot test kernel (roms/multiboot_kernel.nasm) with popek
# --kernel/--initrd/--append and checks its verdict: exit status 1 (port
# 0xF4 with 0) and the line "PASS multiboot_kernel".
# Inputs: -DPOPEK=<exe> -DENGINE=<engine> -DKERNEL=<elf> -DMODULE=<file>
foreach(var POPEK ENGINE KERNEL MODULE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "multiboot_check.cmake: -D${var}=... is required")
  endif()
endforeach()
execute_process(
  COMMAND ${POPEK} --engine ${ENGINE} --headless --kernel ${KERNEL} --initrd ${MODULE}
          --append "mbtest=42" --debugcon stdio --timeout 30 --max-instructions 10000000
  RESULT_VARIABLE status
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  TIMEOUT 60)
message("${out}")
if(err)
  message("stderr:\n${err}")
endif()
if(NOT status STREQUAL "1")
  message(FATAL_ERROR "multiboot_kernel (${ENGINE}): exit status '${status}', expected 1 (PASS)")
endif()
string(REGEX MATCH "(^|\n)PASS multiboot_kernel(\r?\n|$)" found "${out}")
if(NOT found)
  message(FATAL_ERROR "multiboot_kernel (${ENGINE}): output lacks the line 'PASS multiboot_kernel'")
endif()
