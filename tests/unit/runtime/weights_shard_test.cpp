// WeightStore under tensor parallelism: each rank binds its slice of a checkpoint
// tensor (TensorDesc's shard fields). A dim-0 slice points into the mapping at the
// slice's rows (no copy); a dim-1 slice is gathered, and converted where the dtypes
// differ, into an owned buffer; replicated weights are whole on every rank; KV heads
// fewer than the ranks are shared by consecutive ranks. Shapes are checked against
// the whole checkpoint tensor, and errors name the file and the tensor.
#include "safetensors_writer.h"
#include "test_plan.h"

#include "mk/host/bf16.h"
#include "mk/runtime/weights.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mk;
using namespace mk::runtime;
using namespace mk::runtime::test;

namespace {

constexpr uint32_t kRanks = 4;

/// A TP=4 plan: q [3, 8] of [12, 8] along dim 0; k [4, 8] of [8, 8], 2 parts, each
/// shared by 2 ranks; o and o32 [8, 3] of [8, 12] along dim 1 (o32's checkpoint is
/// f32); bias [3] of [12]; norm [8] replicated.
isa::Plan shardedPlan() {
  isa::Plan plan;
  plan.tensorParallel = kRanks;
  plan.model.family = "llama";
  auto shard = [&](uint16_t id, uint8_t dim, uint16_t parts, uint16_t replicas) {
    isa::TensorDesc &d = plan.tensors[id];
    d.shardDim = dim;
    d.shardParts = parts;
    d.shardReplicas = replicas;
  };
  shard(addTensor(plan, "q", isa::Placement::Weight, {3, 8}), 0, 4, 1);
  shard(addTensor(plan, "k", isa::Placement::Weight, {4, 8}), 0, 2, 2);
  shard(addTensor(plan, "o", isa::Placement::Weight, {8, 3}), 1, 4, 1);
  shard(addTensor(plan, "o32", isa::Placement::Weight, {8, 3}), 1, 4, 1);
  shard(addTensor(plan, "bias", isa::Placement::Weight, {3}), 0, 4, 1);
  addTensor(plan, "norm", isa::Placement::Weight, {8});
  return plan;
}

SafetensorsFile checkpoint() {
  SafetensorsFile f;
  f.add(bf16Tensor("q", {12, 8}))
      .add(bf16Tensor("k", {8, 8}))
      .add(bf16Tensor("o", {8, 12}))
      .add(f32Tensor("o32", {8, 12}))
      .add(bf16Tensor("bias", {12}))
      .add(bf16Tensor("norm", {8}));
  return f;
}

/// Element (row, col) of a [rows, cols] checkpoint tensor as the bf16 bits the plan
/// binds.
uint16_t bits(const TensorSpec &t, int64_t row, int64_t col) {
  const size_t i = size_t(row * t.shape.back() + col);
  if (t.dtype == "BF16") {
    uint16_t b;
    std::memcpy(&b, t.bytes.data() + 2 * i, 2);
    return b;
  }
  float f;
  std::memcpy(&f, t.bytes.data() + 4 * i, 4);
  return host::floatToBf16(f).bits;
}

const TensorSpec &spec(const SafetensorsFile &f, const std::string &name) {
  for (const TensorSpec &t : f.tensors)
    if (t.name == name)
      return t;
  throw std::logic_error("no tensor " + name);
}

struct Fixture {
  TempDir dir;
  SafetensorsFile file = checkpoint();
  SafetensorsSet st;
  Fixture() {
    file.write(dir / "model.safetensors");
    Status s = SafetensorsSet::open(dir.path().string(), st);
    EXPECT_TRUE(s) << s.message();
  }
};

/// Expects the plan tensor `name` ([rows, cols], or [cols] as one row) to hold the
/// checkpoint's rows [row0, row0 + rows) and columns [col0, col0 + cols).
void expectSlice(const WeightStore &store, const isa::Plan &plan, const TensorSpec &t,
                 int64_t row0, int64_t col0) {
  const uint16_t id = tensorId(plan, t.name);
  const isa::TensorDesc &d = plan.tensors[id];
  const int64_t rows = d.rank == 1 ? 1 : d.shape[0], cols = d.shape[d.rank - 1];
  const auto *data = static_cast<const uint16_t *>(store.data(id));
  ASSERT_NE(data, nullptr) << t.name;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(data[r * cols + c],
                d.rank == 1 ? bits(t, 0, col0 + c) : bits(t, row0 + r, col0 + c))
          << t.name << " [" << r << ", " << c << "]";
}

} // namespace

