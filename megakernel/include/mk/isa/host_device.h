//===- host_device.h - Functions both executors compile -------------------===//
//
// MK_HOST_DEVICE marks a function of the shared headers (protocol.h, tensor_view.h,
// task_footprint.h) that g++ compiles for the host executor and the compiler, and nvcc
// for the CUDA kernel as well.
//===----------------------------------------------------------------------===//
#pragma once

#if defined(__CUDACC__)
#define MK_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define MK_HOST_DEVICE inline
#endif
