//===- task_footprint.h - The weight rows each task kind streams ----------===//
//
// A task's weight footprint: the rows of its weight operands that it reads at rows no
// event decides, so a worker may stream them before it waits (the protocol's prefetch
// step), and the rows an event decides (its late weights: an embedding's table rows, a
// MoE expert tile's expert), known only after the wait. Defined once here and used by
//   - the host executor: taskStreamBytes counts the bytes a launch streams;
//   - the CUDA kernel: the prefetch stages the first bytes of spans[0] into shared
//     memory (so each kind lists its main weight tile first);
//   - mk-emit-plan: every weight read box of every task must be exactly its footprint
//     (compiler/lib/Analysis/WeightFootprint.cpp).
// Never activations, KV caches or step state: tasks the worker has not waited for may
// still be writing them.
//
// Each kind K of MK_TASK_KINDS specializes Footprint<K> (the primary template is only
// declared: a kind without one does not compile):
//   static constexpr TileAxis kRange1;        // what the tile's range[1] indexes (the
//                                             // plan verifier bounds it by that)
//   static constexpr uint32_t kLateWeights;   // bits 1 << role of weights read at
//                                             // rows an event decides (never prefetched)
//   template <class Emit>
//   static void weights(const FootprintInput &in, Emit &emit);
//       // emit(role, begin, end) per weight rows [begin, end) over the first dimension
//       // of operand `role` (all of the other dimensions); at most kMaxWeightSpans.
//   template <class Emit>
//   static void lateWeights(const LateFootprintInput &in, Emit &emit);
//       // after the task's wait, reading the activations that decide the rows:
//       // emit(tensor, r0, r1, e0, e1) per weight region rows [r0, r1) x elements
//       // [e0, e1) of each row (a row: everything past the first dimension) of tensor
//       // id `tensor`, which need not be an operand (expert e of a group is tensor
//       // operand + e). Only roles in kLateWeights, or the groups they name.
//
// No STL: compiled by g++ (host executor, compiler) and nvcc.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/host_device.h"
#include "mk/isa/moe_routes.h"
#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"
#include "mk/isa/tensor_view.h"

#include <cstdint>

namespace mk::isa {

/// A contiguous byte range of a weight that a task streams.
struct WeightSpan {
  const void *data;
  uint64_t bytes;
};
inline constexpr uint32_t kMaxWeightSpans = 4;

/// Rows [r0, r1) over the first dimension of a tensor, as a byte span.
MK_HOST_DEVICE WeightSpan rowSpan(const TensorView &t, int64_t r0, int64_t r1) {
  const uint64_t rowBytes = t.rowBytes();
  return {static_cast<const uint8_t *>(t.data) + uint64_t(r0) * rowBytes,
          uint64_t(r1 - r0) * rowBytes};
}

/// All of a tensor.
MK_HOST_DEVICE WeightSpan wholeSpan(const TensorView &t) {
  return rowSpan(t, 0, t.rank ? t.shape[0] : 0);
}

/// What a footprint may depend on: the record, the shapes of its operands and the
/// model's head size. Data pointers are not read (the compiler has none).
struct FootprintInput {
  const TaskRecord &task;
  const TensorView *tensors; // indexed by tensor id
  uint32_t headDim;

  /// Whether the (optional) operand `role` names a tensor.
  MK_HOST_DEVICE bool has(uint32_t role) const {
    return role < task.numOperands && task.operand[role] != kNoTensor;
  }
  MK_HOST_DEVICE const TensorView &tensor(uint32_t role) const {
    return tensors[task.operand[role]];
  }
  /// Rows of operand `role` over its first dimension.
  MK_HOST_DEVICE int64_t rows(uint32_t role) const {
    const TensorView &t = tensor(role);
    return t.rank ? t.shape[0] : 0;
  }
};

/// What a late footprint may read: the record and every tensor bound to memory. Only
/// the executors have it (the data of activations the task waited for, such as the
/// routes of its MoE layer or the tokens of an embedding); never before the wait.
struct LateFootprintInput {
  const TaskRecord &task;
  const TensorView *tensors; // indexed by tensor id, data bound

