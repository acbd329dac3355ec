// The generation loop on a real plan (mkc-compiled tiny-llama, decode batch 2, prefill
// chunk 8) with random weights: continuous batching must give every sequence exactly
// the tokens and logits it gets when run alone, EOS must stop a sequence, seeded
// sampling must be reproducible, launch granularity must not change results, and bad
// prompts must be refused.
#include "mk/host/bf16.h"
#include "mk/host/executor.h"
#include "mk/isa/plan_file.h"
#include "mk/runtime/session.h"

#include "../runtime/safetensors_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <unistd.h>

using namespace mk;
using namespace mk::runtime;
namespace fs = std::filesystem;

namespace {

/// A compiled plan and a random checkpoint for it, made once per test process.
struct Fixture {
  fs::path dir;
  isa::Plan plan;

  Fixture() {
    dir = fs::temp_directory_path() / ("mk-session-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::string cmd = std::string(MK_MKC) + " compile --model tiny-llama --target host" +
                      " --batch 2 --prefill-chunk 8 --max-seq-len 64 -o " +
                      (dir / "plan.mkp").string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    Status s = isa::readPlanFile((dir / "plan.mkp").string(), plan);
    EXPECT_TRUE(s) << s.message();
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    test::SafetensorsFile file;
    for (const isa::TensorDesc &t : plan.tensors) {
      if (t.placement != isa::Placement::Weight)
        continue;
      test::TensorSpec spec{t.name, "BF16", {t.shape, t.shape + t.rank}, {}};
      bool norm = t.name.find("norm") != std::string::npos;
      for (uint64_t e = 0; e < t.numElements(); ++e) {
        uint16_t bits =
            host::floatToBf16(norm ? 1.0f + 0.1f * normal(rng) : 0.1f * normal(rng)).bits;
        spec.bytes.push_back(uint8_t(bits));
        spec.bytes.push_back(uint8_t(bits >> 8));
      }
      file.add(std::move(spec));
    }
    file.write(dir / "model.safetensors");
  }
  ~Fixture() { fs::remove_all(dir); }
};

Fixture &fixture() {
  static Fixture f;
  return f;
}

struct Generation {
  Status status;
  std::vector<SequenceOutput> outputs;
  GenerateStats stats;
};

/// The host executor seen the way the session sees the CUDA executor: the step hook
/// is not live. Each step's tokens are recorded (the device's token ring) and the hooks
/// run after the launch, each with its step's tokens in the step state; logits read in a
/// hook are those of the launch's last step.
class DeferredHookExecutor final : public Executor {
public:
  /// logitReads >= 0: reads of a logits tensor fail (nullptr) after that many, like a
  /// device executor whose copy back fails.
  explicit DeferredHookExecutor(const isa::Plan &plan, int logitReads = -1)
      : plan_(plan), inner_(plan, {}), logitReads_(logitReads) {}
  const char *backend() const override { return "deferred"; }
  unsigned workers() const override { return inner_.workers(); }
  std::string describe() const override { return "deferred hooks"; }
  bool liveStepHook() const override { return false; }
  // Like the CUDA executor, it does not count weight bytes.
  std::optional<uint64_t> lastLaunchWeightBytes() const override { return std::nullopt; }
  Status bind(uint16_t id, void *data) override { return inner_.bind(id, data); }
  const void *read(uint16_t id) override {
    if (logitReads_ >= 0 && plan_.tensors[id].name.ends_with("logits") &&
        logitReads_-- == 0) {
      logitReads_ = 0;
      return nullptr;
    }
    return inner_.read(id);
  }
  Status launch(uint32_t program, uint64_t steps, std::vector<ProfileRecord> *profile,
                const StepHook &onStep, const LaunchRows &rows) override {
    std::vector<uint16_t> outs;
    for (const isa::TaskRecord &t : plan_.programs[program].tasks)
      if (t.kind == uint16_t(isa::TaskKind::Argmax))
        outs.push_back(t.operand[isa::roleIndex(isa::TaskKind::Argmax, "tokens_out")]);
    std::vector<std::vector<std::vector<int32_t>>> ring(steps);
    auto record = [&](uint64_t step) {
      for (uint16_t id : outs) {
        const auto *tokens = static_cast<const int32_t *>(inner_.read(id));
        ring[step].emplace_back(tokens, tokens + plan_.tensors[id].numElements());
      }
    };
    if (Status s = inner_.launch(program, steps, profile, record, rows); !s)
      return s;
    for (uint64_t step = 0; onStep && step < steps; ++step) {
      for (size_t i = 0; i < outs.size(); ++i)
        std::copy(ring[step][i].begin(), ring[step][i].end(),
                  static_cast<int32_t *>(const_cast<void *>(inner_.read(outs[i]))));
      onStep(step);
    }
    return Status::ok();
  }

private:
  const isa::Plan &plan_;
  host::HostExecutor inner_;
  int logitReads_;
};

Generation generate(const isa::Plan &plan,
                    const std::vector<std::vector<int32_t>> &prompts,
                    GenerateOptions options, unsigned workers = 2, bool deferred = false,
                    int logitReads = -1) {
  SafetensorsSet weights;
  Generation run;
  run.status =
      SafetensorsSet::open((fixture().dir / "model.safetensors").string(), weights);
  if (!run.status)
    return run;
  std::unique_ptr<Executor> executor;
  if (deferred)
    executor = std::make_unique<DeferredHookExecutor>(plan, logitReads);
  else
    executor = std::make_unique<host::HostExecutor>(
        plan, host::ExecutorOptions{.workers = workers});
  Session session(plan, std::move(executor));
  if (!(run.status = session.load(weights)))
    return run;
  run.status = session.generate(prompts, options, nullptr, run.outputs, run.stats);
  return run;
}

std::vector<std::vector<int32_t>> prompts() {
  // Lengths on both sides of the prefill chunk (8), so chunking is exercised.
  return {{5, 17, 200, 33},
          {9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 12},
          {250},
          {40, 41, 42, 43, 44, 45, 46, 47, 48},
          {100, 101}};
}

GenerateOptions greedy(uint32_t tokens) {
  GenerateOptions o;
  o.maxNewTokens = tokens;
  o.ignoreEos = true;
  o.keepLogits = true;
  o.stepsPerLaunch = 4;
  return o;
}

TEST(Session, ContinuousBatchingMatchesEachPromptAlone) {
  const isa::Plan &plan = fixture().plan;
  Generation batched = generate(plan, prompts(), greedy(7));
  ASSERT_TRUE(batched.status) << batched.status.message();
  ASSERT_EQ(batched.outputs.size(), 5u);
  // 5 prompts through 2 rows: slots were refilled.
  EXPECT_GE(batched.stats.launches, 5u);
  for (size_t i = 0; i < prompts().size(); ++i) {
    Generation alone = generate(plan, {prompts()[i]}, greedy(7));
    ASSERT_TRUE(alone.status) << alone.status.message();
    EXPECT_EQ(batched.outputs[i].tokens, alone.outputs[0].tokens) << "prompt " << i;
    EXPECT_EQ(batched.outputs[i].logits, alone.outputs[0].logits) << "prompt " << i;
    EXPECT_EQ(batched.outputs[i].tokens.size(), 7u);
    EXPECT_EQ(batched.outputs[i].logits.size(), 7u * plan.model.vocabSize);
  }
}

TEST(Session, LaunchGranularityAndWorkersDoNotChangeResults) {
  const isa::Plan &plan = fixture().plan;
  GenerateOptions one = greedy(9), many = greedy(9);
  one.stepsPerLaunch = 1;
  many.stepsPerLaunch = 16;
  Generation a = generate(plan, prompts(), one, 1),
             b = generate(plan, prompts(), many, 5);
  ASSERT_TRUE(a.status && b.status);
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].tokens, b.outputs[i].tokens) << i;
    EXPECT_EQ(a.outputs[i].logits, b.outputs[i].logits) << i;
  }
}

