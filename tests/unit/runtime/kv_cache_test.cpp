// KvCache: zeroed, aligned memory for every KV tensor; one block allocator shared by
// all layers; sequences grow all-or-nothing; slots follow isa::kvSlot.
#include "test_plan.h"

#include "mk/host/executor.h"
#include "mk/isa/step_state.h"
#include "mk/runtime/kv_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace mk;
using namespace mk::runtime;
using namespace mk::runtime::test;

TEST(KvCache, InitAllocatesZeroedAlignedTensors) {
  isa::Plan plan = makeWeightsPlan();
  KvCache kv;
  Status s = kv.init(plan);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(kv.numBlocks(), uint32_t(kBlocks));
  EXPECT_EQ(kv.blockSize(), uint32_t(kBlockSize));
  EXPECT_EQ(kv.freeBlocks(), uint32_t(kBlocks));
  const uint64_t perTensor = kBlocks * kBlockSize * kKvHeads * kHeadDim * 2;
  EXPECT_EQ(kv.bytes(), 2 * perTensor);
  ASSERT_EQ(kv.tensorIds().size(), 2u);
  for (uint16_t id : kv.tensorIds()) {
    const auto *p = static_cast<const uint8_t *>(kv.data(id));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    EXPECT_TRUE(std::all_of(p, p + perTensor, [](uint8_t b) { return b == 0; }));
  }
  EXPECT_NE(kv.data(kv.tensorIds()[0]), kv.data(kv.tensorIds()[1]));
  EXPECT_EQ(kv.data(tensorId(plan, "lm_head.weight")), nullptr);
}

TEST(KvCache, AllocateAndFree) {
  isa::Plan plan = makeWeightsPlan();
  KvCache kv;
  ASSERT_TRUE(kv.init(plan));
  std::vector<uint32_t> got;
  while (auto b = kv.allocate())
    got.push_back(*b);
  // Every block once, lowest first.
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(kv.freeBlocks(), 0u);
  EXPECT_FALSE(kv.allocate().has_value());
  kv.free(3);
  kv.free(1);
  EXPECT_EQ(kv.freeBlocks(), 2u);
  EXPECT_EQ(kv.allocate(), std::optional<uint32_t>(1)); // most recently freed
  EXPECT_EQ(kv.allocate(), std::optional<uint32_t>(3));
  EXPECT_FALSE(kv.allocate().has_value());
#ifdef NDEBUG
  // Caller bugs are ignored in release builds (asserted in debug builds).
  kv.free(99);
  kv.free(2);
  kv.free(2);
  EXPECT_EQ(kv.freeBlocks(), 1u);
#endif
}

