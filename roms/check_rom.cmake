# Runs one test ROM under popek and checks the verdict.
# Inputs: -DPOPEK=<exe> -DENGINE=<engine> -DROM=<rom.bin> -DNAME=<rom name>
# Pass = exit status 1 (the ROM wrote 0 to port 0xF4) and the output holds
# the line "PASS <name>".
foreach(var POPEK ENGINE ROM NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_rom.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${ROM}")
  message(FATAL_ERROR "ROM image ${ROM} does not exist (build target popek_roms)")
endif()

execute_process(
  COMMAND ${POPEK} --engine ${ENGINE} --headless --bios ${ROM}
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
  message(FATAL_ERROR "ROM ${NAME} (${ENGINE}): exit status '${status}', expected 1 (PASS)")
endif()
string(REGEX MATCH "(^|\n)PASS ${NAME}(\r?\n|$)" found "${out}")
if(NOT found)
  message(FATAL_ERROR "ROM ${NAME} (${ENGINE}): output lacks the line 'PASS ${NAME}'")
endif()
