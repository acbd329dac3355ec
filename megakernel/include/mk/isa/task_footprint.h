//===- task_footprint.h - The weight rows each task kind streams ----------===//
//
// A task's weight footprint: the rows of its weight operands that it reads at rows no
// event decides, so a worker may stream them before it waits (the protocol's prefetch
// step). Defined once here and used by
//   - the host executor: prefetchTask pulls the spans into the cache;
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
//
// No STL: compiled by g++ (host executor, compiler) and nvcc.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/host_device.h"
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

/// What a kind's tile range[1] indexes. The plan verifier checks range[1] against
/// the extent this names, so every kind states it next to its weight rows.
enum class TileAxis : uint8_t {
  OutColumns,  // columns of operand "out" (its last dimension)
  WeightHeads, // heads of operand "w": its rows / the model's head_dim
  KvHeads,     // the model's KV heads
  Vocabulary,  // the model's vocabulary
  None,        // not an index into a tensor or the model (argmax: the LM-head tiles)
};

template <TaskKind K> struct Footprint;

// The rows to gather depend on `tokens`, which decode's previous-step argmax writes.
template <> struct Footprint<TaskKind::Embedding> {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  static constexpr uint32_t kLateWeights = 1u << role(TaskKind::Embedding, "table");
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

// The section's weight rows (heads range[1] of hd rows each), the RMSNorm weight, the
// bias rows of the same heads and the QK-norm weight.
template <> struct Footprint<TaskKind::Qkv> {
  static constexpr TileAxis kRange1 = TileAxis::WeightHeads;
  static constexpr TaskKind kKind = TaskKind::Qkv;
  static constexpr uint32_t kLateWeights = 0;
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
template <> struct Footprint<TaskKind::AttnDecode> {
  static constexpr TileAxis kRange1 = TileAxis::KvHeads;
  static constexpr uint32_t kLateWeights = 0;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

// Reads only activations.
template <> struct Footprint<TaskKind::AttnMerge> {
  static constexpr TileAxis kRange1 = TileAxis::KvHeads;
  static constexpr uint32_t kLateWeights = 0;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

// Reads only the KV cache and activations, which other tasks write.
template <> struct Footprint<TaskKind::AttnPrefill> {
  static constexpr TileAxis kRange1 = TileAxis::KvHeads;
  static constexpr uint32_t kLateWeights = 0;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &, Emit &) {}
};

/// o_proj and down_proj: the weight rows of the output columns range[1].
template <TaskKind Kind> struct ResidualProjectionFootprint {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  static constexpr uint32_t kLateWeights = 0;
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
template <> struct Footprint<TaskKind::GateUp> {
  static constexpr TileAxis kRange1 = TileAxis::OutColumns;
  static constexpr TaskKind kKind = TaskKind::GateUp;
  static constexpr uint32_t kLateWeights = 0;
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
template <> struct Footprint<TaskKind::LmHead> {
  static constexpr TileAxis kRange1 = TileAxis::Vocabulary;
  static constexpr TaskKind kKind = TaskKind::LmHead;
  static constexpr uint32_t kLateWeights = 0;
  template <class Emit>
  MK_HOST_DEVICE static void weights(const FootprintInput &in, Emit &emit) {
    constexpr uint32_t kNormW = role(kKind, "norm_w");
    emit(role(kKind, "w"), in.task.range[1].begin, in.task.range[1].end);
    emit(kNormW, 0, in.rows(kNormW));
  }
};

// Reads only activations.
template <> struct Footprint<TaskKind::Argmax> {
  static constexpr TileAxis kRange1 = TileAxis::None;
  static constexpr uint32_t kLateWeights = 0;
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
