//===- plan_verify_internal.h - Shared by the verifier's two files --------===//
#pragma once

#include "mk/isa/plan.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
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

/// "[2, 4, 64] bf16"
std::string shapeText(const TensorDesc &t);
/// "[Smax 2, R 4, H 64] bf16"
std::string expectedText(std::initializer_list<std::pair<const char *, int64_t>> dims,
                         DType dtype);
/// Whether `t` is exactly of these dims and dtype.
bool hasShape(const TensorDesc &t,
              std::initializer_list<std::pair<const char *, int64_t>> dims, DType dtype);

/// Whether `kind` is one of the MoE kinds, whose shapes checkMoeTask checks.
bool isMoeKind(TaskKind kind);

/// Rule c's MoE part (plan_verify_moe.cpp): exact operand shapes, expert groups and
/// tile ranges of MoE task `task` of program `program`.
void checkMoeTask(const Plan &plan, uint32_t program, uint32_t task, Violations &out);

/// Rule c's tensor-parallel part (plan_verify_comm.cpp): the comm tasks' operands
/// and the comm sites of program `program` (sites numbered 0.., each site's tiles
/// 0.., the flags large enough, all_reduce tiles covering the columns once), and that
/// comm tasks appear only in plans with tensorParallel > 1.
void checkCommProgram(const Plan &plan, uint32_t program, Violations &out);

/// The comm sites' order (plan_verify_comm.cpp): each site waits for all of the
/// previous one, and site 0 for the previous step's last. Needs valid events.
void checkCommOrder(const Plan &plan, uint32_t program, Violations &out);

/// Rules e-h (DAG, queue order, step isolation, arena) for one program whose tasks have
/// at most kMaxWaits waits and kMaxSignals signals, all naming valid events.
void verifyProgramGraph(const Plan &plan, uint32_t program, Violations &out);

} // namespace mk::isa::detail
