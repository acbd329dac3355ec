//===- plan_verify_model_test.cpp - Rules a (plan, model) and b (tensors) --===//
//
// Each case breaks one thing in the valid toy plan and checks the verifier's first
// message word for word.
//===----------------------------------------------------------------------===//
#include "mk/isa/plan_verify.h"

#include "toy_plan.h"

#include <gtest/gtest.h>

namespace mk::isa {
namespace {

using test::makeToyPlan;

struct BreakCase {
  const char *name;
  void (*breakIt)(Plan &);
  const char *expected;
};

std::ostream &operator<<(std::ostream &os, const BreakCase &c) { return os << c.name; }

class BreakModelOrTensors : public testing::TestWithParam<BreakCase> {};

TEST_P(BreakModelOrTensors, ReportsTheViolation) {
  Plan plan = makeToyPlan();
  GetParam().breakIt(plan);
  test::expectFirstViolation(plan, GetParam().expected);
}

std::string caseName(const testing::TestParamInfo<BreakCase> &info) {
  return info.param.name;
}

TEST(VerifyToyPlan, IsValidAndTensorIdsAreAsTheTablesBelowAssume) {
  Plan plan = makeToyPlan();
  Status s = verifyPlan(plan);
  EXPECT_TRUE(s.isOk()) << s.message();
  EXPECT_TRUE(verifyPlanAll(plan).empty());
  EXPECT_EQ(plan.tensors.size(), 43u);
  EXPECT_EQ(test::tensorId(plan, "decode.h0"), 20);
  EXPECT_EQ(test::tensorId(plan, "decode.logits"), 28);
  EXPECT_EQ(test::tensorId(plan, "decode.partial_max"), 29);
  EXPECT_EQ(test::tensorId(plan, "prefill.attn"), 37);
}

// Rule a.
const BreakCase kPlanCases[] = {
    {"UnknownTarget", [](Plan &p) { p.target = static_cast<TargetKind>(9); },
     "plan: unknown target 9 (known: host=0, a100=1, h100=2, h200=3)"},
    {"TensorParallelZero", [](Plan &p) { p.tensorParallel = 0; },
     "plan: tensorParallel is 0, expected >= 1"},
    {"VocabZero", [](Plan &p) { p.model.vocabSize = 0; },
     "model: vocabSize is 0, expected > 0"},
    {"HiddenZero", [](Plan &p) { p.model.hiddenSize = 0; },
     "model: hiddenSize is 0, expected > 0"},
    {"LayersZero", [](Plan &p) { p.model.numLayers = 0; },
     "model: numLayers is 0, expected > 0"},
    {"HeadsZero", [](Plan &p) { p.model.numHeads = 0; },
     "model: numHeads is 0, expected > 0"},
    {"KvHeadsZero", [](Plan &p) { p.model.numKvHeads = 0; },
     "model: numKvHeads is 0, expected > 0"},
    {"HeadsNotAMultipleOfKvHeads", [](Plan &p) { p.model.numHeads = 5; },
     "model: numHeads 5 is not a multiple of numKvHeads 2"},
    {"HeadDimZero", [](Plan &p) { p.model.headDim = 0; },
     "model: headDim is 0, expected > 0"},
    {"KvBlockSizeZero", [](Plan &p) { p.model.kvBlockSize = 0; },
     "model: kvBlockSize is 0, expected > 0"},
    {"BadRopeStyle", [](Plan &p) { p.model.ropeStyle = static_cast<RopeStyle>(7); },
     "model: ropeStyle 7 is invalid, expected 0 (rotate_half) or 1 (interleaved)"},
    {"NoPrograms", [](Plan &p) { p.programs.clear(); },
     "plan: no programs, expected at least one"},
    {"EmptyProgramName", [](Plan &p) { p.programs[1].name.clear(); },
     "program 1: empty name"},
    {"DuplicateProgramName", [](Plan &p) { p.programs[1].name = "decode"; },
     "program 1 'decode': duplicate name (program 0 has it too)"},
    {"BadProgramKind", [](Plan &p) { p.programs[0].kind = static_cast<ProgramKind>(3); },
     "program 0 'decode': invalid kind 3, expected 0 (decode) or 1 (prefill)"},
    {"ProgramWithoutRows", [](Plan &p) { p.programs[1].rows = 0; },
     "program 1 'prefill': rows is 0, expected > 0 (batch size or chunk length)"},
};
INSTANTIATE_TEST_SUITE_P(RuleA, BreakModelOrTensors, testing::ValuesIn(kPlanCases),
                         caseName);

// Rule b.
const BreakCase kTensorCases[] = {
    {"TooManyTensors", [](Plan &p) { p.tensors.resize(65536, p.tensors[0]); },
     "plan: 65536 tensors, at most 65535 can be addressed (tensor ids are 16-bit and "
     "0xFFFF means none)"},
    {"EmptyName", [](Plan &p) { p.tensors[3].name.clear(); }, "tensor 3: empty name"},
    {"DuplicateName", [](Plan &p) { p.tensors[5].name = p.tensors[2].name; },
     "tensor 5 'model.layers.0.self_attn.q_proj.weight': duplicate name (tensor 2 has it "
     "too)"},
    {"BadDType", [](Plan &p) { p.tensors[20].dtype = static_cast<DType>(9); },
     "tensor 20 'decode.h0': invalid dtype 9, expected 0..3 (bf16, f16, f32, i32)"},
    {"BadPlacement", [](Plan &p) { p.tensors[0].placement = static_cast<Placement>(7); },
     "tensor 0 'model.embed_tokens.weight': invalid placement 7, expected 0..4 (weight, "
     "activation, kv_cache, step_state, comm)"},
    {"RankZero", [](Plan &p) { p.tensors[1].rank = 0; },
     "tensor 1 'model.layers.0.input_layernorm.weight': rank 0, expected 1..4"},
    {"RankFive", [](Plan &p) { p.tensors[1].rank = 5; },
     "tensor 1 'model.layers.0.input_layernorm.weight': rank 5, expected 1..4"},
    {"ZeroDim", [](Plan &p) { p.tensors[2].shape[1] = 0; },
     "tensor 2 'model.layers.0.self_attn.q_proj.weight': dim 1 is 0, expected > 0"},
    {"NegativeDim", [](Plan &p) { p.tensors[2].shape[0] = -4; },
     "tensor 2 'model.layers.0.self_attn.q_proj.weight': dim 0 is -4, expected > 0"},
    {"LayerOutOfRange", [](Plan &p) { p.tensors[1].layer = 3; },
     "tensor 1 'model.layers.0.input_layernorm.weight': layer 3, but the model has 1 "
     "layers"},
    {"ActivationOfMissingProgram", [](Plan &p) { p.tensors[20].program = 5; },
     "tensor 20 'decode.h0': activation tensor of program 5, but the plan has 2 "
     "programs"},
    {"MisalignedOffset", [](Plan &p) { p.tensors[28].offset = 808; },
     "tensor 28 'decode.logits': arena offset 808 is not 16-byte aligned"},
    {"PastTheArena", [](Plan &p) { p.tensors[29].offset = 1328; },
     "tensor 29 'decode.partial_max': 32 bytes at arena offset 1328 do not fit the "
     "1344-byte arena of program 0 'decode'"},
    {"OffsetNearTwoToThe64",
     [](Plan &p) { p.tensors[29].offset = 0xfffffffffffffff0ull; },
     "tensor 29 'decode.partial_max': 32 bytes at arena offset 18446744073709551600 do "
     "not fit the 1344-byte arena of program 0 'decode'"},
    {"ByteSizeOverflow",
     [](Plan &p) {
       p.tensors[28].shape[0] = int64_t{1} << 40;
       p.tensors[28].shape[1] = int64_t{1} << 40;
     },
     "tensor 28 'decode.logits': byte size overflows 64 bits"},
};
INSTANTIATE_TEST_SUITE_P(RuleB, BreakModelOrTensors, testing::ValuesIn(kTensorCases),
                         caseName);

TEST(VerifyTensors, NamesFromCorruptFilesAreEscapedAndCut) {
  Plan plan = makeToyPlan();
  plan.tensors[20].name = "bad\nname" + std::string(300, 'x');
  plan.tensors[20].dtype = static_cast<DType>(4);
  Status s = verifyPlan(plan);
  ASSERT_FALSE(s.isOk());
  // The cut counts shown bytes: "bad\x0aname" is 11 of the 200.
  EXPECT_EQ(s.message(),
            "tensor 20 'bad\\x0aname" + std::string(189, 'x') +
                "...': invalid dtype 4, expected 0..3 (bf16, f16, f32, i32)");
}

TEST(VerifyTensors, UnaccessedOverlappingActivationIsFine) {
  Plan plan = makeToyPlan();
  TensorDesc spare = plan.tensors[20];
  spare.name = "decode.spare";
  spare.shape[1] = 32 * 20; // [2, 640] bf16 = 2560 bytes: past the arena
  spare.offset = 0;
  plan.tensors.push_back(spare);
  EXPECT_FALSE(verifyPlan(plan).isOk()); // does not fit
  plan.tensors.back().shape[1] = 300;    // 1200 bytes over most of the arena
  Status s = verifyPlan(plan);
  EXPECT_TRUE(s.isOk()) << s.message();
}

} // namespace
} // namespace mk::isa
