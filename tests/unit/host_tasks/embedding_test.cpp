//===- embedding_test.cpp - embedding: exact gather of the tile -----------===//
#include "task_bench.h"

#include <gtest/gtest.h>

namespace mk::host::test {
namespace {

TEST(Embedding, CopiesTheTileExactly) {
  TaskBench b(testModel(4, 2, 16, 48));
  const int64_t vocab = 40, hidden = 48, rows = 5;
  const uint16_t tokens = b.i32({rows}, {7, 0, 39, 7, 21});
  const uint16_t table = b.randomBf16({vocab, hidden});
  const uint16_t out = b.add(isa::DType::BF16, {rows, hidden});
  b.poison(out);
  const isa::Range rowTile{1, 4}, colTile{16, 40};
  b.run(makeTask(isa::TaskKind::Embedding, {tokens, table, out}, rowTile, colTile));
  auto inTile = [&](int64_t i) {
    const int64_t r = i / hidden, c = i % hidden;
    return r >= rowTile.begin && r < rowTile.end && c >= colTile.begin && c < colTile.end;
  };
  EXPECT_TRUE(b.coverage(out, inTile));
  for (int64_t r = rowTile.begin; r < rowTile.end; ++r)
    for (int64_t c = colTile.begin; c < colTile.end; ++c)
      EXPECT_EQ(b.data<bf16>(out)[r * hidden + c].bits,
                b.data<bf16>(table)[b.data<int32_t>(tokens)[r] * hidden + c].bits);
}

} // namespace
} // namespace mk::host::test
