//===- lm_head_test.cpp - lm_head: final norm, f32 logits, tile argmax ----===//
#include "reference.h"
#include "task_bench.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mk::host::test {
namespace {

struct LmHeadBench {
  static constexpr int64_t kRows = 4, kHidden = 64, kVocab = 48, kTiles = 3;
  TaskBench b{testModel(4, 2, 16, kHidden)};
  uint16_t x = b.randomBf16({kRows, kHidden}, 2.0f);
  uint16_t norm = b.randomBf16({kHidden});
  uint16_t w = b.randomBf16({kVocab, kHidden}, 0.3f);
  uint16_t logits = b.add(isa::DType::F32, {kRows, kVocab});
  uint16_t partial = b.add(isa::DType::F32, {kRows, kTiles, 2});

  isa::TaskRecord task(isa::Range rows, isa::Range vocab, uint32_t tile) {
    return makeTask(isa::TaskKind::LmHead, {x, norm, w, logits, partial}, rows, vocab,
                    {0, 0}, tile);
  }
};

TEST(LmHead, MatchesFloat64AndWritesOnlyItsTile) {
  LmHeadBench t;
  TaskBench &b = t.b;
  b.poison(t.logits);
  b.poison(t.partial);
  const isa::Range rowTile{1, 4}, vocabTile{16, 32};
  b.run(t.task(rowTile, vocabTile, 1));
  const int64_t vocab = LmHeadBench::kVocab, hidden = LmHeadBench::kHidden;
  EXPECT_TRUE(b.coverage(t.logits, [&](int64_t i) {
    const int64_t r = i / vocab, v = i % vocab;
    return r >= rowTile.begin && r < rowTile.end && v >= vocabTile.begin &&
           v < vocabTile.end;
  }));
  EXPECT_TRUE(b.coverage(t.partial, [&](int64_t i) {
    const int64_t r = i / (LmHeadBench::kTiles * 2), tile = i / 2 % LmHeadBench::kTiles;
    return r >= rowTile.begin && r < rowTile.end && tile == 1;
  }));

  // The final norm's output is a bf16 tensor in HF; with that rounding in the reference
  // the f32 logits agree far below bf16 precision.
  std::vector<double> got, ref;
  for (int64_t r = rowTile.begin; r < rowTile.end; ++r) {
    const std::vector<double> xn =
        refRmsNormBf16(toDouble(b.data<bf16>(t.x) + r * hidden, hidden),
                       b.data<bf16>(t.norm), b.model.rmsNormEps);
    const std::vector<double> y =
        refMatVec(xn, b.data<bf16>(t.w), vocabTile.begin, vocabTile.end);
    for (int64_t v = vocabTile.begin; v < vocabTile.end; ++v) {
      ref.push_back(y[v - vocabTile.begin]);
      got.push_back(b.at(t.logits, r * vocab + v));
    }
    // The partial is the exact argmax of the tile's logits.
    int64_t best = vocabTile.begin;
    for (int64_t v = vocabTile.begin; v < vocabTile.end; ++v)
      if (b.at(t.logits, r * vocab + v) > b.at(t.logits, r * vocab + best))
        best = v;
    EXPECT_EQ(b.at(t.partial, (r * 3 + 1) * 2), b.at(t.logits, r * vocab + best));
    EXPECT_EQ(b.at(t.partial, (r * 3 + 1) * 2 + 1), double(best));
  }
  EXPECT_LE(normalizedError(got, ref), 1e-3);
}

// Two identical weight rows give bitwise-equal logits: the lower index wins. A NaN
// logit never wins, even as the first of the tile.
TEST(LmHead, TiesGoToTheLowestIndexAndNanNeverWins) {
  LmHeadBench t;
  TaskBench &b = t.b;
  const int64_t hidden = LmHeadBench::kHidden, vocab = LmHeadBench::kVocab;
  bf16 *w = b.data<bf16>(t.w);
  // Rows 21 and 27 point along row 0's normalized input (the sign of x * norm): for
  // row 0 they are the largest logits of the tile, and equal.
  const bf16 *x0 = b.data<bf16>(t.x);
  for (int64_t k = 0; k < hidden; ++k) {
    const bool positive = bf16ToFloat(x0[k]) * bf16ToFloat(b.data<bf16>(t.norm)[k]) > 0;
    w[21 * hidden + k] = w[27 * hidden + k] = floatToBf16(positive ? 1.0f : -1.0f);
  }
  w[16 * hidden + 5] = floatToBf16(std::numeric_limits<float>::quiet_NaN());
  b.run(t.task({0, 4}, {16, 32}, 1));
  EXPECT_TRUE(std::isnan(b.at(t.logits, 16)));
  EXPECT_EQ(b.data<float>(t.logits)[21], b.data<float>(t.logits)[27]);
  EXPECT_EQ(b.at(t.partial, (0 * 3 + 1) * 2 + 1), 21.0);
  EXPECT_EQ(b.at(t.partial, (0 * 3 + 1) * 2), b.at(t.logits, 21));
  for (int64_t r = 1; r < LmHeadBench::kRows; ++r) {
    EXPECT_TRUE(std::isnan(b.at(t.logits, r * vocab + 16)));
    EXPECT_NE(b.at(t.partial, (r * 3 + 1) * 2 + 1), 16.0);
    EXPECT_FALSE(std::isnan(b.at(t.partial, (r * 3 + 1) * 2)));
  }
}

} // namespace
} // namespace mk::host::test
