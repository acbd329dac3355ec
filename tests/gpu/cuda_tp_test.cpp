//===- cuda_tp_test.cpp - Tensor parallelism on several GPUs: the comm kinds ==//
//
// Two CUDA executors, ranks 0 and 1 of one tensor-parallel plan on devices 0 and 1,
// as threads of this process (NCCL runs several ranks per process as well as one;
// mpirun only starts the processes). Their agreement before NCCL goes through a
// HostRankGroup, as mkrun's goes through MPI. Skips, saying why, with fewer than two
// devices or without NCCL.
//
// The plan: each step, all_reduce tiles (site 0, two column tiles) sum the ranks'
// partials onto a residual, then all_gather (site 1) gathers the ranks' LM-head
// partials; the next step's all_reduce waits on the all_gather. Several steps per
// launch and several launches run the epochs through both buffers and across launch
// boundaries. Every rank's outputs must equal the reference the host's tasks define
// (all_reduce.h, all_gather.h) bit for bit: the sum is fp32 in rank order from 0.
//
// Then the toy TP plan (tests/unit/isa/toy_plan.h: embedding, o_proj without residual,
// all_reduce, lm_head over the rank's vocabulary slice, all_gather, argmax) on two CUDA
// ranks and on two host ranks (HostCommGroup): the same tokens on every rank of both,
// launch after launch.
//===----------------------------------------------------------------------===//
#include "../unit/isa/toy_plan.h"
#include "task_bench.h"

