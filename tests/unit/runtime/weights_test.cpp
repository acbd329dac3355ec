// WeightStore: bf16 weights are used in place from the mapping; f16/f32 (and
// misaligned bf16) are converted with round-to-nearest-even; missing, mis-shaped and
// wrong-model weights are refused with messages that name the file and the tensor.
#include "safetensors_writer.h"
#include "test_plan.h"

#include "mk/host/bf16.h"
#include "mk/host/executor.h"
#include "mk/runtime/weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace mk;
using namespace mk::runtime;
using namespace mk::runtime::test;

namespace {

/// A checkpoint for makeWeightsPlan() with every weight in `dtype`.
SafetensorsFile checkpoint(const std::string &dtype) {
  SafetensorsFile f;
  f.add(tensorOf("model.embed_tokens.weight", dtype, {kVocab, kHidden}))
      .add(tensorOf("model.layers.0.input_layernorm.weight", dtype, {kHidden}))
      .add(tensorOf("model.layers.0.mlp.up_proj.weight", dtype, {kInter, kHidden}))
      .add(tensorOf("model.norm.weight", dtype, {kHidden}))
      .add(tensorOf("lm_head.weight", dtype, {kVocab, kHidden}))
      .add(f32Tensor("model.rotary_emb.inv_freq", {2})); // unused by the plan: ignored
  return f;
}

struct Loaded {
  TempDir dir;
  SafetensorsSet st;
  WeightStore store;
  Status status;
};

void load(Loaded &l, const isa::Plan &plan, const SafetensorsFile &f,
          const WeightLoadOptions &options = {}) {
  f.write(l.dir / "model.safetensors");
  Status s = SafetensorsSet::open(l.dir.path().string(), l.st);
  ASSERT_TRUE(s) << s.message();
  l.status = l.store.load(plan, l.st, 0, options);
}

/// The bf16 value a source element must become.
uint16_t expectedBf16(const TensorSpec &t, size_t i) {
  if (t.dtype == "BF16") {
    uint16_t b;
    std::memcpy(&b, t.bytes.data() + 2 * i, 2);
    return b;
  }
  if (t.dtype == "F16") {
    uint16_t h;
    std::memcpy(&h, t.bytes.data() + 2 * i, 2);
    return host::floatToBf16(halfBitsToFloat(h)).bits;
  }
  float f;
  std::memcpy(&f, t.bytes.data() + 4 * i, 4);
  return host::floatToBf16(f).bits;
}

void expectConverted(const WeightStore &store, const isa::Plan &plan,
                     const TensorSpec &t) {
  const uint16_t id = tensorId(plan, t.name);
  const auto *data = static_cast<const uint16_t *>(store.data(id));
  ASSERT_NE(data, nullptr) << t.name;
  const size_t n = plan.tensors[id].numElements();
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(data[i], expectedBf16(t, i)) << t.name << " element " << i;
}

uint64_t planWeightBytes(const isa::Plan &plan) {
  uint64_t total = 0;
  for (const isa::TensorDesc &d : plan.tensors)
    if (d.placement == isa::Placement::Weight)
      total += d.bytes();
  return total;
}

} // namespace

TEST(Weights, Bf16IsZeroCopy) {
  isa::Plan plan = makeWeightsPlan();
  Loaded l;
  SafetensorsFile f = checkpoint("BF16");
  load(l, plan, f);
  ASSERT_TRUE(l.status) << l.status.message();
  for (const TensorSpec &t : f.tensors) {
    if (t.name == "model.rotary_emb.inv_freq")
      continue;
    const uint16_t id = tensorId(plan, t.name);
    EXPECT_TRUE(l.store.isZeroCopy(id)) << t.name;
    EXPECT_EQ(l.store.data(id), l.st.find(t.name)->data) << t.name;
    expectConverted(l.store, plan, t);
  }
  EXPECT_EQ(l.store.bytes(), planWeightBytes(plan));
  EXPECT_EQ(l.store.ownedBytes(), 0u);
  // Non-weights have no data here.
  EXPECT_EQ(l.store.data(tensorId(plan, "kv.l0.k")), nullptr);
  EXPECT_EQ(l.store.data(tensorId(plan, "decode.h")), nullptr);
  EXPECT_EQ(l.store.data(9999), nullptr);
}