TEST(Session, GreedyTokensAreTheArgmaxOfTheKeptLogits) {
  const isa::Plan &plan = fixture().plan;
  Generation r = generate(plan, {prompts()[1]}, greedy(6));
  ASSERT_TRUE(r.status);
  const uint32_t vocab = plan.model.vocabSize;
  for (size_t t = 0; t < r.outputs[0].tokens.size(); ++t) {
    std::span<const float> row(r.outputs[0].logits.data() + t * vocab, vocab);
    EXPECT_EQ(r.outputs[0].tokens[t], Sampler::argmax(row)) << t;
  }
}

TEST(Session, EosStopsTheSequence) {
  isa::Plan plan = fixture().plan;
  Generation ref = generate(plan, {prompts()[0]}, greedy(8));
  ASSERT_TRUE(ref.status);
  const std::vector<int32_t> &tokens = ref.outputs[0].tokens;
  // Make the third generated token the end of sequence (unless it came earlier).
  size_t first = std::find(tokens.begin(), tokens.end(), tokens[2]) - tokens.begin();
  plan.model.eosTokenIds = {tokens[2]};
  GenerateOptions o = greedy(8);
  o.ignoreEos = false;
  Generation stopped = generate(plan, {prompts()[0]}, o);
  ASSERT_TRUE(stopped.status);
  EXPECT_TRUE(stopped.outputs[0].hitEos);
  EXPECT_EQ(stopped.outputs[0].tokens,
            std::vector<int32_t>(tokens.begin(), tokens.begin() + first + 1));
}

