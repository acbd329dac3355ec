//===- ranks.cpp - mkrun's tensor-parallel runs ----------------------------===//
#include "ranks.h"

#include "options.h"
#include "prompts.h"
#include "run.h"

#include "mk/host/comm_group.h"
#include "mk/host/executor.h"
#include "mk/runtime/rank_comm.h"
#include "mk/runtime/session.h"

#include <algorithm>
#include <chrono>
#include <memory>
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
  if (n > 1 && o.backend != "host")
    return Status::error(o.planPath + ": a tensor-parallel plan (" + ranksText(n) +
                         ") runs on --backend host in this build");
  return Status::ok();
}

Status runHostRanks(const RunOptions &options, const isa::Plan &plan,
                    const runtime::SafetensorsSet &weights, const Prompts &prompts,
                    RunResult &out) {
  const uint32_t n = plan.tensorParallel;
  RunOptions o = options;
  o.gen.profileEpoch = std::chrono::steady_clock::now(); // one timeline for all ranks
  const unsigned workers =
      o.workers ? o.workers : std::max(1u, std::thread::hardware_concurrency() / n);

  host::HostCommGroup comm(n);
  runtime::HostRankGroup ranks(n);
  // A rank that fails outside a launch (a logits gather, a load) fails the comm group
  // too: its peers' comm tasks stop waiting for it and their launches return.
  ranks.onAbort(
      [&](uint32_t rank, const Status &why) { comm.fail(rank, why.message()); });
  // Every session (and executor) lives until every thread has joined: a peer's comm
  // tasks write into this rank's buffers until the last launch of every rank is over.
  std::vector<std::unique_ptr<runtime::Session>> sessions;
  for (uint32_t r = 0; r < n; ++r)
    sessions.push_back(std::make_unique<runtime::Session>(
        plan,
        std::make_unique<host::HostExecutor>(
            plan, host::ExecutorOptions{.workers = workers, .profile = o.gen.profile}, r,
            &comm),
        &ranks.rank(r)));

  std::vector<RunResult> results(n);
  std::vector<Status> statuses(n);
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      // load() is collective: a failed load is every rank's error already.
      if (!(statuses[r] = sessions[r]->load(weights)))
        return;
      if (!(statuses[r] = generate(o, prompts, *sessions[r], r == 0, results[r])))
        ranks.rank(r).abort(statuses[r]);
    });
  for (std::thread &t : threads)
    t.join();
  if (comm.failed())
    return Status::error(comm.failure());
  for (const Status &s : statuses)
    if (!s)
      return s;
  if (Status s = checkSameTokens(results); !s)
    return s;
  out = std::move(results[0]);
  out.ranks = n;
  for (uint32_t r = 1; r < n; ++r)
    for (runtime::LaunchProfile &p : results[r].profiles)
      out.profiles.push_back(std::move(p));
  return Status::ok();
}

} // namespace mk::mkrun