// With hugePages, what would be used in place is copied into one 2 MiB-aligned huge-page
// mapping (same bytes, 64-byte aligned tensors), and what is converted stays converted;
// where the system offers no transparent huge pages the weights stay mapped and the
// store says why.
TEST(Weights, HugePagesCopyTheInPlaceTensorsOrSayWhyNot) {
  isa::Plan plan = makeWeightsPlan();
  Loaded l;
  SafetensorsFile f = checkpoint("BF16");
  f.tensors[2] = tensorOf("model.layers.0.mlp.up_proj.weight", "F32", {kInter, kHidden});
  load(l, plan, f, {.hugePages = true});
  ASSERT_TRUE(l.status) << l.status.message();
  const bool offered = host::transparentHugePages().available;
  uint64_t inPlace = 0;
  for (const TensorSpec &t : f.tensors) {
    if (t.name == "model.rotary_emb.inv_freq")
      continue;
    const uint16_t id = tensorId(plan, t.name);
    expectConverted(l.store, plan, t);
    if (t.dtype == "F32") {
      EXPECT_FALSE(l.store.isInHugePages(id)) << t.name;
      EXPECT_FALSE(l.store.isZeroCopy(id)) << t.name;
      continue;
    }
    inPlace += (plan.tensors[id].bytes() + 63) / 64 * 64;
    EXPECT_EQ(l.store.isInHugePages(id), offered) << t.name;
    EXPECT_EQ(l.store.isZeroCopy(id), !offered) << t.name;
    if (offered) {
      EXPECT_NE(l.store.data(id), l.st.find(t.name)->data) << t.name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(l.store.data(id)) % 64, 0u) << t.name;
    }
  }
  EXPECT_EQ(l.store.bytes(), planWeightBytes(plan));
  const uint64_t converted = plan.tensors[tensorId(plan, f.tensors[2].name)].bytes();
  EXPECT_EQ(l.store.ownedBytes(), converted);
  if (offered) {
    EXPECT_EQ(l.store.hugePageBytes(), inPlace);
    EXPECT_EQ(l.store.hugePagesNote(), "");
    const auto first = reinterpret_cast<uintptr_t>(
        l.store.data(tensorId(plan, "model.embed_tokens.weight")));
    EXPECT_EQ(first % host::HugePageBuffer::kHugePage, 0u) << "the mapping's start";
  } else {
    EXPECT_EQ(l.store.hugePageBytes(), 0u);
    EXPECT_NE(l.store.hugePagesNote().find("transparent huge pages are"),
              std::string::npos)
        << l.store.hugePagesNote();
  }
  // Without the option nothing moves.
  Loaded mapped;
  load(mapped, plan, f);
  ASSERT_TRUE(mapped.status) << mapped.status.message();
  EXPECT_EQ(mapped.store.hugePageBytes(), 0u);
  EXPECT_TRUE(mapped.store.hugePagesNote().empty());
  EXPECT_TRUE(mapped.store.isZeroCopy(tensorId(plan, "lm_head.weight")));
}

// A copy that would not fit the available memory is not made: the weights stay in the
// mapping, populated, and the store says how much was needed.
TEST(Weights, HugePagesLeaveTheMappingWhenTheCopyWouldNotFit) {
  isa::Plan plan = makeWeightsPlan();
  Loaded l;
  SafetensorsFile f = checkpoint("BF16");
  load(l, plan, f, {.hugePages = true, .availableBytes = 1000});
  ASSERT_TRUE(l.status) << l.status.message();
  EXPECT_EQ(l.store.hugePageBytes(), 0u);
  EXPECT_NE(l.store.hugePagesNote().find("would not fit the 0 MB of available memory"),
            std::string::npos)
      << l.store.hugePagesNote();
  for (size_t k = 0; k + 1 < f.tensors.size(); ++k) {
    const uint16_t id = tensorId(plan, f.tensors[k].name);
    EXPECT_TRUE(l.store.isZeroCopy(id)) << f.tensors[k].name;
    EXPECT_FALSE(l.store.isInHugePages(id)) << f.tensors[k].name;
    expectConverted(l.store, plan, f.tensors[k]);
  }
}

TEST(Weights, F16AndF32AreConvertedRoundingToNearestEven) {
  for (std::string dtype : {"F16", "F32"}) {
    SCOPED_TRACE(dtype);
    isa::Plan plan = makeWeightsPlan();
    Loaded l;
    SafetensorsFile f = checkpoint(dtype);
    load(l, plan, f);
    ASSERT_TRUE(l.status) << l.status.message();
    for (size_t k = 0; k + 1 < f.tensors.size(); ++k) {
      EXPECT_FALSE(l.store.isZeroCopy(tensorId(plan, f.tensors[k].name)));
      expectConverted(l.store, plan, f.tensors[k]);
      EXPECT_EQ(
          reinterpret_cast<uintptr_t>(l.store.data(tensorId(plan, f.tensors[k].name))) %
              64,
          0u);
    }
    EXPECT_EQ(l.store.bytes(), planWeightBytes(plan));
    EXPECT_EQ(l.store.ownedBytes(), planWeightBytes(plan));
  }
}

