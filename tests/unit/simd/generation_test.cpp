//===- generation_test.cpp - A whole generation: the same bits on every target ===//
//
// The bundled demo model (its host plan and weights, built next to the tools) runs a
// prompt through chunked prefill and multi-step decode under each compiled SIMD
// target this CPU supports, with another worker count each time; its tokens and every
// logit must equal those of the scalar fallback.
//===----------------------------------------------------------------------===//
#include "simd_targets.h"

#include "mk/host/executor.h"
#include "mk/isa/plan_file.h"
#include "mk/runtime/safetensors.h"
#include "mk/runtime/session.h"

#include <bit>
#include <cstring>

namespace mk::host::test {
namespace {

struct Generated {
  std::vector<int32_t> tokens;
  std::vector<uint32_t> logitBits;
  bool operator==(const Generated &) const = default;
};

Generated generateDemo(unsigned workers) {
  Generated g;
  isa::Plan plan;
  Status s = isa::readPlanFile(MK_DEMO_DIR "/demo-host.mkp", plan);
  EXPECT_TRUE(s) << s.message();
  runtime::SafetensorsSet weights;
  if (s)
    s = runtime::SafetensorsSet::open(MK_DEMO_DIR, weights);
  EXPECT_TRUE(s) << s.message();
  if (!s)
    return g;
  runtime::Session session(
      plan, std::make_unique<HostExecutor>(plan, ExecutorOptions{.workers = workers}));
  s = session.load(weights);
  EXPECT_TRUE(s) << s.message();
  runtime::GenerateOptions options;
  options.maxNewTokens = 8;
  options.ignoreEos = true;
  options.keepLogits = true;
  options.stepsPerLaunch = 4;
  // 70 prompt tokens: two prefill chunks (the demo plan's chunk is 64 tokens).
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 70; ++i)
    prompt.push_back(32 + (i * 37) % 200);
  std::vector<runtime::SequenceOutput> outputs;
  runtime::GenerateStats stats;
  s = session.generate({prompt}, options, nullptr, outputs, stats);
  EXPECT_TRUE(s) << s.message();
  if (!s || outputs.size() != 1)
    return g;
  g.tokens = outputs[0].tokens;
  for (float v : outputs[0].logits)
    g.logitBits.push_back(std::bit_cast<uint32_t>(v));
  EXPECT_EQ(g.tokens.size(), 8u);
  return g;
}

class GenerationOnTarget : public ::testing::TestWithParam<std::string> {};

TEST_P(GenerationOnTarget, DemoTokensAndLogitsAreTheFallbacks) {
  MK_SKIP_UNLESS_CPU_SUPPORTS(GetParam());
  Generated onTarget, onFallback;
  {
    ForcedTarget forced(GetParam());
    onTarget = generateDemo(1);
  }
  {
    ForcedTarget forced(fallbackTargetName());
    onFallback = generateDemo(2);
  }
  ASSERT_FALSE(onTarget.tokens.empty());
  EXPECT_EQ(onTarget.tokens, onFallback.tokens);
  EXPECT_TRUE(onTarget.logitBits == onFallback.logitBits)
      << GetParam() << " and " << fallbackTargetName() << " logits differ";
}

INSTANTIATE_TEST_SUITE_P(Targets, GenerationOnTarget,
                         ::testing::ValuesIn(compiledTargetNames()),
                         [](const auto &info) { return info.param; });

} // namespace
} // namespace mk::host::test
