//===- host_ranks.cpp - The ranks of a tensor-parallel plan as threads ----===//
#include "mk/runtime/host_ranks.h"

#include <algorithm>
#include <thread>

namespace mk::runtime {

HostRanks::HostRanks(const isa::Plan &plan, host::ExecutorOptions options)
    : comm_(std::max(plan.tensorParallel, 1u)),
      group_(std::max(plan.tensorParallel, 1u)) {
  // A rank that fails outside a launch (a logits gather, its own body) fails the comm
  // group too: its peers' comm tasks stop waiting for it and their launches return.
  group_.onAbort(
      [this](uint32_t rank, const Status &why) { comm_.fail(rank, why.message()); });
  for (uint32_t r = 0; r < group_.ranks(); ++r)
    sessions_.push_back(std::make_unique<Session>(
        plan, std::make_unique<host::HostExecutor>(plan, options, r, &comm_),
        &group_.rank(r)));
}

HostRanks::~HostRanks() = default;

Status HostRanks::run(const std::function<Status(uint32_t, Session &)> &body) {
  std::vector<Status> statuses(ranks());
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < ranks(); ++r)
    threads.emplace_back([&, r] {
      if (!(statuses[r] = body(r, *sessions_[r])))
        group_.rank(r).abort(statuses[r]);
    });
  for (std::thread &t : threads)
    t.join();
  // Every rank failing alike is one failure: an error the ranks agreed on (a load,
  // which names its rank already) or the same bad input on every rank.
  if (std::all_of(statuses.begin(), statuses.end(), [&](const Status &s) {
        return !s && s.message() == statuses[0].message();
      }))
    return statuses[0];
  // Otherwise the first failure: a launch that failed on its own (a watchdog) fails
  // the comm group before its rank's body returns; any other first aborted.
  if (comm_.failed())
    return Status::error(comm_.failure());
  return group_.failure();
}

} // namespace mk::runtime