TEST(Weights, SpecialValuesConvertExactly) {
  isa::Plan plan;
  plan.model.vocabSize = 4;
  plan.model.hiddenSize = 2;
  addTensor(plan, "h", isa::Placement::Weight, {8});
  addTensor(plan, "f", isa::Placement::Weight, {8});
  addTensor(plan, "f32", isa::Placement::Weight, {2}, isa::DType::F32);
  const uint16_t halves[8] = {0x3C00, 0xC000, 0x7C00, 0xFC00,
                              0x0001, 0x03FF, 0x7BFF, 0x7E00};
  const float floats[8] = {1.0f,
                           1.00390625f /*tie down*/,
                           1.01171875f /*tie up*/,
                           -0.0f,
                           3.4028235e38f /*-> inf*/,
                           1e-40f /*subnormal*/,
                           INFINITY,
                           NAN};
  TensorSpec h{"h", "F16", {8}, {}}, f{"f", "F32", {8}, {}}, g{"f32", "BF16", {2}, {}};
  h.bytes.resize(16);
  std::memcpy(h.bytes.data(), halves, 16);
  f.bytes.resize(32);
  std::memcpy(f.bytes.data(), floats, 32);
  g.bytes = {0x80, 0x3F, 0x00, 0xC0}; // bf16 1.0, -2.0 into an f32 plan tensor
  SafetensorsFile file;
  file.add(h).add(f).add(g);
  Loaded l;
  load(l, plan, file);
  ASSERT_TRUE(l.status) << l.status.message();
  const auto *hb = static_cast<const uint16_t *>(l.store.data(0));
  EXPECT_EQ(hb[0], 0x3F80);                           // 1
  EXPECT_EQ(hb[1], 0xC000);                           // -2
  EXPECT_EQ(hb[2], 0x7F80);                           // +inf
  EXPECT_EQ(hb[3], 0xFF80);                           // -inf
  EXPECT_EQ(hb[4], host::floatToBf16(0x1p-24f).bits); // smallest subnormal half
  EXPECT_EQ(hb[5], host::floatToBf16(1023 * 0x1p-24f).bits);
  EXPECT_EQ(hb[6], host::floatToBf16(65504.0f).bits); // largest half
  EXPECT_TRUE(std::isnan(host::bf16ToFloat(host::bf16{hb[7]})));
  const auto *fb = static_cast<const uint16_t *>(l.store.data(1));
  EXPECT_EQ(fb[0], 0x3F80);
  EXPECT_EQ(fb[1], 0x3F80);
  EXPECT_EQ(fb[2], 0x3F82);
  EXPECT_EQ(fb[3], 0x8000);
  EXPECT_EQ(fb[4], 0x7F80);
  EXPECT_EQ(fb[5], host::floatToBf16(1e-40f).bits);
  EXPECT_EQ(fb[6], 0x7F80);
  EXPECT_TRUE(std::isnan(host::bf16ToFloat(host::bf16{fb[7]})));
  const auto *f32 = static_cast<const float *>(l.store.data(2));
  EXPECT_EQ(f32[0], 1.0f);
  EXPECT_EQ(f32[1], -2.0f);
}

TEST(Weights, MisalignedBf16IsCopied) {
  isa::Plan plan = makeWeightsPlan();
  SafetensorsFile f = checkpoint("BF16");
  f.alignment = 1;
  // Make the data start odd so every bf16 tensor is misaligned.
  if ((8 + f.headerJson().size()) % 2 == 0)
    f.extraSpaces = 1;
  Loaded l;
  load(l, plan, f);
  ASSERT_TRUE(l.status) << l.status.message();
  const uint16_t id = tensorId(plan, "lm_head.weight");
  ASSERT_EQ(reinterpret_cast<uintptr_t>(l.st.find("lm_head.weight")->data) % 2, 1u);
  EXPECT_FALSE(l.store.isZeroCopy(id));
  for (size_t k = 0; k + 1 < f.tensors.size(); ++k)
    expectConverted(l.store, plan, f.tensors[k]);
}

