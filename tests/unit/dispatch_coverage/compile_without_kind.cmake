# cmake -DDIR=<executor dir> -DTU=<file in DIR> -DKIND_FILE=<file in DIR> -DWORK=<dir>
#       -DCOMPILE=<compiler command;...> -P compile_without_kind.cmake
#
# Copies an executor's sources (DIR) to WORK, empties KIND_FILE (one kind's
# implementation: the file stays, so its #include still resolves, but defines nothing)
# unless KIND_FILE is empty, and compiles WORK/TU, the executor's dispatch, with
# COMPILE. Fails when the compiler does; the compiler's output is printed either way.
cmake_minimum_required(VERSION 3.25)
foreach(var DIR TU WORK COMPILE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "compile_without_kind.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(COPY "${DIR}/" DESTINATION "${WORK}")
if(KIND_FILE)
  if(NOT EXISTS "${WORK}/${KIND_FILE}")
    message(FATAL_ERROR "compile_without_kind.cmake: no ${KIND_FILE} in ${DIR}")
  endif()
  file(WRITE "${WORK}/${KIND_FILE}" "#pragma once\n")
endif()
execute_process(COMMAND ${COMPILE} "${WORK}/${TU}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compile_without_kind.cmake: compiling ${TU} failed")
endif()
