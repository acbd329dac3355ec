//===- cuda_tp_e2e_test.cpp - Tensor-parallel models on two GPUs, end to end ===//
//
// Random-weight HF-format models (tests/e2e/make_model.py: llama-gqa, qwen3-qknorm,
// qwen3-moe, mixtral-gqa) compiled by `mkc compile --tp 2 --target a100` at build time
// (build/share/mk/tp/<config>/: config.json, model.safetensors, tp2-a100.mkp;
// MK_GPU_TP_DIR overrides, for a GPU machine that got them copied). Each plan runs the
// same prompts through runtime::Session on
//   - the host ranks (runtime::HostRanks: two HostExecutors over one HostCommGroup),
//   - two CUDA ranks, devices 0 and 1, as threads of this process, their sessions
//     agreeing and gathering logits through one in-process HostRankGroup,
// and the test asserts what the CUDA-vs-host demo test (cuda_e2e_test.cpp) asserts
// for one rank: greedy tokens equal up to the first near tie (at least 8 of them),
// each backend's tokens the argmax of its own logits, logits within 1e-2 relative L2
// until then; and what TP adds: both CUDA ranks produce the same tokens and logits,
// a second CUDA run is bitwise identical, and the multimem push (NVLink SHARP) gives
// the LSA push's logits bit for bit (skipped, saying so, where the GPUs have no
// multicast). The host ranks run before the device check, so a broken plan or host
// side fails on machines without GPUs too; the CUDA part skips, saying why, with
// fewer than two devices or without NCCL >= 2.28.
//===----------------------------------------------------------------------===//
#include "mk/cuda/executor.h"
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"
#include "mk/runtime/host_ranks.h"
#include "mk/runtime/rank_comm.h"
#include "mk/runtime/safetensors.h"
#include "mk/runtime/sampler.h"
#include "mk/runtime/session.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace mk::cuda::test {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kRanks = 2, kTokens = 24;

fs::path modelRoot() {
  if (const char *dir = std::getenv("MK_GPU_TP_DIR"); dir && *dir)
    return dir;
  return MK_TP_MODEL_DIR;
}

struct Model {
  Status status;
  isa::Plan plan;
  runtime::SafetensorsSet weights;
};

Model loadModel(const std::string &config) {
  Model m;
  const fs::path dir = modelRoot() / config, plan = dir / "tp2-a100.mkp";
  if (!fs::exists(plan)) {
    m.status = Status::error(plan.string() +
                             " is missing: build the mk_tp_models target (it needs the "
                             "compiler) or set MK_GPU_TP_DIR to a directory holding it");
    return m;
  }
  if (!(m.status = isa::readPlanFile(plan.string(), m.plan)))
    return m;
  if (Status s = isa::verifyPlan(m.plan); !s) {
    m.status = Status::error(plan.string() + ": " + s.message());
    return m;
  }
  if (m.plan.tensorParallel != kRanks) {
    m.status = Status::error(plan.string() + ": not a --tp 2 plan");
    return m;
  }
  m.status = runtime::SafetensorsSet::open(dir, m.weights);
  return m;
}

/// Three prompts of random ids for two decode rows: the third is batched in when the
/// first finishes (continuous batching), and the 21-token one prefills in two chunks.
std::vector<std::vector<int32_t>> prompts(uint32_t vocab) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> id(0, int32_t(vocab) - 1);
  std::vector<std::vector<int32_t>> out;
  for (size_t length : {21, 5, 12}) {
    out.emplace_back();
    for (size_t i = 0; i < length; ++i)
      out.back().push_back(id(rng));
  }
  return out;
}

runtime::GenerateOptions greedy() {
  runtime::GenerateOptions o;
  o.maxNewTokens = kTokens;
  o.ignoreEos = true;
  o.keepLogits = true;
  o.stepsPerLaunch = 8;
  return o;
}

/// Every rank's outputs of one run.
struct RankRun {
  Status status;
  std::vector<std::vector<runtime::SequenceOutput>> ranks;
};

RankRun runHostRanks(const Model &m) {
  RankRun run;
  run.ranks.resize(kRanks);
  runtime::HostRanks ranks(m.plan, host::ExecutorOptions{.workers = 2});
  const std::vector<std::vector<int32_t>> p = prompts(m.plan.model.vocabSize);
  run.status = ranks.run([&](uint32_t rank, runtime::Session &session) -> Status {
    if (Status s = session.load(m.weights); !s)
      return s;
    runtime::GenerateStats stats;
    return session.generate(p, greedy(), nullptr, run.ranks[rank], stats);
  });
  return run;
}