  MK_HOST_DEVICE const TensorView &tensor(uint32_t role) const {
    return tensors[task.operand[role]];
  }
  template <typename T> MK_HOST_DEVICE const T *data(uint32_t role) const {
    return static_cast<const T *>(tensor(role).data);
  }
  /// Elements of one row (over the first dimension) of tensor id `id`.
  MK_HOST_DEVICE int64_t rowElements(uint16_t id) const {
    const TensorView &t = tensors[id];
    return int64_t(t.rowBytes() / dtypeSize(t.dtype));
  }
};

/// What a kind's tile range[1] indexes. The plan verifier checks range[1] against
/// the extent this names, so every kind states it next to its weight rows.
enum class TileAxis : uint8_t {
  OutColumns,  // columns of operand "out" (its last dimension)
  WeightHeads, // heads of operand "w": its rows / the model's head_dim
  KvHeads,     // the model's KV heads
  Vocabulary,  // the model's vocabulary
  Experts,     // the model's experts (numExperts)
  None,        // not an index into a tensor or the model (argmax: the LM-head tiles)
};

/// The default of every kind without late weights.
struct NoLateWeights {
  static constexpr uint32_t kLateWeights = 0;
  template <class Emit>
  MK_HOST_DEVICE static void lateWeights(const LateFootprintInput &, Emit &) {}
};

template <TaskKind K> struct Footprint;

// The rows to gather depend on `tokens`, which decode's previous-step argmax writes:
// late, the hidden columns range[1] of the table row of each row's token.
template <> struct Footprint<TaskKind::Embedding> {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  static constexpr TaskKind kKind = TaskKind::Embedding;
  static constexpr uint32_t kLateWeights = 1u << role(kKind, "table");
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
  template <class Emit>
  MK_HOST_DEVICE static void lateWeights(const LateFootprintInput &in, Emit &emit) {
    constexpr uint32_t kTable = role(kKind, "table");
    const int32_t *tokens = in.data<int32_t>(role(kKind, "tokens"));
    const uint16_t table = in.task.operand[kTable];
    for (uint32_t r = in.task.range[0].begin; r < in.task.range[0].end; ++r)
      emit(table, tokens[r], int64_t(tokens[r]) + 1, in.task.range[1].begin,
           in.task.range[1].end);
  }
};

// The section's weight rows (heads range[1] of hd rows each), the RMSNorm weight, the
// bias rows of the same heads and the QK-norm weight.
template <> struct Footprint<TaskKind::Qkv> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::WeightHeads;
  static constexpr TaskKind kKind = TaskKind::Qkv;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &in, Emit &emit) {
    constexpr uint32_t kNormW = role(kKind, "norm_w"), kW = role(kKind, "w");
    constexpr uint32_t kBias = role(kKind, "bias");
    constexpr uint32_t kHeadNormW = role(kKind, "head_norm_w");
    const int64_t n0 = int64_t(in.task.range[1].begin) * in.headDim;
    const int64_t n1 = int64_t(in.task.range[1].end) * in.headDim;
    emit(kW, n0, n1);
    emit(kNormW, 0, in.rows(kNormW));
    if (in.has(kBias))
      emit(kBias, n0, n1);
    if (in.has(kHeadNormW))
      emit(kHeadNormW, 0, in.rows(kHeadNormW));
  }
};

// Reads only the KV cache and activations, which other tasks write.
template <> struct Footprint<TaskKind::AttnDecode> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::KvHeads;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

// Reads only activations.
template <> struct Footprint<TaskKind::AttnMerge> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::KvHeads;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

// Reads only the KV cache and activations, which other tasks write.
template <> struct Footprint<TaskKind::AttnPrefill> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::KvHeads;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

/// o_proj and down_proj: the weight rows of the output columns range[1].
template <TaskKind Kind> struct ResidualProjectionFootprint : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &in, Emit &emit) {
    emit(role(Kind, "w"), in.task.range[1].begin, in.task.range[1].end);
  }
};
template <>
struct Footprint<TaskKind::OProj> : ResidualProjectionFootprint<TaskKind::OProj> {};
template <>
struct Footprint<TaskKind::DownProj> : ResidualProjectionFootprint<TaskKind::DownProj> {};

