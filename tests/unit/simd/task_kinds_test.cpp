//===- task_kinds_test.cpp - Every task kind: the same bits on every target ===//
//
// Each kind runs on random non-zero inputs, with sizes that are no multiple of the
// dot contract's 32 partials (hidden 200, intermediate 45, head_dim 40, vocabulary 37,
// 37 keys), under each compiled SIMD target this CPU supports, and its outputs must
// equal, byte for byte, those of the scalar fallback. The MoE kinds run their layer
// (6 experts, 2 per token, 5 rows of which one is inactive) up to the kind. The scenario
// table is indexed by task kind, so a new kind does not compile until it has one.
//===----------------------------------------------------------------------===//
#include "simd_targets.h"

#include "attn_fixture.h"
#include "comm_fixture.h"
#include "moe_fixture.h"

#include "mk/isa/task_kinds.h"

#include <array>

namespace mk::host::test {
namespace {

using Bytes = std::vector<std::vector<std::byte>>;

constexpr uint32_t kHeads = 6, kKvHeads = 2, kHd = 40, kHidden = 200, kInter = 45,
                   kVocab = 37;

isa::ModelMeta model() {
  isa::ModelMeta m = testModel(kHeads, kKvHeads, kHd, kHidden);
  m.vocabSize = kVocab;
  m.intermediateSize = kInter;
  m.ropeFactor = 8;
  m.ropeLowFreqFactor = 1;
  m.ropeHighFreqFactor = 4;
  m.ropeOriginalMaxPos = 32;
  return m;
}

Bytes embedding() {
  TaskBench b(model());
  const uint16_t tokens = b.i32({4}, {3, 36, 0, 17});
  const uint16_t table = b.randomBf16({kVocab, kHidden});
  const uint16_t out = b.add(isa::DType::BF16, {4, kHidden});
  b.run(makeTask(isa::TaskKind::Embedding, {tokens, table, out}, {0, 4}, {0, kHidden}));
  return {b.bytes(out)};
}

// Prefill rows at positions 0..4 plus a padding row: Q with bias and QK-norm, K with
// llama3 RoPE, V; K and V go to the cache.
Bytes qkv() {
  TaskBench b(model(), isa::ProgramKind::Prefill);
  const int64_t rows = 6;
  PagedCache cache(b, 1, 2, kKvHeads, kHd);
  std::vector<int32_t> pos = {0, 1, 2, 3, 4, -1}, slots(rows, -1);
  for (int64_t r = 0; r < 5; ++r)
    slots[r] = int32_t(cache.slot(0, pos[r]));
  const uint16_t positions = b.i32({rows}, pos), kvSlots = b.i32({rows}, slots);
  const uint16_t x = b.randomBf16({rows, kHidden}, 2.0f), norm = b.randomBf16({kHidden});
  const uint16_t q = b.add(isa::DType::BF16, {rows, kHeads * kHd});
  const uint16_t no = isa::kNoTensor;
  const uint32_t flags = isa::kFlagRopeLlama3;
  for (auto [section, heads, out] : {std::tuple{isa::QkvSection::Q, kHeads, q},
                                     std::tuple{isa::QkvSection::K, kKvHeads, cache.k},
                                     std::tuple{isa::QkvSection::V, kKvHeads, cache.v}}) {
    const bool isQ = section == isa::QkvSection::Q;
    const uint16_t w = b.randomBf16({heads * kHd, kHidden}, 0.25f);
    const uint16_t bias = isQ ? b.randomBf16({heads * kHd}, 0.5f) : no;
    const uint16_t headNorm = isQ ? b.randomBf16({kHd}) : no;
    b.run(
        makeTask(isa::TaskKind::Qkv,
                 {x, norm, w, bias, headNorm, out, positions, kvSlots, cache.blockTable},
                 {0, uint32_t(rows)}, {0, heads}, {0, 0}, uint32_t(section), 0, flags));
  }
  return {b.bytes(q), b.bytes(cache.k), b.bytes(cache.v)};
}

// Decode step 1 over two KV splits; sequence lengths 37, 5 and 0 (inactive).
Bytes attnDecode() {
  TaskBench b(model());
  const int64_t rows = 3, splits = 2;
  PagedCache cache(b, rows, 4, kKvHeads, kHd);
  const uint16_t lens = b.i32({rows}, {36, 4, 0});
  const uint16_t q = b.randomBf16({rows, kHeads * kHd}, 2.0f);
  const uint16_t po = b.add(isa::DType::F32, {rows, kHeads, splits, kHd});
  const uint16_t plse = b.add(isa::DType::F32, {rows, kHeads, splits});
  for (uint32_t g = 0; g < kKvHeads; ++g)
    for (uint32_t s = 0; s < splits; ++s)
      b.run(makeTask(isa::TaskKind::AttnDecode,
                     {q, cache.k, cache.v, cache.blockTable, lens, po, plse}, {0, rows},
                     {g, g + 1}, {32 * s, 32 * (s + 1)}, s),
            1);
  return {b.bytes(po), b.bytes(plse)};
}

Bytes attnMerge() {
  TaskBench b(model());
  const int64_t rows = 2, splits = 3;
  const uint16_t po = b.add(isa::DType::F32, {rows, kHeads, splits, kHd});
  const uint16_t plse = b.add(isa::DType::F32, {rows, kHeads, splits});
  const uint16_t out = b.add(isa::DType::BF16, {rows, kHeads * kHd});
  std::uniform_real_distribution<float> value(-2.0f, 2.0f), lse(-3.0f, 6.0f);
  for (int64_t i = 0; i < b.numElements(po); ++i)
    b.data<float>(po)[i] = value(b.rng);
  for (int64_t i = 0; i < b.numElements(plse); ++i)
    b.data<float>(plse)[i] = lse(b.rng);
  b.run(makeTask(isa::TaskKind::AttnMerge, {po, plse, out}, {0, rows}, {0, kKvHeads},
                 {0, 0}, splits));
  return {b.bytes(out)};
}

// A chunk at positions 30..36 plus a padding row: up to 37 keys, some in a window.
Bytes attnPrefill() {
  TaskBench b(model(), isa::ProgramKind::Prefill);
  const int64_t rows = 8;
  PagedCache cache(b, 1, 3, kKvHeads, kHd);
  const uint16_t positions = b.i32({rows}, {30, 31, 32, 33, 34, 35, 36, -1});
  const uint16_t q = b.randomBf16({rows, kHeads * kHd}, 2.0f);
  const uint16_t out = b.add(isa::DType::BF16, {rows, kHeads * kHd});
  const uint16_t windowed = b.add(isa::DType::BF16, {rows, kHeads * kHd});
  for (auto [o, window] : {std::pair{out, 0u}, std::pair{windowed, 11u}})
    b.run(makeTask(isa::TaskKind::AttnPrefill,
                   {q, cache.k, cache.v, cache.blockTable, positions, o}, {0, rows},
                   {0, kKvHeads}, {0, 0}, 0, window,
                   window ? uint32_t(isa::kFlagSlidingWindow) : 0u));
  return {b.bytes(out), b.bytes(windowed)};
}

template <isa::TaskKind Kind> Bytes residualProjection() {
  TaskBench b(model());
  // o_proj: heads * hd -> hidden; down_proj: intermediate -> hidden.
  const int64_t rows = 5, k = Kind == isa::TaskKind::OProj ? kHeads * kHd : kInter;
  const uint16_t x = b.randomBf16({rows, k}), w = b.randomBf16({kHidden, k}, 0.2f);
  const uint16_t res = b.randomBf16({rows, kHidden});
  const uint16_t out = b.add(isa::DType::BF16, {rows, kHidden});
  b.run(makeTask(Kind, {x, w, res, out}, {0, rows}, {0, kHidden}));
  return {b.bytes(out)};
}

Bytes gateUp() {
  TaskBench b(model());
  const int64_t rows = 9; // more than one row block
  const uint16_t x = b.randomBf16({rows, kHidden}, 2.0f), norm = b.randomBf16({kHidden});
  const uint16_t wg = b.randomBf16({kInter, kHidden}, 0.2f);
  const uint16_t wu = b.randomBf16({kInter, kHidden}, 0.2f);
  const uint16_t out = b.add(isa::DType::BF16, {rows, kInter});
  b.run(makeTask(isa::TaskKind::GateUp, {x, norm, wg, wu, out}, {0, rows}, {0, kInter}));
  return {b.bytes(out)};
}

Bytes lmHead() {
  TaskBench b(model());
  const int64_t rows = 3, tiles = 2;
  const uint16_t x = b.randomBf16({rows, kHidden}, 2.0f), norm = b.randomBf16({kHidden});
  const uint16_t w = b.randomBf16({kVocab, kHidden}, 0.2f);
  const uint16_t logits = b.add(isa::DType::F32, {rows, kVocab});
  const uint16_t pm = b.add(isa::DType::F32, {rows, tiles, 2});
  for (uint32_t t = 0; t < tiles; ++t)
    b.run(makeTask(isa::TaskKind::LmHead, {x, norm, w, logits, pm}, {0, rows},
                   {t * 20, std::min(kVocab, (t + 1) * 20)}, {0, 0}, t));
  return {b.bytes(logits), b.bytes(pm)};
}

Bytes argmax() {
  TaskBench b(model());
  const int64_t rows = 3, tiles = 4;
  const uint16_t pm = b.add(isa::DType::F32, {rows, tiles, 2});
  const uint16_t tokens = b.add(isa::DType::I32, {rows});
  std::uniform_real_distribution<float> value(-5.0f, 5.0f);
  for (int64_t i = 0; i < rows * tiles; ++i) {
    b.data<float>(pm)[2 * i] = value(b.rng);
    b.data<float>(pm)[2 * i + 1] = float(i % tiles * 10 + i % 7);
  }
  b.run(makeTask(isa::TaskKind::Argmax, {pm, tokens}, {0, rows}, {0, 0}, {0, 0}, tiles));
  return {b.bytes(tokens)};
}

// A MoE layer up to `upTo`, returning that kind's outputs.
Bytes moe(isa::TaskKind upTo) {
  TaskBench b(model());
  const MoeLayer l(b, {7, -1, 3, 12, 0}, 6, 2, true, kHidden, kInter);
  b.run(l.routerTask());
  if (upTo == isa::TaskKind::MoeRouter)
    return {b.bytes(l.xg), b.bytes(l.routes), b.bytes(l.routeWeights)};
  for (uint32_t s = 0; s < l.slots; ++s)
    b.run(l.gateUpTask(s, {0, kInter}));
  if (upTo == isa::TaskKind::MoeGateUp)
    return {b.bytes(l.act)};
  for (uint32_t s = 0; s < l.slots; ++s)
    b.run(l.downTask(s, {0, kHidden}));
  if (upTo == isa::TaskKind::MoeDown)
    return {b.bytes(l.expertOut)};
  b.run(l.combineTask({0, l.rows}, {0, kHidden}));
  return {b.bytes(l.out)};
}
template <isa::TaskKind Kind> Bytes moeUpTo() { return moe(Kind); }

// The comm kinds on 3 ranks (threads); their sums are scalar fp32 on every target.
Bytes allReduce() {
  CommRanks c(3, 3, kHidden, 2, 2);
  c.run(
      {c.reduceTask({0, kHidden / 2}, 0, 0), c.reduceTask({kHidden / 2, kHidden}, 0, 1)},
      0, 0, 1);
  Bytes all;
  for (uint32_t r = 0; r < c.ranks; ++r)
    all.push_back(c.bench[r]->bytes(c.out));
  return all;
}
Bytes allGather() {
  CommRanks c(3, 2, kHidden, 3, 2);
  for (uint32_t r = 0; r < c.ranks; ++r)
    c.bench[r]->fillRandomBf16(c.partial); // unused by the gather; ids stay aligned
  for (uint32_t r = 0; r < c.ranks; ++r) {
    float *local = c.bench[r]->data<float>(c.local);
    for (int64_t i = 0; i < int64_t(c.rows) * c.tiles * 2; ++i)
      local[i] = float(r) + 0.25f * float(i);
  }
  c.run({c.gatherTask(0)}, 0, 0, 1);
  Bytes all;
  for (uint32_t r = 0; r < c.ranks; ++r)
    all.push_back(c.bench[r]->bytes(c.gathered));
  return all;
}

struct Scenario {
  isa::TaskKind kind;
  Bytes (*run)();
};

constexpr Scenario kScenarios[] = {
    {isa::TaskKind::Embedding, embedding},
    {isa::TaskKind::Qkv, qkv},
    {isa::TaskKind::AttnDecode, attnDecode},
    {isa::TaskKind::AttnMerge, attnMerge},
    {isa::TaskKind::AttnPrefill, attnPrefill},
    {isa::TaskKind::OProj, residualProjection<isa::TaskKind::OProj>},
    {isa::TaskKind::GateUp, gateUp},
    {isa::TaskKind::DownProj, residualProjection<isa::TaskKind::DownProj>},
    {isa::TaskKind::LmHead, lmHead},
    {isa::TaskKind::Argmax, argmax},
    {isa::TaskKind::MoeRouter, moeUpTo<isa::TaskKind::MoeRouter>},
    {isa::TaskKind::MoeGateUp, moeUpTo<isa::TaskKind::MoeGateUp>},
    {isa::TaskKind::MoeDown, moeUpTo<isa::TaskKind::MoeDown>},
    {isa::TaskKind::MoeCombine, moeUpTo<isa::TaskKind::MoeCombine>},
    {isa::TaskKind::AllReduce, allReduce},
    {isa::TaskKind::AllGather, allGather},
};
static_assert(std::size(kScenarios) == isa::kNumTaskKinds,
              "every task kind needs a scenario here");
constexpr bool scenariosInKindOrder() {
  for (uint32_t k = 0; k < isa::kNumTaskKinds; ++k)
    if (kScenarios[k].kind != isa::TaskKind(k))
      return false;
  return true;
}
static_assert(scenariosInKindOrder(), "kScenarios[k] must be the scenario of kind k");

class TaskKindsOnTarget : public ::testing::TestWithParam<std::string> {};

TEST_P(TaskKindsOnTarget, EveryKindGivesTheFallbacksBits) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  for (const Scenario &s : kScenarios) {
    SCOPED_TRACE(isa::taskKindName(s.kind));
    expectSameBitsAsFallback(GetParam(), s.run);
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, TaskKindsOnTarget,
                         ::testing::ValuesIn(compiledTargetNames()),
                         [](const auto &info) { return info.param; });

} // namespace
} // namespace mk::host::test
