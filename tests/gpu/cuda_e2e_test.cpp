//===- cuda_e2e_test.cpp - The demo model on the CUDA executor, end to end ===//
//
// The bundled demo model (models/demo) with the plan mk_demo compiled for the device
// (demo-h100.mkp on sm_90, demo-a100.mkp otherwise), generated through runtime::Session
// on the CUDA executor and compared with the same plan on the host executor:
//   - greedy tokens and the logits they came from agree until the first near tie, and
//     a decode step streams the same weight bytes on both;
//   - the CUDA executor is bitwise deterministic;
//   - several decode steps per launch give the tokens of one step per launch;
//   - continuous batching gives every sequence the tokens it gets alone.
// Plans are read from MK_GPU_PLAN_DIR when set (a GPU machine without the MLIR
// compiler gets them copied), else from the build's share/mk/demo; weights from
// MK_DEMO_MODEL_DIR when set, else the source tree (scripts/gpu-bundle sets both).
// Without a device every test skips; with one, a missing plan fails.
//===----------------------------------------------------------------------===//
#include "mk/cuda/executor.h"
#include "mk/host/executor.h"
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"
#include "mk/runtime/safetensors.h"
#include "mk/runtime/sampler.h"
#include "mk/runtime/session.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string_view>

namespace mk::cuda::test {
namespace {

namespace fs = std::filesystem;

/// The demo's CUDA plan for device 0 and its weights, loaded once per process.
struct Demo {
  Status status;
  std::string planPath;
  isa::Plan plan;
  runtime::SafetensorsSet weights;
};

fs::path planDir() {
  if (const char *dir = std::getenv("MK_GPU_PLAN_DIR"); dir && *dir)
    return dir;
  return MK_DEMO_PLAN_DIR;
}

/// MK_DEMO_MODEL_DIR overrides the demo model's directory (a GPU machine running a
/// copied build sees the repository at another path).
fs::path modelDir() {
  if (const char *dir = std::getenv("MK_DEMO_MODEL_DIR"); dir && *dir)
    return dir;
  return MK_DEMO_MODEL_DIR;
}

Demo loadDemo() {
  Demo d;
  int sm = 0;
  if (!(d.status = probeDevice(0, nullptr, &sm)))
    return d;
  // The executor runs an h100 plan on sm_90 only, an a100 plan on sm_80 and newer.
  const char *file = sm >= 90 && sm < 100 ? "demo-h100.mkp" : "demo-a100.mkp";
  d.planPath = (planDir() / file).string();
  if (!fs::exists(d.planPath)) {
    d.status = Status::error(d.planPath +
                             " is missing: build the mk_demo target (it needs the "
                             "compiler) or set MK_GPU_PLAN_DIR to a directory holding " +
                             file);
    return d;
  }
  if (!(d.status = isa::readPlanFile(d.planPath, d.plan)))
    return d;
  if (Status s = isa::verifyPlan(d.plan); !s) {
    d.status = Status::error(d.planPath + ": " + s.message());
    return d;
  }
  d.status = runtime::SafetensorsSet::open(modelDir(), d.weights);
  return d;
}

const Demo &demo() {
  static const Demo d = loadDemo();
  return d;
}

/// Skips without a device; fails (and returns) when the demo cannot be loaded.
#define MK_REQUIRE_DEMO()                                                                \
  do {                                                                                   \
    if (Status probe_ = probeDevice(0); !probe_)                                         \
      GTEST_SKIP() << "no usable CUDA device: " << probe_.message();                     \
    ASSERT_TRUE(demo().status) << demo().status.message();                               \
  } while (0)

struct Generation {
  Status status;
  std::vector<runtime::SequenceOutput> outputs;
  runtime::GenerateStats stats;
};

Generation generate(bool onCuda, const std::vector<std::vector<int32_t>> &prompts,
                    const runtime::GenerateOptions &options) {
  const Demo &d = demo();
  Generation g;
  std::unique_ptr<Executor> executor;
  if (onCuda) {
    if (!(g.status = createExecutor(d.plan, CudaOptions{}, executor)))
      return g;
  } else {
    executor =
        std::make_unique<host::HostExecutor>(d.plan, host::ExecutorOptions{.workers = 4});
  }
  runtime::Session session(d.plan, std::move(executor));
  if (!(g.status = session.load(d.weights)))
    return g;
  g.status = session.generate(prompts, options, nullptr, g.outputs, g.stats);
  return g;
}

/// The demo's tokenizer is byte-level: byte b is token b, after the BOS token.
std::vector<int32_t> encode(std::string_view text) {
  std::vector<int32_t> ids;
  if (demo().plan.model.bosTokenId >= 0)
    ids.push_back(demo().plan.model.bosTokenId);
  for (unsigned char c : text)
    ids.push_back(c);
  return ids;
}

std::vector<std::vector<int32_t>> prompts() {
  return {encode("In the beginning God created"),
          encode("And the LORD spake unto Moses, saying,"), encode("Blessed are the")};
}

runtime::GenerateOptions greedy(uint32_t tokens, bool keepLogits, uint32_t steps) {
  runtime::GenerateOptions o;
  o.maxNewTokens = tokens;
  o.ignoreEos = true;
  o.keepLogits = keepLogits;
  o.stepsPerLaunch = steps;
  return o;
}

double normalizedError(std::span<const float> got, std::span<const float> ref) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    norm += double(ref[i]) * ref[i];
  }
  return std::sqrt(diff / norm); // NaN in got gives NaN, which fails any <=
}

