//===- argmax_test.cpp - argmax: fixed-order reduction of tile partials ---===//
#include "task_bench.h"

#include <gtest/gtest.h>

#include <limits>

namespace mk::host::test {
namespace {

TEST(Argmax, ReducesPartialsWithLowestIndexTiesAndNoNan) {
  TaskBench b(testModel(4, 2, 16, 32));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // [rows = 6, tiles = 4 (+1 unused stride), 2]: (value, index)
  const std::vector<std::vector<float>> partials = {
      {1.0f, 3, 5.0f, 20, 2.0f, 40, -1.0f, 60}, // clear max -> 20
      {5.0f, 7, 5.0f, 20, 5.0f, 40, 1.0f, 60},  // tie across tiles -> 7
      {4.0f, 9, 6.0f, 31, 6.0f, 22, 0.0f, 60},  // tie, lower index later -> 22
      {nan, 0, 2.0f, 25, nan, 41, 3.0f, 55},    // NaN never wins -> 55
      {-inf, 0, -inf, 16, -inf, 32, -inf, 48},  // all -inf -> 0
      {nan, 0, nan, 16, nan, 32, nan, 48},      // nothing comparable -> 0
  };
  const int64_t rows = 6, stride = 5;
  const uint16_t pm = b.add(isa::DType::F32, {rows, stride, 2});
  b.poison(pm); // the unused fifth partial must not be read
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < 8; ++i)
      b.data<float>(pm)[r * stride * 2 + i] = partials[r][i];
  const uint16_t out = b.add(isa::DType::I32, {rows + 1});
  b.poison(out);
  b.run(
      makeTask(isa::TaskKind::Argmax, {pm, out}, {0, uint32_t(rows)}, {0, 4}, {0, 0}, 4));
  const std::vector<int32_t> expected = {20, 7, 22, 55, 0, 0};
  for (int64_t r = 0; r < rows; ++r)
    EXPECT_EQ(b.data<int32_t>(out)[r], expected[r]) << "row " << r;
  EXPECT_TRUE(b.isSentinel(out, rows));
}

} // namespace
} // namespace mk::host::test
