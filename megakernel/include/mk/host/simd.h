//===- simd.h - The SIMD target the host kernels run on --------------------===//
//
// The host kernels are compiled for several SIMD targets (Highway's dynamic dispatch,
// nothing built for the build machine's CPU) and run on the best one the CPU supports:
// on x86-64, AVX3_DL (AVX-512 with VNNI, VBMI2, ...), AVX3 (AVX-512 F/BW/DQ/VL), AVX2
// (with FMA) and a scalar fallback for CPUs without AVX2 and FMA.
//
// Every target gives the same bits: the summation order, the FMA use and the rounding
// points of each kernel never depend on the vector width (the contracts are written in
// megakernel/host/kernels/dot.h and simd_ops.h), and the host kernel library is built
// with -ffp-contract=off, so scalar code rounds where it is written. Outside that
// contract: the C library's expf, logf, sin and cos (softmax, SiLU, RoPE), which glibc
// takes from its FMA variants on every CPU with FMA; on a CPU without FMA they may
// differ in the last bit.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <string>
#include <string_view>
#include <vector>

namespace mk::host::simd {

/// One SIMD target the host kernels are compiled for.
struct Target {
  std::string_view name; // Highway's name: "AVX3_DL", "AVX3", "AVX2", "SCALAR", ...
  bool supported;        // whether this CPU (and its OS) runs it
};

/// Every compiled target, best first.
std::vector<Target> compiledTargets();

/// The compiled targets' names, best first: "AVX3_DL, AVX3, AVX2, SCALAR".
std::string compiledTargetNames();

/// The target the host kernels run on: the best one this CPU supports unless forced.
std::string_view activeTarget();

/// Runs the host kernels on target `name` (a compiledTargets() name, any case) from
/// now on, in every thread. Results do not change (that is the contract); speed may.
/// Fails, changing nothing, with a one-line message when `name` is not compiled or
/// this CPU lacks it. Call it while no kernel runs.
Status forceTarget(std::string_view name);

/// Back to the best target this CPU supports.
void resetTarget();

} // namespace mk::host::simd