TEST(KvCache, EnsureGrowsSequencesAllOrNothing) {
  isa::Plan plan = makeWeightsPlan();
  KvCache kv;
  ASSERT_TRUE(kv.init(plan));
  SequenceBlocks a, b;
  ASSERT_TRUE(kv.ensure(a, 0));
  EXPECT_TRUE(a.blocks.empty());
  ASSERT_TRUE(kv.ensure(a, 1));
  EXPECT_EQ(a.blocks.size(), 1u);
  ASSERT_TRUE(kv.ensure(a, 4)); // still one block of 4
  EXPECT_EQ(a.blocks.size(), 1u);
  ASSERT_TRUE(kv.ensure(a, 5));
  EXPECT_EQ(a.blocks, (std::vector<int32_t>{0, 1}));
  ASSERT_TRUE(kv.ensure(a, 2)); // never shrinks
  EXPECT_EQ(a.blocks.size(), 2u);
  ASSERT_TRUE(kv.ensure(b, 12));
  EXPECT_EQ(b.blocks, (std::vector<int32_t>{2, 3, 4}));
  EXPECT_EQ(kv.freeBlocks(), 1u);

  // a needs 3 more blocks for 20 tokens; only 1 is free: nothing is taken.
  Status s = kv.ensure(a, 20);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "KV cache full: sequence needs 3 more blocks (for 20 tokens), 1 "
                         "free of 6");
  EXPECT_EQ(a.blocks.size(), 2u);
  EXPECT_EQ(kv.freeBlocks(), 1u);

  kv.release(b);
  EXPECT_TRUE(b.blocks.empty());
  EXPECT_EQ(kv.freeBlocks(), 4u);
  ASSERT_TRUE(kv.ensure(a, 20));
  EXPECT_EQ(a.blocks, (std::vector<int32_t>{0, 1, 2, 3, 4}));
  // A released sequence's blocks come back in the same order.
  kv.release(a);
  SequenceBlocks c;
  ASSERT_TRUE(kv.ensure(c, 24));
  EXPECT_EQ(c.blocks, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(KvCache, SlotsFollowTheBlockTable) {
  isa::Plan plan = makeWeightsPlan();
  KvCache kv;
  ASSERT_TRUE(kv.init(plan));
  SequenceBlocks filler, seq;
  ASSERT_TRUE(kv.ensure(filler, 5)); // blocks 0, 1
  ASSERT_TRUE(kv.ensure(seq, 3));    // block 2
  kv.release(filler);                // 1, 0 on the free stack (0 on top)
  ASSERT_TRUE(kv.ensure(seq, 10));   // blocks 2, 0, 1
  ASSERT_EQ(seq.blocks, (std::vector<int32_t>{2, 0, 1}));
  for (uint32_t pos = 0; pos < 12; ++pos) {
    EXPECT_EQ(kv.slot(seq, pos), isa::kvSlot(seq.blocks.data(), pos, kBlockSize)) << pos;
  }
  EXPECT_EQ(kv.slot(seq, 0), 8);
  EXPECT_EQ(kv.slot(seq, 5), 1);
  EXPECT_EQ(kv.slot(seq, 11), 7);
  EXPECT_EQ(kv.slot(seq, 12), -1); // beyond the sequence's blocks
  EXPECT_EQ(kv.slot(SequenceBlocks{}, 0), -1);

  std::vector<int32_t> row(5, -7);
  ASSERT_TRUE(kv.writeBlockTableRow(seq, row));
  EXPECT_EQ(row, (std::vector<int32_t>{2, 0, 1, 0, 0}));
  std::vector<int32_t> narrow(2);
  Status s = kv.writeBlockTableRow(seq, narrow);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(),
            "KV cache: sequence holds 3 blocks but a block-table row has room "
            "for 2 (8 tokens, the plan's max sequence length)");
  EXPECT_EQ(kv.blocksFor(0), 0u);
  EXPECT_EQ(kv.blocksFor(4), 1u);
  EXPECT_EQ(kv.blocksFor(9), 3u);
}

TEST(KvCache, InitRefusesInconsistentPlans) {
  {
    isa::Plan plan = makeWeightsPlan();
    plan.tensors[tensorId(plan, "kv.l0.v")].shape[0] = kBlocks + 1;
    KvCache kv;
    Status s = kv.init(plan);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(), "KV cache tensor 'kv.l0.v' has 7 blocks but 'kv.l0.k' has 6; "
                           "all layers share one block numbering");
  }
  {
    isa::Plan plan = makeWeightsPlan();
    plan.model.kvBlockSize = 16;
    KvCache kv;
    Status s = kv.init(plan);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(),
              "KV cache tensor 'kv.l0.k' has block size 4 but the plan's model says 16");
  }
  {
    isa::Plan plan = makeWeightsPlan();
    plan.tensors[tensorId(plan, "kv.l0.k")].dtype = isa::DType::F32;
    KvCache kv;
    Status s = kv.init(plan);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(), "KV cache tensor 'kv.l0.k' is f32 [6, 4, 2, 4]; expected bf16 "
                           "[blocks, block_size, kv_heads, head_dim]");
  }
  {
    isa::Plan plan = makeWeightsPlan();
    plan.tensors[tensorId(plan, "kv.l0.k")].shape[2] = 0;
    KvCache kv;
    Status s = kv.init(plan);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(), "KV cache tensor 'kv.l0.k' has shape [6, 4, 0, 4]; every "
                           "dimension must be positive");
  }
  {
    isa::Plan plan = makeWeightsPlan();
    plan.tensors.resize(5); // weights only
    KvCache kv;
    Status s = kv.init(plan);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(), "KV cache: the plan has no KV-cache tensors");
  }
}

TEST(KvCache, BindToExecutorAndMove) {
  isa::Plan plan = makeWeightsPlan();
  KvCache kv;
  ASSERT_TRUE(kv.init(plan));
  void *k = kv.data(kv.tensorIds()[0]);
  KvCache moved(std::move(kv));
  EXPECT_EQ(moved.data(moved.tensorIds()[0]), k);
  host::HostExecutor exec(plan, {.workers = 1});
  Status s = moved.bindTo(exec);
  ASSERT_TRUE(s) << s.message();
  for (uint16_t id : moved.tensorIds())
    EXPECT_EQ(exec.tensor(id).data, moved.data(id));
  KvCache empty;
  EXPECT_FALSE(empty.bindTo(exec));
}
