//===- task_bench.h - Tensors, poisoning and task records for kernel tests ===//
//
// A TaskBench owns the tensors of one kernel test, binds them to a TaskContext and
// builds task records. Inputs are random, never zero and bf16-representable; outputs
// start poisoned with signalling-NaN bit patterns that no kernel computes, so a test
// can check that a task wrote every element of its tile and nothing else.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/task_context.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <random>
#include <vector>

namespace mk::host::test {

// Sentinels: signalling NaNs (quiet bit clear) for the float types; kernels only ever
// produce quiet NaNs. An unlikely value for i32.
inline constexpr uint16_t kBf16Sentinel = 0xFFA5;
inline constexpr uint32_t kF32Sentinel = 0xFFA5A5A5u;
inline constexpr uint32_t kI32Sentinel = 0x5EADBEEFu;

/// A small model description; tests change what they exercise.
isa::ModelMeta testModel(uint32_t heads, uint32_t kvHeads, uint32_t headDim,
                         uint32_t hidden);

class TaskBench {
public:
  explicit TaskBench(isa::ModelMeta model,
                     isa::ProgramKind kind = isa::ProgramKind::Decode,
                     uint32_t seed = 1234);

  /// A tensor filled with zeros (inputs are filled by the test or by the helpers).
  uint16_t add(isa::DType dtype, std::initializer_list<int64_t> shape);
  /// Random bf16, magnitude in [scale / 8, scale], random sign: never zero.
  uint16_t randomBf16(std::initializer_list<int64_t> shape, float scale = 1.0f);
  /// An i32 tensor holding `values`.
  uint16_t i32(std::initializer_list<int64_t> shape, const std::vector<int32_t> &values);
  /// Fills a tensor's elements with the sentinel of its dtype.
  void poison(uint16_t id);
  void fillRandomBf16(uint16_t id, float scale = 1.0f);

  TensorRef &ref(uint16_t id) { return refs_[id]; }
  const TensorRef &ref(uint16_t id) const { return refs_[id]; }
  int64_t numElements(uint16_t id) const;
  template <typename T> T *data(uint16_t id) { return static_cast<T *>(refs_[id].data); }
  template <typename T> const T *data(uint16_t id) const {
    return static_cast<const T *>(refs_[id].data);
  }
  /// Element i of a bf16, f32 or i32 tensor as a double.
  double at(uint16_t id, int64_t i) const;
  bool isSentinel(uint16_t id, int64_t i) const;
  /// A copy of a tensor's bytes, for bitwise comparisons.
  std::vector<std::byte> bytes(uint16_t id) const;

  /// The context of this bench's program at `step`.
  TaskContext context(uint64_t step = 0) const;

  /// Runs `task` with its host kernel.
  void run(const isa::TaskRecord &task, uint64_t step = 0) const {
    runTask(context(step), task);
  }

  /// Every element of tensor `id` for which inTile(flat index) holds was written (no
  /// sentinel left), and every other element still holds the sentinel.
  ::testing::AssertionResult coverage(uint16_t id,
                                      const std::function<bool(int64_t)> &inTile) const;

  isa::ModelMeta model;
  isa::Program program;
  std::mt19937 rng;

private:
  std::vector<std::vector<std::byte>> storage_;
  std::vector<TensorRef> refs_;
};

/// A task record with the given operands (kNoTensor for absent optional roles).
isa::TaskRecord makeTask(isa::TaskKind kind, std::initializer_list<uint16_t> operands,
                         isa::Range range0, isa::Range range1 = {0, 0},
                         isa::Range range2 = {0, 0}, uint32_t aux0 = 0, uint32_t aux1 = 0,
                         uint32_t flags = 0);

/// ||got - ref|| / ||ref|| (2-norms).
double normalizedError(const std::vector<double> &got, const std::vector<double> &ref);

/// A random permutation of 0..n-1 (a block table that is not the identity).
std::vector<int32_t> permutation(int32_t n, std::mt19937 &rng);

} // namespace mk::host::test
