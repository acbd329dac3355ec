//===- cuda_attention_test.cpp - CUDA vs host: attention kinds and pipelines ===//
//
// attn_decode (KV splits, sliding window, GQA group sizes 1 to 8, inactive rows, decode
// steps > 0 in one launch), attn_merge (empty splits, all-empty rows), attn_prefill
// (causal chunks with padding rows, windows), and pipelines where attention reads what
// qkv tasks on other CTAs appended to the paged cache in the same step.
//===----------------------------------------------------------------------===//
#include "equivalence.h"
#include "scenarios.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mk::cuda::test {
namespace {

//===-- attn_decode (+ attn_merge) ----------------------------------------===//

struct DecodeCase {
  const char *name;
  uint64_t steps = 1; // decode steps 0 .. steps - 1: step s attends seq_lens + s keys
  uint32_t window = 0;
  uint32_t heads = 8, kvHeads = 2, hd = 32;
  std::vector<int32_t> lens = {20, 0, 5, 50}; // seq_lens; 0 = inactive row
  int64_t splits = 4, span = 16;
};

/// attn_decode tiles per KV head and split (phase 0), then attn_merge per KV head
/// (phase 1). The partials have one split slot more than the tasks write: it must
/// stay poisoned, and the merge must not read it.
Scenario attnDecode(const DecodeCase &c) {
  constexpr int64_t bs = 16;
  const int64_t rows = int64_t(c.lens.size()), covered = c.splits * c.span;
  isa::ModelMeta model = testModel(c.heads, c.kvHeads, c.hd, 64);
  model.maxSeqLen = uint32_t(covered);
  Scenario s(model);
  s.steps = c.steps;
  TaskBench &b = s.bench;
  for (int32_t n : c.lens)
    EXPECT_LE(n + int64_t(c.steps) - 1, covered) << "the splits must cover every key";
  PagedCache cache(b, rows, (covered + bs - 1) / bs, c.kvHeads, c.hd, bs);
  const uint16_t seqLens = b.i32({rows}, c.lens);
  const uint16_t q = b.randomBf16({rows, int64_t(c.heads) * c.hd}, 2.0f);
  const uint16_t po = b.add(isa::DType::F32, {rows, c.heads, c.splits + 1, c.hd});
  const uint16_t plse = b.add(isa::DType::F32, {rows, c.heads, c.splits + 1});
  const uint16_t out = b.add(isa::DType::BF16, {rows, int64_t(c.heads) * c.hd});
  for (uint16_t id : {po, plse, out})
    b.poison(id);
  const uint32_t flags = c.window ? uint32_t(isa::kFlagSlidingWindow) : 0u;
  const isa::Range all{0, uint32_t(rows)};
  for (uint32_t g = 0; g < c.kvHeads; ++g)
    for (int64_t sp = 0; sp < c.splits; ++sp)
      s.add(makeTask(isa::TaskKind::AttnDecode,
                     {q, cache.k, cache.v, cache.blockTable, seqLens, po, plse}, all,
                     {g, g + 1}, {uint32_t(sp * c.span), uint32_t((sp + 1) * c.span)},
                     uint32_t(sp), c.window, flags));
  // The last KV head's merge leaves the last row poisoned.
  for (uint32_t g = 0; g < c.kvHeads; ++g) {
    const bool last = g + 1 == c.kvHeads && rows > 1;
    s.add(makeTask(isa::TaskKind::AttnMerge, {po, plse, out},
                   {0, uint32_t(last ? rows - 1 : rows)}, {g, g + 1},
                   {0, uint32_t(c.splits)}, uint32_t(c.splits)),
          1);
  }
  return s;
}

std::vector<ScenarioCase> decodeCases() {
  // 32 rows with lengths all over [0, 125], every seventh inactive.
  std::vector<int32_t> many(32);
  for (int32_t r = 0; r < 32; ++r)
    many[r] = r % 7 == 3 ? 0 : (r * 37) % 126;
  const std::vector<DecodeCase> cases = {
      {.name = "Group4"},
      {.name = "Group2", .heads = 4},
      {.name = "Steps0To5", .steps = 6},
      {.name = "Steps0To11Group2", .steps = 12, .heads = 4},
      {.name = "Window10", .window = 10},
      {.name = "Window24Steps0To3", .steps = 4, .window = 24},
      {.name = "Rows8Hd128Group8Long",
       .steps = 2,
       .heads = 8,
       .kvHeads = 1,
       .hd = 128,
       .lens = {1, 200, 0, 64, 65, 130, 17, 255},
       .splits = 4,
       .span = 64},
      {.name = "Rows3Hd64Mha",
       .heads = 4,
       .kvHeads = 4,
       .hd = 64,
       .lens = {33, 64, 1},
       .splits = 2,
       .span = 32},
      {.name = "Rows32Hd64Window40Steps3",
       .steps = 3,
       .window = 40,
       .heads = 8,
       .kvHeads = 2,
       .hd = 64,
       .lens = many,
       .splits = 4,
       .span = 32},
      {.name = "Hd256", .heads = 2, .kvHeads = 1, .hd = 256, .lens = {40, 9}},
  };
  std::vector<ScenarioCase> out;
  for (const DecodeCase &c : cases)
    out.push_back({c.name, [c] { return attnDecode(c); }});
  return out;
}

class CudaAttnDecode : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaAttnDecode, MatchesHost) { expectCudaMatchesHost(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CudaAttnDecode, ::testing::ValuesIn(decodeCases()),
                         caseName);

//===-- attn_merge on synthetic partials ----------------------------------===//

/// Random partials where some splits are empty (lse -inf, o 0), every split of one row
/// is empty (the merge writes zeros), and a stride slot no split uses holds NaN
/// sentinels that must not be read.
Scenario attnMerge(int64_t rows, uint32_t heads, uint32_t kvHeads, uint32_t hd,
                   int64_t splits) {
  Scenario s(testModel(heads, kvHeads, hd, 64));
  TaskBench &b = s.bench;
  const int64_t stride = splits + 1;
  const uint16_t po = b.add(isa::DType::F32, {rows, heads, stride, hd});
  const uint16_t plse = b.add(isa::DType::F32, {rows, heads, stride});
  const uint16_t out = b.add(isa::DType::BF16, {rows, int64_t(heads) * hd});
  for (uint16_t id : {po, plse, out})
    b.poison(id);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f), lse(-3.0f, 6.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t sp = 0; sp < splits; ++sp) {
        const int64_t at = (r * heads + h) * stride + sp;
        const bool empty = (r % 3 == 1 && sp % 2 == 1) || r == rows - 1;
        b.data<float>(plse)[at] =
            empty ? -std::numeric_limits<float>::infinity() : lse(b.rng);
        for (int64_t d = 0; d < hd; ++d)
          b.data<float>(po)[at * hd + d] = empty ? 0.0f : value(b.rng);
      }
  for (uint32_t g = 0; g < kvHeads; ++g)
    s.add(makeTask(isa::TaskKind::AttnMerge, {po, plse, out},
                   {g == 0 ? 0u : 1u, uint32_t(rows)}, {g, g + 1}, {0, uint32_t(splits)},
                   uint32_t(splits)));
  return s;
}

