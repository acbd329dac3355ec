//===- simd.cpp - Naming, listing and forcing the host kernels' SIMD target ===//
#include "mk/host/simd.h"

#include "kernels/simd_ops.h"

#include <algorithm>
#include <cctype>

namespace mk::host::simd {

namespace {

bool sameName(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) ==
           std::toupper(static_cast<unsigned char>(y));
  });
}

std::string supportedNames() {
  std::string names;
  for (const Target &t : compiledTargets())
    if (t.supported)
      names += (names.empty() ? "" : ", ") + std::string(t.name);
  return names;
}

} // namespace

std::vector<Target> compiledTargets() {
  std::vector<Target> targets;
  for (const kernels::SimdOps *ops : kernels::compiledOps())
    targets.push_back({ops->target, kernels::supportedByCpu(*ops)});
  return targets;
}

std::string compiledTargetNames() {
  std::string names;
  for (const Target &t : compiledTargets())
    names += (names.empty() ? "" : ", ") + std::string(t.name);
  return names;
}

std::string_view activeTarget() { return kernels::simdOps().target; }

Status forceTarget(std::string_view name) {
  for (const kernels::SimdOps *ops : kernels::compiledOps()) {
    if (!sameName(name, ops->target))
      continue;
    if (!kernels::supportedByCpu(*ops))
      return Status::error("SIMD target " + std::string(ops->target) +
                           ": this CPU does not support it (it supports " +
                           supportedNames() + ")");
    kernels::setActiveOps(*ops);
    return Status::ok();
  }
  return Status::error("unknown SIMD target '" + std::string(name) +
                       "' (compiled: " + compiledTargetNames() + ")");
}

void resetTarget() { kernels::setActiveOps(kernels::bestOps()); }

} // namespace mk::host::simd