#include "mk/cuda/executor.h"
#include "mk/host/bf16.h"
#include "mk/host/comm_group.h"
#include "mk/host/executor.h"
#include "mk/isa/plan_verify.h"
#include "mk/runtime/rank_comm.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace mk::cuda {
namespace {

using host::bf16;
using host::bf16ToFloat;
using host::floatToBf16;
using host::roundToBf16;

constexpr uint32_t kRanks = 2, kRows = 3, kHidden = 96, kTiles = 5;

uint16_t add(isa::Plan &plan, const char *name, isa::Placement placement,
             std::initializer_list<int64_t> shape, isa::DType dtype) {
  isa::TensorDesc t;
  t.name = name;
  t.placement = placement;
  t.dtype = dtype;
  t.rank = uint8_t(shape.size());
  std::copy(shape.begin(), shape.end(), t.shape);
  t.program = 0;
  plan.tensors.push_back(t);
  return uint16_t(plan.tensors.size() - 1);
}

struct CommPlan {
  isa::Plan plan;
  uint16_t partial, residual, out, local, gathered;
};

CommPlan commPlan() {
  using isa::DType;
  using isa::Placement;
  CommPlan c;
  isa::Plan &plan = c.plan;
  plan.tensorParallel = kRanks;
  plan.model.hiddenSize = kHidden;
  c.partial = add(plan, "partial", Placement::StepState, {kRows, kHidden}, DType::BF16);
  c.residual = add(plan, "residual", Placement::StepState, {kRows, kHidden}, DType::BF16);
  c.out = add(plan, "out", Placement::StepState, {kRows, kHidden}, DType::BF16);
  c.local = add(plan, "local", Placement::StepState, {kRows, kTiles, 2}, DType::F32);
  c.gathered = add(plan, "gathered", Placement::StepState, {kRows, kRanks * kTiles, 2},
                   DType::F32);
  const uint16_t reduce = add(plan, "decode.comm.reduce", Placement::Comm,
                              {2, kRanks, kRows, kHidden}, DType::BF16);
  const uint16_t gather = add(plan, "decode.comm.gather", Placement::Comm,
                              {2, kRanks, kRows, 2 * kTiles}, DType::F32);
  const uint16_t flags =
      add(plan, "decode.comm.flags", Placement::Comm, {2, 2, kRanks}, DType::I32);

  isa::Program program;
  program.name = "decode";
  program.rows = kRows;
  program.events = {{"reduced", 2}, {"gathered", 1}};
  const uint32_t half = kHidden / 2;
  for (uint32_t tile = 0; tile < 2; ++tile) {
    isa::TaskRecord r = host::test::makeTask(
        isa::TaskKind::AllReduce, {c.partial, c.residual, reduce, flags, c.out},
        {0, kRows}, {tile * half, (tile + 1) * half}, {0, 0}, 0, tile);
    r.wait[r.numWaits++] = {1, 1, 1, 0}; // the previous step's all_gather
    r.signal[r.numSignals++] = 0;
    program.tasks.push_back(r);
  }
  isa::TaskRecord g =
      host::test::makeTask(isa::TaskKind::AllGather, {c.local, gather, flags, c.gathered},
                           {0, kRows}, {0, kTiles}, {0, 0}, 1, 0);
  g.wait[g.numWaits++] = {0, 2, 0, 0};
  g.signal[g.numSignals++] = 1;
  program.tasks.push_back(g);
  program.order = {0, 1, 2};
  plan.programs.push_back(std::move(program));
  return c;
}

/// One rank's inputs (random, different per rank) and outputs.
struct RankData {
  std::vector<bf16> partial, residual, out;
  std::vector<float> local, gathered;
  explicit RankData(uint32_t rank) {
    std::mt19937 rng(1000 + rank);
    std::uniform_real_distribution<float> u(-4.0f, 4.0f);
    for (uint32_t i = 0; i < kRows * kHidden; ++i) {
      partial.push_back(floatToBf16(u(rng)));
      residual.push_back(floatToBf16(u(rng)));
    }
    for (uint32_t i = 0; i < kRows * kTiles; ++i) {
      local.push_back(u(rng));
      local.push_back(float(rank * 1000 + i)); // a global vocabulary id
    }
    out.assign(kRows * kHidden, bf16{0x7FC0}); // NaN: a tile not written shows
    gathered.assign(kRows * kRanks * kTiles * 2, -1.0f);
  }
};

/// Skips the current test without two CUDA devices or without NCCL, saying why.
#define MK_SKIP_WITHOUT_TWO_DEVICES()                                                    \
  do {                                                                                   \
    if (!tensorParallelBuilt())                                                          \
      GTEST_SKIP() << "this build has no NCCL >= 2.28 (tensor-parallel plans on CUDA)";  \
    for (int d = 0; d < int(kRanks); ++d)                                                \
      if (Status s = probeDevice(d); !s)                                                 \
        GTEST_SKIP() << "needs " << kRanks << " CUDA devices: " << s.message();          \
  } while (0)

/// The options of CUDA rank r of kRanks (device r) agreeing through `group`.
CudaOptions rankOptions(uint32_t r, const CommId &id, runtime::HostRankGroup &group) {
  CudaOptions options;
  options.device = int(r);
  options.checkTarget = false; // the test plans target the host
  options.workers = 4;
  options.watchdogMs = 20'000;
  options.rank = r;
  options.ranks = kRanks;
  options.commId = id;
  options.agree = [&group, r](const Status &s) { return group.rank(r).agree(s); };
  return options;
}

TEST(CudaTensorParallel, AllReduceAndAllGatherMatchTheReferenceOnEveryRank) {
  MK_SKIP_WITHOUT_TWO_DEVICES();

  CommPlan c = commPlan();
  CommId id;
  ASSERT_TRUE(newCommId(id));
  runtime::HostRankGroup group(kRanks);
  std::vector<RankData> data;
  for (uint32_t r = 0; r < kRanks; ++r)
    data.emplace_back(r);
  std::vector<Status> results(kRanks);
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < kRanks; ++r)
    threads.emplace_back([&, r] {
      std::unique_ptr<Executor> executor;
      Status s = createExecutor(c.plan, rankOptions(r, id, group), executor);
      RankData &d = data[r];
      for (auto [tensor, memory] :
           {std::pair<uint16_t, void *>{c.partial, d.partial.data()},
            {c.residual, d.residual.data()},
            {c.out, d.out.data()},
            {c.local, d.local.data()},
            {c.gathered, d.gathered.data()}})
        if (s)
          s = executor->bind(tensor, memory);
      // 3 + 4 + 1 steps: odd launches move the next launch's first epoch to the other
      // buffer.
      for (uint64_t steps : {3, 4, 1})
        if (s)
          s = executor->launch(0, steps);
      results[r] = s;
      if (!s)
        group.rank(r).abort(s);
    });
  for (std::thread &t : threads)
    t.join();
  for (uint32_t r = 0; r < kRanks; ++r)
    ASSERT_TRUE(results[r]) << "rank " << r << ": " << results[r].message();

  for (uint32_t r = 0; r < kRanks; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    for (uint32_t i = 0; i < kRows * kHidden; ++i) {
      float sum = 0.0f;
      for (uint32_t q = 0; q < kRanks; ++q)
        sum += bf16ToFloat(data[q].partial[i]);
      const bf16 want = floatToBf16(bf16ToFloat(data[r].residual[i]) + roundToBf16(sum));
      ASSERT_EQ(data[r].out[i].bits, want.bits) << "out element " << i;
    }
    for (uint32_t row = 0; row < kRows; ++row)
      for (uint32_t q = 0; q < kRanks; ++q)
        for (uint32_t j = 0; j < 2 * kTiles; ++j)
          ASSERT_EQ(data[r].gathered[(row * kRanks + q) * 2 * kTiles + j],
                    data[q].local[row * 2 * kTiles + j])
              << "row " << row << " rank " << q << " float " << j;
  }
}

