//===- comm_group.h - The ranks of a tensor-parallel plan as threads of one process ==//
//
// Each rank is its own HostExecutor (its own workers, arenas, KV caches and weight
// slices) constructed with the group and its rank. Each executor owns its comm buffers
// (the plan's Placement::Comm tensors, zeroed); the group lets every rank's comm tasks
// reach every other rank's, by tensor id, so the flag protocol of mk/isa/protocol.h
// ("Cross-rank communication") runs between threads exactly as between GPUs.
//
// Every rank must run the same launches (same program, same steps, in the same order),
// as SPMD sessions do. A rank whose launch fails marks the group failed; the other
// ranks' comm waits then give up and their launches fail with that rank's message,
// instead of waiting for it until their watchdogs fire.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/task_context.h"
#include "mk/isa/status.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace mk::host {

class HostCommGroup {
public:
  explicit HostCommGroup(uint32_t ranks);
  HostCommGroup(const HostCommGroup &) = delete;
  HostCommGroup &operator=(const HostCommGroup &) = delete;

  uint32_t ranks() const { return uint32_t(tables_.size()); }

  /// Rank `rank`'s tensor table (its executor's; stable for the executor's life).
  /// Called by HostExecutor. Errors: rank out of range, or joined twice.
  Status join(uint32_t rank, const TensorRef *table);
  /// Withdraws a rank (its executor is being destroyed).
  void leave(uint32_t rank);
  /// ok once every rank joined; else which one has not.
  Status complete() const;
  /// peers[q] = rank q's table; valid once complete().
  const TensorRef *const *peers() const { return tables_.data(); }

  /// Rank `rank` failed with `why`; the first failure wins.
  void fail(uint32_t rank, const std::string &why);
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  /// "rank R: <why>" of the first failure, or "".
  std::string failure() const;

private:
  mutable std::mutex mutex_;
  std::vector<const TensorRef *> tables_;
  std::atomic<bool> failed_{false};
  std::string failure_;
};

} // namespace mk::host
