//===- plan_verify.h - Every invariant the executors rely on --------------===//
//
// The compiler proves these when it builds a plan; the runtime re-checks them after
// reading one, because a plan is a file and files get corrupted, hand-edited or come
// from another build. The rules, in the order they are checked:
//
//   a. plan and model: target known, tensorParallel >= 1, at least one program with a
//      unique non-empty name, valid kind and rows > 0; model sizes > 0, numHeads a
//      multiple of numKvHeads, kvBlockSize > 0, valid ropeStyle; a MoE model
//      (numExperts > 0) has 1 <= numExpertsPerTok <= numExperts and
//      moeIntermediateSize > 0.
//   b. tensors: at most 65535; unique non-empty names; valid dtype and placement; rank
//      1..4, every dim > 0; layer < numLayers when set; Activation tensors: valid
//      program, 16-byte aligned offset, [offset, offset + bytes) inside that program's
//      arena.
//   c. tasks: valid kind and layer, numOperands equal to the kind's role count,
//      required roles name a tensor, Activation operands belong to the task's program,
//      written roles never name a Weight; ranges begin <= end, range[0] within rows,
//      range[1] (and AttnDecode's range[2]) within the kind's natural extent; at most 4
//      waits with valid event, count > 0, stepBack <= 1; 1 or 2 distinct valid signals.
//      MoE tasks (plan_verify_moe.cpp): a MoE model, exact operand shapes from the
//      model and the program's rows, expert groups of E consecutive weights, the
//      router over every row and expert, expert tiles over every row and one slot.
//   d. events: count > 0 and equal to the number of tasks that signal it; every wait's
//      count equals its event's count.
//   e. the same-step DAG (signaller of e -> waiter of e with stepBack 0) is acyclic.
//   f. the queue order is a permutation of the tasks and every same-step edge goes
//      forward in it.
//   g. step isolation, for programs with a stepBack-1 wait (several steps per launch,
//      events never reset): every task descends (same step) from a task with a
//      cross-step wait, and for each event waited on across steps every task is an
//      ancestor of, or is, one of its producers (plan_verify_graph.cpp says why).
//   h. arena: Activation tensors of a program whose bytes overlap (and that some task
//      accesses) are ordered by the same-step DAG: every task accessing one strictly
//      precedes every task writing the other, or the other way round.
//
// Messages are one line: what, where (program / task / event / tensor with index and
// name), expected vs got.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"

#include <cstddef>
#include <string>
#include <vector>

namespace mk::isa {

/// The first violation, or ok.
Status verifyPlan(const Plan &plan);

/// Every violation found, in the order above, up to `limit` (at least 1) messages;
/// empty for a valid plan. Rules e-h are skipped for a program whose waits or signals
/// name missing events, and e's cycle stops f's edge check and g, h.
std::vector<std::string> verifyPlanAll(const Plan &plan, size_t limit = 50);

} // namespace mk::isa
