//===- attn_prefill_test.cpp - attn_prefill, alone and after qkv ----------===//
#include "attn_fixture.h"
#include "reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace mk::host::test {
namespace {

struct PrefillCase {
  const char *name;
  uint32_t window = 0;
  uint32_t heads = 8, kvHeads = 2;
};
std::ostream &operator<<(std::ostream &os, const PrefillCase &c) { return os << c.name; }

class AttnPrefill : public ::testing::TestWithParam<PrefillCase> {};

// A chunk of 8 rows at positions 20..25 plus two padding rows; positions 0..19 come
// from an earlier chunk and are in the cache already.
TEST_P(AttnPrefill, CausalRowsMatchFloat64AndWriteOnlyTheirTile) {
  const PrefillCase &c = GetParam();
  constexpr uint32_t hd = 32;
  TaskBench b(testModel(c.heads, c.kvHeads, hd, 64), isa::ProgramKind::Prefill);
  const uint32_t group = c.heads / c.kvHeads;
  const std::vector<int32_t> pos = {20, 21, 22, 23, 24, 25, -1, -1};
  const int64_t rows = int64_t(pos.size());
  PagedCache cache(b, 1, 4, c.kvHeads, hd);
  const uint16_t positions = b.i32({rows}, pos);
  const uint16_t q = b.randomBf16({rows, c.heads * hd}, 2.0f);
  const uint16_t out = b.add(isa::DType::BF16, {rows, c.heads * hd});
  b.poison(out);
  const int64_t g = 1;
  const isa::Range rowTile{2, uint32_t(rows)};
  b.run(makeTask(isa::TaskKind::AttnPrefill,
                 {q, cache.k, cache.v, cache.blockTable, positions, out}, rowTile,
                 {uint32_t(g), uint32_t(g + 1)}, {0, 0}, 0, c.window,
                 c.window ? uint32_t(isa::kFlagSlidingWindow) : 0u));
  EXPECT_TRUE(b.coverage(out, [&](int64_t i) {
    const int64_t r = i / (c.heads * hd), h = i % (c.heads * hd) / hd;
    return r >= rowTile.begin && r < rowTile.end && h / group == g;
  }));
  std::vector<double> got, ref;
  for (int64_t r = rowTile.begin; r < rowTile.end; ++r)
    for (int64_t h = g * group; h < (g + 1) * group; ++h) {
      const int64_t at = (r * c.heads + h) * hd;
      if (pos[r] < 0) {
        for (int64_t d = 0; d < hd; ++d)
          EXPECT_EQ(b.data<bf16>(out)[at + d].bits, 0) << "padding rows are zeros";
        continue;
      }
      std::vector<const bf16 *> keys, values;
      const int64_t lo = c.window ? std::max<int64_t>(0, pos[r] - c.window + 1) : 0;
      for (int64_t p = lo; p <= pos[r]; ++p) {
        keys.push_back(cache.key(b, 0, p, g));
        values.push_back(cache.value(b, 0, p, g));
      }
      const RefAttention a = refAttention(b.data<bf16>(q) + at, keys, values, hd);
      for (int64_t d = 0; d < hd; ++d) {
        ref.push_back(a.o[d]);
        got.push_back(b.at(out, at + d));
      }
    }
  EXPECT_LE(normalizedError(got, ref), 1e-2);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, AttnPrefill,
    ::testing::Values(PrefillCase{.name = "Group4"},
                      PrefillCase{.name = "Group2", .heads = 4},
                      PrefillCase{.name = "Window8", .window = 8},
                      PrefillCase{.name = "Window3Group2", .window = 3, .heads = 4}),
    [](const auto &info) { return std::string(info.param.name); });

// The chunk's own keys come from its qkv tasks: run K/V qkv tiles of a second chunk
// into a cache that holds the first chunk, then Q and attention, and compare with a
// float64 computation of the whole thing.
TEST(AttnPrefill, SecondChunkAfterQkvMatchesFloat64) {
  constexpr uint32_t heads = 4, kvHeads = 2, hd = 32, hidden = 64, group = 2;
  isa::ModelMeta model = testModel(heads, kvHeads, hd, hidden);
  TaskBench b(model, isa::ProgramKind::Prefill);
  const std::vector<int32_t> pos = {16, 17, 18, 19, 20, 21, -1, -1};
  const int64_t rows = int64_t(pos.size()), first = 16;
  PagedCache cache(b, 1, 4, kvHeads, hd);
  std::vector<int32_t> slots(rows, -1);
  for (int64_t r = 0; r < rows; ++r)
    if (pos[r] >= 0)
      slots[r] = int32_t(cache.slot(0, pos[r]));
  const uint16_t positions = b.i32({rows}, pos), kvSlots = b.i32({rows}, slots);
  const uint16_t x = b.randomBf16({rows, hidden}, 2.0f), norm = b.randomBf16({hidden});
  const uint16_t wq = b.randomBf16({heads * hd, hidden}, 0.25f);
  const uint16_t wk = b.randomBf16({kvHeads * hd, hidden}, 0.25f);
  const uint16_t wv = b.randomBf16({kvHeads * hd, hidden}, 0.25f);
  const uint16_t q = b.add(isa::DType::BF16, {rows, heads * hd});
  const uint16_t out = b.add(isa::DType::BF16, {rows, heads * hd});
  const uint16_t no = isa::kNoTensor;
  const isa::Range all{0, uint32_t(rows)};
  for (uint32_t kvh = 0; kvh < kvHeads; ++kvh) {
    b.run(makeTask(isa::TaskKind::Qkv,
                   {x, norm, wq, no, no, q, positions, kvSlots, cache.blockTable}, all,
                   {kvh * group, (kvh + 1) * group}, {0, 0}, 0));
    b.run(makeTask(isa::TaskKind::Qkv,
                   {x, norm, wk, no, no, cache.k, positions, kvSlots, cache.blockTable},
                   all, {kvh, kvh + 1}, {0, 0}, 1));
    b.run(makeTask(isa::TaskKind::Qkv,
                   {x, norm, wv, no, no, cache.v, positions, kvSlots, cache.blockTable},
                   all, {kvh, kvh + 1}, {0, 0}, 2));
  }
  for (uint32_t kvh = 0; kvh < kvHeads; ++kvh)
    b.run(makeTask(isa::TaskKind::AttnPrefill,
                   {q, cache.k, cache.v, cache.blockTable, positions, out}, all,
                   {kvh, kvh + 1}));

  // float64: this chunk's q, k, v from x; earlier keys from the cache as they were.
  const std::vector<double> invFreq = refInvFreq(model, false, hd);
  auto project = [&](uint16_t w, int64_t r, int64_t h, bool rope) {
    const std::vector<double> xn =
        refRmsNorm(toDouble(b.data<bf16>(x) + r * hidden, hidden), b.data<bf16>(norm),
                   model.rmsNormEps);
    std::vector<double> y = refMatVec(xn, b.data<bf16>(w), h * hd, (h + 1) * hd);
    if (rope)
      refRope(y, invFreq, pos[r], false);
    return y;
  };
  std::vector<double> got, ref;
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t kvh = h / group;
      const std::vector<double> qr = project(wq, r, h, true);
      std::vector<double> s, o(hd, 0.0);
      std::vector<std::vector<double>> vs;
      for (int64_t p = 0; p <= pos[r]; ++p) {
        std::vector<double> k, v;
        if (p < first) {
          k = toDouble(cache.key(b, 0, p, kvh), hd);
          v = toDouble(cache.value(b, 0, p, kvh), hd);
        } else {
          k = project(wk, p - first, kvh, true);
          v = project(wv, p - first, kvh, false);
        }
        double dot = 0;
        for (int64_t d = 0; d < hd; ++d)
          dot += qr[d] * k[d];
        s.push_back(dot / std::sqrt(double(hd)));
        vs.push_back(v);
      }
      const double m = *std::max_element(s.begin(), s.end());
      double l = 0;
      for (double v : s)
        l += std::exp(v - m);
      for (size_t j = 0; j < s.size(); ++j)
        for (int64_t d = 0; d < hd; ++d)
          o[d] += std::exp(s[j] - m) / l * vs[j][d];
      for (int64_t d = 0; d < hd; ++d) {
        ref.push_back(o[d]);
        got.push_back(b.at(out, (r * heads + h) * hd + d));
      }
    }
  EXPECT_LE(normalizedError(got, ref), 1e-2);
}

} // namespace
} // namespace mk::host::test
