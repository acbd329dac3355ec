//===- determinism_test.cpp - Bitwise-identical outputs across runs and tilings ===//
//
// Every output element is computed by one fixed-order reduction, so the same inputs
// give the same bits whether a tile runs twice, or is split into smaller tiles (as
// another target's tiling, or a different worker count's interleaving, would do).
//===----------------------------------------------------------------------===//
#include "attn_fixture.h"

#include <gtest/gtest.h>

namespace mk::host::test {
namespace {

TEST(Determinism, ProjectionTileTwiceIsBitwiseIdentical) {
  TaskBench b(testModel(4, 2, 16, 64));
  const int64_t rows = 9, k = 200, n = 64; // k not a multiple of any SIMD width
  const uint16_t x = b.randomBf16({rows, k}), w = b.randomBf16({n, k}, 0.2f);
  const uint16_t res = b.randomBf16({rows, n}), out = b.add(isa::DType::BF16, {rows, n});
  const isa::TaskRecord task =
      makeTask(isa::TaskKind::DownProj, {x, w, res, out}, {0, uint32_t(rows)}, {0, 64});
  b.poison(out);
  b.run(task);
  const std::vector<std::byte> once = b.bytes(out);
  b.poison(out);
  b.run(task);
  EXPECT_EQ(b.bytes(out), once);

  // Another tiling of the same outputs: columns in two tiles, rows in three.
  b.poison(out);
  for (isa::Range rowsTile : {isa::Range{0, 1}, isa::Range{1, 5}, isa::Range{5, 9}})
    for (isa::Range cols : {isa::Range{0, 24}, isa::Range{24, 64}})
      b.run(makeTask(isa::TaskKind::DownProj, {x, w, res, out}, rowsTile, cols));
  EXPECT_EQ(b.bytes(out), once);
}

TEST(Determinism, NormPrologueKindsDoNotDependOnTheTiling) {
  TaskBench b(testModel(4, 2, 16, 96));
  const int64_t rows = 11, hidden = 96, inter = 40, vocab = 30, hd = 16;
  const uint16_t x = b.randomBf16({rows, hidden}), norm = b.randomBf16({hidden});
  const uint16_t wg = b.randomBf16({inter, hidden}, 0.2f),
                 wu = b.randomBf16({inter, hidden}, 0.2f);
  const uint16_t wl = b.randomBf16({vocab, hidden}, 0.2f),
                 wq = b.randomBf16({4 * hd, hidden}, 0.2f);
  const uint16_t mlp = b.add(isa::DType::BF16, {rows, inter});
  const uint16_t logits = b.add(isa::DType::F32, {rows, vocab});
  const uint16_t pm = b.add(isa::DType::F32, {rows, 1, 2});
  const uint16_t q = b.add(isa::DType::BF16, {rows, 4 * hd});
  std::vector<int32_t> p(rows);
  for (int64_t r = 0; r < rows; ++r)
    p[r] = int32_t(3 * r);
  const uint16_t pos = b.i32({rows}, p), slots = b.i32({rows}, p);
  const uint16_t table = b.i32({1, 1}, {0});
  const uint16_t no = isa::kNoTensor;
  auto runAll = [&](std::initializer_list<isa::Range> rowTiles) {
    for (uint16_t id : {mlp, logits, pm, q})
      b.poison(id);
    for (isa::Range r : rowTiles) {
      b.run(makeTask(isa::TaskKind::GateUp, {x, norm, wg, wu, mlp}, r,
                     {0, uint32_t(inter)}));
      b.run(makeTask(isa::TaskKind::LmHead, {x, norm, wl, logits, pm}, r,
                     {0, uint32_t(vocab)}, {0, 0}, 0));
      b.run(makeTask(isa::TaskKind::Qkv, {x, norm, wq, no, no, q, pos, slots, table}, r,
                     {0, 4}, {0, 0}, 0, 0, isa::kFlagRopeLlama3));
    }
    return std::vector<std::vector<std::byte>>{b.bytes(mlp), b.bytes(logits), b.bytes(pm),
                                               b.bytes(q)};
  };
  b.model.ropeLlama3 = true;
  b.model.ropeFactor = 8;
  b.model.ropeLowFreqFactor = 1;
  b.model.ropeHighFreqFactor = 4;
  b.model.ropeOriginalMaxPos = 32;
  const auto whole = runAll({{0, uint32_t(rows)}});
  EXPECT_EQ(runAll({{0, 3}, {3, 4}, {4, 11}}), whole);
}

TEST(Determinism, DecodeAttentionDoesNotDependOnTheRowTiling) {
  constexpr uint32_t heads = 4, kvHeads = 2, hd = 32;
  TaskBench b(testModel(heads, kvHeads, hd, 64));
  const int64_t rows = 3;
  PagedCache cache(b, rows, 4, kvHeads, hd);
  const uint16_t lens = b.i32({rows}, {40, 9, 63});
  const uint16_t q = b.randomBf16({rows, heads * hd});
  const uint16_t po = b.add(isa::DType::F32, {rows, heads, 1, hd});
  const uint16_t plse = b.add(isa::DType::F32, {rows, heads, 1});
  auto runAll = [&](std::initializer_list<isa::Range> rowTiles) {
    b.poison(po);
    b.poison(plse);
    for (isa::Range r : rowTiles)
      for (uint32_t g = 0; g < kvHeads; ++g)
        b.run(makeTask(isa::TaskKind::AttnDecode,
                       {q, cache.k, cache.v, cache.blockTable, lens, po, plse}, r,
                       {g, g + 1}, {0, 64}, 0),
              1);
    return std::pair(b.bytes(po), b.bytes(plse));
  };
  const auto whole = runAll({{0, 3}});
  EXPECT_EQ(runAll({{2, 3}, {0, 2}}), whole);
  EXPECT_EQ(runAll({{0, 3}}), whole);
}

} // namespace
} // namespace mk::host::test
