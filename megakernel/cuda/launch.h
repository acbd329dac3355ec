//===- launch.h - What the host passes to the persistent kernel ------------===//
//
// Plain C++ (no CUDA headers): executor.cpp is compiled by the host compiler and
// kernel.cu by nvcc, and both see these layouts. Every pointer is device memory unless
// noted.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/protocol.h"
#include "mk/isa/task_record.h"
#include "mk/isa/tensor_view.h"

#include <cstdint>

namespace mk::cuda {

/// A tensor in device memory: the tensor view both executors share (data is a device
/// pointer).
using DeviceTensor = isa::TensorView;

inline constexpr uint32_t kMaxHeadDim = 256;

/// The model facts task kernels need (isa::ModelMeta, flattened for the device).
/// RoPE inverse frequencies are computed on the host by the host executor's own
/// function, so both executors rotate by the same angles.
struct DeviceModel {
  uint32_t headDim;
  uint32_t numHeads;   // of one tensor-parallel rank (isa::rankDims)
  uint32_t numKvHeads; // of one rank
  float rmsNormEps;
  float attnScale;                   // 1 / sqrt(headDim), rounded once on the host
  uint32_t numExpertsPerTok;         // MoE: k (isa::ModelMeta)
  uint32_t normTopkProb;             // MoE: renormalize each row's top-k weights
  float invFreq[2][kMaxHeadDim / 2]; // [0]: plain, [1]: llama3-scaled
};

/// One executed task as the device records it (globaltimer nanoseconds).
struct DeviceProfileRecord {
  uint32_t task;
  uint32_t worker;
  uint64_t step;
  uint64_t claimNs, readyNs, doneNs;
  int32_t expert; // the expert a moe_gate_up / moe_down tile served; -1: none
  uint32_t reserved;
};

inline constexpr uint32_t kNoPeer = 0xFFFFFFFFu;

/// Written once, by the first worker whose wait outlived the watchdog. A comm task's
/// wait for a peer's flag (peer != kNoPeer) records the flag's value as counter and the
/// epoch it waited for as target; an event wait records the event's.
struct HangReport {
  uint32_t hung; // 0 = no hang
  uint32_t worker;
  uint32_t task;
  uint32_t wait;
  uint64_t step;
  uint64_t counter;
  uint64_t target;
  uint32_t peer;
  uint32_t flag; // comm wait: index of the flag in the flags tensor
};

/// Tensor parallelism (one rank of `ranks`; a single-rank plan has ranks 1 and no comm
/// tasks). A comm task of launch-local step s at site aux[0] has epoch
///   e = base + s * sites + aux[0] + 1   and uses buffer e % 2 (mk/isa/protocol.h).
struct CommParams {
  uint32_t rank, ranks;
  uint64_t base;  // the program's comm epochs used by earlier launches
  uint32_t sites; // comm sites per step of the program
  uint32_t numTensors;
  void *const *peers; // [ranks][numTensors]: rank q's copy of comm tensor id, as this
                      // GPU addresses it; null for other tensors
  // [numTensors]: the multicast address of comm tensor id (a multimem.st there lands
  // in every rank's copy), null without multimem (device/comm.cuh); the table itself
  // is null in a plan without comm tensors.
  void *const *multicast;
  // [numTensors]: TensorDesc::shardIndex(rank) of each tensor (lm_head's vocabulary
  // offset: its slice's first global id is shardIndex * its rows).
  const uint32_t *shardIndex;
};

struct KernelParams {
  const isa::TaskRecord *tasks; // [numTasks]
  const uint32_t *order;        // [numTasks] queue order
  uint32_t numTasks;
  uint64_t numSteps;
  protocol::LaunchState *state; // device memory: ticket 0, events -> zeroed counters
  const DeviceTensor *tensors;
  const DeviceModel *model;
  uint32_t isDecode;
  uint32_t lookahead; // claim and stage each CTA's next task ahead (protocol.h)
  // Profiling (profile == nullptr: off).
  DeviceProfileRecord *profile;
  uint64_t profileCapacity;
  unsigned long long *profileCount;
  // Token ring in mapped host memory (ring == nullptr: off): after step s's argmax
  // task writes its rows, the leader copies them to ring[s * ringRows + r] and adds 1
  // to *ringCount with system-scope release.
  int32_t *ring;
  uint32_t ringRows;
  uint32_t *ringCount;
  // Watchdog: a wait longer than this (0 = unbounded) stops the kernel.
  uint64_t watchdogNs;
  HangReport *hang;
  uint32_t *stop; // set to 1 to stop every worker at its next claim or spin
  CommParams comm;
  // [grid] per CTA, written once when the CTA's loop ends: the bytes of the weight
  // spans its tasks streamed (each task's static footprint and late spans,
  // mk/isa/task_footprint.h), which the executor sums into lastLaunchWeightBytes.
  uint64_t *weightBytes;
};

/// Dynamic shared memory of a worker CTA on a device of compute capability `major`.
uint32_t megakernelSmemBytes(int major);

/// Prepares and launches the kernel on `stream` (a cudaStream_t) with `grid` CTAs.
/// Returns a cudaError_t value (0 = success).
int launchMegakernel(const KernelParams &params, uint32_t grid, int major, void *stream);

/// CTAs of the kernel that fit on one SM (cudaOccupancyMaxActiveBlocksPerMultiprocessor);
/// returns a cudaError_t value.
int megakernelOccupancy(int major, int *blocksPerSm);

} // namespace mk::cuda