TEST(Session, SeededSamplingIsReproducible) {
  const isa::Plan &plan = fixture().plan;
  GenerateOptions o = greedy(10);
  o.sampling = {
      .greedy = false, .temperature = 1.5f, .topK = 50, .topP = 0.95f, .seed = 3};
  Generation a = generate(plan, prompts(), o, 1), b = generate(plan, prompts(), o, 3);
  ASSERT_TRUE(a.status && b.status);
  o.sampling.seed = 4;
  Generation c = generate(plan, prompts(), o, 2);
  ASSERT_TRUE(c.status);
  bool differs = false;
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].tokens, b.outputs[i].tokens) << i;
    differs |= a.outputs[i].tokens != c.outputs[i].tokens;
    for (int32_t t : a.outputs[i].tokens)
      EXPECT_TRUE(t >= 0 && uint32_t(t) < plan.model.vocabSize);
  }
  EXPECT_TRUE(differs) << "another seed should give other tokens";
}

// The CUDA backend's hook semantics (tokens after the fact, no live logits) must give
// the same generations as the live hook: greedy with and without kept logits, multi-step
// launches, and sampling.
TEST(Session, ExecutorsWithoutALiveStepHookGiveTheSameResults) {
  const isa::Plan &plan = fixture().plan;
  GenerateOptions kept = greedy(9), fast = greedy(9), sampled = greedy(9);
  fast.keepLogits = false;
  fast.stepsPerLaunch = 5;
  sampled.sampling = {
      .greedy = false, .temperature = 1.2f, .topK = 40, .topP = 0.9f, .seed = 11};
  for (const GenerateOptions &o : {kept, fast, sampled}) {
    Generation live = generate(plan, prompts(), o, 2);
    Generation deferred = generate(plan, prompts(), o, 2, /*deferred=*/true);
    ASSERT_TRUE(live.status && deferred.status) << deferred.status.message();
    for (size_t i = 0; i < live.outputs.size(); ++i) {
      EXPECT_EQ(live.outputs[i].tokens, deferred.outputs[i].tokens) << i;
      EXPECT_EQ(live.outputs[i].logits, deferred.outputs[i].logits) << i;
    }
    // The host counts the weight bytes it streams; an executor that does not count
    // leaves the total unknown (mkrun then omits it), not zero.
    EXPECT_TRUE(live.stats.decodeWeightBytes.has_value());
    EXPECT_GT(live.stats.decodeWeightBytes.value_or(0), 0u);
    EXPECT_FALSE(deferred.stats.decodeWeightBytes.has_value());
  }
}

