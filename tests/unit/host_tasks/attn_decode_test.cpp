//===- attn_decode_test.cpp - attn_decode partials and their merge --------===//
#include "attn_fixture.h"
#include "reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mk::host::test {
namespace {

struct DecodeCase {
  const char *name;
  uint64_t step = 0;
  uint32_t window = 0;
  uint32_t heads = 8, kvHeads = 2;
};
std::ostream &operator<<(std::ostream &os, const DecodeCase &c) { return os << c.name; }

class AttnDecode : public ::testing::TestWithParam<DecodeCase> {};

constexpr int64_t kBlockSize = 16, kBlocksPerSeq = 4, kSplits = 4, kSpan = 16;

TEST_P(AttnDecode, SplitsMatchFloat64AndMergeToFullAttention) {
  const DecodeCase &c = GetParam();
  constexpr uint32_t hd = 32;
  TaskBench b(testModel(c.heads, c.kvHeads, hd, 64));
  const uint32_t group = c.heads / c.kvHeads;
  // Row 1 is inactive; the others end in different splits, so some splits are empty.
  const std::vector<int32_t> lens = {20, 0, 5, 50};
  const int64_t rows = int64_t(lens.size());
  PagedCache cache(b, rows, kBlocksPerSeq, c.kvHeads, hd, kBlockSize);
  const uint16_t seqLens = b.i32({rows}, lens);
  const uint16_t q = b.randomBf16({rows, c.heads * hd}, 2.0f);
  const uint16_t po = b.add(isa::DType::F32, {rows, c.heads, kSplits, hd});
  const uint16_t plse = b.add(isa::DType::F32, {rows, c.heads, kSplits});
  const uint16_t out = b.add(isa::DType::BF16, {rows, c.heads * hd});
  b.poison(po);
  b.poison(plse);
  b.poison(out);
  const uint32_t flags = c.window ? uint32_t(isa::kFlagSlidingWindow) : 0u;
  const int64_t g = 1; // KV head under test; the other must stay untouched.
  const isa::Range rowTile{0, uint32_t(rows)};
  for (int64_t s = 0; s < kSplits; ++s)
    b.run(makeTask(isa::TaskKind::AttnDecode,
                   {q, cache.k, cache.v, cache.blockTable, seqLens, po, plse}, rowTile,
                   {uint32_t(g), uint32_t(g + 1)},
                   {uint32_t(s * kSpan), uint32_t((s + 1) * kSpan)}, uint32_t(s),
                   c.window, flags),
          c.step);

  auto headOfGroup = [&](int64_t h) { return h / group == g; };
  EXPECT_TRUE(b.coverage(
      po, [&](int64_t i) { return headOfGroup(i / (kSplits * hd) % c.heads); }));
  EXPECT_TRUE(
      b.coverage(plse, [&](int64_t i) { return headOfGroup(i / kSplits % c.heads); }));

  std::vector<double> gotO, refO, gotLse, refLse;
  std::vector<double> gotOut, refOut;
  int64_t emptySplits = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = lens[r] > 0 ? lens[r] + int64_t(c.step) : 0;
    const int64_t lo = c.window ? std::max<int64_t>(0, n - c.window) : 0;
    for (int64_t h = g * group; h < (g + 1) * group; ++h) {
      const bf16 *qh = b.data<bf16>(q) + (r * c.heads + h) * hd;
      std::vector<const bf16 *> allK, allV;
      for (int64_t p = lo; p < n; ++p) {
        allK.push_back(cache.key(b, r, p, g));
        allV.push_back(cache.value(b, r, p, g));
      }
      const RefAttention full = refAttention(qh, allK, allV, hd);
      for (int64_t d = 0; d < hd; ++d)
        refOut.push_back(full.o[d]);
      for (int64_t s = 0; s < kSplits; ++s) {
        std::vector<const bf16 *> keys, values;
        for (int64_t p = std::max(lo, s * kSpan); p < std::min(n, (s + 1) * kSpan); ++p) {
          keys.push_back(cache.key(b, r, p, g));
          values.push_back(cache.value(b, r, p, g));
        }
        const RefAttention part = refAttention(qh, keys, values, hd);
        const int64_t at = (r * c.heads + h) * kSplits + s;
        if (keys.empty()) {
          ++emptySplits;
          EXPECT_EQ(b.at(plse, at), -std::numeric_limits<double>::infinity());
          for (int64_t d = 0; d < hd; ++d)
            EXPECT_EQ(b.at(po, at * hd + d), 0.0);
          continue;
        }
        refLse.push_back(part.lse);
        gotLse.push_back(b.at(plse, at));
        for (int64_t d = 0; d < hd; ++d) {
          refO.push_back(part.o[d]);
          gotO.push_back(b.at(po, at * hd + d));
        }
      }
    }
  }
  EXPECT_GT(emptySplits, 0);
  EXPECT_LE(normalizedError(gotO, refO), 1e-5);
  EXPECT_LE(normalizedError(gotLse, refLse), 1e-6);

  // The merge of the partials is attention over all of the row's keys.
  b.run(makeTask(isa::TaskKind::AttnMerge, {po, plse, out}, rowTile,
                 {uint32_t(g), uint32_t(g + 1)}, {0, uint32_t(kSplits)}, kSplits));
  EXPECT_TRUE(
      b.coverage(out, [&](int64_t i) { return headOfGroup(i % (c.heads * hd) / hd); }));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = g * group; h < (g + 1) * group; ++h)
      for (int64_t d = 0; d < hd; ++d)
        gotOut.push_back(b.at(out, (r * c.heads + h) * hd + d));
  EXPECT_LE(normalizedError(gotOut, refOut), 1e-2);
  for (int64_t i = 0; i < group * hd; ++i) // the inactive row merges to zeros
    EXPECT_EQ(b.at(out, (1 * c.heads + g * group) * hd + i), 0.0);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, AttnDecode,
    ::testing::Values(DecodeCase{.name = "Step0Group4"},
                      DecodeCase{.name = "Step0Group2", .heads = 4},
                      DecodeCase{.name = "Step5", .step = 5},
                      DecodeCase{.name = "Step11", .step = 11, .heads = 4},
                      DecodeCase{.name = "Window10", .window = 10},
                      DecodeCase{.name = "Window24Step3", .step = 3, .window = 24}),
    [](const auto &info) { return std::string(info.param.name); });

} // namespace
} // namespace mk::host::test