// The gate and up rows of the intermediate columns range[1], and the RMSNorm weight.
template <> struct Footprint<TaskKind::GateUp> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  static constexpr TaskKind kKind = TaskKind::GateUp;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &in, Emit &emit) {
    constexpr uint32_t kNormW = role(kKind, "norm_w");
    const Range cols = in.task.range[1];
    emit(role(kKind, "w_gate"), cols.begin, cols.end);
    emit(role(kKind, "w_up"), cols.begin, cols.end);
    emit(kNormW, 0, in.rows(kNormW));
  }
};

// The LM-head rows of the vocabulary range[1], and the final RMSNorm weight.
template <> struct Footprint<TaskKind::LmHead> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::Vocabulary;
  static constexpr TaskKind kKind = TaskKind::LmHead;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &in, Emit &emit) {
    constexpr uint32_t kNormW = role(kKind, "norm_w");
    emit(role(kKind, "w"), in.task.range[1].begin, in.task.range[1].end);
    emit(kNormW, 0, in.rows(kNormW));
  }
};

// Reads only activations.
template <> struct Footprint<TaskKind::Argmax> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::None;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

// The router's weight whole (every expert's logit is needed for the softmax) and the
// post-attention RMSNorm weight.
template <> struct Footprint<TaskKind::MoeRouter> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::Experts;
  static constexpr TaskKind kKind = TaskKind::MoeRouter;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &in, Emit &emit) {
    constexpr uint32_t kW = role(kKind, "w"), kNormW = role(kKind, "norm_w");
    emit(kW, 0, in.rows(kW));
    emit(kNormW, 0, in.rows(kNormW));
  }
};

/// moe_gate_up and moe_down: which expert the tile's slot range[2] serves is known
/// only after the router's event, so nothing is streamed before the wait; after it,
/// the rows range[1] of each of its `Groups` (expert group roles) of expert
/// slotExpert[s] (tensor operand + e), or nothing when s is past the count.
template <TaskKind Kind, uint32_t... Groups> struct MoeExpertFootprint {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  static constexpr uint32_t kLateWeights = ((1u << Groups) | ...);
  /// Roles whose operand names expert 0 of numExperts consecutive weight tensors.
  static constexpr uint32_t kExpertGroups = kLateWeights;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
  template <class Emit>
  MK_HOST_DEVICE static void lateWeights(const LateFootprintInput &in, Emit &emit) {
    const int32_t expert =
        moeSlotExpert(in.data<int32_t>(role(Kind, "routes")), in.task.range[2].begin);
    if (expert < 0)
      return;
    (emitRows(in, emit, uint16_t(in.task.operand[Groups] + expert)), ...);
  }
  template <class Emit>
  MK_HOST_DEVICE static void emitRows(const LateFootprintInput &in, Emit &emit,
                                      uint16_t id) {
    emit(id, in.task.range[1].begin, in.task.range[1].end, 0, in.rowElements(id));
  }
};
template <>
struct Footprint<TaskKind::MoeGateUp>
    : MoeExpertFootprint<TaskKind::MoeGateUp, role(TaskKind::MoeGateUp, "w_gate"),
                         role(TaskKind::MoeGateUp, "w_up")> {};
template <>
struct Footprint<TaskKind::MoeDown>
    : MoeExpertFootprint<TaskKind::MoeDown, role(TaskKind::MoeDown, "w")> {};

// Reads only activations.
template <> struct Footprint<TaskKind::MoeCombine> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

