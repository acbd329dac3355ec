# Decides MK_CUDA_ENABLED from MK_ENABLE_CUDA (ON / OFF / AUTO) and, when on, enables
# the CUDA language and finds the toolkit (CUDA::cudart_static, CUDA::cublas).
# The runtime, the tools and the host executor build either way.
set(MK_CUDA_ROOT /usr/local/cuda CACHE PATH "CUDA toolkit root")
set(MK_CUDA_ENABLED OFF)
if(NOT MK_ENABLE_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS ${MK_CUDA_ROOT}/bin/nvcc)
    set(CMAKE_CUDA_COMPILER ${MK_CUDA_ROOT}/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # Architectures are given per target with -gencode (megakernel/CMakeLists.txt).
    set(CMAKE_CUDA_ARCHITECTURES OFF)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    # CMake 3.25 predates nvcc's C++20 support and would refuse targets that inherit
    # cxx_std_20 from mk_isa; nvcc 12+ takes -std=c++20.
    if(CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.0)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
      list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
    else()
      message(FATAL_ERROR "mk's CUDA code needs nvcc 12 or newer (C++20)")
    endif()
    set(MK_CUDA_ENABLED ON)
    message(STATUS "mk: CUDA executor enabled (nvcc ${CMAKE_CUDA_COMPILER_VERSION})")
  elseif(MK_ENABLE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MK_ENABLE_CUDA=ON but no CUDA compiler was found "
                        "(set CMAKE_CUDA_COMPILER or MK_CUDA_ROOT)")
  else()
    message(STATUS "mk: no nvcc found; the CUDA executor is not built")
  endif()
endif()
