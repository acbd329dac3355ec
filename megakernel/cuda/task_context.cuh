//===- task_context.cuh - What a CUDA task kernel sees ---------------------===//
//
// The CUDA twin of mk/host/task_context.h. Every task kind Foo has one file
// cuda/tasks/<foo>.cuh defining, in namespace mk::cuda::tasks,
//   __device__ uint32_t spansFoo(const TaskContext &ctx, const isa::TaskRecord &task,
//                                WeightSpan *spans);   // at most kMaxWeightSpans
// and its computation in one of three forms:
//   - __device__ void runFoo(const TaskContext &ctx, const isa::TaskRecord &task);
//     (embedding, attn_merge, argmax);
//   - the pieces of a projection (projectionFoo, columnRowFoo, epilogueFoo), run by
//     tasks/projection_dispatch.cuh (qkv, gate_up, o_proj, down_proj, lm_head);
//   - the units of an attention (attentionFoo), run by tasks/attention_dispatch.cuh
//     (attn_decode, attn_prefill).
// A task runs on all kThreads threads of the worker CTA together (it may use
// __syncthreads and the CTA's scratch shared memory) and must compute exactly the
// host kernel's function (same rounding points; bf16 storage, fp32 accumulation, fixed
// reduction order, no float atomics), writing exactly its tile. spans lists the weight
// ranges the tile streams (event-free operands only, as on the host); the kernel stages
// the first bytes of spans[0] into shared memory before the dependency wait.
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/bf16.cuh"
#include "launch.h"

#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda {

using isa::role;

/// A weight range a task streams.
struct WeightSpan {
  const void *data;
  uint64_t bytes;
};
inline constexpr uint32_t kMaxWeightSpans = 4;

/// What the prefetch step staged: bytes [0, bytes) of `global` are also in shared
/// memory at `smem`. bytes is a multiple of 16 and `global` is 16-byte aligned.
struct StagedSpan {
  const uint8_t *global;
  const uint8_t *smem;
  uint32_t bytes;
};

struct TaskContext {
  const DeviceModel *model;
  const DeviceTensor *tensors; // indexed by tensor id
  uint64_t step;               // step of the launch
  bool isDecode;               // program kind
  uint8_t *scratch;            // kConfig.scratchBytes of shared memory for the task
  StagedSpan staged;

  __device__ bool has(const isa::TaskRecord &task, uint32_t r) const {
    return r < task.numOperands && task.operand[r] != isa::kNoTensor;
  }
  __device__ const DeviceTensor &tensor(const isa::TaskRecord &task, uint32_t r) const {
    return tensors[task.operand[r]];
  }
  template <typename T>
  __device__ T *data(const isa::TaskRecord &task, uint32_t r) const {
    return static_cast<T *>(tensors[task.operand[r]].data);
  }
  template <typename T>
  __device__ T *dataOrNull(const isa::TaskRecord &task, uint32_t r) const {
    return has(task, r) ? data<T>(task, r) : nullptr;
  }

  /// Where to read weight bytes at `p` from: the staged shared-memory copy when p lies
  /// in the staged prefix, else global memory. Reads of at most 16 bytes at 16-byte
  /// aligned addresses never straddle the boundary.
  template <typename T> __device__ const T *weight(const T *p) const {
    // As integers: staged.global may be null (nothing staged), and p may lie in
    // another allocation; a wrapped difference is >= bytes either way.
    const uint64_t off = uint64_t(reinterpret_cast<uintptr_t>(p) -
                                  reinterpret_cast<uintptr_t>(staged.global));
    return off < staged.bytes ? reinterpret_cast<const T *>(staged.smem + off) : p;
  }
};

/// Rows [r0, r1) over the first dimension of a tensor, as a byte span.
__device__ inline WeightSpan rowSpan(const DeviceTensor &t, int64_t r0, int64_t r1) {
  uint64_t rowBytes = t.dtype == 2 || t.dtype == 3 ? 4 : 2; // F32/I32 : BF16/F16
  for (uint32_t i = 1; i < t.rank; ++i)
    rowBytes *= uint64_t(t.shape[i]);
  return {static_cast<const uint8_t *>(t.data) + r0 * rowBytes,
          uint64_t(r1 - r0) * rowBytes};
}

__device__ inline WeightSpan wholeSpan(const DeviceTensor &t) {
  return rowSpan(t, 0, t.rank ? t.shape[0] : 0);
}

} // namespace mk::cuda