/// One rank's bound memory of the toy TP plan: weights random per slice (so the
/// ranks differ), step state, tokens 5 and 60.
struct ToyRankMemory {
  std::vector<std::vector<uint8_t>> buffers;
  ToyRankMemory(const isa::Plan &plan, uint32_t rank)
      : buffers(isa::test::makeToyTpRankMemory(plan, rank)) {}
  Status bindAll(Executor &exec) {
    for (size_t i = 0; i < buffers.size(); ++i)
      if (!buffers[i].empty())
        if (Status s = exec.bind(uint16_t(i), buffers[i].data()); !s)
          return s;
    return Status::ok();
  }
};

/// Every rank's tokens after each of `launches` launches of `steps` steps; executor
/// r of `executors` runs rank r, each on its own thread.
std::vector<std::vector<int32_t>>
runToyRanks(const isa::Plan &plan, std::vector<std::unique_ptr<Executor>> &executors,
            uint32_t launches, uint64_t steps, std::vector<std::string> &errors) {
  const uint16_t out = isa::test::tensorId(plan, "decode.tokens_out");
  std::vector<std::vector<int32_t>> tokens(kRanks);
  errors.assign(kRanks, "");
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < kRanks; ++r)
    threads.emplace_back([&, r] {
      for (uint32_t l = 0; l < launches; ++l) {
        if (Status s = executors[r]->launch(0, steps); !s) {
          errors[r] = s.message();
          return;
        }
        const int32_t *t = static_cast<const int32_t *>(executors[r]->read(out));
        tokens[r].insert(tokens[r].end(), t, t + 2);
      }
    });
  for (std::thread &t : threads)
    t.join();
  return tokens;
}

/// Destroys the ranks' executors at once, each on its own thread: tearing down NCCL
/// windows and device communicators may wait for the peers.
void destroyRanks(std::vector<std::unique_ptr<Executor>> &executors) {
  std::vector<std::thread> threads;
  for (std::unique_ptr<Executor> &e : executors)
    threads.emplace_back([&e] { e.reset(); });
  for (std::thread &t : threads)
    t.join();
}

TEST(CudaTensorParallel, ToyTpPlanGivesTheHostRanksTokens) {
  const isa::Plan plan = isa::test::makeToyTpPlan();
  ASSERT_TRUE(isa::verifyPlan(plan).isOk());
  constexpr uint32_t kLaunches = 3;
  constexpr uint64_t kSteps = 4;

  // The host ranks run everywhere (a broken plan or host side fails without GPUs too).
  host::HostCommGroup hostGroup(kRanks);
  std::vector<std::unique_ptr<ToyRankMemory>> hostMemory;
  std::vector<std::unique_ptr<Executor>> hosts;
  for (uint32_t r = 0; r < kRanks; ++r) {
    hostMemory.push_back(std::make_unique<ToyRankMemory>(plan, r));
    hosts.push_back(std::make_unique<host::HostExecutor>(
        plan, host::ExecutorOptions{.workers = 2}, r, &hostGroup));
    ASSERT_TRUE(hostMemory[r]->bindAll(*hosts[r]));
  }
  std::vector<std::string> errors;
  const std::vector<std::vector<int32_t>> want =
      runToyRanks(plan, hosts, kLaunches, kSteps, errors);
  ASSERT_EQ(errors[0] + errors[1], "");
  ASSERT_EQ(want[0], want[1]);

  MK_SKIP_WITHOUT_TWO_DEVICES();
  CommId id;
  ASSERT_TRUE(newCommId(id));
  runtime::HostRankGroup group(kRanks);
  std::vector<std::unique_ptr<ToyRankMemory>> memory;
  std::vector<std::unique_ptr<Executor>> cudas(kRanks);
  std::vector<Status> created(kRanks);
  std::vector<std::thread> threads; // ncclCommInitRank waits for every rank
  for (uint32_t r = 0; r < kRanks; ++r)
    memory.push_back(std::make_unique<ToyRankMemory>(plan, r));
  for (uint32_t r = 0; r < kRanks; ++r)
    threads.emplace_back([&, r] {
      created[r] = createExecutor(plan, rankOptions(r, id, group), cudas[r]);
      if (created[r])
        created[r] = memory[r]->bindAll(*cudas[r]);
    });
  for (std::thread &t : threads)
    t.join();
  if (!created[0] || !created[1]) {
    destroyRanks(cudas);
    FAIL() << "rank 0: " << created[0].message() << "; rank 1: " << created[1].message();
  }
  const std::vector<std::vector<int32_t>> got =
      runToyRanks(plan, cudas, kLaunches, kSteps, errors);
  destroyRanks(cudas);
  ASSERT_EQ(errors[0] + errors[1], "");
  EXPECT_EQ(got[0], want[0]);
  EXPECT_EQ(got[1], want[0]);
}

} // namespace
} // namespace mk::cuda
