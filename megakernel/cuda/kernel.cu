//===- kernel.cu - The persistent megakernel --------------------------------===//
//
// One CTA per SM (grid from occupancy), kThreads threads each, runs
// protocol::ctaWorkerLoop over the plan's tickets until every step is claimed. The
// task kernels (cuda/tasks/<kind>.cuh) are all in this one translation unit, so the
// dispatch, generated from MK_TASK_KINDS, inlines them; a kind the table gives CUDA
// without its CudaTask specialization does not compile here.
//===----------------------------------------------------------------------===//
#include "launch.h"

#include "config.cuh"
#include "device/staging.cuh"
#include "task_context.cuh"

#include "tasks/all_gather.cuh"
#include "tasks/all_reduce.cuh"
#include "tasks/argmax.cuh"
#include "tasks/attn_decode.cuh"
#include "tasks/attn_merge.cuh"
#include "tasks/attn_prefill.cuh"
#include "tasks/down_proj.cuh"
#include "tasks/embedding.cuh"
#include "tasks/gate_up.cuh"
#include "tasks/lm_head.cuh"
#include "tasks/moe_combine.cuh"
#include "tasks/moe_down.cuh"
#include "tasks/moe_gate_up.cuh"
#include "tasks/moe_router.cuh"
#include "tasks/o_proj.cuh"
#include "tasks/qkv.cuh"

#include "tasks/attention_dispatch.cuh"
#include "tasks/projection_dispatch.cuh"

#include "mk/isa/task_footprint.h"

#include "mk/isa/protocol.h"

#include <cuda/atomic>
#include <cuda_runtime.h>

