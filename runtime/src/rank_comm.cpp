//===- rank_comm.cpp - Ranks as threads of one process ---------------------===//
//
// A collective is two barriers: before the first every rank publishes its input
// (under the mutex); between them every rank reads its peers' inputs (published,
// and unchanged until every rank has passed the second barrier); after the second a
// rank may publish the next collective's input. The first barrier gives way to an
// abort (a rank that failed never arrives); the second does not: once every rank has
// passed the first, every rank reaches the second without blocking, and returning
// early would let a peer reuse a block another rank still reads.
//===----------------------------------------------------------------------===//
#include "mk/runtime/rank_comm.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace mk::runtime {

class HostRankGroup::Comm final : public RankComm {
public:
  Comm(HostRankGroup &group, uint32_t rank) : group_(group), rank_(rank) {}

  uint32_t rank() const override { return rank_; }
  uint32_t ranks() const override { return group_.ranks_; }

  Status allGather(std::span<const float> mine, std::span<float> all) override {
    {
      std::lock_guard lock(group_.mutex_);
      group_.blocks_[rank_] = mine;
    }
    if (Status s = group_.arrive(true); !s)
      return s;
    const std::vector<std::span<const float>> &blocks = group_.blocks_;
    Status result;
    for (uint32_t q = 1; q < blocks.size() && result; ++q)
      if (blocks[q].size() != blocks[0].size())
        result =
            Status::error("rank gather: rank 0 passes " +
                          std::to_string(blocks[0].size()) + " floats, rank " +
                          std::to_string(q) + " " + std::to_string(blocks[q].size()));
    if (result && all.size() != mine.size() * blocks.size())
      result = Status::error("rank gather: rank " + std::to_string(rank_) +
                             " receives into " + std::to_string(all.size()) +
                             " floats, expected " + std::to_string(blocks.size()) +
                             " x " + std::to_string(mine.size()));
    if (result)
      for (size_t q = 0; q < blocks.size(); ++q)
        std::copy(blocks[q].begin(), blocks[q].end(), all.begin() + q * mine.size());
    (void)group_.arrive(false);
    return result;
  }

  Status agree(const Status &mine) override {
    {
      std::lock_guard lock(group_.mutex_);
      group_.statuses_[rank_] = mine;
    }
    if (Status s = group_.arrive(true); !s)
      return s;
    Status result;
    for (size_t q = 0; q < group_.statuses_.size() && result; ++q)
      if (!group_.statuses_[q])
        result = Status::error("rank " + std::to_string(q) + ": " +
                               group_.statuses_[q].message());
    (void)group_.arrive(false);
    return result;
  }

  void abort(const Status &why) override { group_.fail(rank_, why); }

private:
  HostRankGroup &group_;
  const uint32_t rank_;
};

HostRankGroup::HostRankGroup(uint32_t ranks)
    : ranks_(std::max(ranks, 1u)), blocks_(ranks_), statuses_(ranks_) {
  for (uint32_t r = 0; r < ranks_; ++r)
    comms_.push_back(std::make_unique<Comm>(*this, r));
}

HostRankGroup::~HostRankGroup() = default;

RankComm &HostRankGroup::rank(uint32_t r) { return *comms_[r]; }

void HostRankGroup::onAbort(std::function<void(uint32_t, const Status &)> callback) {
  std::lock_guard lock(mutex_);
  onAbort_ = std::move(callback);
}

Status HostRankGroup::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

Status HostRankGroup::arrive(bool abortable) {
  std::unique_lock lock(mutex_);
  if (abortable && !failure_)
    return failure_;
  const uint64_t generation = generation_;
  if (++arrived_ == ranks_) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return Status::ok();
  }
  cv_.wait(lock, [&] { return generation_ != generation || (abortable && !failure_); });
  if (generation_ != generation)
    return Status::ok();
  --arrived_; // withdrawn: the collective will not complete
  return failure_;
}

void HostRankGroup::fail(uint32_t rank, const Status &why) {
  std::function<void(uint32_t, const Status &)> callback;
  const Status reason = why ? Status::error("failed") : why;
  {
    std::lock_guard lock(mutex_);
    if (!failure_)
      return;
    failure_ = Status::error("rank " + std::to_string(rank) + ": " + reason.message());
    callback = onAbort_;
    cv_.notify_all();
  }
  if (callback)
    callback(rank, reason);
}

} // namespace mk::runtime
