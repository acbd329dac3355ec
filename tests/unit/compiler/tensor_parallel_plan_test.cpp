//===- tensor_parallel_plan_test.cpp - mkc compile --tp N, read from the plan =//
//
// What a tensor-parallel plan promises the runtime, checked on the plan file mkc
// writes: every rank binds 1/N of each layer matrix (so its layer weights are 1/N of
// the model's, norms aside), the norms and the embedding whole, and each program has
// its three comm tensors; the tiny presets compile to verified plans for 2 and 4 ranks.
//===----------------------------------------------------------------------===//
#include "compile.h"

#include "mk/isa/plan.h"
#include "mk/isa/plan_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace mk;
using namespace mk::isa;

namespace {

/// Compiles `model` for `target` with `tp` ranks into a temporary plan and reads it.
Plan compile(const std::string &model, const std::string &target, int64_t tp) {
  mkc::CompileRequest req;
  req.model = model;
  req.target = target;
  req.tensorParallel = tp;
  req.output = (std::filesystem::temp_directory_path() /
                ("mk_tp_plan_" + std::to_string(getpid()) + ".mkp"))
                   .string();
  std::string summary;
  Status s = mkc::runCompile(req, summary);
  EXPECT_TRUE(bool(s)) << model << " --tp " << tp << ": " << s.message();
  Plan plan;
  if (s) {
    Status r = readPlanFile(req.output, plan);
    EXPECT_TRUE(bool(r)) << r.message();
  }
  std::filesystem::remove(req.output);
  return plan;
}

bool isLayerWeight(const TensorDesc &t) {
  return t.placement == Placement::Weight && t.name.rfind("model.layers.", 0) == 0;
}

TEST(TensorParallelPlan, EachRankHoldsAnEighthOfLlama70BLayerMatrices) {
  Plan plan = compile("llama-3.1-70b", "host", 8);
  ASSERT_EQ(plan.tensorParallel, 8u);
  uint64_t matrixBytesPerRank = 0, matrixBytesModel = 0, normBytes = 0;
  for (const TensorDesc &t : plan.tensors) {
    if (!isLayerWeight(t))
      continue;
    if (t.rank == 1) {
      // input_layernorm, post_attention_layernorm: whole on every rank.
      EXPECT_EQ(t.shardParts, 1u) << t.name;
      normBytes += t.bytes();
      continue;
    }
    // 64 heads and 8 KV heads over 8 ranks: every matrix is split 8 ways, none
    // replicated.
    EXPECT_EQ(t.shardParts, 8u) << t.name;
    EXPECT_EQ(t.shardReplicas, 1u) << t.name;
    const bool byInput = t.name.find("o_proj") != std::string::npos ||
                         t.name.find("down_proj") != std::string::npos;
    EXPECT_EQ(t.shardDim, byInput ? 1u : 0u) << t.name;
    matrixBytesPerRank += t.bytes();
    matrixBytesModel += t.bytes() * t.shardParts;
  }
  // 80 layers of q, k, v, o [8192 x 8192, 1024 x 8192 x 2, 8192 x 8192] and gate, up,
  // down [28672 x 8192] in bf16.
  const uint64_t layer =
      2ull * (8192ull * 8192 * 2 + 1024ull * 8192 * 2 + 28672ull * 8192 * 3);
  EXPECT_EQ(matrixBytesModel, 80 * layer);
  EXPECT_EQ(matrixBytesPerRank * 8, matrixBytesModel);
  EXPECT_EQ(normBytes, 80ull * 2 * 8192 * 2);
  // The model's numbers stay the whole model's.
  EXPECT_EQ(plan.model.numHeads, 64u);
  EXPECT_EQ(plan.model.numKvHeads, 8u);
  EXPECT_EQ(plan.model.vocabSize, 128256u);
}

TEST(TensorParallelPlan, TinyPresetsCompileForTwoAndFourRanks) {
  for (const char *model : {"tiny-llama", "tiny-mistral", "tiny-qwen2", "tiny-qwen3",
                            "tiny-qwen3-moe", "tiny-mixtral"})
    for (int64_t tp : {2, 4}) {
      SCOPED_TRACE(std::string(model) + " --tp " + std::to_string(tp));
      Plan plan = compile(model, "host", tp);
      ASSERT_EQ(plan.tensorParallel, uint32_t(tp));
      // Every program has its three comm tensors; nothing else is a comm tensor.
      std::map<uint16_t, int> comm;
      for (const TensorDesc &t : plan.tensors)
        if (t.placement == Placement::Comm)
          ++comm[t.program];
      ASSERT_EQ(comm.size(), plan.programs.size());
      for (auto [program, count] : comm)
        EXPECT_EQ(count, 3) << plan.programs[program].name;
    }
}

/// The previous-step waits of `prog`'s tasks: (task, event).
std::vector<std::pair<uint32_t, uint32_t>> crossStepWaits(const Program &prog) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (uint32_t t = 0; t < prog.tasks.size(); ++t)
    for (uint32_t w = 0; w < prog.tasks[t].numWaits; ++w)
      if (prog.tasks[t].wait[w].stepBack != 0)
        out.push_back({t, prog.tasks[t].wait[w].event});
  return out;
}

const Program &programOfKind(const Plan &plan, ProgramKind kind) {
  for (const Program &p : plan.programs)
    if (p.kind == kind)
      return p;
  ADD_FAILURE() << "no program of that kind";
  return plan.programs.front();
}

// Prefill has no step input to order its comm sites across steps: under TP its roots
// wait on the previous step's final tasks (the argmax, after the all_gather), so the
// first all-reduce cannot reuse the buffer the previous step's last site still reads.
// Without TP prefill keeps no cross-step wait.
TEST(TensorParallelPlan, PrefillRootsWaitOnThePreviousStepsFinalTasks) {
  Plan tp = compile("tiny-llama", "host", 2);
  ASSERT_FALSE(tp.programs.empty());
  const Program &prefill = programOfKind(tp, ProgramKind::Prefill);
  auto waits = crossStepWaits(prefill);
  ASSERT_FALSE(waits.empty());
  for (auto [t, e] : waits) {
    const TaskRecord &r = prefill.tasks[t];
    for (uint32_t w = 0; w < r.numWaits; ++w)
      EXPECT_NE(r.wait[w].stepBack, 0) << "task " << t << " has a same-step wait";
    bool argmaxSignals = false;
    for (const TaskRecord &p : prefill.tasks)
      for (uint32_t k = 0; k < p.numSignals; ++k)
        argmaxSignals |= p.signal[k] == e && p.kind == uint16_t(TaskKind::Argmax);
    EXPECT_TRUE(argmaxSignals) << "task " << t << " waits on " << prefill.events[e].name;
  }
  EXPECT_EQ(prefill.tasks[waits.front().first].kind, uint16_t(TaskKind::Embedding));

  Plan one = compile("tiny-llama", "host", 1);
  ASSERT_FALSE(one.programs.empty());
  EXPECT_TRUE(crossStepWaits(programOfKind(one, ProgramKind::Prefill)).empty());
}

TEST(TensorParallelPlan, OneRankHasNoCommAndNoShards) {
  Plan plan = compile("tiny-llama", "host", 1);
  EXPECT_EQ(plan.tensorParallel, 1u);
  for (const TensorDesc &t : plan.tensors) {
    EXPECT_NE(t.placement, Placement::Comm) << t.name;
    EXPECT_EQ(t.shardParts, 1u) << t.name;
  }
}

} // namespace