/// The CUDA ranks, one thread each; every thread also destroys its own session (the
/// NCCL teardown may wait for the peers).
RankRun runCudaRanks(const Model &m, CommPath path) {
  RankRun run;
  run.ranks.resize(kRanks);
  CommId id;
  if (!(run.status = newCommId(id)))
    return run;
  runtime::HostRankGroup group(kRanks);
  const std::vector<std::vector<int32_t>> p = prompts(m.plan.model.vocabSize);
  std::vector<Status> results(kRanks);
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < kRanks; ++r)
    threads.emplace_back([&, r] {
      CudaOptions options;
      options.device = int(r);
      options.watchdogMs = 20'000;
      options.rank = r;
      options.ranks = kRanks;
      options.commId = id;
      options.commPath = path;
      options.agree = [&group, r](const Status &s) { return group.rank(r).agree(s); };
      std::unique_ptr<Executor> executor;
      Status s = createExecutor(m.plan, options, executor);
      if (!s) { // every rank has the same error (agreed before NCCL, or collective)
        results[r] = s;
        return;
      }
      runtime::Session session(m.plan, std::move(executor), &group.rank(r));
      s = session.load(m.weights);
      runtime::GenerateStats stats;
      if (s)
        s = session.generate(p, greedy(), nullptr, run.ranks[r], stats);
      if (!s)
        group.rank(r).abort(s);
      results[r] = s;
    });
  for (std::thread &t : threads)
    t.join();
  for (uint32_t r = 0; r < kRanks && run.status; ++r)
    if (!results[r])
      run.status =
          Status::error("rank " + std::to_string(r) + ": " + results[r].message());
  return run;
}

double normalizedError(std::span<const float> got, std::span<const float> ref) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    norm += double(ref[i]) * ref[i];
  }
  return std::sqrt(diff / norm); // NaN in got gives NaN, which fails any <=
}

/// Bitwise, element by element (a NaN never equals itself).
void expectBitwise(const RankRun &a, const RankRun &b, const char *what) {
  for (uint32_t r = 0; r < kRanks; ++r)
    for (size_t i = 0; i < a.ranks[r].size(); ++i) {
      SCOPED_TRACE(std::string(what) + ", rank " + std::to_string(r) + ", prompt " +
                   std::to_string(i));
      ASSERT_EQ(b.ranks[r].size(), a.ranks[r].size());
      EXPECT_EQ(a.ranks[r][i].tokens, b.ranks[r][i].tokens);
      const std::vector<float> &x = a.ranks[r][i].logits, &y = b.ranks[r][i].logits;
      ASSERT_EQ(x.size(), y.size());
      size_t differ = 0, first = 0;
      for (size_t e = 0; e < x.size(); ++e)
        if (!(x[e] == y[e]) && differ++ == 0)
          first = e;
      EXPECT_EQ(differ, 0u) << "first at logit " << first << ": " << x[first] << " vs "
                            << y[first];
    }
}

#define MK_SKIP_WITHOUT_TWO_DEVICES()                                                    \
  do {                                                                                   \
    if (!tensorParallelBuilt())                                                          \
      GTEST_SKIP() << "this build has no NCCL >= 2.28 (tensor-parallel plans on CUDA)";  \
    for (int d = 0; d < int(kRanks); ++d)                                                \
      if (Status s = probeDevice(d); !s)                                                 \
        GTEST_SKIP() << "needs " << kRanks << " CUDA devices: " << s.message();          \
  } while (0)

class CudaTpModel : public ::testing::TestWithParam<const char *> {};