TEST(WeightShards, EveryRankBindsItsSlices) {
  Fixture f;
  isa::Plan plan = shardedPlan();
  uint64_t total = 0;
  for (uint32_t rank = 0; rank < kRanks; ++rank) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    WeightStore store;
    Status s = store.load(plan, f.st, rank);
    ASSERT_TRUE(s) << s.message();
    expectSlice(store, plan, spec(f.file, "q"), 3 * rank, 0);
    expectSlice(store, plan, spec(f.file, "k"), 4 * (rank / 2), 0);
    expectSlice(store, plan, spec(f.file, "o"), 0, 3 * rank);
    expectSlice(store, plan, spec(f.file, "o32"), 0, 3 * rank);
    // A [12] bias as one row: its columns are the slice.
    {
      const TensorSpec &b = spec(f.file, "bias");
      const auto *data =
          static_cast<const uint16_t *>(store.data(tensorId(plan, "bias")));
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(data[c], bits(b, 0, 3 * rank + c));
    }
    expectSlice(store, plan, spec(f.file, "norm"), 0, 0);

    // Dim-0 slices and replicas are the mapping itself, at the slice's first row.
    const SafetensorsTensor *q = f.st.find("q");
    EXPECT_TRUE(store.isZeroCopy(tensorId(plan, "q")));
    EXPECT_EQ(store.data(tensorId(plan, "q")), q->data + 3 * rank * 8 * 2);
    EXPECT_TRUE(store.isZeroCopy(tensorId(plan, "k")));
    EXPECT_TRUE(store.isZeroCopy(tensorId(plan, "bias")));
    EXPECT_TRUE(store.isZeroCopy(tensorId(plan, "norm")));
    // Dim-1 slices are strided: copied.
    EXPECT_FALSE(store.isZeroCopy(tensorId(plan, "o")));
    EXPECT_FALSE(store.isZeroCopy(tensorId(plan, "o32")));
    EXPECT_EQ(store.bytes(), (24 + 32 + 24 + 24 + 3 + 8) * 2u);
    EXPECT_EQ(store.ownedBytes(), 2 * 24 * 2u);
    total += store.bytes();
  }
  EXPECT_EQ(total, 4 * (24 + 32 + 24 + 24 + 3 + 8) * 2u);
}

TEST(WeightShards, ShapesAreCheckedAgainstTheWholeCheckpointTensor) {
  TempDir dir;
  SafetensorsFile file = checkpoint();
  for (TensorSpec &t : file.tensors)
    if (t.name == "o")
      t = bf16Tensor("o", {8, 10}); // 10 columns do not make 4 slices of 3
  file.write(dir / "model.safetensors");
  SafetensorsSet st;
  ASSERT_TRUE(SafetensorsSet::open(dir.path().string(), st));
  WeightStore store;
  Status s = store.load(shardedPlan(), st, 1);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), (dir / "model.safetensors").string() +
                             ": tensor 'o' has shape [8, 10], the plan expects [8, 12] "
                             "(4 slices along dim 1) (is this the model the plan was "
                             "compiled for?)");
  EXPECT_EQ(store.data(0), nullptr) << "left empty";

  // The slice's own shape is not the checkpoint's either.
  TempDir dir2;
  SafetensorsFile slice = checkpoint();
  for (TensorSpec &t : slice.tensors)
    if (t.name == "q")
      t = bf16Tensor("q", {3, 8});
  slice.write(dir2 / "model.safetensors");
  SafetensorsSet st2;
  ASSERT_TRUE(SafetensorsSet::open(dir2.path().string(), st2));
  s = store.load(shardedPlan(), st2, 0);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("tensor 'q' has shape [3, 8], the plan expects [12, 8]"),
            std::string::npos)
      << s.message();
}

TEST(WeightShards, BadRanksAndShardsAreRefused) {
  Fixture f;
  WeightStore store;
  Status s = store.load(shardedPlan(), f.st, kRanks);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "weights: rank 4 of a plan of 4 tensor-parallel ranks");

  isa::Plan bad = shardedPlan();
  bad.tensors[tensorId(bad, "bias")].shardDim = 1; // a vector has no dim 1
  s = store.load(bad, f.st, 0);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "plan tensor 'bias' of rank 1 is sharded along dim 1; weights "
                         "shard along dim 0 or 1 of a matrix");
}

TEST(WeightShards, OneRankPlansLoadAsBefore) {
  TempDir dir;
  SafetensorsFile file;
  file.add(bf16Tensor("w", {4, 6}));
  file.write(dir / "model.safetensors");
  SafetensorsSet st;
  ASSERT_TRUE(SafetensorsSet::open(dir.path().string(), st));
  isa::Plan plan;
  addTensor(plan, "w", isa::Placement::Weight, {4, 6});
  WeightStore store;
  ASSERT_TRUE(store.load(plan, st));
  EXPECT_EQ(store.data(0), st.find("w")->data);
}
