//===- gate_up_test.cpp - gate_up: RMSNorm, SiLU(gate) * up ----------------===//
#include "reference.h"
#include "task_bench.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mk::host::test {
namespace {

TEST(GateUp, MatchesFloat64AndWritesOnlyItsTile) {
  TaskBench b(testModel(4, 2, 16, 64));
  const int64_t rows = 5, hidden = 64, inter = 96;
  const uint16_t x = b.randomBf16({rows, hidden}, 3.0f);
  const uint16_t norm = b.randomBf16({hidden});
  const uint16_t wg = b.randomBf16({inter, hidden}, 0.3f);
  const uint16_t wu = b.randomBf16({inter, hidden}, 0.3f);
  const uint16_t out = b.add(isa::DType::BF16, {rows, inter});
  b.poison(out);
  const isa::Range rowTile{0, 4}, colTile{8, 40};
  b.run(makeTask(isa::TaskKind::GateUp, {x, norm, wg, wu, out}, rowTile, colTile));

  EXPECT_TRUE(b.coverage(out, [&](int64_t i) {
    const int64_t r = i / inter, c = i % inter;
    return r >= rowTile.begin && r < rowTile.end && c >= colTile.begin && c < colTile.end;
  }));
  std::vector<double> got, ref;
  for (int64_t r = rowTile.begin; r < rowTile.end; ++r) {
    const std::vector<double> xn =
        refRmsNorm(toDouble(b.data<bf16>(x) + r * hidden, hidden), b.data<bf16>(norm),
                   b.model.rmsNormEps);
    const std::vector<double> g =
        refMatVec(xn, b.data<bf16>(wg), colTile.begin, colTile.end);
    const std::vector<double> u =
        refMatVec(xn, b.data<bf16>(wu), colTile.begin, colTile.end);
    for (int64_t c = colTile.begin; c < colTile.end; ++c) {
      const double gc = g[c - colTile.begin];
      ref.push_back(gc / (1.0 + std::exp(-gc)) * u[c - colTile.begin]);
      got.push_back(b.at(out, r * inter + c));
    }
  }
  EXPECT_LE(normalizedError(got, ref), 1e-2);
}

} // namespace
} // namespace mk::host::test
