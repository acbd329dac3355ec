//===- moe_router_test.cpp - moe_router: top-k experts and compact routes ===//
//
// The reference routes each active row in float64 from HF's semantics (softmax over
// every expert, the k largest with ties to the lower id, renormalized when the model
// says) and builds the routes layout of mk/isa/moe_routes.h from its choices; the
// kernel's routes must equal it element for element, unused entries included.
//===----------------------------------------------------------------------===//
#include "moe_fixture.h"
#include "reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mk::host::test {
namespace {

struct RefRouting {
  std::vector<std::vector<int32_t>> experts; // per row, ascending; empty: inactive
  std::vector<std::vector<double>> weights;  // per row, same order
  std::vector<double> margin; // per active row: p of the k-th choice minus the next
};

/// HF routing in float64 of every row of the layer, from its bf16 inputs.
RefRouting refRoute(const TaskBench &b, const MoeLayer &l, bool normTopkProb) {
  RefRouting ref;
  const int32_t *positions = b.data<int32_t>(l.positions);
  for (uint32_t r = 0; r < l.rows; ++r) {
    ref.experts.emplace_back();
    ref.weights.emplace_back();
    ref.margin.push_back(INFINITY);
    if (positions[r] < 0)
      continue;
    const std::vector<double> xn =
        refRmsNormBf16(toDouble(b.data<bf16>(l.x) + r * l.hidden, l.hidden),
                       b.data<bf16>(l.normW), b.model.rmsNormEps);
    const std::vector<double> logits =
        refMatVec(xn, b.data<bf16>(l.router), 0, l.experts);
    const double m = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    std::vector<double> p(l.experts);
    for (uint32_t e = 0; e < l.experts; ++e)
      sum += p[e] = std::exp(logits[e] - m);
    for (double &v : p)
      v /= sum;
    std::vector<int32_t> order(l.experts);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t c) { return p[a] > p[c]; });
    std::vector<int32_t> chosen(order.begin(), order.begin() + l.topK);
    if (l.topK < l.experts)
      ref.margin.back() = p[order[l.topK - 1]] - p[order[l.topK]];
    std::sort(chosen.begin(), chosen.end());
    double total = 0;
    for (int32_t e : chosen)
      total += p[e];
    for (int32_t e : chosen) {
      ref.experts.back().push_back(e);
      ref.weights.back().push_back(normTopkProb ? p[e] / total : p[e]);
    }
  }
  return ref;
}

