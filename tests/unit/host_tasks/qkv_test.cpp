//===- qkv_test.cpp - qkv: norm, projection, QK-norm, RoPE, KV append -----===//
#include "reference.h"
#include "task_bench.h"

#include "mk/isa/step_state.h"

#include <gtest/gtest.h>

#include <set>

namespace mk::host::test {
namespace {

struct QkvCase {
  const char *name;
  isa::ProgramKind program = isa::ProgramKind::Decode;
  uint64_t step = 0;
  bool interleaved = false, llama3 = false, headNorm = false, bias = false;
  uint32_t heads = 4, kvHeads = 2;
};

std::ostream &operator<<(std::ostream &os, const QkvCase &c) { return os << c.name; }

class Qkv : public ::testing::TestWithParam<QkvCase> {};

TEST_P(Qkv, EverySectionMatchesFloat64AndWritesOnlyItsTile) {
  const QkvCase &c = GetParam();
  constexpr uint32_t hd = 32, hidden = 64;
  constexpr int64_t bs = 16, blocksPerSeq = 4;
  isa::ModelMeta model = testModel(c.heads, c.kvHeads, hd, hidden);
  model.ropeLlama3 = c.llama3;
  model.ropeFactor = 8.0f;
  model.ropeLowFreqFactor = 1.0f;
  model.ropeHighFreqFactor = 4.0f;
  model.ropeOriginalMaxPos = 64; // wavelengths of hd = 32 fall in all three bands
  TaskBench b(model, c.program);
  const bool decode = c.program == isa::ProgramKind::Decode;
  const uint32_t group = c.heads / c.kvHeads;

  // Decode: 5 sequences, one inactive. Prefill: a chunk at positions 20.. with two
  // padding rows (an earlier chunk held positions 0..19).
  const std::vector<int32_t> pos =
      decode ? std::vector<int32_t>{7, -1, 30, 3, 12}
             : std::vector<int32_t>{20, 21, 22, 23, 24, 25, -1, -1};
  const int64_t rows = int64_t(pos.size());
  const int64_t seqs = decode ? rows : 1, blocks = seqs * blocksPerSeq + 2;
  // Distinct physical blocks for every sequence, in no particular order.
  std::vector<int32_t> table = permutation(int32_t(blocks), b.rng);
  table.resize(size_t(seqs * blocksPerSeq));
  // Slots of step 0 (kv_slots); at step s > 0 the kernel must derive them itself.
  std::vector<int32_t> slots(rows, -1);
  for (int64_t r = 0; r < rows; ++r)
    if (pos[r] >= 0)
      slots[r] = int32_t(
          isa::kvSlot(table.data() + (decode ? r : 0) * blocksPerSeq, pos[r], bs));
  const uint16_t positions = b.i32({rows}, pos), kvSlots = b.i32({rows}, slots);
  const uint16_t blockTable = b.i32({seqs, blocksPerSeq}, table);
  const uint64_t step = c.step;
  const int64_t ropeStep = decode ? int64_t(step) : 0;

  const uint16_t x = b.randomBf16({rows, hidden}, 2.0f);
  const uint16_t norm = b.randomBf16({hidden});
  const uint16_t q = b.add(isa::DType::BF16, {rows, c.heads * hd});
  const uint16_t kCache = b.add(isa::DType::BF16, {blocks, bs, c.kvHeads, hd});
  const uint16_t vCache = b.add(isa::DType::BF16, {blocks, bs, c.kvHeads, hd});
  const isa::Range rowTile{1, uint32_t(rows)};
  const std::vector<double> invFreq = refInvFreq(model, c.llama3, hd);

  for (isa::QkvSection section :
       {isa::QkvSection::Q, isa::QkvSection::K, isa::QkvSection::V}) {
    SCOPED_TRACE(int(section));
    const bool isQ = section == isa::QkvSection::Q;
    const bool rope = section != isa::QkvSection::V;
    const int64_t sectionHeads = isQ ? c.heads : c.kvHeads;
    const uint16_t w = b.randomBf16({sectionHeads * hd, hidden}, 0.25f);
    const uint16_t bias =
        c.bias ? b.randomBf16({sectionHeads * hd}, 0.5f) : isa::kNoTensor;
    const uint16_t headNorm = c.headNorm && rope ? b.randomBf16({hd}) : isa::kNoTensor;
    const uint16_t out = isQ ? q : section == isa::QkvSection::K ? kCache : vCache;
    b.poison(out);
    // Q: the query heads of KV group 1; K/V: KV head 1.
    const isa::Range heads = isQ ? isa::Range{group, 2 * group} : isa::Range{1, 2};
    uint32_t flags = 0;
    if (rope && c.interleaved)
      flags |= isa::kFlagRopeInterleaved;
    if (rope && c.llama3)
      flags |= isa::kFlagRopeLlama3;
    b.run(makeTask(isa::TaskKind::Qkv,
                   {x, norm, w, bias, headNorm, out, positions, kvSlots, blockTable},
                   rowTile, heads, {0, 0}, uint32_t(section), 0, flags),
          step);

    // Where each (row, head) of the tile lands, and the float64 value it should hold.
    std::set<int64_t> written;
    std::vector<double> got, ref;
    for (int64_t r = rowTile.begin; r < rowTile.end; ++r) {
      for (int64_t h = heads.begin; h < heads.end; ++h) {
        int64_t base;
        if (isQ) {
          base = r * c.heads * hd + h * hd;
        } else if (pos[r] < 0) {
          continue;
        } else {
          const int64_t slot = isa::kvSlot(table.data() + (decode ? r : 0) * blocksPerSeq,
                                           pos[r] + ropeStep, bs);
          base = (slot * c.kvHeads + h) * hd;
        }
        for (uint32_t d = 0; d < hd; ++d)
          written.insert(base + d);
        if (pos[r] < 0) { // inactive Q rows are zeros
          for (uint32_t d = 0; d < hd; ++d)
            EXPECT_EQ(b.data<bf16>(out)[base + d].bits, 0) << "row " << r;
          continue;
        }
        const std::vector<double> xn =
            refRmsNorm(toDouble(b.data<bf16>(x) + r * hidden, hidden), b.data<bf16>(norm),
                       model.rmsNormEps);
        std::vector<double> y =
            refMatVec(xn, b.data<bf16>(w), h * hd, (h + 1) * hd,
                      bias == isa::kNoTensor ? nullptr : b.data<bf16>(bias));
        if (headNorm != isa::kNoTensor)
          y = refRmsNorm(y, b.data<bf16>(headNorm), model.rmsNormEps);
        if (rope)
          refRope(y, invFreq, pos[r] + ropeStep, c.interleaved);
        for (uint32_t d = 0; d < hd; ++d) {
          ref.push_back(y[d]);
          got.push_back(b.at(out, base + d));
        }
      }
    }
    EXPECT_TRUE(b.coverage(out, [&](int64_t i) { return written.count(i) > 0; }));
    EXPECT_LE(normalizedError(got, ref), 1e-2);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, Qkv,
    ::testing::Values(
        QkvCase{.name = "RotateHalf"},
        QkvCase{.name = "Interleaved", .interleaved = true},
        QkvCase{.name = "Llama3", .llama3 = true},
        QkvCase{.name = "InterleavedLlama3", .interleaved = true, .llama3 = true},
        QkvCase{.name = "Qwen3HeadNormGroup4", .headNorm = true, .heads = 8},
        QkvCase{.name = "Bias", .bias = true},
        QkvCase{.name = "DecodeStep3", .step = 3, .headNorm = true, .bias = true},
        QkvCase{.name = "DecodeStep9Llama3", .step = 9, .llama3 = true},
        QkvCase{.name = "PrefillChunk", .program = isa::ProgramKind::Prefill},
        QkvCase{.name = "PrefillInterleavedLlama3",
                .program = isa::ProgramKind::Prefill,
                .interleaved = true,
                .llama3 = true}),
    [](const auto &info) { return std::string(info.param.name); });

// A missing RoPE scaling or the wrong pairing is far outside the tolerance: the test
// above can tell the conventions apart.
TEST(QkvReference, ConventionsAreDistinguishable) {
  isa::ModelMeta model = testModel(4, 2, 32, 64);
  model.ropeFactor = 8.0f;
  model.ropeLowFreqFactor = 1.0f;
  model.ropeHighFreqFactor = 4.0f;
  model.ropeOriginalMaxPos = 64;
  std::vector<double> a(32), b2;
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = 1.0 + 0.1 * double(i);
  b2 = a;
  std::vector<double> c = a, d = a;
  refRope(a, refInvFreq(model, false, 32), 30, false);
  refRope(b2, refInvFreq(model, true, 32), 30, false);
  refRope(c, refInvFreq(model, false, 32), 30, true);
  refRope(d, refInvFreq(model, false, 32), 31, false);
  EXPECT_GT(normalizedError(b2, a), 0.05);
  EXPECT_GT(normalizedError(c, a), 0.05);
  EXPECT_GT(normalizedError(d, a), 0.05);
}

} // namespace
} // namespace mk::host::test
