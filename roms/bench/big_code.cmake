# The big_code workload (included from roms/bench/CMakeLists.txt): its
# functions are generated at build time by gen_big_code.py, and its ROM is
# 256 KiB: the kernel assembled on its own (192 KiB, mapped at 4 GiB -
# 256 KiB) followed by the usual 64 KiB test ROM. Needs Python 3.

find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(STATUS "No Python 3: the big_code benchmark workload (generated code) is skipped")
  return()
endif()

set(_bc_src ${CMAKE_CURRENT_SOURCE_DIR}/big_code.asm)
set(_bc_kernel ${CMAKE_CURRENT_SOURCE_DIR}/big_code_kernel.inc)
set(_bc_gen ${CMAKE_CURRENT_SOURCE_DIR}/gen_big_code.py)
set(_bc_funcs ${POPEK_BENCH_DIR}/big_code_funcs.inc)
add_custom_command(
  OUTPUT ${_bc_funcs}
  COMMAND ${Python3_EXECUTABLE} ${_bc_gen} ${_bc_funcs}
  DEPENDS ${_bc_gen}
  COMMENT "Generating the big_code benchmark's functions"
  VERBATIM)

set(_bc_includes -I ${CMAKE_CURRENT_SOURCE_DIR}/../include/ -I ${CMAKE_CURRENT_SOURCE_DIR}/ -I ${POPEK_BENCH_DIR}/)
set(_bc_blob ${POPEK_BENCH_DIR}/big_code_blob.bin)
add_custom_command(
  OUTPUT ${_bc_blob}
  COMMAND ${NASM_EXECUTABLE} -f bin -DBIG_CODE_BLOB ${_bc_includes} -o ${_bc_blob} ${_bc_kernel}
  DEPENDS ${_bc_kernel} ${_bc_funcs} ${POPEK_BENCH_INCLUDES}
  COMMENT "Assembling the big_code kernel (192 KiB)"
  VERBATIM)

foreach(variant full quick)
  if(variant STREQUAL "quick")
    set(bin ${POPEK_BENCH_DIR}/big_code_quick.bin)
    set(defs -DQUICK)
  else()
    set(bin ${POPEK_BENCH_DIR}/big_code.bin)
    set(defs)
  endif()
  set(top ${bin}.top64k)
  add_custom_command(
    OUTPUT ${bin}
    COMMAND ${NASM_EXECUTABLE} -f bin ${defs} ${_bc_includes} -o ${top} ${_bc_src}
    COMMAND sh -c "cat \"$1\" \"$2\" > \"$3\" && rm -f \"$2\"" join ${_bc_blob} ${top} ${bin}
    DEPENDS ${_bc_src} ${_bc_blob} ${POPEK_BENCH_INCLUDES} ${POPEK_ROM_INCLUDES}
    COMMENT "Assembling benchmark ROM big_code (${variant}, 256 KiB)"
    VERBATIM)
  list(APPEND POPEK_BENCH_BINS ${bin})
endforeach()
# Not under verify: 24 million steps in lockstep take minutes.
foreach(engine ${POPEK_ENGINES})
  if(engine STREQUAL "verify")
    continue()
  endif()
  add_test(NAME rom.big_code_quick.${engine}
    COMMAND ${CMAKE_COMMAND}
            -DPOPEK=$<TARGET_FILE:popek>
            -DENGINE=${engine}
            -DROM=${POPEK_BENCH_DIR}/big_code_quick.bin
            -DNAME=big_code_quick
            -P ${CMAKE_CURRENT_SOURCE_DIR}/../check_rom.cmake)
  set_tests_properties(rom.big_code_quick.${engine} PROPERTIES LABELS "rom;bench" TIMEOUT 300)
endforeach()

if(_bench_m32_result EQUAL 0)
  set(_bc_obj ${POPEK_BENCH_DIR}/big_code_native.o)
  set(_bc_exe ${POPEK_BENCH_DIR}/big_code_native)
  add_custom_command(
    OUTPUT ${_bc_exe}
    COMMAND ${NASM_EXECUTABLE} -f elf32 -I ${CMAKE_CURRENT_SOURCE_DIR}/ -I ${POPEK_BENCH_DIR}/ -o ${_bc_obj}
            ${CMAKE_CURRENT_SOURCE_DIR}/native/big_code.asm
    COMMAND ${CMAKE_C_COMPILER} -m32 -static -O2 -Wall -Wextra -fno-pie -no-pie
            -o ${_bc_exe} ${CMAKE_CURRENT_SOURCE_DIR}/native/bench_main.c ${_bc_obj}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/native/big_code.asm ${CMAKE_CURRENT_SOURCE_DIR}/native/bench_main.c
            ${_bc_kernel} ${_bc_funcs} ${POPEK_BENCH_INCLUDES}
    COMMENT "Building native benchmark big_code_native"
    VERBATIM)
  add_custom_target(popek_bench_native_big_code ALL DEPENDS ${_bc_exe})
  add_test(NAME bench_native.big_code_quick COMMAND ${_bc_exe} quick)
  set_tests_properties(bench_native.big_code_quick PROPERTIES LABELS "bench" TIMEOUT 60)
endif()
