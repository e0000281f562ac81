# Runs one test image under popek and checks the verdict.
# Inputs: -DPOPEK=<exe> -DENGINE=<engine> -DNAME=<test name> and either
#   -DROM=<rom.bin>                      firmware image (--bios), or
#   -DKERNEL=<elf> [-DMODULE=<file>] [-DAPPEND=<cmdline>]
#                                        a kernel booted with --kernel
#                                        (--initrd MODULE, --append APPEND).
# Pass = exit status 1 (the image wrote 0 to port 0xF4) and the output holds
# the line "PASS <name>" (and, with -DEXPECT=<regex>, matches that too).
foreach(var POPEK ENGINE NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_rom.cmake: -D${var}=... is required")
  endif()
endforeach()
if(DEFINED KERNEL)
  set(image "${KERNEL}")
  set(boot --kernel ${KERNEL})
  if(DEFINED MODULE)
    list(APPEND boot --initrd ${MODULE})
  endif()
  if(DEFINED APPEND)
    list(APPEND boot --append "${APPEND}")
  endif()
elseif(DEFINED ROM)
  set(image "${ROM}")
  set(boot --bios ${ROM})
else()
  message(FATAL_ERROR "check_rom.cmake: -DROM=... or -DKERNEL=... is required")
endif()
if(NOT EXISTS "${image}")
  message(FATAL_ERROR "Test image ${image} does not exist (build target popek_roms)")
endif()

execute_process(
  COMMAND ${POPEK} --engine ${ENGINE} --headless ${boot}
          --debugcon stdio --timeout 60 --max-instructions 200000000
  RESULT_VARIABLE status
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  TIMEOUT 110)

message("${out}")
if(err)
  message("stderr:\n${err}")
endif()

if(NOT status STREQUAL "1")
  message(FATAL_ERROR "${NAME} (${ENGINE}): exit status '${status}', expected 1 (PASS)")
endif()
string(REGEX MATCH "(^|\n)PASS ${NAME}(\r?\n|$)" found "${out}")
if(NOT found)
  message(FATAL_ERROR "${NAME} (${ENGINE}): output lacks the line 'PASS ${NAME}'")
endif()
if(DEFINED EXPECT AND NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "${NAME} (${ENGINE}): output does not match '${EXPECT}'")
endif()
