//===- moe_combine_test.cpp - moe_combine: fixed-order weighted sum + residual ===//
#include "moe_fixture.h"
#include "reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace mk::host::test {
namespace {

// 5 rows, row 3 inactive; a column tile and a row tile inside the layer.
TEST(MoeCombine, FollowsTheFmaOrderAndMatchesFloat64) {
  TaskBench b(testModel(4, 2, 16, 80));
  const MoeLayer l(b, {0, 6, 2, -1, 9}, 6, 3, false, 80, 24);
  l.run(b, 32);
  const isa::ConstMoeRoutes routes = l.view(b);
  const isa::Range rows{1, 5}, cols{10, 70};
  b.poison(l.out);
  b.run(l.combineTask(rows, cols));
  EXPECT_TRUE(b.coverage(l.out, [&](int64_t i) {
    const int64_t r = i / l.hidden, c = i % l.hidden;
    return r >= rows.begin && r < rows.end && c >= cols.begin && c < cols.end;
  }));

  const float *w = b.data<float>(l.routeWeights);
  const bf16 *eo = b.data<bf16>(l.expertOut), *res = b.data<bf16>(l.residual);
  std::vector<double> got, ref;
  for (uint32_t r = rows.begin; r < rows.end; ++r)
    for (uint32_t c = cols.begin; c < cols.end; ++c) {
      const bf16 o = b.data<bf16>(l.out)[r * l.hidden + c];
      const bf16 residual = res[r * l.hidden + c];
      if (r == 3) { // inactive: the residual, bit for bit
        EXPECT_EQ(o.bits, residual.bits) << "row 3 column " << c;
        continue;
      }
      // The contract: fp32 FMAs in ascending expert order from +0, then two roundings.
      float acc = 0.0f;
      double exact = 0.0;
      for (uint32_t j = 0; j < l.topK; ++j) {
        const int64_t row =
            int64_t(routes.rowSlot(r, j)) * l.rows + routes.rowLocal(r, j);
        const float v = bf16ToFloat(eo[row * l.hidden + c]);
        acc = std::fma(w[r * l.topK + j], v, acc);
        exact += double(w[r * l.topK + j]) * v;
      }
      const bf16 want = floatToBf16(bf16ToFloat(residual) + roundToBf16(acc));
      EXPECT_EQ(o.bits, want.bits) << "row " << r << " column " << c;
      got.push_back(bf16ToFloat(o));
      ref.push_back(bf16ToFloat(residual) + exact);
    }
  EXPECT_LE(normalizedError(got, ref), 1e-2);
}

// Each row's sum runs over its own experts, in ascending expert id, whatever slot or
// row order the experts' outputs sit in.
TEST(MoeCombine, ReadsEachRowsOwnExperts) {
  TaskBench b(testModel(4, 2, 16, 64));
  const MoeLayer l(b, {0, 1}, 4, 1, false, 64, 16);
  l.run(b, 64);
  const isa::ConstMoeRoutes routes = l.view(b);
  for (uint32_t r = 0; r < l.rows; ++r) {
    const int64_t row = int64_t(routes.rowSlot(r, 0)) * l.rows + routes.rowLocal(r, 0);
    EXPECT_EQ(
        routes.slotRow(uint32_t(routes.rowSlot(r, 0)), uint32_t(routes.rowLocal(r, 0))),
        int32_t(r));
    for (int64_t c = 0; c < l.hidden; ++c) {
      const float y = b.data<float>(l.routeWeights)[r] *
                      bf16ToFloat(b.data<bf16>(l.expertOut)[row * l.hidden + c]);
      const bf16 want = floatToBf16(
          bf16ToFloat(b.data<bf16>(l.residual)[r * l.hidden + c]) + roundToBf16(y));
      EXPECT_EQ(b.data<bf16>(l.out)[r * l.hidden + c].bits, want.bits);
    }
  }
}

} // namespace
} // namespace mk::host::test
