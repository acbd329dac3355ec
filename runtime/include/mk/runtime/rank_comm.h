//===- rank_comm.h - What a session of one tensor-parallel rank needs of its peers ==//
//
// The ranks of a tensor-parallel plan run the same session SPMD: same prompts, same
// options, same launches. They differ in the slice of the vocabulary their LM head
// computes, so a session that samples or keeps logits gathers the full rows
//   rank q's logits [rows, V/N] -> columns [q * V/N, (q + 1) * V/N) of [rows, V]
// and every rank draws the same token from the whole vocabulary with the same seed.
// Greedy decoding needs none of it (the in-kernel argmax is already cross-rank).
//
// Three operations, small enough for MPI (MPI_Allgather, MPI_Allgather of the status,
// MPI_Abort) as well as for threads of one process (HostRankGroup):
//   - allGather: every rank's float block in rank order;
//   - agree: a collective status (one rank's failed load stops every rank before its
//     first launch, where the peers would wait on it inside the megakernel);
//   - abort: one rank failed outside a collective; every rank's pending and later
//     collectives fail with its message, so no rank waits for it forever.
// Collectives are called by every rank in the same order (the sessions' control flow
// is the same on every rank because their inputs are).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace mk::runtime {

class RankComm {
public:
  virtual ~RankComm() = default;

  virtual uint32_t rank() const = 0;
  virtual uint32_t ranks() const = 0;

  /// `all` ([ranks][mine.size()]) receives every rank's `mine`, in rank order. Every
  /// rank passes the same size. Fails (on every rank) when the sizes differ, or with
  /// the abort's message when a rank aborted.
  virtual Status allGather(std::span<const float> mine, std::span<float> all) = 0;

  /// Collective: ok when every rank's `mine` is ok; else, on every rank, the error of
  /// the lowest failing rank as "rank R: <message>" (or the abort's message).
  virtual Status agree(const Status &mine) = 0;

  /// Not collective: this rank failed with `why`. Every rank's pending and later
  /// collectives return "rank R: <why>"; the first abort of the group wins.
  virtual void abort(const Status &why) = 0;
};

/// The ranks of one process (threads): rank(r) is rank r's communicator. Shared memory
/// and a generation barrier; thread-safe; outlives every thread using it.
class HostRankGroup {
public:
  explicit HostRankGroup(uint32_t ranks);
  ~HostRankGroup();
  HostRankGroup(const HostRankGroup &) = delete;
  HostRankGroup &operator=(const HostRankGroup &) = delete;

  uint32_t ranks() const { return ranks_; }
  RankComm &rank(uint32_t r);

  /// Runs once, on the thread of the first abort, with the aborting rank and the
  /// status it passed (e.g. to stop the executors' cross-rank waits). Set before the
  /// ranks start.
  void onAbort(std::function<void(uint32_t rank, const Status &why)> callback);
  /// The first abort's status, or ok.
  Status failure() const;

private:
  class Comm;
  friend class Comm;
  /// Waits until every rank arrived. An abortable wait returns the abort's status
  /// instead once a rank aborted (withdrawing this rank's arrival).
  Status arrive(bool abortable);
  void fail(uint32_t rank, const Status &why);

  const uint32_t ranks_;
  std::vector<std::unique_ptr<Comm>> comms_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  uint32_t arrived_ = 0;
  uint64_t generation_ = 0;
  Status failure_;
  std::function<void(uint32_t, const Status &)> onAbort_;
  // Published between a collective's two barriers (rank-indexed).
  std::vector<std::span<const float>> blocks_;
  std::vector<Status> statuses_;
};

} // namespace mk::runtime