// The comm kinds read activations and symmetric buffers only.
template <> struct Footprint<TaskKind::AllReduce> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};
template <> struct Footprint<TaskKind::AllGather> : NoLateWeights {
  static constexpr TileAxis kRange1 = TileAxis::None; // [0, T): this rank's LM-head tiles
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

/// Calls emit(role, begin, end) for each weight rows entry of the task's footprint, in
/// its kind's order. Kinds outside the table (refused by the plan verifier) emit none.
template <class Emit>
MK_HOST_DEVICE void forEachWeightRows(const FootprintInput &in, Emit &emit) {
  switch (static_cast<TaskKind>(in.task.kind)) {
#define MK_X(Enum, ...)                                                                  \
  case TaskKind::Enum:                                                                   \
    Footprint<TaskKind::Enum>::weights(in, emit);                                        \
    return;
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
}

/// Calls emit(tensor, r0, r1, e0, e1) for each late weight region of the task, in its
/// kind's order. Only after the task's wait (it reads activations).
template <class Emit>
MK_HOST_DEVICE void forEachLateWeight(const LateFootprintInput &in, Emit &emit) {
  switch (static_cast<TaskKind>(in.task.kind)) {
#define MK_X(Enum, ...)                                                                  \
  case TaskKind::Enum:                                                                   \
    Footprint<TaskKind::Enum>::lateWeights(in, emit);                                    \
    return;
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
}

/// Bytes of the late region rows [r0, r1) x elements [e0, e1) of `t`.
MK_HOST_DEVICE uint64_t lateRegionBytes(const TensorView &t, int64_t r0, int64_t r1,
                                        int64_t e0, int64_t e1) {
  return uint64_t(r1 - r0) * uint64_t(e1 - e0) * dtypeSize(t.dtype);
}

/// The expert a moe_gate_up / moe_down tile serves (its slot's), -1 for a slot past
/// the count and for every other kind. Only after the task's wait.
MK_HOST_DEVICE int32_t taskExpert(const LateFootprintInput &in) {
  const auto kind = static_cast<TaskKind>(in.task.kind);
  if (kind == TaskKind::MoeGateUp)
    return moeSlotExpert(in.data<int32_t>(role(TaskKind::MoeGateUp, "routes")),
                         in.task.range[2].begin);
  if (kind == TaskKind::MoeDown)
    return moeSlotExpert(in.data<int32_t>(role(TaskKind::MoeDown, "routes")),
                         in.task.range[2].begin);
  return -1;
}

/// What range[1] of a task of `kind` indexes.
constexpr TileAxis tileAxis(TaskKind kind) {
  switch (kind) {
#define MK_X(Enum, ...)                                                                  \
  case TaskKind::Enum:                                                                   \
    return Footprint<TaskKind::Enum>::kRange1;
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
  return TileAxis::None;
}

/// Bits 1 << role of the weights `kind` reads at rows an event decides.
constexpr uint32_t lateWeightRoles(TaskKind kind) {
  switch (kind) {
#define MK_X(Enum, ...)                                                                  \
  case TaskKind::Enum:                                                                   \
    return Footprint<TaskKind::Enum>::kLateWeights;
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
  return 0;
}

namespace detail {
template <TaskKind K> constexpr uint32_t expertGroupsOf() {
  if constexpr (requires { Footprint<K>::kExpertGroups; })
    return Footprint<K>::kExpertGroups;
  else
    return 0;
}
} // namespace detail

/// Bits 1 << role of `kind`'s operands that name expert 0 of an expert group (the
/// tensors operand .. operand + numExperts - 1); 0 for kinds without one.
constexpr uint32_t expertGroupRoles(TaskKind kind) {
  switch (kind) {
#define MK_X(Enum, ...)                                                                  \
  case TaskKind::Enum:                                                                   \
    return detail::expertGroupsOf<TaskKind::Enum>();
    MK_TASK_KINDS(MK_X)
#undef MK_X
  }
  return 0;
}

namespace detail {
/// forEachWeightRows' sink that appends byte spans.
struct WeightSpanSink {
  const FootprintInput &in;
  WeightSpan *spans;
  uint32_t count;
  MK_HOST_DEVICE void operator()(uint32_t role, int64_t begin, int64_t end) {
    spans[count++] = rowSpan(in.tensor(role), begin, end);
  }
};
} // namespace detail

/// The task's footprint as byte spans of its bound weights; returns how many were
/// written to spans (at most kMaxWeightSpans).
MK_HOST_DEVICE uint32_t taskWeightSpans(const FootprintInput &in, WeightSpan *spans) {
  detail::WeightSpanSink sink{in, spans, 0};
  forEachWeightRows(in, sink);
  return sink.count;
}

} // namespace mk::isa
