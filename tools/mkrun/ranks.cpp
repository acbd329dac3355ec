//===- ranks.cpp - mkrun's tensor-parallel runs ----------------------------===//
#include "ranks.h"

#include "mpi_launch.h"

#include "options.h"
#include "prompts.h"
#include "run.h"

#include "mk/runtime/host_ranks.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace mk::mkrun {
namespace {

std::string ranksText(uint32_t n) {
  return std::to_string(n) + (n == 1 ? " rank" : " ranks");
}

/// The sessions of an SPMD run choose every token together (greedy: the cross-rank
/// argmax; sampling: the same draw from the same gathered logits), so a difference is
/// a bug, reported instead of printing rank 0's text as if it were the answer.
Status checkSameTokens(const std::vector<RunResult> &results) {
  const auto &first = results[0].outputs;
  for (size_t r = 1; r < results.size(); ++r) {
    const auto &mine = results[r].outputs;
    for (size_t i = 0; i < std::min(first.size(), mine.size()); ++i)
      if (mine[i].tokens != first[i].tokens) {
        const auto &a = first[i].tokens, &b = mine[i].tokens;
        size_t at =
            std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin();
        return Status::error("rank " + std::to_string(r) +
                             " generated other tokens than rank 0 for prompt " +
                             std::to_string(i) + " from token " + std::to_string(at) +
                             " on (" + (at < b.size() ? std::to_string(b[at]) : "none") +
                             " vs " + (at < a.size() ? std::to_string(a[at]) : "none") +
                             ")");
      }
  }
  return Status::ok();
}

} // namespace

Status checkTensorParallel(const RunOptions &o, const isa::Plan &plan) {
  const uint32_t n = plan.tensorParallel;
  if (o.tp && o.tp != n)
    return Status::error(
        "--tp " + std::to_string(o.tp) + ": " + o.planPath + " is compiled for " +
        ranksText(n) +
        (n == 1 ? " (compile it with mkc compile --tp " + std::to_string(o.tp) + ")"
                : " (pass --tp " + std::to_string(n) + " or leave --tp out)"));
  // --backend cuda: one process per rank under mpirun (checkCudaLaunch).
  return checkCudaLaunch(o, plan);
}

Status runHostRanks(const RunOptions &options, const isa::Plan &plan,
                    const runtime::SafetensorsSet &weights, const Prompts &prompts,
                    RunResult &out) {
  const uint32_t n = plan.tensorParallel;
  RunOptions o = options;
  o.gen.profileEpoch = std::chrono::steady_clock::now(); // one timeline for all ranks
  const unsigned workers =
      o.workers ? o.workers : std::max(1u, std::thread::hardware_concurrency() / n);
  runtime::HostRanks ranks(plan, {.workers = workers, .profile = o.gen.profile});
  std::vector<RunResult> results(n);
  Status s = ranks.run([&](uint32_t r, runtime::Session &session) -> Status {
    if (Status l = loadWeights(o, weights, session, n); !l)
      return l;
    return generate(o, prompts, session, /*print=*/r == 0, results[r]);
  });
  if (!s)
    return s;
  if (Status t = checkSameTokens(results); !t)
    return t;
  out = std::move(results[0]);
  out.ranks = n;
  for (uint32_t r = 1; r < n; ++r)
    for (runtime::LaunchProfile &p : results[r].profiles)
      out.profiles.push_back(std::move(p));
  return Status::ok();
}

} // namespace mk::mkrun
