//===- equivalence.h - One plan on the host and the CUDA executor, compared ===//
//
// The backend-equivalence harness (as llama.cpp's test-backend-ops): a Scenario is a
// TaskBench (random inputs, poisoned outputs) plus task records. plan() turns it into a
// one-program isa::Plan whose weight operands are Weight tensors and everything else is
// StepState, so the CUDA executor downloads every output into the bench after the
// launch. The scenario is built twice from the same seed, run on the host executor (the
// reference) and on the CUDA executor, and compared element by element:
//   - sentinel coverage identical: the CUDA kernel writes exactly the host's tile;
//   - bf16 and f32 outputs by normalized error, per tensor and per leading index, and
//     element by element against the row's scale (so a wrong row or element cannot
//     hide in a large tensor);
//   - i32 outputs, copies (embedding) and lm_head partial-argmax indices exactly;
//   - NaN never passes, infinities must match, and inputs must come back unchanged.
//===----------------------------------------------------------------------===//
#pragma once

#include "task_bench.h"

#include "mk/cuda/executor.h"
#include "mk/isa/plan.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace mk::cuda::test {

using host::test::makeTask;
using host::test::TaskBench;
using host::test::testModel;

/// Normalized error allowed between the host and CUDA results of a tensor, and of one
/// leading index of it (a row; looser because a row holds few elements). A single
/// element may differ by kElementTolerance times (its magnitude + the largest magnitude
/// of its row): a few bf16 ulps (2^-8 to 2^-7 each), also where a residual add cancels,
/// but not a wrong value.
inline constexpr double kTolerance = 1e-2;
inline constexpr double kRowTolerance = 5e-2;
inline constexpr double kElementTolerance = 0.02;

/// Skips the current test when no CUDA device is usable, saying why.
#define MK_SKIP_WITHOUT_DEVICE()                                                         \
  do {                                                                                   \
    if (::mk::Status probe_ = ::mk::cuda::probeDevice(0); !probe_)                       \
      GTEST_SKIP() << "no usable CUDA device: " << probe_.message();                     \
  } while (0)

/// The tensors and tasks of one program. Tasks are grouped in dependency phases: every
/// task of phase p runs after all tasks of phase p - 1 of the same step, and phase 0 of
/// step s after the last phase of step s - 1. So a scenario may chain producers and
/// consumers (qkv -> attn_decode -> attn_merge) and run several decode steps in one
/// launch, each step seeing the previous one's writes and no task overwriting what a
/// task of the previous step still reads.
class Scenario {
public:
  explicit Scenario(isa::ModelMeta model,
                    isa::ProgramKind kind = isa::ProgramKind::Decode,
                    uint32_t seed = 1234)
      : bench(std::move(model), kind, seed) {}
  Scenario(Scenario &&) = default;
  // A copy would share the bench's memory (TaskBench refs point into its storage).
  Scenario(const Scenario &) = delete;
  Scenario &operator=(const Scenario &) = delete;

  /// Adds `task` to dependency phase `phase` (phases in non-decreasing order).
  void add(const isa::TaskRecord &task, uint32_t phase = 0);

  /// The one-program plan of this scenario (target host: run with checkTarget = false).
  isa::Plan plan() const;
  /// Tensor ids 0 .. numTensors() - 1: up to the last operand of a task or expert of a
  /// MoE expert group one names (operand + e, e < model.numExperts); a tensor below it
  /// that no task uses is step state, bound and compared as an input.
  uint32_t numTensors() const;
  /// Tensors some task writes.
  std::set<uint16_t> outputs() const;
  /// Tensors bound to weight roles and the experts of the groups they name (uploaded
  /// once, never written).
  std::set<uint16_t> weights() const;

  TaskBench bench;
  uint64_t steps = 1; // steps of the launch (decode step s uses positions + s)
  std::vector<isa::TaskRecord> tasks;
  std::vector<uint32_t> phases;    // of each task
  std::set<uint16_t> exactOutputs; // outputs compared bitwise (copies)
};

/// A named scenario for value-parameterized tests; build() must be deterministic (it
/// runs once per backend and both must get the same inputs).
struct ScenarioCase {
  std::string name;
  std::function<Scenario()> build;
};
std::ostream &operator<<(std::ostream &os, const ScenarioCase &c);
/// gtest parameter names: the case names.
std::string caseName(const ::testing::TestParamInfo<ScenarioCase> &info);

/// Binds every tensor of the scenario to its bench memory and runs its steps; on
/// success the bench holds the results (the CUDA executor mirrors step state back).
Status runScenario(Executor &executor, Scenario &s);
Status runOnHost(Scenario &s, const isa::Plan &plan, unsigned workers = 4);
/// checkTarget is forced off: scenario plans have the host target.
Status runOnCuda(Scenario &s, const isa::Plan &plan, CudaOptions options = {});

/// The CUDA results in `cuda` against the host results in `host` (the same scenario).
::testing::AssertionResult sameResults(const Scenario &host, const Scenario &cuda);
/// Every tensor of the two scenarios bitwise equal (determinism, identical builds).
::testing::AssertionResult bitwiseEqual(const Scenario &a, const Scenario &b);

/// The whole check of one case. Without a device it still verifies the plan, builds it
/// twice identically and runs it on the host (so a broken scenario fails everywhere),
/// then skips; with one it runs it on the CUDA executor and compares.
void expectCudaMatchesHost(const ScenarioCase &c);

} // namespace mk::cuda::test
