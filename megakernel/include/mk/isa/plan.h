//===- plan.h - The in-memory plan: what mkc writes and mkrun executes ----===//
//
// A plan is a tensor table, one or more programs (tasks, events, queue order) and
// the model metadata the runtime needs. plan_file.h reads and writes it; plan_verify.h
// checks every invariant the executors rely on. The *Name() functions return "invalid"
// for values outside their enum (a plan read from disk may hold any byte).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/target.h"
#include "mk/isa/task_record.h"
#include "mk/isa/tensor_view.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mk::isa {

const char *dtypeName(DType t);

/// Where a tensor lives.
enum class Placement : uint8_t {
  Weight = 0,     // bound by name to a safetensors tensor (name = HF name)
  Activation = 1, // a range [offset, offset + bytes) of the program's activation arena
  KvCache = 2,    // paged KV cache of `layer`; the runtime allocates it
  StepState = 3,  // per-step inputs/outputs owned by the runtime (tokens, positions, ...)
  Comm = 4,       // symmetric communication buffer (tensor parallelism)
};
const char *placementName(Placement p);

struct TensorDesc {
  std::string name;
  DType dtype = DType::BF16;
  Placement placement = Placement::Activation;
  uint32_t rank = 0;
  int64_t shape[kMaxRank] = {0, 0, 0, 0};
  uint64_t offset = 0; // Activation: byte offset in the arena; otherwise 0
  uint16_t layer = kNoLayer;
  /// Activation and comm tensors: the program that owns it (index into Plan::programs).
  uint16_t program = 0;
  /// Tensor parallelism. A sharded weight is one of `shardParts` equal slices of the
  /// checkpoint tensor along dimension `shardDim`; the plan's shape is one slice
  /// (checkpointShape() is the whole). Rank r binds slice shardIndex(r): consecutive
  /// groups of `shardReplicas` ranks share a slice (KV heads fewer than the ranks).
  /// Replicated (every rank binds the whole tensor): parts 1, replicas 1.
  uint8_t shardDim = 0;
  uint16_t shardParts = 1;
  uint16_t shardReplicas = 1;

  bool sharded() const { return shardParts > 1; }
  uint32_t shardIndex(uint32_t rank) const {
    return shardParts > 1 ? (rank / shardReplicas) % shardParts : 0;
  }
  /// The checkpoint tensor's dimension d (the plan's, times the parts along shardDim).
  int64_t checkpointDim(uint32_t d) const {
    return d == shardDim ? shape[d] * shardParts : shape[d];
  }

  uint64_t numElements() const {
    uint64_t n = 1;
    for (uint32_t i = 0; i < rank; ++i)
      n *= static_cast<uint64_t>(shape[i]);
    return n;
  }
  uint64_t bytes() const { return numElements() * dtypeSize(dtype); }
};

enum class ProgramKind : uint8_t { Decode = 0, Prefill = 1 };
const char *programKindName(ProgramKind k);

struct EventDesc {
  std::string name;   // for diagnostics and traces
  uint32_t count = 0; // producer signals per step
};

struct Program {
  std::string name;
  ProgramKind kind = ProgramKind::Decode;
  uint32_t rows = 0; // decode: batch B; prefill: chunk C
  uint64_t arenaBytes = 0;
  std::vector<TaskRecord> tasks;
  std::vector<EventDesc> events;
  std::vector<uint32_t> order; // queue order: a permutation of task indices
};

enum class RopeStyle : uint8_t { RotateHalf = 0, Interleaved = 1 };
const char *ropeStyleName(RopeStyle s);

/// What the runtime needs to know about the model without reading config.json again.
struct ModelMeta {
  std::string family; // llama, qwen2, qwen3, mistral, qwen3_moe, mixtral
  uint32_t vocabSize = 0;
  uint32_t hiddenSize = 0;
  uint32_t intermediateSize = 0;
  uint32_t numLayers = 0;
  uint32_t numHeads = 0;
  uint32_t numKvHeads = 0;
  uint32_t headDim = 0;
  uint32_t maxSeqLen = 0;
  uint32_t kvBlockSize = 16;
  uint32_t slidingWindow = 0; // 0 = none
  float rmsNormEps = 1e-5f;
  float ropeTheta = 10000.0f;
  RopeStyle ropeStyle = RopeStyle::RotateHalf;
  bool ropeLlama3 = false;
  float ropeFactor = 1.0f;
  float ropeLowFreqFactor = 1.0f;
  float ropeHighFreqFactor = 1.0f;
  uint32_t ropeOriginalMaxPos = 0;
  bool tieWordEmbeddings = false;
  bool attentionBias = false;
  bool qkNorm = false;
  // Mixture of experts (moe_routes.h); numExperts 0: a dense model.
  uint32_t numExperts = 0;
  uint32_t numExpertsPerTok = 0;    // k: experts per token
  bool normTopkProb = false;        // renormalize the k selected probabilities to sum 1
  uint32_t moeIntermediateSize = 0; // I of an expert's gate/up [I, H] and down [H, I]
  int32_t bosTokenId = -1;
  std::vector<int32_t> eosTokenIds;
  uint64_t configHash = 0; // FNV-1a 64 of the config.json bytes
};

/// The most ranks a tensor-parallel plan may have.
inline constexpr uint32_t kMaxTensorParallel = 64;

/// What one rank of an N-way tensor-parallel plan holds of the model (N = 1: all of it).
/// ModelMeta keeps the whole model's numbers; these are the per-rank ones. Query heads,
/// MLP and expert intermediate columns and the vocabulary are split N ways; KV heads are
/// split while there are at least N of them, else each is replicated on kvReplicas =
/// N / numKvHeads consecutive ranks (rank r holds KV head r / kvReplicas).
struct RankDims {
  uint32_t heads = 0, kvHeads = 0, kvReplicas = 1;
  uint32_t intermediate = 0, moeIntermediate = 0, vocab = 0;
};
/// Assumes a model whose dims the plan verifier accepted for `tp` (divisible).
RankDims rankDims(const ModelMeta &m, uint32_t tp);

struct Plan {
  TargetKind target = TargetKind::Host;
  uint32_t tensorParallel = 1;
  ModelMeta model;
  std::vector<TensorDesc> tensors;
  std::vector<Program> programs;
};

} // namespace mk::isa
