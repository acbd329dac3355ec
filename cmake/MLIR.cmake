# Out-of-tree MLIR 19, as learned on Debian bookworm:
# - find_package(MLIR CONFIG) with no version: 19's version file wants "19.1".
# - no HandleLLVMOptions: it rewrites global flags (nvcc lines included).
# - LLVM include dirs live on an INTERFACE target so they never reach CUDA targets.
find_package(MLIR REQUIRED CONFIG HINTS /usr/lib/llvm-19/lib/cmake/mlir)
if(NOT LLVM_VERSION_MAJOR EQUAL 19)
  message(FATAL_ERROR "mk needs LLVM/MLIR 19, found ${LLVM_VERSION_MAJOR} at ${MLIR_DIR}")
endif()
message(STATUS "MLIR ${LLVM_PACKAGE_VERSION} at ${MLIR_DIR}")

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
# mlir-tblgen writes depfiles relative to the build root, as LLVM's own build expects (it
# sets CMP0116 OLD too); with NEW, Ninja re-runs tablegen on every build. Functions keep
# the policies in force where they are defined, so this precedes include(TableGen).
cmake_policy(SET CMP0116 OLD)
include(TableGen)
include(AddLLVM)
include(AddMLIR)

set(LLVM_EXTERNAL_LIT /usr/lib/llvm-19/build/utils/lit/lit.py CACHE FILEPATH "lit.py")
set(MK_FILECHECK /usr/lib/llvm-19/bin/FileCheck)

add_library(mk_mlir_config INTERFACE)
target_include_directories(mk_mlir_config SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
target_compile_definitions(mk_mlir_config INTERFACE ${LLVM_DEFINITIONS})
# Debian's LLVM is built with RTTI, without exceptions and assertions; compiler code
# uses neither RTTI nor exceptions so it builds against any LLVM.
target_compile_options(mk_mlir_config INTERFACE -fno-rtti -fno-exceptions)
