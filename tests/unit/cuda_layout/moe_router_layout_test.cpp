//===- moe_router_layout_test.cpp - The CUDA router's lanes and layout on the host ===//
//
// The CUDA moe_router (megakernel/cuda/tasks/moe_router.cuh) must compute the host's
// logits bit for bit, so that both executors route alike. Its dot products run on lane
// quads, with every index from device/moe_router_layout.h, which is plain C++: this
// test replays a quad's work on the host through those same functions (the 16-byte
// chunk each lane reads per block, the fma into its eight partials, the two shuffles
// of the tree and the fold of lane 0's registers) and requires the host's dotBf16 bits
// for lengths that are and are not whole blocks. It also checks the shared-memory
// layout the kernel and the executor's check compute: regions aligned and disjoint,
// xn rows 64 bytes mod 128 long (conflict-free quarter warps) and long enough for the
// blocks a quad reads, the most rows that fit, and a refusal when not one row fits.
// What needs the device (the shuffles themselves, cp.async, the warp's routing) the
// gpu-labelled tests check.
//===----------------------------------------------------------------------===//
#include "device/moe_router_layout.h"

#include "kernels/dot.h"

#include "mk/host/bf16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace mk::cuda::router {
namespace {

using host::bf16;

/// A quad's dot product of a and b [n], as the kernel's lanes compute it: lane q fmas
/// the 8 elements from quadChunk(b, q) of each block b into its partials (zeros past
/// n), then the tree's shuffles (lane q += lane q + quadShuffle(s), inside the quad:
/// lanes past it keep their value) and lane 0's fold.
float emulateQuadDot(const std::vector<bf16> &a, const std::vector<bf16> &b) {
  const uint32_t n = uint32_t(a.size());
  const uint32_t blocks = (n + kPartials - 1) / kPartials;
  float p[kQuadLanes][kLanePartials] = {};
  for (uint32_t blk = 0; blk < blocks; ++blk)
    for (uint32_t q = 0; q < kQuadLanes; ++q)
      for (uint32_t i = 0; i < kLanePartials; ++i) {
        const uint32_t k = quadChunk(blk, q) + i;
        const float x = k < n ? host::bf16ToFloat(a[k]) : 0.0f;
        const float y = k < n ? host::bf16ToFloat(b[k]) : 0.0f;
        p[q][i] = std::fma(x, y, p[q][i]);
      }
  for (uint32_t s = 0; s < kQuadShuffleSteps; ++s) {
    float shuffled[kQuadLanes][kLanePartials];
    for (uint32_t q = 0; q < kQuadLanes; ++q)
      for (uint32_t i = 0; i < kLanePartials; ++i) {
        const uint32_t from = q + quadShuffle(s); // __shfl_down_sync, width 4
        shuffled[q][i] = from < kQuadLanes ? p[from][i] : p[q][i];
      }
    for (uint32_t q = 0; q < kQuadLanes; ++q)
      for (uint32_t i = 0; i < kLanePartials; ++i)
        p[q][i] = p[q][i] + shuffled[q][i];
  }
  return foldLanePartials(p[0]);
}

std::vector<bf16> randomRow(uint32_t n, std::mt19937 &rng, float scale) {
  std::uniform_real_distribution<float> value(-scale, scale);
  std::vector<bf16> v(n);
  for (bf16 &x : v)
    x = host::floatToBf16(value(rng));
  return v;
}

TEST(MoeRouterLayout, QuadDotIsTheHostDotBitForBit) {
  std::mt19937 rng(7);
  for (uint32_t n : {1u, 7u, 8u, 31u, 32u, 33u, 64u, 72u, 100u, 1000u, 2048u, 2056u}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    for (int trial = 0; trial < 20; ++trial) {
      const std::vector<bf16> a = randomRow(n, rng, 3.0f), b = randomRow(n, rng, 0.5f);
      const float got = emulateQuadDot(a, b);
      const float want = host::kernels::dotBf16(a.data(), b.data(), n);
      ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
          << got << " vs " << want;
      // A row's sum of squares, the RMSNorm statistic.
      const float squares = emulateQuadDot(a, a);
      ASSERT_EQ(std::bit_cast<uint32_t>(squares),
                std::bit_cast<uint32_t>(host::kernels::dotBf16(a.data(), a.data(), n)));
    }
  }
}

// The order matters: summing the same products in the order of a 32-lane warp
// reduction (lane j holding partial j, xor butterfly) gives other bits, so the test
// above could tell a wrong tree from the right one.
TEST(MoeRouterLayout, AnotherTreeGivesOtherBits) {
  std::mt19937 rng(11);
  int differ = 0;
  for (int trial = 0; trial < 50; ++trial) {
    const uint32_t n = 2048;
    const std::vector<bf16> a = randomRow(n, rng, 3.0f), b = randomRow(n, rng, 0.5f);
    float p[kPartials] = {};
    for (uint32_t k = 0; k < n; ++k)
      p[k % kPartials] =
          std::fma(host::bf16ToFloat(a[k]), host::bf16ToFloat(b[k]), p[k % kPartials]);
    for (uint32_t w = 1; w < kPartials; w *= 2) // the tree upside down
      for (uint32_t j = 0; j + w < kPartials; j += 2 * w)
        p[j] = p[j] + p[j + w];
    differ += std::bit_cast<uint32_t>(p[0]) !=
              std::bit_cast<uint32_t>(host::kernels::dotBf16(a.data(), b.data(), n));
  }
  EXPECT_GT(differ, 0);
}

TEST(MoeRouterLayout, EveryDotOfABlockOnceAndAWarpsQuadsShareAnExpert) {
  for (uint32_t rb : {1u, 3u, 8u})
    for (uint32_t experts : {4u, 8u, 128u}) {
      std::set<std::pair<uint32_t, uint32_t>> seen;
      for (uint32_t d = 0; d < rb * experts; ++d) {
        const DotIndex i = dotIndex(d, rb);
        ASSERT_LT(i.row, rb);
        ASSERT_LT(i.expert, experts);
        seen.insert({i.row, i.expert});
      }
      EXPECT_EQ(seen.size(), size_t(rb) * experts);
    }
  // With kMaxBlockRows rows, the eight quads of a warp (dots 8 w .. 8 w + 7) read one
  // expert's weights; with one row they take eight experts.
  for (uint32_t w = 0; w < 16; ++w)
    for (uint32_t g = 0; g < 8; ++g) {
      EXPECT_EQ(dotIndex(8 * w + g, kMaxBlockRows).expert, w);
      EXPECT_EQ(dotIndex(8 * w + g, 1).expert, 8 * w + g);
    }
}

struct Region {
  uint32_t begin, end;
  const char *name;
};

void checkLayout(uint32_t rows, uint32_t experts, uint32_t topK, uint32_t hidden,
                 uint32_t scratch) {
  SCOPED_TRACE("R " + std::to_string(rows) + ", E " + std::to_string(experts) + ", k " +
               std::to_string(topK) + ", H " + std::to_string(hidden));
  const RouterLayout l = routerLayout(rows, experts, topK, hidden, scratch);
  ASSERT_GT(l.blockRows, 0u);
  EXPECT_LE(l.blockRows, std::min(rows, kMaxBlockRows));
  EXPECT_LE(l.bytes, scratch);
  // The most rows that fit: one more row's logits and xn would not (less the at most
  // 112 bytes of padding before xn).
  if (l.blockRows < std::min(rows, kMaxBlockRows)) {
    EXPECT_GT(l.bytes + alignUp(4 * experts, 16) + 2 * l.xnStride + 112, scratch)
        << "one more row per block fits";
  }
  // xn rows: whole 16-byte chunks, 64 bytes mod 128, room for every block a quad reads.
  const uint32_t blocks = (hidden + kPartials - 1) / kPartials;
  EXPECT_EQ(2 * l.xnStride % 128, 64u);
  EXPECT_GE(l.xnStride, quadChunk(blocks - 1, kQuadLanes - 1) + kLanePartials);
  EXPECT_EQ(l.xn % 128, 0u);
  const std::vector<Region> regions = {
      {l.scales, l.scales + 4 * rows, "scales"},
      {l.slotOf, l.slotOf + 4 * experts, "slotOf"},
      {l.expertOf, l.expertOf + 4 * experts, "expertOf"},
      {l.count, l.count + 4, "count"},
      {l.taken, l.taken + kWarps * alignUp(experts, 16), "taken"},
      {l.chosen, l.chosen + kWarps * 4 * topK, "chosen"},
      {l.ring, l.ring + kRingBlocks * kThreads * 16, "ring"},
      {l.logits, l.logits + l.blockRows * alignUp(4 * experts, 16), "logits"},
      {l.xn, l.xn + l.blockRows * 2 * l.xnStride, "xn"}};
  for (const Region &a : regions) {
    EXPECT_EQ(a.begin % 16, 0u) << a.name;
    EXPECT_LE(a.end, l.bytes) << a.name;
    for (const Region &b : regions)
      if (&a != &b && a.begin < a.end && b.begin < b.end) {
        EXPECT_TRUE(a.end <= b.begin || b.end <= a.begin) << a.name << " / " << b.name;
      }
  }
}

TEST(MoeRouterLayout, RegionsAreAlignedDisjointAndFit) {
  constexpr uint32_t kSm80Scratch = 96 * 1024, kSm90Scratch = 128 * 1024;
  for (uint32_t scratch : {kSm80Scratch, kSm90Scratch}) {
    checkLayout(1, 128, 8, 2048, scratch);   // Qwen3-30B-A3B, batch 1
    checkLayout(4, 8, 2, 4096, scratch);     // Mixtral, batch 4
    checkLayout(256, 128, 8, 4096, scratch); // Qwen3-235B-A22B, a prefill chunk
    checkLayout(512, 8, 2, 4096, scratch);   // Mixtral, a prefill chunk
    checkLayout(5, 8, 2, 100, scratch);      // k % 8 != 0
    checkLayout(3, 6, 2, 64, scratch);
  }
}

TEST(MoeRouterLayout, ARouterThatDoesNotFitIsRefused) {
  // Hidden 40000: one normalized row alone is 80 KB, and the ring 32 KB.
  const RouterLayout l = routerLayout(1, 8, 2, 40000, 96 * 1024);
  EXPECT_EQ(l.blockRows, 0u);
  EXPECT_GT(l.bytes, 96u * 1024);
  // Too many rows for their scales.
  EXPECT_EQ(routerLayout(30000, 8, 2, 64, 96 * 1024).blockRows, 0u);
}

} // namespace
} // namespace mk::cuda::router
