//===- weights.h - Binding a plan's weight tensors to safetensors data ----===//
//
// Every plan tensor with placement Weight is named by its Hugging Face name and must be
// in the safetensors set with the plan's shape. Storage follows the plan's dtype
// (bf16 for every weight today; f32 is also accepted):
//   - same dtype, aligned to the element size: used in place from the read-only
//     mapping (zero copy; the common case for bf16 checkpoints);
//   - otherwise (f16/f32 checkpoints, or a misaligned tensor): converted into an owned,
//     64-byte-aligned buffer, rounding to nearest even (mk/host/bf16.h).
// With WeightLoadOptions::hugePages (mkrun's host backend), the tensors that would be
// used in place are instead copied into one anonymous mapping on 2 MiB transparent huge
// pages (mk/host/huge_pages.h): the host kernels stream them faster than the file's
// 4 KiB page-cache pages (decode 12-21% faster, bench/NOTES.md). Where huge pages are
// off, or the copy would not fit the available memory, they stay in the mapping and
// hugePagesNote() says why.
// Before anything else, the embedding table's [vocab, hidden] is compared with the
// plan's model, so weights of another model fail with one clear message.
//
// Tensor parallelism: a sharded weight (TensorDesc's shard fields) is one of
// `shardParts` equal slices of its checkpoint tensor along `shardDim`; rank r binds
// slice shardIndex(r). The checkpoint holds the full tensor (the plan's shape with
// shape[shardDim] * shardParts). The rank reads only its slice's bytes:
//   - dim 0: rows [i * n, (i + 1) * n) are a contiguous byte range of the file, used in
//     place like a whole tensor (the rank touches only its pages);
//   - dim 1: each row's columns [i * n, (i + 1) * n) are strided, gathered (and
//     converted where needed) into an owned buffer.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/executor.h"
#include "mk/host/huge_pages.h"
#include "mk/isa/plan.h"
#include "mk/isa/status.h"
#include "mk/runtime/safetensors.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mk::runtime {

struct WeightLoadOptions {
  /// Copy the in-place tensors into 2 MiB huge pages (see the file comment). Off by
  /// default: the copy costs memory and load time, and an executor that uploads the
  /// weights (CUDA) gains nothing from it.
  bool hugePages = false;
  /// The memory the copy must fit in (with a tenth to spare); 0: MemAvailable of
  /// /proc/meminfo.
  uint64_t availableBytes = 0;
};

class WeightStore {
public:
  WeightStore();
  ~WeightStore();
  WeightStore(WeightStore &&) noexcept;
  WeightStore &operator=(WeightStore &&) noexcept;
  WeightStore(const WeightStore &) = delete;
  WeightStore &operator=(const WeightStore &) = delete;

  /// Finds, checks and (where needed) slices and converts every Weight tensor of
  /// `plan` for tensor-parallel rank `rank` (0 of 1 for a plan without TP). `plan`
  /// and `st` must outlive the store (zero-copy weights point into `st`'s mappings).
  /// Errors name the file and the tensor, e.g.
  ///   "<file>: tensor 'model.layers.0.mlp.up_proj.weight' has shape [128, 64], the
  ///    plan expects [256, 64] (is this the model the plan was compiled for?)"
  ///   "<dir>: tensor 'lm_head.weight' is missing (the plan needs it)"
  /// (a sharded tensor's expected shape is the full one). On error the store is left
  /// empty.
  Status load(const isa::Plan &plan, const SafetensorsSet &st, uint32_t rank = 0,
              const WeightLoadOptions &options = {});

  /// The data of plan tensor `tensorId` (plan dtype and shape, row-major), or nullptr
  /// when it is not a weight or load() has not succeeded. Read-only memory when
  /// isZeroCopy(): never write through it.
  void *data(uint16_t tensorId) const;
  /// Whether tensor `tensorId` points into the safetensors mapping (no copy was made;
  /// a dim-0 slice is one too).
  bool isZeroCopy(uint16_t tensorId) const;
  /// Whether tensor `tensorId` was copied into the huge-page mapping.
  bool isInHugePages(uint16_t tensorId) const;

  /// Binds every weight to `exec` (which must run the plan given to load()).
  Status bindTo(Executor &exec) const;

  /// Bytes of all weights in the plan's dtypes (what the executor streams).
  uint64_t bytes() const { return bytes_; }
  /// Bytes of the owned (converted) copies; the rest is mapped from the files or in
  /// the huge-page copy.
  uint64_t ownedBytes() const { return ownedBytes_; }
  /// Bytes copied into the huge-page mapping (0 unless asked for and possible).
  uint64_t hugePageBytes() const { return hugePages_.size(); }
  /// Why WeightLoadOptions::hugePages was asked for and not done (the weights stayed
  /// in the file mapping); empty otherwise. E.g. "transparent huge pages are 'never'
  /// (/sys/kernel/mm/transparent_hugepage/enabled)".
  const std::string &hugePagesNote() const { return hugePagesNote_; }

private:
  struct AlignedDelete {
    void operator()(uint8_t *p) const;
  };
  using OwnedBuffer = std::unique_ptr<uint8_t[], AlignedDelete>; // 64-byte aligned
  /// Moves every zero-copy tensor into one huge-page mapping, or leaves them mapped
  /// (populated) and sets hugePagesNote_.
  void copyToHugePages(uint64_t availableBytes);

  const isa::Plan *plan_ = nullptr;
  std::vector<void *> data_;       // by tensor id; nullptr for non-weights
  std::vector<bool> zeroCopy_;     // by tensor id
  std::vector<OwnedBuffer> owned_; // converted copies
  host::HugePageBuffer hugePages_; // the in-place tensors' copies, 64-byte aligned
  uint64_t bytes_ = 0;
  uint64_t ownedBytes_ = 0;
  std::string hugePagesNote_;
};

} // namespace mk::runtime
