//===- projection_test.cpp - o_proj and down_proj: residual + x W^T -------===//
#include "reference.h"
#include "task_bench.h"

#include <gtest/gtest.h>

namespace mk::isa {
// Readable parameter values in gtest messages.
inline void PrintTo(TaskKind kind, std::ostream *os) { *os << taskKindName(kind); }
} // namespace mk::isa

namespace mk::host::test {
namespace {

class ResidualProjection : public ::testing::TestWithParam<isa::TaskKind> {};

TEST_P(ResidualProjection, MatchesFloat64AndWritesOnlyItsTile) {
  TaskBench b(testModel(4, 2, 16, 64));
  const int64_t rows = 6, k = 96, n = 64;
  const uint16_t x = b.randomBf16({rows, k});
  const uint16_t w = b.randomBf16({n, k}, 0.25f);
  const uint16_t residual = b.randomBf16({rows, n}, 2.0f);
  const uint16_t out = b.add(isa::DType::BF16, {rows, n});
  b.poison(out);
  const isa::Range rowTile{1, 6}, colTile{16, 48};
  b.run(makeTask(GetParam(), {x, w, residual, out}, rowTile, colTile));

  EXPECT_TRUE(b.coverage(out, [&](int64_t i) {
    const int64_t r = i / n, c = i % n;
    return r >= rowTile.begin && r < rowTile.end && c >= colTile.begin && c < colTile.end;
  }));
  std::vector<double> got, ref;
  for (int64_t r = rowTile.begin; r < rowTile.end; ++r) {
    std::vector<double> y = refMatVec(toDouble(b.data<bf16>(x) + r * k, k),
                                      b.data<bf16>(w), colTile.begin, colTile.end);
    for (int64_t c = colTile.begin; c < colTile.end; ++c) {
      ref.push_back(b.at(residual, r * n + c) + y[c - colTile.begin]);
      got.push_back(b.at(out, r * n + c));
    }
  }
  EXPECT_LE(normalizedError(got, ref), 1e-2);
}

INSTANTIATE_TEST_SUITE_P(Kinds, ResidualProjection,
                         ::testing::Values(isa::TaskKind::OProj, isa::TaskKind::DownProj),
                         [](const auto &info) {
                           return std::string(isa::taskKindName(info.param));
                         });

} // namespace
} // namespace mk::host::test