TEST_P(CudaTpModel, CudaRanksMatchTheHostRanks) {
  const Model m = loadModel(GetParam());
  if (!m.status)
    MK_SKIP_WITHOUT_TWO_DEVICES(); // a missing model fails only where it would run
  ASSERT_TRUE(m.status) << m.status.message();
  const uint32_t vocab = m.plan.model.vocabSize;
  const RankRun host = runHostRanks(m);
  ASSERT_TRUE(host.status) << "host: " << host.status.message();

  MK_SKIP_WITHOUT_TWO_DEVICES();
  const RankRun cuda = runCudaRanks(m, CommPath::Auto);
  ASSERT_TRUE(cuda.status) << "cuda: " << cuda.status.message();
  // The CUDA ranks agree with each other (tokens from the in-kernel argmax over the
  // all-gathered partials; logits gathered from both ranks' vocabulary slices).
  for (uint32_t r = 1; r < kRanks; ++r)
    for (size_t i = 0; i < cuda.ranks[0].size(); ++i) {
      EXPECT_EQ(cuda.ranks[r][i].tokens, cuda.ranks[0][i].tokens) << "rank " << r;
      EXPECT_TRUE(cuda.ranks[r][i].logits == cuda.ranks[0][i].logits)
          << "rank " << r << "'s logits of prompt " << i << " differ from rank 0's";
    }

  const std::vector<std::vector<int32_t>> p = prompts(vocab);
  ASSERT_EQ(host.ranks[0].size(), p.size());
  ASSERT_EQ(cuda.ranks[0].size(), p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    SCOPED_TRACE("prompt " + std::to_string(i));
    const runtime::SequenceOutput &h = host.ranks[0][i], &c = cuda.ranks[0][i];
    for (const runtime::SequenceOutput *o : {&h, &c}) {
      ASSERT_EQ(o->tokens.size(), kTokens);
      ASSERT_EQ(o->logits.size(), size_t(kTokens) * vocab);
    }
    auto row = [&](const runtime::SequenceOutput &o, size_t t) {
      return std::span<const float>(o.logits.data() + t * vocab, vocab);
    };
    for (size_t t = 0; t < kTokens; ++t) {
      EXPECT_EQ(h.tokens[t], runtime::Sampler::argmax(row(h, t))) << "host token " << t;
      EXPECT_EQ(c.tokens[t], runtime::Sampler::argmax(row(c, t))) << "cuda token " << t;
    }
    // As for one rank: equal histories up to the first differing token (a near tie,
    // since both are argmaxes of logits within the tolerance), whose logits still
    // come from equal histories.
    size_t same = 0;
    while (same < kTokens && h.tokens[same] == c.tokens[same])
      ++same;
    EXPECT_GE(same, 8u) << "the CUDA tokens diverge from the host's at token " << same;
    for (size_t t = 0; t < std::min<size_t>(same + 1, kTokens); ++t)
      EXPECT_LE(normalizedError(row(c, t), row(h, t)), 1e-2) << "logits of token " << t;
    if (same < kTokens)
      std::printf("%s prompt %zu: the CUDA tokens agree with the host's for %zu of %u\n",
                  GetParam(), i, same, kTokens);
  }

  // TP on CUDA is deterministic: the LSA push again gives the same bits (the first run
  // took multimem where the GPUs have it, which must give the LSA push's bits too).
  const RankRun lsa = runCudaRanks(m, CommPath::Lsa);
  ASSERT_TRUE(lsa.status) << "cuda, LSA push: " << lsa.status.message();
  expectBitwise(cuda, lsa, "auto push vs LSA push");
}

TEST_P(CudaTpModel, MultimemPushGivesTheLsaPushBits) {
  MK_SKIP_WITHOUT_TWO_DEVICES();
  const Model m = loadModel(GetParam());
  ASSERT_TRUE(m.status) << m.status.message();
  const RankRun multimem = runCudaRanks(m, CommPath::Multimem);
  if (!multimem.status &&
      multimem.status.message().find("multicast") != std::string::npos)
    GTEST_SKIP() << "no multimem on these GPUs: " << multimem.status.message();
  ASSERT_TRUE(multimem.status) << "cuda, multimem push: " << multimem.status.message();
  const RankRun lsa = runCudaRanks(m, CommPath::Lsa);
  ASSERT_TRUE(lsa.status) << "cuda, LSA push: " << lsa.status.message();
  expectBitwise(multimem, lsa, "multimem push vs LSA push");
}

INSTANTIATE_TEST_SUITE_P(Models, CudaTpModel,
                         ::testing::Values("llama-gqa", "qwen3-qknorm", "qwen3-moe",
                                           "mixtral-gqa"),
                         [](const ::testing::TestParamInfo<const char *> &info) {
                           std::string name = info.param;
                           for (char &ch : name)
                             if (ch == '-')
                               ch = '_';
                           return name;
                         });

} // namespace
} // namespace mk::cuda::test
