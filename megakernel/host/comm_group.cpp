//===- comm_group.cpp - The ranks of a tensor-parallel plan as threads --------===//
#include "mk/host/comm_group.h"

namespace mk::host {

HostCommGroup::HostCommGroup(uint32_t ranks) : tables_(ranks, nullptr) {}

Status HostCommGroup::join(uint32_t rank, const TensorRef *table) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (rank >= tables_.size())
    return Status::error("rank " + std::to_string(rank) + " joined a group of " +
                         std::to_string(tables_.size()) + " ranks");
  if (tables_[rank])
    return Status::error("rank " + std::to_string(rank) + " joined the group twice");
  tables_[rank] = table;
  return Status::ok();
}

void HostCommGroup::leave(uint32_t rank) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (rank < tables_.size())
    tables_[rank] = nullptr;
}

Status HostCommGroup::complete() const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (uint32_t q = 0; q < tables_.size(); ++q)
    if (!tables_[q])
      return Status::error("rank " + std::to_string(q) + " of " +
                           std::to_string(tables_.size()) +
                           " has no executor in the group");
  return Status::ok();
}

void HostCommGroup::fail(uint32_t rank, const std::string &why) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failed_.load(std::memory_order_relaxed))
    return;
  failure_ = "rank " + std::to_string(rank) + ": " + why;
  failed_.store(true, std::memory_order_release);
}

std::string HostCommGroup::failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

} // namespace mk::host
