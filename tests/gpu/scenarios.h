//===- scenarios.h - Scenarios more than one GPU test file runs ------------===//
//
// Builders of equivalence.h Scenarios shared by the per-kind tests and the determinism
// test: projections over a shape table, lm_head feeding argmax, and multi-phase
// pipelines in which tasks consume what other CTAs wrote in the same step (qkv's KV
// appends read by attention, attention partials read by the merge, a MoE layer's
// routes read by its expert tiles and combine).
//===----------------------------------------------------------------------===//
#pragma once

#include "attn_fixture.h"
#include "equivalence.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace mk::cuda::test {

using host::test::PagedCache;
using Tile = std::pair<isa::Range, isa::Range>; // rows, columns

/// x [rows, k], w [n, k] and the tiles over the [rows, n] output.
struct Shape {
  const char *name;
  int64_t rows, k, n;
  std::vector<Tile> tiles;
};

/// o_proj, down_proj, gate_up or lm_head over `shape`, two steps (the second recomputes
/// every tile in place). lm_head gets one partial slot per distinct column range plus
/// one that no tile writes.
Scenario projection(isa::TaskKind kind, const Shape &shape);

/// `s` with the optional residual of every `kind` task (o_proj, down_proj,
/// moe_combine) removed: the tensor-parallel partial that all_reduce sums.
Scenario withoutResidual(Scenario s, isa::TaskKind kind);

/// lm_head tiles of `tileCols` vocabulary columns (phase 0), then argmax tasks over
/// their partials (phase 1). Row 0's largest logit appears twice, in two tiles
/// (identical weight rows): the lower index must win on both backends.
Scenario lmHeadArgmax(int64_t rows, int64_t hidden, int64_t vocab, int64_t tileCols,
                      uint64_t steps);

/// Keeps the random cache contents of positions [0, history[s]) of every sequence s and
/// poisons every other slot, so the slots a scenario's qkv tasks append to are
/// checked for coverage like any other output.
void poisonBeyondHistory(TaskBench &b, const PagedCache &cache,
                         const std::vector<int32_t> &history);

/// One decode attention block over `steps` steps in one launch:
///   phase 0  qkv Q/K/V (K/V append at positions[b] + s)
///   phase 1  attn_decode, one task per KV head and split
///   phase 2  attn_merge per KV head
///   phase 3  o_proj + residual, two column tiles
/// history[b] is the tokens sequence b has cached, -1 for an inactive row.
struct DecodeLayerCase {
  const char *name;
  std::vector<int32_t> history;
  uint64_t steps = 1;
  uint32_t heads = 4, kvHeads = 2, hd = 32, hidden = 64;
  int64_t splits = 4, span = 16; // KV positions [s * span, (s + 1) * span) per split
  uint32_t window = 0;
};
Scenario decodeLayer(const DecodeLayerCase &c);

/// Eight rows (one inactive) across block boundaries, GQA group 4, head_dim 64, a
/// 48-token window over four splits, four steps: the pipeline and determinism tests'
/// case.
inline const DecodeLayerCase kDecodeLayerGqaWindow{
    .name = "DecodeLayerRows8Hd64Window48Steps4",
    .history = {0, 3, 31, 32, 33, -1, 90, 100},
    .steps = 4,
    .heads = 8,
    .kvHeads = 2,
    .hd = 64,
    .hidden = 256,
    .splits = 4,
    .span = 32,
    .window = 48};

/// A prefill chunk of `rows` rows at positions first.. (the last `padding` rows
/// inactive) after an earlier chunk of `first` tokens: qkv Q/K/V (phase 0), then
/// attn_prefill (phase 1) reading the keys this chunk just appended.
struct PrefillChunkCase {
  const char *name;
  int64_t first = 16, rows = 8, padding = 2;
  uint32_t heads = 4, kvHeads = 2, hd = 32, hidden = 64;
  uint32_t window = 0;
};
Scenario prefillChunk(const PrefillChunkCase &c);

/// The stages of a MoE layer, in order.
enum class MoeStage : uint8_t { Router, GateUp, Down, Combine };

/// One MoE layer (host_tasks/moe_fixture.h) of a decode batch or a prefill chunk: the
/// stages [first, last] run on the executors, one dependency phase each (the router;
/// gate_up tiles of `tile` intermediate columns for every slot; down tiles of `tile`
/// hidden columns for every slot; combine tiles of `tile` hidden columns). Stages
/// before `first` run on the host while the scenario is built, so their outputs are its
/// inputs and each kind can be checked alone. Unless `tie`, the builder checks that each
/// routed row's k-th and (k+1)-th probabilities are well apart (the routes must then
/// match exactly; moe_router.cuh says why nearer ones could differ by the exp's last
/// bit). `tie`: experts 1, 3 and 6 get one router row that beats every other on
/// positive inputs, so with k = 2 every row's choice is decided by the tie rule (1, 3).
/// Compared bit for bit besides the routes: xg when the router runs, the output when
/// the combine runs alone.
struct MoeLayerCase {
  const char *name;
  std::vector<int32_t> positions; // per row; -1: an inactive row
  isa::ProgramKind program = isa::ProgramKind::Decode;
  uint64_t steps = 1;
  uint32_t experts = 8, topK = 2;
  bool normTopkProb = true;
  int64_t hidden = 64, inter = 32;
  uint32_t tile = 16;
  MoeStage first = MoeStage::Router, last = MoeStage::Combine;
  bool tie = false;
};
Scenario moeLayer(const MoeLayerCase &c);

/// Positions of a prefill chunk of `rows` rows at first.. whose last `padding` rows
/// are inactive.
std::vector<int32_t> chunkPositions(int32_t first, int32_t rows, int32_t padding);

/// A decode batch of four (one inactive) over 16 experts, 4 per token, and a prefill
/// chunk of 40 rows (slots of more than 16 rows: the tensor-core paths) over 8: the
/// MoE cases the determinism test runs too.
MoeLayerCase moeDecodeRows4();
MoeLayerCase moePrefillRows40();

} // namespace mk::cuda::test