class CudaAttnMerge : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaAttnMerge, MatchesHost) { expectCudaMatchesHost(GetParam()); }
INSTANTIATE_TEST_SUITE_P(
    Cases, CudaAttnMerge,
    ::testing::Values(ScenarioCase{"Rows3Hd16", [] { return attnMerge(3, 4, 2, 16, 4); }},
                      ScenarioCase{"Rows64Hd128Splits7",
                                   [] { return attnMerge(64, 8, 2, 128, 7); }}),
    caseName);

//===-- attn_prefill ------------------------------------------------------===//

struct PrefillCase {
  const char *name;
  uint32_t window = 0;
  uint32_t heads = 8, kvHeads = 2, hd = 32;
  int64_t first = 20, rows = 8, padding = 2; // positions first.., then padding rows
};

/// A chunk whose keys are all in the (random) cache already. KV head 0 in two row
/// tiles, the other KV heads from row 2 on (rows 0-1 of their columns stay poisoned).
Scenario attnPrefill(const PrefillCase &c) {
  constexpr int64_t bs = 16;
  const int64_t valid = c.rows - c.padding;
  const int64_t blocksPerSeq = (c.first + valid + bs - 1) / bs;
  isa::ModelMeta model = testModel(c.heads, c.kvHeads, c.hd, 64);
  model.maxSeqLen = uint32_t(blocksPerSeq * bs);
  Scenario s(model, isa::ProgramKind::Prefill);
  TaskBench &b = s.bench;
  PagedCache cache(b, 1, blocksPerSeq, c.kvHeads, c.hd, bs);
  std::vector<int32_t> pos(size_t(c.rows), -1);
  for (int64_t r = 0; r < valid; ++r)
    pos[r] = int32_t(c.first + r);
  const uint16_t positions = b.i32({c.rows}, pos);
  const uint16_t q = b.randomBf16({c.rows, int64_t(c.heads) * c.hd}, 2.0f);
  const uint16_t out = b.add(isa::DType::BF16, {c.rows, int64_t(c.heads) * c.hd});
  b.poison(out);
  const uint32_t flags = c.window ? uint32_t(isa::kFlagSlidingWindow) : 0u;
  const uint32_t rows = uint32_t(c.rows), half = rows / 2;
  auto task = [&](isa::Range r, uint32_t g) {
    return makeTask(isa::TaskKind::AttnPrefill,
                    {q, cache.k, cache.v, cache.blockTable, positions, out}, r,
                    {g, g + 1}, {0, 0}, 0, c.window, flags);
  };
  s.add(task({0, half}, 0));
  s.add(task({half, rows}, 0));
  for (uint32_t g = 1; g < c.kvHeads; ++g)
    s.add(task({2, rows}, g));
  return s;
}

