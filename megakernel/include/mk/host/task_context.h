//===- task_context.h - What a host task kernel sees, and the kernel table ---===//
//
// The host executor runs a task by calling taskFunction(kind)(context, record). The
// context binds tensor ids to memory for one launch of one program; the record is the
// task's 128-byte ISA record (tile ranges, aux, flags, operand ids by role).
//
// Kernels assume a plan that passed isa::verifyPlan and tensors bound with the plan's
// dtypes and shapes: they check that with assert(), once per task, not per element.
//
// Numerics (DESIGN.md "Numerics"): bf16 storage, fp32 accumulation and statistics,
// every reduction in a fixed order (results do not depend on tiling, thread count or
// run), no float atomics. Each kernel writes exactly its tile and nothing else.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/bf16.h"
#include "mk/isa/plan.h"
#include "mk/isa/task_footprint.h"
#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"
#include "mk/isa/tensor_view.h"

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace mk::host {

/// A tensor bound to memory: the tensor view both executors share.
using TensorRef = isa::TensorView;

/// The isa::DType that stores a C++ element type.
template <typename T> inline constexpr isa::DType kDTypeOf = isa::DType::F32;
template <> inline constexpr isa::DType kDTypeOf<bf16> = isa::DType::BF16;
template <> inline constexpr isa::DType kDTypeOf<float> = isa::DType::F32;
template <> inline constexpr isa::DType kDTypeOf<int32_t> = isa::DType::I32;

using isa::role;

/// How a comm task waits for a peer's flag (mk/isa/protocol.h, "Cross-rank
/// communication"): called between polls; false = give up (the launch is stopping).
class CommSpin {
public:
  virtual bool spin(uint32_t peer, uint64_t spins) = 0;

protected:
  ~CommSpin() = default;
};

/// A tensor-parallel rank's view of its group (the defaults: one rank, no peers).
struct RankContext {
  uint32_t rank = 0;
  uint32_t ranks = 1;
  /// peers[q] = rank q's tensor table (the same tensor ids on every rank); comm tasks
  /// read only the Comm tensors' memory through it.
  const TensorRef *const *peers = nullptr;
  uint64_t commBase = 0;  // epochs of the launch's comm sites start after it
  uint32_t commSites = 0; // comm sites per step of the program
  CommSpin *spin = nullptr;
};

/// Everything a task kernel may use besides its record. Cheap to copy; one per launch
/// (or per step: only `step` changes between the steps of a launch).
struct TaskContext {
  const isa::ModelMeta *model = nullptr;
  const isa::Program *program = nullptr;
  const isa::TensorDesc *descs = nullptr; // [numTensors]: the plan's tensor table
  const TensorRef *tensors = nullptr;     // [numTensors], indexed by tensor id
  uint32_t numTensors = 0;
  uint64_t step = 0; // step of the launch; decode step s uses positions[r] + s
  RankContext comm;
  /// Nonzero: this launch's serial number, unique in the process. Within one launch
  /// and step an activation is written before its readers run and not again until they
  /// are done (the scoreboard's hazards), so a worker may keep what it derived from one
  /// (the normalized rows of kernels/rms_norm.h) for the step's later tasks. 0: keep
  /// nothing (a caller that rewrites inputs between runs of tasks, as tests do).
  uint64_t launch = 0;

  /// Query heads per KV head on this rank: the model's ratio, except under tensor
  /// parallelism with fewer KV heads than ranks, where each rank holds one KV head (a
  /// replica) for its numHeads / N query heads (isa::rankDims).
  uint32_t kvGroup() const {
    const isa::RankDims d = isa::rankDims(*model, comm.ranks);
    return d.heads / d.kvHeads;
  }

  /// The first global vocabulary id of the LM-head weight operand `role`: under
  /// tensor parallelism the weight is this rank's slice of the vocabulary.
  int64_t vocabBase(const isa::TaskRecord &task, uint32_t role) const {
    if (!descs || comm.ranks < 2)
      return 0;
    const isa::TensorDesc &d = descs[task.operand[role]];
    return d.sharded() ? int64_t(d.shardIndex(comm.rank)) * d.shape[0] : 0;
  }

  bool isDecode() const { return program && program->kind == isa::ProgramKind::Decode; }

  /// Whether the (optional) operand `role` of `task` names a tensor.
  bool has(const isa::TaskRecord &task, uint32_t role) const {
    return role < task.numOperands && task.operand[role] != isa::kNoTensor;
  }

  const TensorRef &tensor(uint16_t id) const {
    assert(id < numTensors && "tensor id out of range");
    return tensors[id];
  }
  const TensorRef &tensor(const isa::TaskRecord &task, uint32_t role) const {
    assert(has(task, role) && "required operand is missing");
    return tensor(task.operand[role]);
  }

  /// Typed pointer to the data of operand `role`, e.g. data<const bf16>(t, kX). The
  /// element type must match the tensor's dtype.
  template <typename T> T *data(const isa::TaskRecord &task, uint32_t role) const {
    const TensorRef &ref = tensor(task, role);
    assert(ref.dtype == kDTypeOf<std::remove_const_t<T>> && "operand dtype mismatch");
    return static_cast<T *>(ref.data);
  }
  /// Like data(), or nullptr when the optional operand is absent.
  template <typename T> T *dataOrNull(const isa::TaskRecord &task, uint32_t role) const {
    return has(task, role) ? data<T>(task, role) : nullptr;
  }
};

/// Tensor id of the plan tensor called `name`, or kNoTensor.
uint16_t findTensor(const isa::Plan &plan, std::string_view name);

/// A context for program `programIndex` of `plan` over `tensors` (one TensorRef per plan
/// tensor).
TaskContext makeTaskContext(const isa::Plan &plan, uint32_t programIndex,
                            const TensorRef *tensors, uint32_t numTensors,
                            uint64_t step = 0, const RankContext &comm = {});

/// A task kernel: computes the task's tile.
using TaskFn = void (*)(const TaskContext &, const isa::TaskRecord &);

/// The host kernel of `kind`, or nullptr for a kind outside the ISA or one the host
/// does not implement (isa::checkLaunchable refuses plans with those). The table is
/// built from MK_TASK_KINDS: a kind `Foo` is implemented by tasks::HostTask<Foo> in
/// megakernel/host/tasks/<foo>.h.
TaskFn taskFunction(isa::TaskKind kind);

/// Runs `task` with its kind's kernel.
inline void runTask(const TaskContext &ctx, const isa::TaskRecord &task) {
  TaskFn fn = taskFunction(static_cast<isa::TaskKind>(task.kind));
  assert(fn && "task kind outside the ISA or not implemented by the host");
  fn(ctx, task);
}

using isa::kMaxWeightSpans;
using isa::WeightSpan;

/// The weight ranges `task` streams: its kind's footprint (mk/isa/task_footprint.h) over
/// the bound tensors. Returns the number of spans written to `spans`.
uint32_t taskWeightSpans(const TaskContext &ctx, const isa::TaskRecord &task,
                         WeightSpan (&spans)[kMaxWeightSpans]);

/// The protocol's prefetch step (claim -> prefetch -> wait) on the host: the bytes of
/// taskWeightSpans, which the task will stream. It issues no software prefetch (the
/// hardware prefetchers stream the rows; see task_context.cpp for the measurement).
uint64_t taskStreamBytes(const TaskContext &ctx, const isa::TaskRecord &task);

/// What a task's late weights were (after its wait).
struct LateFetch {
  uint64_t bytes = 0;  // of every late region
  int32_t expert = -1; // the expert a moe_gate_up / moe_down tile serves, else -1
};

/// The protocol's late prefetch step (wait -> prefetch late -> run) on the host: the
/// regions its kind's lateWeights names (mk/isa/task_footprint.h; rows an event
/// decided, such as a MoE tile's expert), counted. Only after the task's wait: it reads
/// activations.
LateFetch lateTaskStream(const TaskContext &ctx, const isa::TaskRecord &task);

} // namespace mk::host
