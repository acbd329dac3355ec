//===- attn_merge_test.cpp - attn_merge on random partials ----------------===//
#include "task_bench.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mk::host::test {
namespace {

TEST(AttnMerge, WeighsSplitsByTheirLseAndSkipsEmptyOnes) {
  constexpr uint32_t heads = 4, kvHeads = 2, hd = 16, group = heads / kvHeads;
  constexpr int64_t rows = 3, stride = 5, splits = 4; // one unused split slot
  const double negInf = -std::numeric_limits<double>::infinity();
  TaskBench b(testModel(heads, kvHeads, hd, 64));
  const uint16_t po = b.add(isa::DType::F32, {rows, heads, stride, hd});
  const uint16_t plse = b.add(isa::DType::F32, {rows, heads, stride});
  const uint16_t out = b.add(isa::DType::BF16, {rows, heads * hd});
  b.poison(po); // the unused split slot keeps its NaN sentinel: it must not be read
  b.poison(plse);
  b.poison(out);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f), lse(-3.0f, 6.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t s = 0; s < splits; ++s) {
        const int64_t at = (r * heads + h) * stride + s;
        // Row 1: splits 1 and 3 empty; row 2: every split empty.
        const bool empty = (r == 1 && (s == 1 || s == 3)) || r == 2;
        b.data<float>(plse)[at] = empty ? float(negInf) : lse(b.rng);
        for (int64_t d = 0; d < hd; ++d)
          b.data<float>(po)[at * hd + d] = empty ? 0.0f : value(b.rng);
      }
  const int64_t g = 1;
  b.run(makeTask(isa::TaskKind::AttnMerge, {po, plse, out}, {0, rows},
                 {uint32_t(g), uint32_t(g + 1)}, {0, splits}, splits));
  EXPECT_TRUE(
      b.coverage(out, [&](int64_t i) { return i % (heads * hd) / hd / group == g; }));

  std::vector<double> got, ref;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t h = g * group; h < (g + 1) * group; ++h) {
      double m = negInf;
      for (int64_t s = 0; s < splits; ++s)
        m = std::max(m, b.at(plse, (r * heads + h) * stride + s));
      for (int64_t d = 0; d < hd; ++d) {
        double num = 0, den = 0;
        for (int64_t s = 0; s < splits; ++s) {
          const int64_t at = (r * heads + h) * stride + s;
          const double w = std::exp(b.at(plse, at) - m);
          num += w * b.at(po, at * hd + d);
          den += w;
        }
        ref.push_back(num / den);
        got.push_back(b.at(out, (r * heads + h) * hd + d));
      }
    }
  EXPECT_LE(normalizedError(got, ref), 1e-2);
  for (int64_t i = g * group * hd; i < (g + 1) * group * hd; ++i)
    EXPECT_EQ(b.data<bf16>(out)[2 * heads * hd + i].bits, 0) << "all splits empty";
}

} // namespace
} // namespace mk::host::test
