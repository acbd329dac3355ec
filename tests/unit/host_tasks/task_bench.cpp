//===- task_bench.cpp - Tensors, poisoning and task records for kernel tests ===//
#include "task_bench.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>

namespace mk::host::test {

isa::ModelMeta testModel(uint32_t heads, uint32_t kvHeads, uint32_t headDim,
                         uint32_t hidden) {
  isa::ModelMeta m;
  m.family = "llama";
  m.vocabSize = 64;
  m.hiddenSize = hidden;
  m.intermediateSize = 2 * hidden;
  m.numLayers = 1;
  m.numHeads = heads;
  m.numKvHeads = kvHeads;
  m.headDim = headDim;
  m.maxSeqLen = 64;
  m.kvBlockSize = 16;
  m.rmsNormEps = 1e-5f;
  m.ropeTheta = 10000.0f;
  return m;
}

TaskBench::TaskBench(isa::ModelMeta m, isa::ProgramKind kind, uint32_t seed)
    : model(std::move(m)), rng(seed) {
  program.name = kind == isa::ProgramKind::Decode ? "decode" : "prefill";
  program.kind = kind;
}

uint16_t TaskBench::add(isa::DType dtype, std::initializer_list<int64_t> shape) {
  TensorRef ref;
  ref.dtype = dtype;
  ref.rank = static_cast<uint32_t>(shape.size());
  int64_t n = 1;
  uint32_t i = 0;
  for (int64_t d : shape) {
    ref.shape[i++] = d;
    n *= d;
  }
  storage_.emplace_back(size_t(n) * isa::dtypeSize(dtype));
  ref.data = storage_.back().data();
  refs_.push_back(ref);
  return static_cast<uint16_t>(refs_.size() - 1);
}

int64_t TaskBench::numElements(uint16_t id) const {
  int64_t n = 1;
  for (uint32_t i = 0; i < refs_[id].rank; ++i)
    n *= refs_[id].shape[i];
  return n;
}

void TaskBench::fillRandomBf16(uint16_t id, float scale) {
  std::uniform_real_distribution<float> magnitude(scale / 8, scale);
  std::bernoulli_distribution negative(0.5);
  bf16 *p = data<bf16>(id);
  for (int64_t i = 0; i < numElements(id); ++i) {
    const float v = magnitude(rng);
    p[i] = floatToBf16(negative(rng) ? -v : v);
  }
}

uint16_t TaskBench::randomBf16(std::initializer_list<int64_t> shape, float scale) {
  uint16_t id = add(isa::DType::BF16, shape);
  fillRandomBf16(id, scale);
  return id;
}

uint16_t TaskBench::i32(std::initializer_list<int64_t> shape,
                        const std::vector<int32_t> &values) {
  uint16_t id = add(isa::DType::I32, shape);
  EXPECT_EQ(int64_t(values.size()), numElements(id));
  std::copy(values.begin(), values.end(), data<int32_t>(id));
  return id;
}

void TaskBench::poison(uint16_t id) {
  const int64_t n = numElements(id);
  switch (refs_[id].dtype) {
  case isa::DType::BF16:
  case isa::DType::F16:
    std::fill_n(data<uint16_t>(id), n, kBf16Sentinel);
    break;
  case isa::DType::F32:
    std::fill_n(data<uint32_t>(id), n, kF32Sentinel);
    break;
  case isa::DType::I32:
    std::fill_n(data<uint32_t>(id), n, kI32Sentinel);
    break;
  }
}

double TaskBench::at(uint16_t id, int64_t i) const {
  switch (refs_[id].dtype) {
  case isa::DType::BF16:
    return bf16ToFloat(data<bf16>(id)[i]);
  case isa::DType::F32:
    return data<float>(id)[i];
  case isa::DType::I32:
    return data<int32_t>(id)[i];
  case isa::DType::F16:
    break;
  }
  ADD_FAILURE() << "unsupported dtype";
  return 0;
}

bool TaskBench::isSentinel(uint16_t id, int64_t i) const {
  switch (refs_[id].dtype) {
  case isa::DType::BF16:
  case isa::DType::F16:
    return data<uint16_t>(id)[i] == kBf16Sentinel;
  case isa::DType::F32:
    return data<uint32_t>(id)[i] == kF32Sentinel;
  case isa::DType::I32:
    return data<uint32_t>(id)[i] == kI32Sentinel;
  }
  return false;
}

std::vector<std::byte> TaskBench::bytes(uint16_t id) const {
  const auto *p = static_cast<const std::byte *>(refs_[id].data);
  return std::vector<std::byte>(p, p + size_t(numElements(id)) *
                                           isa::dtypeSize(refs_[id].dtype));
}

TaskContext TaskBench::context(uint64_t step) const {
  TaskContext ctx;
  ctx.model = &model;
  ctx.program = &program;
  ctx.tensors = refs_.data();
  ctx.numTensors = static_cast<uint32_t>(refs_.size());
  ctx.step = step;
  return ctx;
}

::testing::AssertionResult
TaskBench::coverage(uint16_t id, const std::function<bool(int64_t)> &inTile) const {
  int64_t missing = 0, stray = 0, firstMissing = -1, firstStray = -1, inside = 0;
  for (int64_t i = 0; i < numElements(id); ++i) {
    const bool tile = inTile(i);
    inside += tile;
    const bool sentinel = isSentinel(id, i);
    if (tile && sentinel && missing++ == 0)
      firstMissing = i;
    if (!tile && !sentinel && stray++ == 0)
      firstStray = i;
  }
  if (inside == 0)
    return ::testing::AssertionFailure() << "the tile of tensor " << id << " is empty";
  if (missing || stray)
    return ::testing::AssertionFailure()
           << "tensor " << id << ": " << missing << " tile elements not written (first "
           << firstMissing << "), " << stray
           << " elements outside the tile written (first " << firstStray << ")";
  return ::testing::AssertionSuccess();
}

isa::TaskRecord makeTask(isa::TaskKind kind, std::initializer_list<uint16_t> operands,
                         isa::Range range0, isa::Range range1, isa::Range range2,
                         uint32_t aux0, uint32_t aux1, uint32_t flags) {
  isa::TaskRecord t{};
  t.kind = static_cast<uint16_t>(kind);
  t.layer = 0;
  t.flags = flags;
  t.range[0] = range0;
  t.range[1] = range1;
  t.range[2] = range2;
  t.aux[0] = aux0;
  t.aux[1] = aux1;
  std::fill(std::begin(t.operand), std::end(t.operand), isa::kNoTensor);
  EXPECT_EQ(operands.size(), isa::taskKindInfo(kind).numOperands);
  for (uint16_t op : operands)
    t.operand[t.numOperands++] = op;
  return t;
}

double normalizedError(const std::vector<double> &got, const std::vector<double> &ref) {
  EXPECT_EQ(got.size(), ref.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    diff += (got[i] - ref[i]) * (got[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  EXPECT_GT(norm, 0.0) << "the reference is all zeros";
  return std::sqrt(diff) / std::sqrt(norm);
}

std::vector<int32_t> permutation(int32_t n, std::mt19937 &rng) {
  std::vector<int32_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), rng);
  return p;
}

} // namespace mk::host::test
