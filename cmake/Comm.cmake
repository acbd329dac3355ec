# Tensor parallelism across processes: MPI launches and bootstraps the ranks (mpirun,
# the NCCL unique id, the ranks' collectives of the runtime), NCCL's device API gives
# the CUDA kernel its peers' memory. Both are optional:
#   MK_MPI_ENABLED   MPI (C bindings) found: mkrun's mpirun path and runtime's
#                    MpiRankComm (mk_runtime_mpi) are built, mpirun tests run
#   MK_NCCL_ENABLED  CUDA on and NCCL >= 2.28 (its device API) found: the CUDA executor
#                    runs tensor-parallel plans
# Without them a CPU-only (or single-GPU) build is unchanged, and a tensor-parallel plan
# on --backend cuda is refused with one line that says what is missing.
set(MK_ENABLE_MPI AUTO CACHE STRING "Build mkrun's MPI launch path: ON, OFF or AUTO")
set_property(CACHE MK_ENABLE_MPI PROPERTY STRINGS ON OFF AUTO)

set(MK_MPI_ENABLED OFF)
if(NOT MK_ENABLE_MPI STREQUAL "OFF")
  if(MK_ENABLE_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS C)
  else()
    find_package(MPI QUIET COMPONENTS C)
  endif()
  if(MPI_C_FOUND)
    set(MK_MPI_ENABLED ON)
    find_program(MK_MPIEXEC NAMES mpirun mpiexec HINTS ${MPIEXEC_EXECUTABLE})
    # The tests' launch line: Open MPI needs leave to run more ranks than cores and, as
    # root (CI), leave to run at all.
    set(MK_MPIEXEC_FLAGS)
    set(MK_MPIEXEC_ENV)
    if(MK_MPIEXEC)
      execute_process(COMMAND ${MK_MPIEXEC} --version OUTPUT_VARIABLE mk_mpiexec_version
                      ERROR_QUIET)
      if(mk_mpiexec_version MATCHES "Open MPI|OpenRTE")
        set(MK_MPIEXEC_FLAGS --oversubscribe)
        set(MK_MPIEXEC_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
      endif()
    endif()
    message(STATUS "mk: MPI launch path enabled (MPI ${MPI_C_VERSION}, ${MK_MPIEXEC})")
  else()
    message(STATUS "mk: no MPI found; mkrun runs tensor-parallel plans on the host only")
  endif()
endif()

set(MK_NCCL_ENABLED OFF)
if(MK_CUDA_ENABLED)
  find_path(MK_NCCL_INCLUDE_DIR nccl.h HINTS ${MK_CUDA_ROOT}/include)
  find_library(MK_NCCL_LIBRARY nccl HINTS ${MK_CUDA_ROOT}/lib64 ${MK_CUDA_ROOT}/lib)
  set(mk_nccl_version 0)
  if(MK_NCCL_INCLUDE_DIR AND EXISTS ${MK_NCCL_INCLUDE_DIR}/nccl_device.h)
    file(STRINGS ${MK_NCCL_INCLUDE_DIR}/nccl.h mk_nccl_code
         REGEX "^#define NCCL_VERSION_CODE [0-9]+")
    string(REGEX MATCH "[0-9]+$" mk_nccl_version "${mk_nccl_code}")
  endif()
  # 2.28 (22800) brought the device API: symmetric windows, LSA pointers, devcomms.
  if(MK_NCCL_LIBRARY AND mk_nccl_version GREATER_EQUAL 22800)
    set(MK_NCCL_ENABLED ON)
    add_library(mk_nccl INTERFACE)
    target_include_directories(mk_nccl SYSTEM INTERFACE ${MK_NCCL_INCLUDE_DIR})
    target_link_libraries(mk_nccl INTERFACE ${MK_NCCL_LIBRARY})
    message(STATUS "mk: NCCL device API enabled (NCCL_VERSION_CODE ${mk_nccl_version})")
  else()
    message(STATUS "mk: no NCCL >= 2.28 with nccl_device.h; the CUDA executor runs "
                   "single-rank plans only")
  endif()
endif()
