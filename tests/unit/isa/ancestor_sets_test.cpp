//===- ancestor_sets_test.cpp - Prefix + window sets against plain bitsets ===//
#include "mk/isa/ancestor_sets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace mk::isa {
namespace {

/// A DAG in topological numbering: preds[v] are all < v.
struct Dag {
  std::vector<std::vector<uint32_t>> preds;
};

/// Layers of `width` nodes, each depending on a few random nodes of the previous layer
/// and (with probability `crossLayer`) on any earlier node; some nodes depend on none.
Dag randomDag(uint32_t n, uint32_t width, double crossLayer, std::mt19937 &rng) {
  Dag g;
  g.preds.resize(n);
  for (uint32_t v = 0; v < n; ++v) {
    uint32_t layerStart = v / width * width;
    if (layerStart == 0)
      continue;
    std::uniform_int_distribution<uint32_t> prev(layerStart - width, layerStart - 1);
    std::uniform_int_distribution<uint32_t> any(0, v - 1);
    std::uniform_int_distribution<uint32_t> count(0, 3);
    std::bernoulli_distribution far(crossLayer);
    for (uint32_t k = count(rng); k > 0; --k)
      g.preds[v].push_back(far(rng) ? any(rng) : prev(rng));
    std::sort(g.preds[v].begin(), g.preds[v].end());
    g.preds[v].erase(std::unique(g.preds[v].begin(), g.preds[v].end()), g.preds[v].end());
  }
  return g;
}

/// anc[v][u]: u is a strict ancestor of v.
std::vector<std::vector<bool>> bruteForce(const Dag &g) {
  size_t n = g.preds.size();
  std::vector<std::vector<bool>> anc(n, std::vector<bool>(n, false));
  for (size_t v = 0; v < n; ++v)
    for (uint32_t p : g.preds[v]) {
      anc[v][p] = true;
      for (size_t u = 0; u < n; ++u)
        if (anc[p][u])
          anc[v][u] = true;
    }
  return anc;
}

/// Row of every node: the union of its predecessors' rows and the predecessors.
std::vector<AncestorSets::Row> build(AncestorSets &sets, const Dag &g) {
  std::vector<AncestorSets::Row> rowOf(g.preds.size());
  for (uint32_t v = 0; v < g.preds.size(); ++v) {
    uint32_t prefix = 0, end = 0;
    for (uint32_t p : g.preds[v]) {
      prefix = std::max(prefix, sets.prefix(rowOf[p]));
      end = std::max({end, sets.end(rowOf[p]), p / 64 + 1});
    }
    rowOf[v] = sets.create(prefix, end);
    for (uint32_t p : g.preds[v]) {
      sets.unite(rowOf[v], rowOf[p]);
      sets.insert(rowOf[v], p);
    }
    sets.finish(rowOf[v]);
  }
  return rowOf;
}

struct Shape {
  uint32_t n, width;
  double crossLayer;
};

class AncestorSetsTest : public testing::TestWithParam<Shape> {};

TEST_P(AncestorSetsTest, EqualPlainBitsets) {
  std::mt19937 rng(1234 + GetParam().n);
  for (int trial = 0; trial < 5; ++trial) {
    Dag g = randomDag(GetParam().n, GetParam().width, GetParam().crossLayer, rng);
    std::vector<std::vector<bool>> anc = bruteForce(g);
    AncestorSets sets;
    std::vector<AncestorSets::Row> rowOf = build(sets, g);
    for (uint32_t v = 0; v < g.preds.size(); ++v)
      for (uint32_t u = 0; u < g.preds.size() + 70; ++u)
        ASSERT_EQ(sets.contains(rowOf[v], u), u < g.preds.size() && anc[v][u])
            << "node " << v << ", candidate ancestor " << u;

    // Intersections of random groups of rows.
    for (int k = 0; k < 20; ++k) {
      std::vector<AncestorSets::Row> rows;
      std::vector<uint32_t> nodes;
      std::uniform_int_distribution<uint32_t> pick(0, GetParam().n - 1);
      for (int m = 1 + k % 4; m > 0; --m) {
        nodes.push_back(pick(rng));
        rows.push_back(rowOf[nodes.back()]);
      }
      AncestorSets::Row both = sets.intersect(rows);
      for (uint32_t u = 0; u < g.preds.size(); ++u)
        ASSERT_EQ(sets.contains(both, u),
                  std::all_of(nodes.begin(), nodes.end(),
                              [&](uint32_t v) { return static_cast<bool>(anc[v][u]); }))
            << "candidate " << u;
    }
  }
}

TEST_P(AncestorSetsTest, BlocksOfColumnsAgreeWithTheWholeRows) {
  std::mt19937 rng(99 + GetParam().n);
  Dag g = randomDag(GetParam().n, GetParam().width, GetParam().crossLayer, rng);
  std::vector<std::vector<bool>> anc = bruteForce(g);
  uint32_t words = (GetParam().n + 63) / 64;
  for (uint32_t block : {1u, 2u, 5u}) {
    AncestorSets sets;
    for (uint32_t first = 0; first < words; first += block) {
      uint32_t last = std::min(words, first + block);
      sets.reset(first, last);
      std::vector<AncestorSets::Row> rowOf = build(sets, g);
      for (uint32_t v = 0; v < g.preds.size(); ++v)
        for (uint32_t u = first * 64; u < std::min<uint32_t>(last * 64, GetParam().n);
             ++u)
          ASSERT_EQ(sets.contains(rowOf[v], u), static_cast<bool>(anc[v][u]))
              << "block [" << first << ", " << last << "), node " << v << ", " << u;
      // Nothing outside the block is stored.
      EXPECT_LE(sets.storedWords(), size_t{GetParam().n} * block);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AncestorSetsTest,
                         testing::Values(Shape{1, 1, 0.0}, Shape{63, 8, 0.1},
                                         Shape{65, 64, 0.0}, Shape{300, 40, 0.0},
                                         Shape{300, 40, 0.3}, Shape{500, 500, 0.0},
                                         Shape{400, 1, 0.5}),
                         [](const testing::TestParamInfo<Shape> &info) {
                           return "n" + std::to_string(info.param.n) + "w" +
                                  std::to_string(info.param.width) +
                                  (info.param.crossLayer > 0 ? "cross" : "");
                         });

TEST(AncestorSets, LayeredDagsKeepWindowsNarrow) {
  // Each node depends on every node of the previous layer (the residual stream):
  // a finished row is the prefix up to the previous layer plus at most that layer.
  const uint32_t width = 256, layers = 40;
  Dag g;
  g.preds.resize(width * layers);
  for (uint32_t v = width; v < g.preds.size(); ++v)
    for (uint32_t p = v / width * width - width; p < v / width * width; ++p)
      g.preds[v].push_back(p);
  AncestorSets sets;
  std::vector<AncestorSets::Row> rowOf = build(sets, g);
  for (uint32_t v = width; v < g.preds.size(); ++v) {
    EXPECT_EQ(sets.prefix(rowOf[v]), v / width * width / 64);
    EXPECT_EQ(sets.end(rowOf[v]), sets.prefix(rowOf[v]));
  }
  EXPECT_EQ(sets.storedWords(), 0u);
}

} // namespace
} // namespace mk::isa
