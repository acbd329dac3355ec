//===- cuda_tasks_test.cpp - CUDA vs host: embedding, qkv, projections, lm_head ===//
//
// Every scenario runs on both executors and is compared by equivalence.h. The shapes
// cover the paths a CUDA kernel may take: few rows (decode GEMV), many rows (tensor
// cores: 64 and 70, the latter not a multiple of any MMA tile), column tiles that are
// not multiples of 16, K a multiple of 8 but not 16 (24, 200), K not a multiple of 8
// (100, for the scalar fallback) and weight tiles larger than the staging buffer.
// Several tiles per scenario, so different CTAs run different tiles, and tiles that
// leave part of each output poisoned, so a CUDA kernel writing outside its tile fails.
// Attention kinds are in cuda_attention_test.cpp.
//===----------------------------------------------------------------------===//
#include "equivalence.h"
#include "scenarios.h"

#include "mk/isa/step_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace mk::cuda::test {
namespace {

using host::test::permutation;

//===-- embedding ---------------------------------------------------------===//

Scenario embedding(int64_t rows, int64_t vocab, int64_t hidden,
                   const std::vector<Tile> &tiles) {
  Scenario s(testModel(4, 2, 16, uint32_t(hidden)));
  s.steps = 2;
  TaskBench &b = s.bench;
  std::uniform_int_distribution<int32_t> token(0, int32_t(vocab - 1));
  std::vector<int32_t> ids(static_cast<size_t>(rows));
  for (int32_t &id : ids)
    id = token(b.rng);
  ids.front() = int32_t(vocab - 1); // the last row of the table
  ids.back() = 0;
  const uint16_t tokens = b.i32({rows}, ids);
  const uint16_t table = b.randomBf16({vocab, hidden});
  const uint16_t out = b.add(isa::DType::BF16, {rows, hidden});
  b.poison(out);
  for (const auto &[r, c] : tiles)
    s.add(makeTask(isa::TaskKind::Embedding, {tokens, table, out}, r, c));
  s.exactOutputs.insert(out); // a gather: bit for bit
  return s;
}

class CudaEmbedding : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaEmbedding, MatchesHost) { expectCudaMatchesHost(GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    Cases, CudaEmbedding,
    ::testing::Values(
        ScenarioCase{"Rows5",
                     [] {
                       return embedding(
                           5, 40, 48,
                           {{{0, 3}, {0, 24}}, {{3, 5}, {0, 40}}, {{1, 3}, {24, 48}}});
                     }},
        ScenarioCase{
            "Rows70Hidden100",
            [] {
              return embedding(70, 300, 100, {{{0, 70}, {0, 37}}, {{0, 64}, {37, 100}}});
            }}),
    caseName);

//===-- qkv ---------------------------------------------------------------===//

struct QkvCase {
  const char *name;
  isa::ProgramKind program = isa::ProgramKind::Decode;
  uint64_t steps = 1; // decode steps 0 .. steps - 1 in one launch
  bool interleaved = false, llama3 = false, headNorm = false, bias = false;
  uint32_t heads = 4, kvHeads = 2, hd = 32, hidden = 64;
  int64_t rows = 0; // 0: the host test's rows
};

/// Decode: one sequence per row, every fifth row inactive. Prefill: a chunk at
/// positions 20.. (an earlier chunk held 0..19) whose last two rows are padding.
std::vector<int32_t> qkvPositions(const QkvCase &c) {
  const bool decode = c.program == isa::ProgramKind::Decode;
  if (c.rows == 0)
    return decode ? std::vector<int32_t>{7, -1, 30, 3, 12}
                  : std::vector<int32_t>{20, 21, 22, 23, 24, 25, -1, -1};
  std::vector<int32_t> pos(static_cast<size_t>(c.rows));
  for (int64_t r = 0; r < c.rows; ++r)
    pos[r] = decode ? (r % 5 == 1 ? -1 : int32_t((r * 13 + 5) % 45))
                    : (r + 2 < c.rows ? int32_t(20 + r) : -1);
  return pos;
}

Scenario qkv(const QkvCase &c) {
  constexpr int64_t bs = 16;
  const bool decode = c.program == isa::ProgramKind::Decode;
  const std::vector<int32_t> pos = qkvPositions(c);
  const int64_t rows = int64_t(pos.size()), seqs = decode ? rows : 1;
  const int64_t last = *std::max_element(pos.begin(), pos.end()) + int64_t(c.steps);
  const int64_t blocksPerSeq = last / bs + 1, blocks = seqs * blocksPerSeq + 2;
  isa::ModelMeta model = testModel(c.heads, c.kvHeads, c.hd, c.hidden);
  model.maxSeqLen = uint32_t(blocksPerSeq * bs);
  model.ropeLlama3 = c.llama3;
  model.ropeFactor = 8.0f;
  model.ropeLowFreqFactor = 1.0f;
  model.ropeHighFreqFactor = 4.0f;
  model.ropeOriginalMaxPos = 64; // wavelengths of small head dims fall in all three bands
  Scenario s(model, c.program);
  s.steps = c.steps;
  TaskBench &b = s.bench;

  // Distinct physical blocks per sequence in random order; kv_slots hold step 0's slots,
  // later decode steps must derive theirs from the block table.
  std::vector<int32_t> table = permutation(int32_t(blocks), b.rng);
  table.resize(size_t(seqs * blocksPerSeq));
  std::vector<int32_t> slots(size_t(rows), -1);
  for (int64_t r = 0; r < rows; ++r)
    if (pos[r] >= 0)
      slots[r] = int32_t(
          isa::kvSlot(table.data() + (decode ? r : 0) * blocksPerSeq, pos[r], bs));
  const uint16_t positions = b.i32({rows}, pos), kvSlots = b.i32({rows}, slots);
  const uint16_t blockTable = b.i32({seqs, blocksPerSeq}, table);
  const uint16_t x = b.randomBf16({rows, c.hidden}, 2.0f);
  const uint16_t norm = b.randomBf16({c.hidden});
  const uint16_t q = b.add(isa::DType::BF16, {rows, c.heads * c.hd});
  const uint16_t kCache = b.add(isa::DType::BF16, {blocks, bs, c.kvHeads, c.hd});
  const uint16_t vCache = b.add(isa::DType::BF16, {blocks, bs, c.kvHeads, c.hd});
  for (uint16_t id : {q, kCache, vCache})
    b.poison(id);

  for (isa::QkvSection section :
       {isa::QkvSection::Q, isa::QkvSection::K, isa::QkvSection::V}) {
    const bool isQ = section == isa::QkvSection::Q;
    const bool rope = section != isa::QkvSection::V;
    const uint32_t sectionHeads = isQ ? c.heads : c.kvHeads;
    const uint16_t w = b.randomBf16({sectionHeads * c.hd, c.hidden}, 0.25f);
    const uint16_t bias =
        c.bias ? b.randomBf16({sectionHeads * c.hd}, 0.5f) : isa::kNoTensor;
    const uint16_t headNorm = c.headNorm && rope ? b.randomBf16({c.hd}) : isa::kNoTensor;
    const uint16_t out = isQ ? q : section == isa::QkvSection::K ? kCache : vCache;
    uint32_t flags = 0;
    if (rope && c.interleaved)
      flags |= isa::kFlagRopeInterleaved;
    if (rope && c.llama3)
      flags |= isa::kFlagRopeLlama3;
    // Two tiles: the first half of the heads for every row, the rest for rows 1.. (so
    // row 0 of those heads stays poisoned).
    const uint32_t split = std::max(1u, sectionHeads / 2);
    auto task = [&](isa::Range r, isa::Range h) {
      return makeTask(isa::TaskKind::Qkv,
                      {x, norm, w, bias, headNorm, out, positions, kvSlots, blockTable},
                      r, h, {0, 0}, uint32_t(section), 0, flags);
    };
    s.add(task({0, uint32_t(rows)}, {0, split}));
    if (split < sectionHeads)
      s.add(task({rows > 1 ? 1u : 0u, uint32_t(rows)}, {split, sectionHeads}));
  }
  return s;
}

std::vector<ScenarioCase> qkvCases() {
  const isa::ProgramKind prefill = isa::ProgramKind::Prefill;
  const std::vector<QkvCase> cases = {
      {.name = "RotateHalf"},
      {.name = "Interleaved", .interleaved = true},
      {.name = "Llama3", .llama3 = true},
      {.name = "InterleavedLlama3", .interleaved = true, .llama3 = true},
      {.name = "Qwen3HeadNormGroup4", .headNorm = true, .heads = 8},
      {.name = "Bias", .bias = true},
      {.name = "DecodeSteps0To3", .steps = 4, .headNorm = true, .bias = true},
      {.name = "DecodeSteps0To9Llama3", .steps = 10, .llama3 = true},
      {.name = "PrefillChunk", .program = prefill},
      {.name = "PrefillInterleavedLlama3",
       .program = prefill,
       .interleaved = true,
       .llama3 = true},
      // GEMV-sized decode batches with realistic head dims.
      {.name = "Rows1Hd128Bias",
       .bias = true,
       .heads = 8,
       .kvHeads = 2,
       .hd = 128,
       .hidden = 256,
       .rows = 1},
      {.name = "Rows3Hidden100Steps2",
       .steps = 2,
       .headNorm = true,
       .hidden = 100,
       .rows = 3},
      {.name = "Rows8Hd64MhaSteps3",
       .steps = 3,
       .interleaved = true,
       .heads = 4,
       .kvHeads = 4,
       .hd = 64,
       .hidden = 192,
       .rows = 8},
      // Tensor-core-sized row counts.
      {.name = "Rows64Hidden192Steps2",
       .steps = 2,
       .llama3 = true,
       .heads = 6,
       .kvHeads = 2,
       .hidden = 192,
       .rows = 64},
      {.name = "PrefillRows70Hd128",
       .program = prefill,
       .bias = true,
       .heads = 8,
       .kvHeads = 2,
       .hd = 128,
       .hidden = 256,
       .rows = 70},
      {.name = "PrefillRows40Hd256",
       .program = prefill,
       .heads = 2,
       .kvHeads = 1,
       .hd = 256,
       .hidden = 256,
       .rows = 40},
      {.name = "PrefillRows64Hidden100HeadNorm",
       .program = prefill,
       .headNorm = true,
       .hidden = 100,
       .rows = 64},
  };
  std::vector<ScenarioCase> out;
  for (const QkvCase &c : cases)
    out.push_back({c.name, [c] { return qkv(c); }});
  return out;
}

class CudaQkv : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaQkv, MatchesHost) { expectCudaMatchesHost(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CudaQkv, ::testing::ValuesIn(qkvCases()), caseName);

//===-- o_proj, down_proj, gate_up, lm_head -------------------------------===//

const std::vector<Shape> &shapes() {
  static const std::vector<Shape> all = {
      {"Rows1", 1, 64, 64, {{{0, 1}, {0, 24}}, {{0, 1}, {24, 40}}, {{0, 1}, {45, 64}}}},
      {"Rows3K100", 3, 100, 72, {{{0, 3}, {0, 36}}, {{1, 3}, {36, 70}}}},
      {"Rows5K24", 5, 24, 40, {{{0, 5}, {0, 17}}, {{0, 5}, {17, 40}}}},
      {"Rows8K256",
       8,
       256,
       96,
       {{{0, 8}, {0, 40}}, {{0, 8}, {40, 88}}, {{2, 7}, {88, 96}}}},
      // One weight tile of 120 KB: more than the kernel's staging buffer.
      {"Rows16K512", 16, 512, 120, {{{0, 16}, {0, 120}}}},
      {"Rows64K192",
       64,
       192,
       200,
       {{{0, 64}, {0, 40}}, {{0, 64}, {40, 136}}, {{0, 64}, {136, 190}}}},
      {"Rows64K200", 64, 200, 72, {{{0, 40}, {0, 72}}, {{40, 64}, {0, 72}}}},
      {"Rows64K256LargeTile", 64, 256, 224, {{{0, 64}, {0, 224}}}},
      {"Rows70K256",
       70,
       256,
       160,
       {{{0, 33}, {8, 75}}, {{33, 70}, {8, 75}}, {{0, 70}, {75, 160}}}},
      {"Rows70K100", 70, 100, 48, {{{0, 70}, {0, 21}}, {{3, 70}, {21, 48}}}},
      // sm_90a's warpgroup-MMA engine: k past whole 64-wide stages, passes wider than
      // its 256 columns, and a last row block of 2 rows.
      {"Rows40K1000", 40, 1000, 300, {{{0, 40}, {0, 300}}}},
      {"Rows130K520", 130, 520, 264, {{{0, 130}, {0, 264}}}},
      {"Rows17K72", 17, 72, 40, {{{0, 17}, {0, 33}}, {{0, 17}, {33, 40}}}},
  };
  return all;
}

std::vector<ScenarioCase> projectionCases() {
  std::vector<ScenarioCase> out;
  for (isa::TaskKind kind : {isa::TaskKind::OProj, isa::TaskKind::DownProj,
                             isa::TaskKind::GateUp, isa::TaskKind::LmHead})
    for (const Shape &sh : shapes())
      out.push_back({std::string(isa::taskKindName(kind)) + "_" + sh.name,
                     [kind, &sh] { return projection(kind, sh); }});
  // Tensor parallelism's partials: no residual.
  for (isa::TaskKind kind : {isa::TaskKind::OProj, isa::TaskKind::DownProj})
    for (const Shape &sh : shapes())
      out.push_back(
          {std::string(isa::taskKindName(kind)) + "_no_residual_" + sh.name,
           [kind, &sh] { return withoutResidual(projection(kind, sh), kind); }});
  return out;
}

class CudaProjection : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaProjection, MatchesHost) { expectCudaMatchesHost(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Cases, CudaProjection, ::testing::ValuesIn(projectionCases()),
                         caseName);

//===-- lm_head -> argmax, argmax -----------------------------------------===//

/// The host argmax test's partials (ties across tiles, NaN, all -inf, all NaN) and 64
/// rows of random partials with repeated maxima.
Scenario argmaxPartials() {
  Scenario s(testModel(4, 2, 16, 32));
  TaskBench &b = s.bench;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<std::vector<float>> fixed = {
      {1.0f, 3, 5.0f, 20, 2.0f, 40, -1.0f, 60}, {5.0f, 7, 5.0f, 20, 5.0f, 40, 1.0f, 60},
      {4.0f, 9, 6.0f, 31, 6.0f, 22, 0.0f, 60},  {nan, 0, 2.0f, 25, nan, 41, 3.0f, 55},
      {-inf, 0, -inf, 16, -inf, 32, -inf, 48},  {nan, 0, nan, 16, nan, 32, nan, 48}};
  const int64_t rows = 70, tiles = 4, stride = 5; // the fifth partial is never read
  const uint16_t pm = b.add(isa::DType::F32, {rows, stride, 2});
  b.poison(pm);
  std::uniform_int_distribution<int> value(0, 3); // few values: many ties
  float *p = b.data<float>(pm);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < tiles; ++t) {
      float *dst = p + (r * stride + t) * 2;
      if (r < int64_t(fixed.size())) {
        dst[0] = fixed[r][2 * t];
        dst[1] = fixed[r][2 * t + 1];
      } else {
        dst[0] = float(value(b.rng));
        dst[1] = float(t * 16 + value(b.rng));
      }
    }
  const uint16_t out = b.add(isa::DType::I32, {rows + 1});
  b.poison(out);
  for (isa::Range r : {isa::Range{0, 6}, isa::Range{6, 40}, isa::Range{40, 70}})
    s.add(makeTask(isa::TaskKind::Argmax, {pm, out}, r, {0, 0}, {0, 0}, uint32_t(tiles)));
  return s;
}

class CudaArgmax : public ::testing::TestWithParam<ScenarioCase> {};
TEST_P(CudaArgmax, MatchesHost) { expectCudaMatchesHost(GetParam()); }
INSTANTIATE_TEST_SUITE_P(
    Cases, CudaArgmax,
    ::testing::Values(
        ScenarioCase{"Partials", argmaxPartials},
        ScenarioCase{"LmHeadRows1", [] { return lmHeadArgmax(1, 192, 272, 48, 2); }},
        ScenarioCase{"LmHeadRows8K100", [] { return lmHeadArgmax(8, 100, 500, 128, 1); }},
        ScenarioCase{"LmHeadRows64Steps3",
                     [] { return lmHeadArgmax(64, 256, 500, 100, 3); }}),
    caseName);

} // namespace
} // namespace mk::cuda::test