std::vector<ScenarioCase> prefillCases() {
  const std::vector<PrefillCase> cases = {
      {.name = "Group4"},
      {.name = "Group2", .heads = 4},
      {.name = "Window8", .window = 8},
      {.name = "Window3Group2", .window = 3, .heads = 4},
      {.name = "FirstChunkRows16", .first = 0, .rows = 16, .padding = 5},
      {.name = "Rows64Hd128",
       .heads = 8,
       .kvHeads = 2,
       .hd = 128,
       .first = 40,
       .rows = 64,
       .padding = 0},
      {.name = "Rows70Hd64Window33",
       .window = 33,
       .heads = 4,
       .kvHeads = 2,
       .hd = 64,
       .first = 10,
       .rows = 70},
  };
  std::vector<ScenarioCase> out;
  for (const PrefillCase &c : cases)
    out.push_back({c.name, [c] { return attnPrefill(c); }});
  return out;
}

class CudaAttnPrefill : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaAttnPrefill, MatchesHost) { expectCudaMatchesHost(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CudaAttnPrefill, ::testing::ValuesIn(prefillCases()),
                         caseName);

//===-- pipelines ---------------------------------------------------------===//

std::vector<ScenarioCase> pipelineCases() {
  std::vector<int32_t> many(64);
  for (int32_t r = 0; r < 64; ++r)
    many[r] = r % 9 == 4 ? -1 : (r * 5) % 120;
  const std::vector<PrefillChunkCase> chunks = {
      {.name = "PrefillSecondChunk"},
      {.name = "PrefillFirstChunkWindow5", .first = 0, .rows = 12, .window = 5},
      {.name = "PrefillRows64Hd64",
       .first = 32,
       .rows = 64,
       .padding = 0,
       .heads = 8,
       .kvHeads = 2,
       .hd = 64,
       .hidden = 256},
      {.name = "PrefillRows70Hidden100",
       .first = 5,
       .rows = 70,
       .padding = 3,
       .hidden = 100},
  };
  const std::vector<DecodeLayerCase> layers = {
      {.name = "DecodeLayerRows4Steps5", .history = {5, -1, 17, 40}, .steps = 5},
      kDecodeLayerGqaWindow,
      {.name = "DecodeLayerRows64Steps2",
       .history = many,
       .steps = 2,
       .heads = 6,
       .kvHeads = 2,
       .hd = 32,
       .hidden = 192,
       .splits = 2,
       .span = 64},
  };
  std::vector<ScenarioCase> out;
  for (const PrefillChunkCase &c : chunks)
    out.push_back({c.name, [c] { return prefillChunk(c); }});
  for (const DecodeLayerCase &c : layers)
    out.push_back({c.name, [c] { return decodeLayer(c); }});
  return out;
}

class CudaPipeline : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaPipeline, MatchesHost) { expectCudaMatchesHost(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CudaPipeline, ::testing::ValuesIn(pipelineCases()),
                         caseName);

} // namespace
} // namespace mk::cuda::test
