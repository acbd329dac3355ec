//===- TaskEnums.h - Closed sets of the plan, equal to the ISA's -----------===//
//
// The enums generated from TaskEnums.td, and the proof that each case has the ISA's
// value: a plan writer converts with toIsa(), a cast.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

#include "mk/Dialect/Task/TaskEnums.h.inc"

namespace mk::task {

namespace detail {
template <typename A, typename B> constexpr bool sameValue(A a, B b) {
  return static_cast<int64_t>(a) == static_cast<int64_t>(b);
}
} // namespace detail

static_assert(detail::sameValue(Placement::Weight, isa::Placement::Weight));
static_assert(detail::sameValue(Placement::Activation, isa::Placement::Activation));
static_assert(detail::sameValue(Placement::KvCache, isa::Placement::KvCache));
static_assert(detail::sameValue(Placement::StepState, isa::Placement::StepState));
static_assert(detail::sameValue(Placement::Comm, isa::Placement::Comm));
static_assert(getMaxEnumValForPlacement() == 4, "a placement case without its assert");

static_assert(detail::sameValue(ProgramKind::Decode, isa::ProgramKind::Decode));
static_assert(detail::sameValue(ProgramKind::Prefill, isa::ProgramKind::Prefill));
static_assert(getMaxEnumValForProgramKind() == 1, "a program kind without its assert");

inline isa::Placement toIsa(Placement p) { return static_cast<isa::Placement>(p); }
inline isa::ProgramKind toIsa(ProgramKind k) { return static_cast<isa::ProgramKind>(k); }

} // namespace mk::task