/// The routes tensor the layout prescribes for these choices.
std::vector<int32_t> expectedRoutes(const MoeLayer &l, const RefRouting &ref) {
  std::vector<int32_t> data(isa::moeRoutesLength(l.rows, l.topK, l.slots), -1);
  const isa::MoeRoutes routes{data.data(), l.rows, l.topK, l.slots};
  std::vector<int32_t> distinct;
  for (const auto &row : ref.experts)
    distinct.insert(distinct.end(), row.begin(), row.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  routes.numDistinct() = int32_t(distinct.size());
  for (uint32_t s = 0; s < l.slots; ++s)
    routes.slotRows(s) = 0;
  for (size_t s = 0; s < distinct.size(); ++s)
    routes.slotExpert(uint32_t(s)) = distinct[s];
  for (uint32_t r = 0; r < l.rows; ++r)
    for (uint32_t j = 0; j < ref.experts[r].size(); ++j) {
      const auto s =
          uint32_t(std::find(distinct.begin(), distinct.end(), ref.experts[r][j]) -
                   distinct.begin());
      const int32_t i = routes.slotRows(s)++;
      routes.slotRow(s, uint32_t(i)) = int32_t(r);
      routes.rowSlot(r, j) = int32_t(s);
      routes.rowLocal(r, j) = i;
    }
  return data;
}

/// Runs the router with xg, routes and route_weights poisoned; checks routes and
/// weights against the float64 reference and each xg row against the row's normed
/// input. Returns the reference.
RefRouting checkRouter(TaskBench &b, const MoeLayer &l, bool normTopkProb) {
  b.poison(l.xg);
  b.poison(l.routes);
  b.poison(l.routeWeights);
  b.run(l.routerTask());
  const RefRouting ref = refRoute(b, l, normTopkProb);
  for (double margin : ref.margin)
    EXPECT_GT(margin, 1e-4) << "a near tie: the test data cannot tell fp32 from float64";
  const std::vector<int32_t> expected = expectedRoutes(l, ref);
  const int32_t *got = b.data<int32_t>(l.routes);
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(got[i], expected[i]) << "routes[" << i << "]";

  std::vector<double> gotW, refW;
  for (uint32_t r = 0; r < l.rows; ++r)
    for (uint32_t j = 0; j < l.topK; ++j) {
      const double w = b.at(l.routeWeights, r * l.topK + j);
      if (ref.experts[r].empty()) {
        EXPECT_EQ(w, 0.0) << "inactive row " << r;
        EXPECT_FALSE(std::signbit(w)) << "inactive row " << r;
        continue;
      }
      gotW.push_back(w);
      refW.push_back(ref.weights[r][j]);
    }
  if (!refW.empty()) {
    EXPECT_LE(normalizedError(gotW, refW), 1e-5);
  }

  // xg[s][i] holds the normed input of slot s's i-th row; rows past n_s stay poisoned.
  const isa::ConstMoeRoutes routes = l.view(b);
  std::vector<double> gotX, refX;
  for (uint32_t s = 0; s < l.slots; ++s)
    for (uint32_t i = 0; i < l.rows; ++i) {
      const int64_t at = (int64_t(s) * l.rows + i) * l.hidden;
      const bool written =
          s < uint32_t(routes.numDistinct()) && i < uint32_t(routes.slotRows(s));
      if (!written) {
        for (int64_t c = 0; c < l.hidden; ++c)
          EXPECT_TRUE(b.isSentinel(l.xg, at + c)) << "xg slot " << s << " row " << i;
        continue;
      }
      const int32_t r = routes.slotRow(s, i);
      const std::vector<double> xn =
          refRmsNormBf16(toDouble(b.data<bf16>(l.x) + r * l.hidden, l.hidden),
                         b.data<bf16>(l.normW), b.model.rmsNormEps);
      for (int64_t c = 0; c < l.hidden; ++c) {
        gotX.push_back(b.at(l.xg, at + c));
        refX.push_back(xn[c]);
      }
    }
  EXPECT_LE(normalizedError(gotX, refX), 1e-2);
  return ref;
}

class MoeRouterNorm : public ::testing::TestWithParam<bool> {};

// Rows 0 and 2 hold the same input (shared experts), row 1 is inactive, row 3 differs.
TEST_P(MoeRouterNorm, MatchesFloat64AndWritesTheWholeRoutes) {
  const bool norm = GetParam();
  TaskBench b(testModel(4, 2, 16, 96));
  const MoeLayer l(b, {5, -1, 9, 2}, 8, 2, norm, 96, 40);
  std::copy_n(b.data<bf16>(l.x), l.hidden, b.data<bf16>(l.x) + 2 * l.hidden);
  const RefRouting ref = checkRouter(b, l, norm);
  const isa::ConstMoeRoutes routes = l.view(b);
  // Shared and distinct experts: rows 0 and 2 share both, row 3 brings at least one.
  EXPECT_EQ(ref.experts[0], ref.experts[2]);
  EXPECT_GT(routes.numDistinct(), int32_t(l.topK));
  EXPECT_LT(routes.numDistinct(), int32_t(l.slots));
  for (uint32_t r : {0u, 2u, 3u}) {
    double sum = 0;
    for (uint32_t j = 0; j < l.topK; ++j)
      sum += b.at(l.routeWeights, r * l.topK + j);
    if (norm) {
      EXPECT_NEAR(sum, 1.0, 1e-6) << "row " << r;
    } else {
      EXPECT_LT(sum, 1.0) << "row " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(NormTopkProb, MoeRouterNorm, ::testing::Bool(),
                         [](const auto &info) { return info.param ? "On" : "Off"; });

// A batch where every row picks a different pair: D = R k = Smax.
TEST(MoeRouter, DistinctRowsFillEverySlot) {
  TaskBench b(testModel(4, 2, 16, 64));
  const MoeLayer l(b, {0, 1, 2}, 6, 2, false, 64, 32);
  // Row r: its two experts 2r and 2r + 1 get a large positive weight on a positive input.
  bf16 *x = b.data<bf16>(l.x), *normW = b.data<bf16>(l.normW);
  for (int64_t i = 0; i < l.rows * l.hidden; ++i)
    x[i] = floatToBf16(std::fabs(bf16ToFloat(x[i])));
  for (int64_t c = 0; c < l.hidden; ++c)
    normW[c] = floatToBf16(std::fabs(bf16ToFloat(normW[c])));
  bf16 *w = b.data<bf16>(l.router);
  for (uint32_t r = 0; r < l.rows; ++r)
    for (int64_t c = 0; c < l.hidden; ++c) {
      // Only row r's inputs are large in columns [r * 20, r * 20 + 20).
      const bool mine = c / 20 == r;
      x[r * l.hidden + c] = floatToBf16(mine ? 3.0f : 0.05f);
      w[(2 * r) * l.hidden + c] = floatToBf16(mine ? 1.0f : 0.0f);
      w[(2 * r + 1) * l.hidden + c] = floatToBf16(mine ? 0.75f : 0.0f);
    }
  const RefRouting ref = checkRouter(b, l, false);
  for (uint32_t r = 0; r < l.rows; ++r)
    EXPECT_EQ(ref.experts[r], (std::vector<int32_t>{int32_t(2 * r), int32_t(2 * r + 1)}));
  EXPECT_EQ(l.view(b).numDistinct(), int32_t(l.slots));
}

// Equal probabilities go to the lower expert id: experts 1, 3 and 6 get the same router
// row, larger than every other expert's logit; with k = 2 the row takes 1 and 3.
TEST(MoeRouter, TieGoesToTheLowerExpertId) {
  for (bool norm : {false, true}) {
    SCOPED_TRACE(norm ? "normTopkProb" : "raw weights");
    TaskBench b(testModel(4, 2, 16, 64));
    const MoeLayer l(b, {4, 11}, 8, 2, norm, 64, 32);
    bf16 *x = b.data<bf16>(l.x), *normW = b.data<bf16>(l.normW),
         *w = b.data<bf16>(l.router);
    for (int64_t i = 0; i < l.rows * l.hidden; ++i)
      x[i] = floatToBf16(std::fabs(bf16ToFloat(x[i])));
    for (int64_t c = 0; c < l.hidden; ++c)
      normW[c] = floatToBf16(std::fabs(bf16ToFloat(normW[c])));
    for (int e : {1, 3, 6})
      for (int64_t c = 0; c < l.hidden; ++c)
        w[e * l.hidden + c] = floatToBf16(0.5f);
    b.run(l.routerTask());
    const isa::ConstMoeRoutes routes = l.view(b);
    ASSERT_EQ(routes.numDistinct(), 2);
    EXPECT_EQ(routes.slotExpert(0), 1);
    EXPECT_EQ(routes.slotExpert(1), 3);
    for (uint32_t r = 0; r < l.rows; ++r) {
      const float w0 = b.data<float>(l.routeWeights)[r * 2];
      const float w1 = b.data<float>(l.routeWeights)[r * 2 + 1];
      EXPECT_EQ(w0, w1) << "tied experts, equal weights";
      if (norm) {
        EXPECT_EQ(w0, 0.5f);
      }
    }
  }
}

// An all-zero router: every logit is 0, every probability 1 / E, and every row takes
// experts 0..k-1 (the choice the session test forces).
TEST(MoeRouter, ZeroRouterPicksTheFirstKExperts) {
  TaskBench b(testModel(4, 2, 16, 64));
  const MoeLayer l(b, {3, -1, 8, 1}, 8, 3, false, 64, 32);
  std::fill_n(b.data<bf16>(l.router), l.experts * l.hidden, bf16{0});
  b.run(l.routerTask());
  const isa::ConstMoeRoutes routes = l.view(b);
  ASSERT_EQ(routes.numDistinct(), 3);
  for (uint32_t s = 0; s < l.slots; ++s) {
    EXPECT_EQ(routes.slotExpert(s), s < 3 ? int32_t(s) : -1) << "slot " << s;
    EXPECT_EQ(routes.slotRows(s), s < 3 ? 3 : 0) << "slot " << s;
  }
  for (uint32_t r : {0u, 2u, 3u})
    for (uint32_t j = 0; j < 3; ++j)
      EXPECT_EQ(b.data<float>(l.routeWeights)[r * 3 + j], 1.0f / 8.0f);
  EXPECT_EQ(routes.rowSlot(1, 0), -1);
  EXPECT_EQ(routes.rowLocal(1, 2), -1);
  EXPECT_EQ(routes.slotRow(0, 2), 3); // rows 0, 2, 3: the third is row 3
  EXPECT_EQ(routes.rowLocal(3, 1), 2);
}

// With no active row nothing is selected: D = 0 and every entry is unused.
TEST(MoeRouter, NoActiveRowSelectsNothing) {
  TaskBench b(testModel(4, 2, 16, 64));
  const MoeLayer l(b, {-1, -1}, 4, 2, true, 64, 32);
  b.poison(l.routes);
  b.run(l.routerTask());
  const isa::ConstMoeRoutes routes = l.view(b);
  EXPECT_EQ(routes.numDistinct(), 0);
  for (uint32_t s = 0; s < l.slots; ++s) {
    EXPECT_EQ(routes.slotExpert(s), -1);
    EXPECT_EQ(routes.slotRows(s), 0);
    EXPECT_EQ(routes.expertOfSlot(s), -1);
  }
  for (uint64_t i = 1 + 2 * l.slots; i < routes.length(); ++i)
    EXPECT_EQ(routes.data[i], -1) << "routes[" << i << "]";
}

} // namespace
} // namespace mk::host::test