constexpr uint32_t kTokens = 40;

TEST(CudaDemo, GreedyGenerationMatchesTheHostExecutor) {
  MK_REQUIRE_DEMO();
  const uint32_t vocab = demo().plan.model.vocabSize;
  Generation host = generate(false, prompts(), greedy(kTokens, true, 8));
  ASSERT_TRUE(host.status) << "host: " << host.status.message();
  Generation gpu = generate(true, prompts(), greedy(kTokens, true, 8));
  ASSERT_TRUE(gpu.status) << "cuda: " << gpu.status.message();
  ASSERT_EQ(gpu.outputs.size(), prompts().size());
  // The kernel counts the weight bytes the host counts: every decode step streams the
  // same footprint (a dense model), so the means per step agree exactly.
  ASSERT_TRUE(host.stats.decodeWeightBytes.has_value());
  ASSERT_TRUE(gpu.stats.decodeWeightBytes.has_value())
      << "the CUDA executor did not count";
  ASSERT_GT(gpu.stats.decodeSteps, 0u);
  EXPECT_EQ(*gpu.stats.decodeWeightBytes * host.stats.decodeSteps,
            *host.stats.decodeWeightBytes * gpu.stats.decodeSteps);
  for (size_t i = 0; i < prompts().size(); ++i) {
    SCOPED_TRACE("prompt " + std::to_string(i));
    const runtime::SequenceOutput &h = host.outputs[i], &c = gpu.outputs[i];
    for (const runtime::SequenceOutput *o : {&h, &c}) {
      ASSERT_EQ(o->tokens.size(), kTokens);
      ASSERT_EQ(o->logits.size(), size_t(kTokens) * vocab);
    }
    auto row = [&](const runtime::SequenceOutput &o, size_t t) {
      return std::span<const float>(o.logits.data() + t * vocab, vocab);
    };
    // Each backend's tokens are the argmax of its own logits (the device argmax tasks
    // agree with the logits the device wrote).
    for (size_t t = 0; t < kTokens; ++t) {
      EXPECT_EQ(h.tokens[t], runtime::Sampler::argmax(row(h, t))) << "host token " << t;
      EXPECT_EQ(c.tokens[t], runtime::Sampler::argmax(row(c, t))) << "cuda token " << t;
    }
    // The histories are equal up to the first differing token; the logits of that step
    // still come from equal histories, so they are compared too. Since both tokens are
    // argmaxes, a divergence can only be a near tie within the logits tolerance.
    size_t same = 0;
    while (same < kTokens && h.tokens[same] == c.tokens[same])
      ++same;
    EXPECT_GE(same, 8u) << "the CUDA tokens diverge from the host's at token " << same;
    for (size_t t = 0; t < std::min<size_t>(same + 1, kTokens); ++t)
      EXPECT_LE(normalizedError(row(c, t), row(h, t)), 1e-2) << "logits of token " << t;
    if (same < kTokens)
      std::printf("prompt %zu: the CUDA tokens agree with the host's for %zu of %u\n", i,
                  same, kTokens);
  }
}