TEST(Weights, ShardedCheckpointLoads) {
  isa::Plan plan = makeWeightsPlan();
  SafetensorsFile all = checkpoint("BF16"), a, b;
  for (size_t k = 0; k < all.tensors.size(); ++k)
    (k % 2 ? a : b).add(all.tensors[k]);
  TempDir dir;
  a.write(dir / "model-00001-of-00002.safetensors");
  b.write(dir / "model-00002-of-00002.safetensors");
  std::string index = "{\"weight_map\": {";
  for (size_t k = 0; k < all.tensors.size(); ++k)
    index += (k ? ", \"" : "\"") + all.tensors[k].name + "\": \"model-0000" +
             (k % 2 ? "1" : "2") + "-of-00002.safetensors\"";
  index += "}}";
  writeBytes(dir / "model.safetensors.index.json",
             std::vector<uint8_t>(index.begin(), index.end()));
  SafetensorsSet st;
  Status s = SafetensorsSet::open(dir.path().string(), st);
  ASSERT_TRUE(s) << s.message();
  WeightStore store;
  s = store.load(plan, st);
  ASSERT_TRUE(s) << s.message();
  for (size_t k = 0; k + 1 < all.tensors.size(); ++k)
    expectConverted(store, plan, all.tensors[k]);
}

TEST(Weights, MissingTensor) {
  isa::Plan plan = makeWeightsPlan();
  SafetensorsFile f = checkpoint("BF16");
  f.tensors.erase(f.tensors.begin() + 4); // lm_head.weight
  Loaded l;
  load(l, plan, f);
  ASSERT_FALSE(l.status);
  EXPECT_EQ(l.status.message(),
            l.dir.path().string() +
                ": tensor 'lm_head.weight' is missing (the plan needs it)");
  EXPECT_EQ(l.store.data(tensorId(plan, "model.norm.weight")), nullptr); // left empty
  EXPECT_EQ(l.store.bytes(), 0u);
}

TEST(Weights, WrongShape) {
  isa::Plan plan = makeWeightsPlan();
  SafetensorsFile f = checkpoint("BF16");
  f.tensors[2] = bf16Tensor("model.layers.0.mlp.up_proj.weight", {kInter / 2, kHidden});
  Loaded l;
  load(l, plan, f);
  ASSERT_FALSE(l.status);
  EXPECT_EQ(
      l.status.message(),
      l.dir.str("model.safetensors") +
          ": tensor 'model.layers.0.mlp.up_proj.weight' has shape [12, 16], the plan "
          "expects [24, 16] (is this the model the plan was compiled for?)");
  // Rank differs too.
  f.tensors[2] = bf16Tensor("model.layers.0.mlp.up_proj.weight", {kInter * kHidden});
  Loaded l2;
  load(l2, plan, f);
  ASSERT_FALSE(l2.status);
  EXPECT_NE(l2.status.message().find("has shape [384], the plan expects [24, 16]"),
            std::string::npos)
      << l2.status.message();
}

TEST(Weights, WrongModelIsCaughtByTheEmbedding) {
  isa::Plan plan = makeWeightsPlan();
  // Another model: bigger vocabulary, same hidden size; every shape would mismatch
  // somewhere, but the first message must say "different model".
  SafetensorsFile f = checkpoint("BF16");
  f.tensors[0] = bf16Tensor("model.embed_tokens.weight", {kVocab * 2, kHidden});
  f.tensors[4] = bf16Tensor("lm_head.weight", {kVocab * 2, kHidden});
  Loaded l;
  load(l, plan, f);
  ASSERT_FALSE(l.status);
  EXPECT_EQ(
      l.status.message(),
      l.dir.str("model.safetensors") +
          ": these weights are for a different model: the plan was compiled for vocab "
          "40 and hidden size 16, the weights have vocab 80 and hidden size 16 "
          "('model.embed_tokens.weight' is [80, 16])");
}

TEST(Weights, UnsupportedPlanDtype) {
  isa::Plan plan;
  addTensor(plan, "x", isa::Placement::Weight, {2}, isa::DType::I32);
  SafetensorsFile f;
  f.add(f32Tensor("x", {2}));
  Loaded l;
  load(l, plan, f);
  ASSERT_FALSE(l.status);
  EXPECT_EQ(l.status.message(),
            "plan tensor 'x' has dtype i32; weights load as bf16 or f32");
}

TEST(Weights, BindToExecutor) {
  isa::Plan plan = makeWeightsPlan();
  Loaded l;
  load(l, plan, checkpoint("F32"));
  ASSERT_TRUE(l.status) << l.status.message();
  host::HostExecutor exec(plan, {.workers = 1});
  Status s = l.store.bindTo(exec);
  ASSERT_TRUE(s) << s.message();
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    if (plan.tensors[i].placement == isa::Placement::Weight) {
      EXPECT_EQ(exec.tensor(uint16_t(i)).data, l.store.data(uint16_t(i)));
    }
  }
  WeightStore empty;
  s = empty.bindTo(exec);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "weights: bindTo before a successful load");
}
