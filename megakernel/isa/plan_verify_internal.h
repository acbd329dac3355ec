//===- plan_verify_internal.h - Shared by the verifier's two files --------===//
#pragma once

#include "mk/isa/plan.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mk::isa::detail {

/// Violations found so far; stops collecting at `limit` (1 for verifyPlan).
class Violations {
public:
  explicit Violations(size_t limit) : limit_(limit) {}
  bool full() const { return messages_.size() >= limit_; }
  void add(std::string message) {
    if (!full())
      messages_.push_back(std::move(message));
  }
  std::vector<std::string> take() { return std::move(messages_); }

private:
  size_t limit_;
  std::vector<std::string> messages_;
};

/// "program 0 'decode'"
std::string programLabel(const Plan &plan, uint32_t program);
/// "task 3 (qkv, layer 0)"
std::string taskLabel(const Program &prog, uint32_t task);
/// "event 2 'qkv'"
std::string eventLabel(const Program &prog, uint32_t event);
/// "tensor 5 'h0'"
std::string tensorLabel(const Plan &plan, uint32_t tensor);

/// Byte size of a tensor with a valid rank and positive dims; false if it is not one or
/// the size overflows 64 bits.
bool tensorByteSize(const TensorDesc &t, uint64_t &bytes);

/// Whether `kind` is one of the MoE kinds, whose shapes checkMoeTask checks.
bool isMoeKind(TaskKind kind);

/// Rule c's MoE part (plan_verify_moe.cpp): exact operand shapes, expert groups and
/// tile ranges of MoE task `task` of program `program`.
void checkMoeTask(const Plan &plan, uint32_t program, uint32_t task, Violations &out);

/// Rules e-h (DAG, queue order, step isolation, arena) for one program whose tasks have
/// at most kMaxWaits waits and kMaxSignals signals, all naming valid events.
void verifyProgramGraph(const Plan &plan, uint32_t program, Violations &out);

} // namespace mk::isa::detail
