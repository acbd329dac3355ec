//===- tensor_view.h - Element types, and a tensor bound to memory --------===//
//
// The tensor both executors index by tensor id: the host executor's tensor table and
// the CUDA kernel's (copied to the device as is), and what task_footprint.h computes
// byte spans of. No STL: compiled by g++ and nvcc.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/host_device.h"

#include <cstdint>

namespace mk::isa {

enum class DType : uint8_t { BF16 = 0, F16 = 1, F32 = 2, I32 = 3 };

MK_HOST_DEVICE constexpr uint32_t dtypeSize(DType t) {
  return t == DType::BF16 || t == DType::F16 ? 2 : 4;
}

inline constexpr uint32_t kMaxRank = 4;

/// A tensor bound to memory: row-major (last dimension contiguous), no padding. data
/// is null until bound.
struct TensorView {
  void *data = nullptr;
  DType dtype = DType::BF16;
  uint32_t rank = 0;
  int64_t shape[kMaxRank] = {0, 0, 0, 0};

  /// Bytes of one row over the first dimension (all of a rank-0 tensor's one element).
  MK_HOST_DEVICE constexpr uint64_t rowBytes() const {
    uint64_t bytes = dtypeSize(dtype);
    for (uint32_t i = 1; i < rank; ++i)
      bytes *= uint64_t(shape[i]);
    return bytes;
  }
};

} // namespace mk::isa
