// The verifier's tensor-parallel rules: shard fields, comm buffers, comm tasks' shapes,
// sites and tiles, the site order the two-buffer protocol relies on, and the model
// dims a TP degree must divide. A small valid TP=2 decode program, then one break each.
#include "toy_plan.h"

#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

#include <functional>

namespace mk::isa::test {
namespace {

// decode (rows 2), TP = 2, hidden 32, vocab 64 (32 per rank):
//   0 embedding --emb--> 1, 2 o_proj (no residual, columns [0,16) / [16,32)) --o-->
//   3, 4 all_reduce site 0 (tiles 0, 1) --ar--> 5, 6 lm_head (vocab [0,16) / [16,32) of
//   the rank's slice) --lm--> 7 all_gather site 1 --ag--> 8 argmax --argmax--> (next
//   step's embedding)
enum : uint32_t { kTEmb, kTO0, kTO1, kTAr0, kTAr1, kTLm0, kTLm1, kTAg, kTArgmax };
enum : uint32_t { eEmb, eO, eAr, eLm, eAg, eArgmax };

Plan makeTpPlan() {
  using enum TaskKind;
  PlanBuilder b;
  b.plan.target = TargetKind::Host;
  b.plan.tensorParallel = 2;
  ModelMeta &m = b.plan.model;
  m.family = "llama";
  m.vocabSize = 64;
  m.hiddenSize = 32;
  m.intermediateSize = 64;
  m.numLayers = 1;
  m.numHeads = 4;
  m.numKvHeads = 2;
  m.headDim = 8;
  m.maxSeqLen = 64;
  const auto W = Placement::Weight, S = Placement::StepState, C = Placement::Comm;
  const auto bf = DType::BF16, f32 = DType::F32, i32 = DType::I32;
  const uint16_t embed = b.tensor("model.embed_tokens.weight", bf, W, {64, 32});
  const uint16_t oW =
      b.tensor("model.layers.0.self_attn.o_proj.weight", bf, W, {32, 16}, 0);
  b.plan.tensors[oW].shardDim = 1;
  b.plan.tensors[oW].shardParts = 2;
  const uint16_t norm = b.tensor("model.norm.weight", bf, W, {32});
  const uint16_t lmW = b.tensor("lm_head.weight", bf, W, {32, 32});
  b.plan.tensors[lmW].shardParts = 2;
  const uint32_t d = b.program("decode", ProgramKind::Decode, 2, 768);
  const uint16_t tokens = b.tensor("decode.tokens", i32, S, {2});
  const uint16_t out = b.tensor("decode.tokens_out", i32, S, {2});
  const uint16_t x = b.activation("decode.x", d, bf, {2, 32}, 0);
  const uint16_t part = b.activation("decode.partial", d, bf, {2, 32}, 128);
  const uint16_t h = b.activation("decode.h", d, bf, {2, 32}, 256);
  const uint16_t logits = b.activation("decode.logits", d, f32, {2, 32}, 384);
  const uint16_t pm = b.activation("decode.partial_max", d, f32, {2, 2, 2}, 640);
  const uint16_t gathered = b.activation("decode.gathered", d, f32, {2, 4, 2}, 672);
  const uint16_t reduce = b.tensor("decode.comm.reduce", bf, C, {2, 2, 2, 32});
  const uint16_t gather = b.tensor("decode.comm.gather", f32, C, {2, 2, 2, 4});
  const uint16_t flags = b.tensor("decode.comm.flags", i32, C, {2, 2, 2});
  for (const char *name : {"emb", "o", "ar", "lm", "ag", "argmax"})
    b.event(d, name);
  const Range rows{0, 2}, none{0, 0};
  b.task(d, Embedding, kNoLayer, {tokens, embed, x}, rows, {0, 32}, none, {{eArgmax, 1}},
         {eEmb});
  for (uint32_t t = 0; t < 2; ++t)
    b.task(d, OProj, 0, {x, oW, kNoTensor, part}, rows, {16 * t, 16 * t + 16}, none,
           {{eEmb}}, {eO});
  for (uint32_t t = 0; t < 2; ++t) {
    const uint32_t i = b.task(d, AllReduce, 0, {part, x, reduce, flags, h}, rows,
                              {16 * t, 16 * t + 16}, none, {{eO}}, {eAr}, 0);
    b.plan.programs[d].tasks[i].aux[1] = t;
  }
  for (uint32_t t = 0; t < 2; ++t)
    b.task(d, LmHead, kNoLayer, {h, norm, lmW, logits, pm}, rows, {16 * t, 16 * t + 16},
           none, {{eAr}}, {eLm}, t);
  b.task(d, AllGather, kNoLayer, {pm, gather, flags, gathered}, rows, {0, 2}, none,
         {{eLm}}, {eAg}, 1);
  b.task(d, Argmax, kNoLayer, {gathered, out}, rows, none, none, {{eAg}}, {eArgmax});
  b.finish();
  return b.plan;
}

TaskRecord &task(Plan &p, uint32_t t) { return p.programs[0].tasks[t]; }

TEST(PlanVerifyComm, ValidTensorParallelPlanPassesAndRoundTrips) {
  const Plan plan = makeTpPlan();
  const std::vector<std::string> all = verifyPlanAll(plan, 20);
  EXPECT_TRUE(all.empty()) << all.front();
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(writePlan(plan, bytes).isOk());
  Plan back;
  ASSERT_TRUE(readPlan(bytes, back).isOk());
  expectPlansEqual(plan, back);
}

struct Break {
  const char *name;
  std::function<void(Plan &)> apply;
  std::string expected;
};

class BreakTensorParallel : public ::testing::TestWithParam<Break> {};

TEST_P(BreakTensorParallel, ReportsTheViolation) {
  Plan plan = makeTpPlan();
  GetParam().apply(plan);
  const std::vector<std::string> all = verifyPlanAll(plan, 50);
  bool found = false;
  for (const std::string &m : all)
    found = found || m == GetParam().expected;
  EXPECT_TRUE(found) << "expected: " << GetParam().expected
                     << "\nfirst: " << (all.empty() ? "(none)" : all.front());
}

const Break kBreaks[] = {
    {"CommTaskWithOneRank",
     [](Plan &p) {
       p.tensorParallel = 1;
       for (TensorDesc &t : p.tensors)
         t.shardParts = 1, t.shardDim = 0;
     },
     "program 0 'decode' task 3 (all_reduce, layer 0): a comm task in a plan with "
     "tensorParallel 1 (comm tasks exchange data between ranks; a plan of one rank has "
     "none)"},
    {"PartsTimesReplicas",
     [](Plan &p) { p.tensors[tensorId(p, "lm_head.weight")].shardReplicas = 2; },
     "tensor 3 'lm_head.weight': 2 parts x 2 replicas, expected tensorParallel 2 ranks"},
    {"ShardedActivation",
     [](Plan &p) { p.tensors[tensorId(p, "decode.x")].shardParts = 2; },
     "tensor 6 'decode.x': sharded (2 parts), but its placement is activation; only "
     "weights are sharded"},
    {"ShardDimBeyondRank",
     [](Plan &p) { p.tensors[tensorId(p, "lm_head.weight")].shardDim = 2; },
     "tensor 3 'lm_head.weight': shard dim 2, but the tensor has rank 2"},
    {"HeadsNotDivisible", [](Plan &p) { p.model.numHeads = 3, p.model.numKvHeads = 1; },
     "model: numHeads 3 is not divisible by tensorParallel 2"},
    {"KvHeadsNeitherWay",
     [](Plan &p) {
       p.tensorParallel = 4;
       p.model.numHeads = 12, p.model.numKvHeads = 6;
     },
     "model: numKvHeads 6 and tensorParallel 4: one must divide the other (KV heads are "
     "split, or replicated when fewer than the ranks)"},
    {"SiteGap", [](Plan &p) { task(p, kTAg).aux[0] = 2; },
     "program 0 'decode': comm site 2 is used but site 1 is not (sites must be numbered "
     "0..S-1 in program order)"},
    {"TileTwice", [](Plan &p) { task(p, kTAr1).aux[1] = 0; },
     "program 0 'decode' comm site 0 (all_reduce): task 4 (all_reduce, layer 0) and task "
     "3 are both tile 0"},
    {"ColumnsNotCovered",
     [](Plan &p) {
       task(p, kTAr1).range[1] = {20, 32};
     },
     "program 0 'decode' comm site 0 (all_reduce): columns [16, 20) are not reduced (the "
     "tiles must cover [0, 32) once)"},
    {"TileBeyondFlags", [](Plan &p) { task(p, kTAr1).aux[1] = 2; },
     "program 0 'decode' task 4 (all_reduce, layer 0): aux[1] (tile of the site) is 2, "
     "but the flags [2, 2, 2] i32 have 2 tile slots"},
    {"CommShape",
     [](Plan &p) { p.tensors[tensorId(p, "decode.comm.reduce")].shape[1] = 4; },
     "program 0 'decode' task 3 (all_reduce, layer 0): operand 'comm' is tensor 12 "
     "'decode.comm.reduce' [2, 4, 2, 32] bf16, expected [2 2, N 2, R 2, H 32] bf16"},
    {"GatherOutShape",
     [](Plan &p) { p.tensors[tensorId(p, "decode.gathered")].shape[1] = 2; },
     "program 0 'decode' task 7 (all_gather): operand 'out' is tensor 11 "
     "'decode.gathered' [2, 2, 2] f32, expected [R 2, N T 4, 2 2] f32"},
    {"PartialIsComm",
     [](Plan &p) { task(p, kTAr0).operand[0] = tensorId(p, "decode.comm.reduce"); },
     "program 0 'decode' task 3 (all_reduce, layer 0): operand 'partial' is tensor 12 "
     "'decode.comm.reduce' [2, 2, 2, 32] bf16, expected [R 2, H 32] bf16"},
    {"SiteOneBeforeSiteZeroEnds",
     [](Plan &p) {
       // lm_head waits on the o_proj event instead of the all_reduce's: site 1 no
       // longer descends from site 0.
       task(p, kTLm0).wait[0].event = eO;
       task(p, kTLm1).wait[0].event = eO;
     },
     "program 0 'decode' task 7 (all_gather): comm site 1 is not ordered after every "
     "tile of site 0 (two comm buffers are reused in turn: each site must wait, through "
     "its inputs, for all of the previous one)"},
    {"SiteZeroIgnoresThePreviousStep", [](Plan &p) { task(p, kTEmb).numWaits = 0; },
     "program 0 'decode' task 3 (all_reduce, layer 0): comm site 0 does not wait, "
     "through its inputs, for all of the previous step's last comm site 1"},
};

INSTANTIATE_TEST_SUITE_P(Rules, BreakTensorParallel, ::testing::ValuesIn(kBreaks),
                         [](const auto &info) { return std::string(info.param.name); });

} // namespace
} // namespace mk::isa::test