namespace mk::cuda {

namespace {

__device__ __forceinline__ uint64_t globalTimerNs() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

/// Runs kind K if it is its own engine; else returns the shared engine that runs it.
/// Naming CudaTask<K> needs its specialization: a kind the table gives CUDA without
/// one is a compile error here (incomplete type).
template <isa::TaskKind K>
__device__ __forceinline__ Engine runOwnOrPickEngine(const TaskContext &ctx,
                                                     const isa::TaskRecord &task) {
  if constexpr (!isa::implements(K, isa::Executor::Cuda)) {
    __trap(); // isa::checkLaunchable refuses plans with the kind
    return Engine::Own;
  } else if constexpr (tasks::CudaTask<K>::kEngine == Engine::Own) {
    tasks::CudaTask<K>::run(ctx, task);
    return Engine::Own;
  } else {
    return tasks::CudaTask<K>::kEngine;
  }
}

/// Runs one task. Every kind is inlined into the worker loop, and the two heavy
/// engines once each, after the switch: the projection kinds share one project()
/// (tasks/projection_dispatch.cuh), the attention kinds one attendUnits()
/// (tasks/attention_dispatch.cuh). That is what keeps the whole kernel within the
/// register file without spills (the build's ptxas gate).
__device__ __forceinline__ void runTask(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
  Engine engine = Engine::Own; // kinds outside the table: the plan verifier refuses them
  switch (static_cast<isa::TaskKind>(task.kind)) {
#define MK_X(Enum, ...)                                                                  \
  case isa::TaskKind::Enum:                                                              \
    engine = runOwnOrPickEngine<isa::TaskKind::Enum>(ctx, task);                         \
    break;
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
  if (engine == Engine::Projection)
    tasks::runProjection(ctx, task);
  else if (engine == Engine::Attention)
    tasks::runAttention(ctx, task);
}

/// forEachLateWeight's sink that adds up the bytes of a task's late weight regions.
struct LateBytes {
  const DeviceTensor *tensors;
  uint64_t bytes;
  __device__ void operator()(uint16_t id, int64_t r0, int64_t r1, int64_t e0,
                             int64_t e1) {
    bytes += isa::lateRegionBytes(tensors[id], r0, r1, e0, e1);
  }
};

/// The protocol's executor hooks for one worker CTA.
struct DeviceExec {
  const KernelParams &p;
  TaskContext &ctx; // shared memory, written by the leader
  Stager stager;
  uint64_t *shared;
  WeightSpan *spans;            // [kMaxWeightSpans] in shared memory
  StagedSpan *staged;           // [kStageSlots] in shared memory: each slot's span
  uint64_t *footprintBytes;     // [kStageSlots] in shared memory: each slot's task's
                                // static weight footprint
  uint64_t &weightBytes;        // shared memory: the bytes this CTA's tasks streamed
  DeviceProfileRecord &current; // shared memory: nothing of it stays in registers
  uint64_t waitStartNs = 0;

  __device__ bool leader() const { return threadIdx.x == 0; }
  __device__ void barrier() const { __syncthreads(); }
  __device__ void fence() const { __threadfence(); }
  __device__ uint64_t *broadcast() { return shared; }

  __device__ bool stopRequested() {
    return ::cuda::atomic_ref<uint32_t, ::cuda::thread_scope_device>(*p.stop).load(
               ::cuda::memory_order_relaxed) != 0;
  }

  __device__ void onClaim(uint32_t task, uint64_t step) {
    if (p.profile)
      current = {task, blockIdx.x, step, globalTimerNs(), 0, 0, -1, 0};
  }

  /// Starts staging the first bytes of the task's main weight span into `slot` (every
  /// thread). Weights are never written during a launch, so reading them before the
  /// wait, and while the previous task runs, is safe. The leader lists the spans into
  /// shared memory (a per-thread array indexed at run time would live in local memory)
  /// and records the slot's span; then every thread joins the copy.
  __device__ void prefetch(const isa::TaskRecord &task, uint32_t, uint64_t,
                           uint32_t slot) {
    if (threadIdx.x == 0) {
      const uint32_t n =
          isa::taskWeightSpans({task, ctx.tensors, ctx.model->headDim}, spans);
      uint64_t footprint = 0;
      for (uint32_t i = 0; i < n; ++i)
        footprint += spans[i].bytes;
      footprintBytes[slot] = footprint;
      uint32_t bytes = 0;
      if (n > 0 && (reinterpret_cast<uintptr_t>(spans[0].data) & 15) == 0) {
        const uint64_t b =
            spans[0].bytes < kStageSlotBytes ? spans[0].bytes : kStageSlotBytes;
        bytes = uint32_t(b) & ~15u;
      }
      staged[slot] = {static_cast<const uint8_t *>(n > 0 ? spans[0].data : nullptr),
                      stager.slot(slot), bytes};
    }
    __syncthreads();
    stager.stage(staged[slot].global, staged[slot].bytes, slot);
  }

  __device__ void awaitPrefetch(uint32_t slot) { stager.wait(slot); }

  /// Leader, after the wait (and its fence) and before the barrier that starts the
  /// task: the task's step and staged span in the shared context; the task's weight
  /// bytes (its static footprint and the late spans the wait decided: what the host
  /// executor counts, mk/isa/task_footprint.h) and, when profiling, the expert a MoE
  /// tile serves. Late spans read activations, which the wait made visible. (When the
  /// wait gave up, the launch fails and the count is dropped; what it reads then is
  /// still an expert id or -1, or a token id: the only values their writers store.)
  __device__ void prepare(const isa::TaskRecord &task, uint32_t taskIndex, uint64_t step,
                          uint32_t slot) {
    ctx.step = step;
    ctx.taskIndex = taskIndex;
    ctx.staged = staged[slot];
    const isa::LateFootprintInput late{task, ctx.tensors};
    LateBytes sink{ctx.tensors, 0};
    isa::forEachLateWeight(late, sink);
    weightBytes += footprintBytes[slot] + sink.bytes;
    if (p.profile)
      current.expert = isa::taskExpert(late);
  }

  /// The leader's wait: back off with __nanosleep, and give up (reporting the wait)
  /// when another worker stopped the launch or this wait outlived the watchdog.
  __device__ bool spin(const isa::TaskRecord &task, uint32_t taskIndex, uint64_t step,
                       uint32_t wait, uint64_t spins) {
    if (spins == 0) {
      waitStartNs = globalTimerNs();
      return true;
    }
    __nanosleep(spins < 64 ? 32 : 256);
    if (spins % 256 != 0)
      return true;
    if (stopRequested())
      return false;
    if (p.watchdogNs == 0 || globalTimerNs() - waitStartNs < p.watchdogNs)
      return true;
    if (atomicCAS(&p.hang->hung, 0u, 1u) == 0u) {
      const isa::Wait &w = task.wait[wait];
      p.hang->worker = blockIdx.x;
      p.hang->task = taskIndex;
      p.hang->wait = wait;
      p.hang->step = step;
      p.hang->counter = protocol::loadAcquire(&p.state->events[w.event]);
      p.hang->target = protocol::waitTarget(w, step);
      p.hang->peer = kNoPeer;
    }
    ::cuda::atomic_ref<uint32_t, ::cuda::thread_scope_device>(*p.stop).store(
        1, ::cuda::memory_order_relaxed);
    return false;
  }

  __device__ void onReady(uint32_t, uint64_t) {
    if (p.profile)
      current.readyNs = globalTimerNs();
  }

  __device__ __forceinline__ void run(const isa::TaskRecord &task, uint32_t, uint64_t) {
    runTask(ctx, task);
  }

  /// Leader, after the task ran and before its signals: for an argmax task with the
  /// token ring on, copy the step's tokens to mapped host memory and publish them. It
  /// must precede the signals: decode's argmax writes the step-state tokens in place,
  /// and once it signals, the next step may run through to its own argmax and
  /// overwrite them. (Announcing after the signals would take the system fence off
  /// the critical path, but then a later step's count could reach the host before
  /// this step's entries: one fence per decode step, a microsecond or two, buys the
  /// simple invariant "count c means steps < c / argmax tasks are in the ring".)
  __device__ void publish(const isa::TaskRecord &task, uint32_t, uint64_t step) {
    if (p.ring && task.kind == uint16_t(isa::TaskKind::Argmax)) {
      constexpr uint32_t kTokensOut = role(isa::TaskKind::Argmax, "tokens_out");
      const int32_t *tokens = ctx.data<const int32_t>(task, kTokensOut);
      for (uint32_t r = task.range[0].begin; r < task.range[0].end && r < p.ringRows; ++r)
        p.ring[step * p.ringRows + r] = tokens[r];
      // The ring writes reach host memory before the count that announces them.
      __threadfence_system();
      ::cuda::atomic_ref<uint32_t, ::cuda::thread_scope_system>(*p.ringCount)
          .fetch_add(1, ::cuda::memory_order_release);
    }
  }

  /// Leader, after the signals: the task's profile record.
  __device__ void onDone(uint32_t, uint64_t) {
    if (p.profile) {
      current.doneNs = globalTimerNs();
      const unsigned long long i = atomicAdd(p.profileCount, 1ull);
      if (i < p.profileCapacity)
        p.profile[i] = current;
    }
  }
};

__global__ void __launch_bounds__(kThreads, 1)
    megakernel(const __grid_constant__ KernelParams params) {
  extern __shared__ __align__(128) uint8_t smem[];
  uint64_t *control =
      reinterpret_cast<uint64_t *>(smem + kConfig.stageBytes + kConfig.scratchBytes);
  __shared__ uint64_t broadcastWords[3];
  __shared__ WeightSpan spanSlots[kMaxWeightSpans];
  __shared__ StagedSpan stagedSlots[kStageSlots];
  __shared__ uint64_t footprintSlots[kStageSlots];
  __shared__ uint64_t sharedWeightBytes;
  __shared__ TaskContext sharedCtx;
  __shared__ DeviceProfileRecord sharedProfile;
  if (threadIdx.x == 0) {
    sharedWeightBytes = 0;
    sharedCtx = TaskContext{params.model,
                            params.tensors,
                            0,
                            params.isDecode != 0,
                            smem + kConfig.stageBytes,
                            StagedSpan{nullptr, nullptr, 0},
                            &params,
                            0};
  }
  __syncthreads();
  static_assert(kStageSlots == protocol::kPrefetchSlots);
  DeviceExec exec{
      params,      sharedCtx,      Stager{smem, control}, broadcastWords, spanSlots,
      stagedSlots, footprintSlots, sharedWeightBytes,     sharedProfile,  0};
  exec.stager.init();
  protocol::ctaWorkerLoop(exec, *params.state, params.tasks, params.order,
                          params.numTasks, params.numSteps, params.lookahead != 0);
  // Written by the leader, which alone added to it.
  if (threadIdx.x == 0)
    params.weightBytes[blockIdx.x] = sharedWeightBytes;
}

} // namespace

uint32_t megakernelSmemBytes(int major) {
  return dynamicSmemBytes(major >= 9 ? kSm90 : kSm80);
}

int megakernelOccupancy(int major, int *blocksPerSm) {
  cudaError_t e =
      cudaFuncSetAttribute(megakernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           int(megakernelSmemBytes(major)));
  if (e != cudaSuccess)
    return int(e);
  return int(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      blocksPerSm, megakernel, kThreads, megakernelSmemBytes(major)));
}

int launchMegakernel(const KernelParams &params, uint32_t grid, int major, void *stream) {
  const uint32_t smemBytes = megakernelSmemBytes(major);
  cudaError_t e = cudaFuncSetAttribute(
      megakernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smemBytes));
  if (e != cudaSuccess)
    return int(e);
  megakernel<<<grid, kThreads, smemBytes, static_cast<cudaStream_t>(stream)>>>(params);
  return int(cudaGetLastError());
}

} // namespace mk::cuda