// A dense decode step streams the same bytes every step: each task's footprint and
// the embedding rows, for every worker count and launch granularity.
TEST(Session, DecodeWeightBytesAreTheSameForEveryStep) {
  const isa::Plan &plan = fixture().plan;
  GenerateOptions one = greedy(6), many = greedy(6);
  one.stepsPerLaunch = 1;
  many.stepsPerLaunch = 5;
  Generation a = generate(plan, {prompts()[0]}, one, 1),
             b = generate(plan, {prompts()[0]}, many, 3);
  ASSERT_TRUE(a.status && b.status);
  ASSERT_TRUE(a.stats.decodeWeightBytes && b.stats.decodeWeightBytes);
  ASSERT_EQ(a.stats.decodeSteps, b.stats.decodeSteps);
  EXPECT_EQ(*a.stats.decodeWeightBytes, *b.stats.decodeWeightBytes);
  EXPECT_EQ(*a.stats.decodeWeightBytes % a.stats.decodeSteps, 0u);
}

TEST(Session, LogitsThatCannotBeReadBackAreAnErrorNotACrash) {
  // One prompt: its prefill reads the logits once; the failing read is then in prefill
  // (0 reads allowed) or in the first decode step's hook (1 allowed).
  const isa::Plan &plan = fixture().plan;
  GenerateOptions sampled = greedy(4);
  sampled.keepLogits = false;
  sampled.sampling = {.greedy = false, .temperature = 1.0f, .seed = 3};
  for (const GenerateOptions &o : {greedy(4), sampled})
    for (int reads : {0, 1}) {
      Generation run = generate(plan, {{5, 6, 7}}, o, 2, /*deferred=*/true, reads);
      ASSERT_FALSE(run.status) << reads;
      EXPECT_NE(run.status.message().find(reads == 0 ? "prefill" : "decode"),
                std::string::npos)
          << run.status.message();
      EXPECT_NE(run.status.message().find("cannot read the logits back"),
                std::string::npos);
    }
}

TEST(Session, BadPromptsAreRefused) {
  const isa::Plan &plan = fixture().plan;
  Generation r = generate(plan, {{1, 2, 999999}}, greedy(2));
  ASSERT_FALSE(r.status);
  EXPECT_NE(r.status.message().find("outside the vocabulary"), std::string::npos);
  r = generate(plan, {{}}, greedy(2));
  ASSERT_FALSE(r.status);
  EXPECT_NE(r.status.message().find("empty"), std::string::npos);
  r = generate(plan, {std::vector<int32_t>(64, 3)}, greedy(2));
  ASSERT_FALSE(r.status);
  EXPECT_NE(r.status.message().find("--max-seq-len"), std::string::npos);
}

TEST(Session, StopsAtTheKvCacheLimit) {
  const isa::Plan &plan = fixture().plan; // max_seq_len 64
  // In one launch and across many (the limit must not count tokens twice).
  for (uint32_t steps : {16u, 1u, 3u}) {
    GenerateOptions o = greedy(50);
    o.stepsPerLaunch = steps;
    Generation r = generate(plan, {std::vector<int32_t>(60, 3)}, o);
    ASSERT_TRUE(r.status) << r.status.message();
    EXPECT_EQ(r.outputs[0].tokens.size(), 4u) << "60 prompt + 4 fill 64 positions";
    r = generate(plan, {std::vector<int32_t>(20, 3)}, o);
    ASSERT_TRUE(r.status) << r.status.message();
    EXPECT_EQ(r.outputs[0].tokens.size(), 44u) << steps << " steps per launch";
  }
}

} // namespace