TEST(CudaDemo, RepeatedGenerationIsBitwiseIdentical) {
  MK_REQUIRE_DEMO();
  Generation a = generate(true, prompts(), greedy(kTokens, true, 8));
  Generation b = generate(true, prompts(), greedy(kTokens, true, 8));
  ASSERT_TRUE(a.status && b.status) << a.status.message() << b.status.message();
  for (size_t i = 0; i < prompts().size(); ++i) {
    EXPECT_EQ(a.outputs[i].tokens, b.outputs[i].tokens) << "prompt " << i;
    // Bitwise, element by element (a NaN never equals itself).
    const std::vector<float> &x = a.outputs[i].logits, &y = b.outputs[i].logits;
    ASSERT_EQ(x.size(), size_t(kTokens) * demo().plan.model.vocabSize);
    ASSERT_EQ(y.size(), x.size());
    size_t differ = 0, first = 0;
    for (size_t e = 0; e < x.size(); ++e)
      if (!(x[e] == y[e]) && differ++ == 0)
        first = e;
    EXPECT_EQ(differ, 0u) << "prompt " << i << ": first at logit " << first << ": "
                          << x[first] << " vs " << y[first];
  }
}

TEST(CudaDemo, StepsPerLaunchDoNotChangeTokens) {
  MK_REQUIRE_DEMO();
  // Without keepLogits the session runs up to 8 decode steps per launch, the argmax of
  // step s feeding step s + 1 on the device; the tokens must be those of 1 per launch.
  Generation one = generate(true, prompts(), greedy(kTokens, false, 1));
  Generation many = generate(true, prompts(), greedy(kTokens, false, 8));
  ASSERT_TRUE(one.status && many.status) << one.status.message() << many.status.message();
  EXPECT_LT(many.stats.launches, one.stats.launches) << "no multi-step launch happened";
  for (size_t i = 0; i < prompts().size(); ++i) {
    EXPECT_EQ(many.outputs[i].tokens.size(), kTokens);
    EXPECT_EQ(many.outputs[i].tokens, one.outputs[i].tokens) << "prompt " << i;
  }
}

TEST(CudaDemo, ContinuousBatchingMatchesEachPromptAlone) {
  MK_REQUIRE_DEMO();
  const isa::Plan &plan = demo().plan;
  uint32_t batch = 0;
  for (const isa::Program &p : plan.programs)
    if (p.kind == isa::ProgramKind::Decode)
      batch = p.rows;
  // One prompt close to the KV limit: it stops after a few tokens, so its row is
  // refilled while the others are still decoding (and it is prefilled in several
  // chunks).
  const uint32_t longLength = plan.model.maxSeqLen - 12;
  std::string text;
  while (text.size() + 1 < longLength)
    text += "And it came to pass, ";
  text.resize(longLength - 1);
  std::vector<std::vector<int32_t>> all = prompts();
  all.insert(all.begin() + 1, encode(text));
  all.push_back(encode("For God so loved the world,"));
  all.push_back(encode("The LORD is my shepherd;"));
  ASSERT_GT(all.size(), batch) << "more prompts than decode rows";

  const runtime::GenerateOptions options = greedy(kTokens, false, 8);
  Generation batched = generate(true, all, options);
  ASSERT_TRUE(batched.status) << batched.status.message();
  EXPECT_EQ(batched.outputs[1].tokens.size(), plan.model.maxSeqLen - all[1].size())
      << "the long prompt stops at the KV limit";
  for (size_t i = 0; i < all.size(); ++i) {
    Generation alone = generate(true, {all[i]}, options);
    ASSERT_TRUE(alone.status) << alone.status.message();
    EXPECT_EQ(batched.outputs[i].tokens, alone.outputs[0].tokens) << "prompt " << i;
  }
}

} // namespace
} // namespace mk::cuda::test
