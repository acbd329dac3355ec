// MoE generation through the session: mkc's tiny-llama plan (decode batch 4, prefill
// chunk 8) with every MLP made a MoE layer of 4 experts, 2 per token (moe_plan.h), on
// random weights. Each prompt must get the same bits batched as alone and for any
// worker count and launch granularity; and a decode step must read exactly the dense
// tasks' footprints, the embedding rows and the selected experts' weights, which the
// test knows by forcing the router's choice (an all-zero router ties every expert, so
// every row takes experts 0 and 1) or by decoding one sequence (2 experts per layer).
#include "moe_plan.h"

#include "mk/host/bf16.h"
#include "mk/host/executor.h"
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"
#include "mk/runtime/session.h"

#include "../runtime/safetensors_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <unistd.h>

using namespace mk;
using namespace mk::runtime;
namespace fs = std::filesystem;

namespace {

constexpr test::MoeShape kShape{
    .experts = 4, .topK = 2, .inter = 32, .normTopkProb = true};

/// The MoE plan and two checkpoints for it: random weights, and the same with every
/// router weight zero.
struct MoeFixture {
  fs::path dir;
  isa::Plan plan;

  MoeFixture() {
    dir = fs::temp_directory_path() / ("mk-moe-session-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::string cmd = std::string(MK_MKC) + " compile --model tiny-llama --target host" +
                      " --batch 4 --prefill-chunk 8 --max-seq-len 64 -o " +
                      (dir / "dense.mkp").string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    Status s = isa::readPlanFile((dir / "dense.mkp").string(), plan);
    EXPECT_TRUE(s) << s.message();
    test::moeify(plan, kShape);
    s = isa::verifyPlan(plan);
    EXPECT_TRUE(s) << s.message();
    for (bool zeroRouter : {false, true}) {
      std::mt19937 rng(5);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      runtime::test::SafetensorsFile file;
      for (const isa::TensorDesc &t : plan.tensors) {
        if (t.placement != isa::Placement::Weight)
          continue;
        runtime::test::TensorSpec spec{t.name, "BF16", {t.shape, t.shape + t.rank}, {}};
        const bool norm = t.name.find("norm") != std::string::npos;
        const bool router = t.name.ends_with("mlp.gate.weight");
        for (uint64_t e = 0; e < t.numElements(); ++e) {
          const float v = norm ? 1.0f + 0.1f * normal(rng) : 0.1f * normal(rng);
          const uint16_t bits = host::floatToBf16(router && zeroRouter ? 0.0f : v).bits;
          spec.bytes.push_back(uint8_t(bits));
          spec.bytes.push_back(uint8_t(bits >> 8));
        }
        file.add(std::move(spec));
      }
      file.write(dir / (zeroRouter ? "zero-router.safetensors" : "model.safetensors"));
    }
  }
  ~MoeFixture() { fs::remove_all(dir); }
};

MoeFixture &fixture() {
  static MoeFixture f;
  return f;
}

struct Generation {
  Status status;
  std::vector<SequenceOutput> outputs;
  GenerateStats stats;
};

Generation generate(const std::vector<std::vector<int32_t>> &prompts,
                    const GenerateOptions &options, unsigned workers,
                    bool zeroRouter = false) {
  Generation run;
  SafetensorsSet weights;
  run.status = SafetensorsSet::open(
      (fixture().dir / (zeroRouter ? "zero-router.safetensors" : "model.safetensors"))
          .string(),
      weights);
  if (!run.status)
    return run;
  Session session(fixture().plan, host::ExecutorOptions{.workers = workers});
  if (!(run.status = session.load(weights)))
    return run;
  run.status = session.generate(prompts, options, nullptr, run.outputs, run.stats);
  return run;
}

std::vector<std::vector<int32_t>> prompts() {
  return {{5, 17, 200, 33},
          {9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 12},
          {250},
          {40, 41, 42, 43, 44, 45, 46, 47, 48},
          {100, 101},
          {7, 7, 7}};
}

GenerateOptions greedy(uint32_t tokens, uint32_t stepsPerLaunch = 4) {
  GenerateOptions o;
  o.maxNewTokens = tokens;
  o.ignoreEos = true;
  o.keepLogits = true;
  o.stepsPerLaunch = stepsPerLaunch;
  return o;
}

uint32_t decodeProgram() {
  const isa::Plan &plan = fixture().plan;
  for (uint32_t p = 0; p < plan.programs.size(); ++p)
    if (plan.programs[p].kind == isa::ProgramKind::Decode)
      return p;
  ADD_FAILURE() << "no decode program";
  return 0;
}

TEST(MoeSession, ThePlanHasMoeLayers) {
  const isa::Plan &plan = fixture().plan;
  const isa::Program &decode = plan.programs[decodeProgram()];
  EXPECT_EQ(decode.rows, 4u);
  uint32_t routers = 0, dense = 0;
  for (const isa::TaskRecord &r : decode.tasks) {
    routers += r.kind == uint16_t(isa::TaskKind::MoeRouter);
    dense += r.kind == uint16_t(isa::TaskKind::GateUp) ||
             r.kind == uint16_t(isa::TaskKind::DownProj);
  }
  EXPECT_EQ(routers, plan.model.numLayers);
  EXPECT_EQ(dense, 0u);
}

// Six prompts through four rows (batch-4 decode steps with shared and distinct
// experts, rows refilled as sequences finish): each prompt gets the tokens and logits
// it gets alone, whatever the workers and steps per launch.
TEST(MoeSession, BatchedDecodeMatchesEachPromptAloneBitForBit) {
  Generation batched = generate(prompts(), greedy(6), 3);
  ASSERT_TRUE(batched.status) << batched.status.message();
  Generation other = generate(prompts(), greedy(6, 1), 1);
  ASSERT_TRUE(other.status) << other.status.message();
  for (size_t i = 0; i < prompts().size(); ++i) {
    Generation alone = generate({prompts()[i]}, greedy(6, 5), 2);
    ASSERT_TRUE(alone.status) << alone.status.message();
    EXPECT_EQ(batched.outputs[i].tokens, alone.outputs[0].tokens) << "prompt " << i;
    EXPECT_EQ(batched.outputs[i].logits, alone.outputs[0].logits) << "prompt " << i;
    EXPECT_EQ(batched.outputs[i].tokens, other.outputs[i].tokens) << "prompt " << i;
    EXPECT_EQ(batched.outputs[i].logits, other.outputs[i].logits) << "prompt " << i;
  }
  EXPECT_EQ(batched.stats.decodeWeightBytes.has_value(), true);
}

// Forced choice: with a zero router every active row takes experts 0 and 1, so each
// decode step reads exactly 2 experts per layer, whatever the batch.
TEST(MoeSession, DecodeStepReadsExactlyTheForcedExperts) {
  const uint64_t perStep = test::stepWeightBytes(fixture().plan, decodeProgram(), 2);
  Generation run = generate(prompts(), greedy(5), 2, /*zeroRouter=*/true);
  ASSERT_TRUE(run.status) << run.status.message();
  ASSERT_GT(run.stats.decodeSteps, 0u);
  ASSERT_TRUE(run.stats.decodeWeightBytes.has_value());
  EXPECT_EQ(*run.stats.decodeWeightBytes, run.stats.decodeSteps * perStep);
}

// Batch 1 (one sequence in the four rows): one row selects k = 2 experts per layer,
// whichever they are.
TEST(MoeSession, OneSequenceReadsItsTwoExpertsPerLayer) {
  const uint64_t perStep = test::stepWeightBytes(fixture().plan, decodeProgram(), 2);
  Generation run = generate({prompts()[1]}, greedy(7, 3), 3);
  ASSERT_TRUE(run.status) << run.status.message();
  ASSERT_TRUE(run.stats.decodeWeightBytes.has_value());
  EXPECT_EQ(*run.stats.decodeWeightBytes, run.stats.decodeSteps * perStep);
}

// Several sequences: between k and min(E, B k) = E experts per layer and step.
TEST(MoeSession, BatchedStepsReadBetweenKAndAllExperts) {
  const uint64_t low = test::stepWeightBytes(fixture().plan, decodeProgram(), 2);
  const uint64_t high = test::stepWeightBytes(fixture().plan, decodeProgram(), 4);
  Generation run = generate(prompts(), greedy(6), 2);
  ASSERT_TRUE(run.status) << run.status.message();
  ASSERT_TRUE(run.stats.decodeWeightBytes.has_value());
  EXPECT_GE(*run.stats.decodeWeightBytes, run.stats.decodeSteps * low);
  EXPECT_LE(*run.stats.decodeWeightBytes, run.stats.decodeSteps * high);
  EXPECT_GT(*run.stats.decodeWeightBytes, run.stats.decodeSteps * low)
      << "four different sequences should select more than two experts somewhere";
}

} // namespace
