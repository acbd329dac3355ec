//===- host_ranks.h - The ranks of a tensor-parallel plan as threads of one process ==//
//
// HostRanks holds one Session per rank, each on its own HostExecutor (rank r of one
// HostCommGroup: the in-kernel all-reduce and all-gather between the ranks' buffers)
// with its own RankComm (HostRankGroup: the sessions' logits gathers and agreements).
// run() gives every rank a thread and the same body, SPMD:
//
//   HostRanks ranks(plan, {.workers = 2});
//   Status s = ranks.run([&](uint32_t rank, Session &session) -> Status {
//     if (Status l = session.load(weights); !l)   // collective: a failed load is
//       return l;                                 // every rank's error already
//     return session.generate(prompts, options, ...);
//   });
//
// A rank whose body fails aborts the group: every peer's collectives and comm waits
// give up at once (no rank waits for it until a watchdog fires), and run() returns
// the first failure as "rank R: <message>".
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/comm_group.h"
#include "mk/host/executor.h"
#include "mk/isa/plan.h"
#include "mk/isa/status.h"
#include "mk/runtime/rank_comm.h"
#include "mk/runtime/session.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace mk::runtime {

class HostRanks {
public:
  /// plan.tensorParallel ranks (1 for a plan without TP), each with `options` (workers
  /// per rank). `plan` must outlive the ranks.
  HostRanks(const isa::Plan &plan, host::ExecutorOptions options);
  ~HostRanks();
  HostRanks(const HostRanks &) = delete;
  HostRanks &operator=(const HostRanks &) = delete;

  uint32_t ranks() const { return uint32_t(sessions_.size()); }
  Session &session(uint32_t rank) { return *sessions_[rank]; }

  /// Runs body(rank, session(rank)) on one thread per rank and joins them. ok when
  /// every body returned ok; the error when every rank failed with the same one (a
  /// failure agreed on through the RankComm, which names its rank, or the same bad
  /// input everywhere); else the first failure, "rank R: <message>". After a failure
  /// the ranks stay failed: make new HostRanks to run again.
  Status run(const std::function<Status(uint32_t rank, Session &session)> &body);

private:
  host::HostCommGroup comm_;
  HostRankGroup group_;
  // Every session (and executor) lives as long as the ranks: a peer's comm tasks write
  // into this rank's buffers until the last launch of every rank is over.
  std::vector<std::unique_ptr<Session>> sessions_;
};

} // namespace mk::runtime
