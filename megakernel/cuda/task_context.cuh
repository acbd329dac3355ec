//===- task_context.cuh - What a CUDA task kernel sees ---------------------===//
//
// The CUDA twin of mk/host/task_context.h. Each kind Foo that MK_TASK_KINDS says CUDA
// implements has one file cuda/tasks/<foo>.cuh, included by kernel.cu, that
// specializes CudaTask<isa::TaskKind::Foo> in namespace mk::cuda::tasks with its
// engine and the pieces that engine runs:
//   - Engine::Own: static void run(ctx, task) (embedding, attn_merge, argmax,
//     moe_router, moe_combine);
//   - Engine::Projection: static work, columnRow, epilogue and finish, run around the
//     one project() by tasks/projection_dispatch.cuh (qkv, gate_up, o_proj, down_proj,
//     lm_head, moe_gate_up, moe_down);
//   - Engine::Attention: static work, the units run by the one attendUnits() of
//     tasks/attention_dispatch.cuh (attn_decode, attn_prefill).
// kernel.cu's dispatch is generated from the table's executors column: a kind the
// column gives CUDA without its specialization does not compile. The weights a task
// streams are its kind's footprint (mk/isa/task_footprint.h, shared with the host); the
// kernel stages the first bytes of spans[0] into shared memory before the dependency
// wait. Late weights (an embedding's rows, a MoE expert tile's expert) are never
// staged: the task reads them from global memory after the wait.
// A task runs on all kThreads threads of the worker CTA together (it may use
// __syncthreads and the CTA's scratch shared memory) and must compute exactly the
// host kernel's function (same rounding points; bf16 storage, fp32 accumulation, fixed
// reduction order, no float atomics), writing exactly its tile.
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/bf16.cuh"
#include "launch.h"

#include "mk/isa/task_footprint.h"
#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda {

using isa::kMaxWeightSpans;
using isa::role;
using isa::WeightSpan;

/// How the kernel runs a kind. Every kind is inlined into the one worker loop, and
/// ptxas keeps part of each inlined copy's registers live across the loop, so the heavy
/// engines are inlined once each, for all the kinds that use them: seven copies of the
/// projection engine's k loop do not fit the register file together (each fits alone).
enum class Engine : uint8_t {
  Own,        // CudaTask<K>::run
  Projection, // project() (tasks/projection_dispatch.cuh)
  Attention,  // attendUnits() (tasks/attention_dispatch.cuh)
};

namespace tasks {
/// The CUDA implementation of kind K. Only declared: each kind's file specializes it.
template <isa::TaskKind K> struct CudaTask;

/// Whether the kernel runs K with `engine`: false for a kind the table does not give
/// CUDA (isa::checkLaunchable refuses plans with it), without naming its CudaTask.
template <isa::TaskKind K> constexpr bool runsOn(Engine engine) {
  if constexpr (isa::implements(K, isa::Executor::Cuda))
    return CudaTask<K>::kEngine == engine;
  else
    return false;
}
} // namespace tasks

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
  const KernelParams *params; // the launch's (comm tasks: peers, epochs, watchdog)
  uint32_t taskIndex;         // the task's index in its program

  /// Rank q's copy of the comm tensor of role r (this rank's own is tensor(r).data's
  /// alias through the same mapping).
  template <typename T>
  __device__ T *peerData(const isa::TaskRecord &task, uint32_t r, uint32_t q) const {
    const CommParams &c = params->comm;
    return static_cast<T *>(c.peers[size_t(q) * c.numTensors + task.operand[r]]);
  }

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

} // namespace mk::cuda
