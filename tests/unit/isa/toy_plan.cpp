//===- toy_plan.cpp - Hand-built plans for the ISA tests --------------------===//
#include "toy_plan.h"

#include "mk/host/bf16.h"
#include "mk/isa/moe_routes.h"
#include "mk/isa/plan_verify.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

namespace mk::isa::test {

uint16_t PlanBuilder::tensor(std::string name, DType dtype, Placement placement,
                             std::initializer_list<int64_t> shape, uint16_t layer) {
  TensorDesc t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.placement = placement;
  t.rank = static_cast<uint32_t>(shape.size());
  uint32_t i = 0;
  for (int64_t d : shape)
    t.shape[i++] = d;
  t.layer = layer;
  plan.tensors.push_back(std::move(t));
  return static_cast<uint16_t>(plan.tensors.size() - 1);
}

uint16_t PlanBuilder::activation(std::string name, uint32_t program, DType dtype,
                                 std::initializer_list<int64_t> shape, uint64_t offset,
                                 uint16_t layer) {
  uint16_t id = tensor(std::move(name), dtype, Placement::Activation, shape, layer);
  plan.tensors[id].offset = offset;
  plan.tensors[id].program = static_cast<uint16_t>(program);
  return id;
}

uint32_t PlanBuilder::program(std::string name, ProgramKind kind, uint32_t rows,
                              uint64_t arenaBytes) {
  Program p;
  p.name = std::move(name);
  p.kind = kind;
  p.rows = rows;
  p.arenaBytes = arenaBytes;
  plan.programs.push_back(std::move(p));
  return static_cast<uint32_t>(plan.programs.size() - 1);
}

uint32_t PlanBuilder::event(uint32_t program, std::string name) {
  plan.programs[program].events.push_back({std::move(name), 0});
  return static_cast<uint32_t>(plan.programs[program].events.size() - 1);
}

uint32_t PlanBuilder::task(uint32_t program, TaskKind kind, uint16_t layer,
                           std::initializer_list<uint16_t> operands, Range rows, Range r1,
                           Range r2, std::initializer_list<WaitSpec> waits,
                           std::initializer_list<uint32_t> signals, uint32_t aux0) {
  TaskRecord r;
  std::memset(&r, 0, sizeof r);
  r.kind = static_cast<uint16_t>(kind);
  r.layer = layer;
  r.range[0] = rows;
  r.range[1] = r1;
  r.range[2] = r2;
  r.aux[0] = aux0;
  for (uint16_t &op : r.operand)
    op = kNoTensor;
  for (uint16_t op : operands)
    r.operand[r.numOperands++] = op;
  for (const WaitSpec &w : waits)
    r.wait[r.numWaits++] = {w.event, 0, w.stepBack, 0};
  for (uint32_t s : signals)
    r.signal[r.numSignals++] = s;
  r.costBytes = 1024;
  r.costFlops = 2048;
  plan.programs[program].tasks.push_back(r);
  return static_cast<uint32_t>(plan.programs[program].tasks.size() - 1);
}

void PlanBuilder::finish() {
  for (Program &p : plan.programs) {
    for (EventDesc &e : p.events)
      e.count = 0;
    for (const TaskRecord &r : p.tasks)
      for (uint32_t s = 0; s < r.numSignals; ++s)
        ++p.events[r.signal[s]].count;
    for (TaskRecord &r : p.tasks)
      for (uint32_t w = 0; w < r.numWaits; ++w)
        r.wait[w].count = static_cast<uint16_t>(p.events[r.wait[w].event].count);
    if (p.order.empty())
      for (uint32_t t = 0; t < p.tasks.size(); ++t)
        p.order.push_back(t);
  }
}

uint16_t tensorId(const Plan &plan, std::string_view name) {
  for (size_t i = 0; i < plan.tensors.size(); ++i)
    if (plan.tensors[i].name == name)
      return static_cast<uint16_t>(i);
  std::fprintf(stderr, "toy plan has no tensor '%.*s'\n", static_cast<int>(name.size()),
               name.data());
  std::abort();
}

void expectPlansEqual(const Plan &a, const Plan &b) {
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.tensorParallel, b.tensorParallel);
  const ModelMeta &x = a.model, &y = b.model;
  EXPECT_EQ(x.family, y.family);
  EXPECT_EQ(x.vocabSize, y.vocabSize);
  EXPECT_EQ(x.hiddenSize, y.hiddenSize);
  EXPECT_EQ(x.intermediateSize, y.intermediateSize);
  EXPECT_EQ(x.numLayers, y.numLayers);
  EXPECT_EQ(x.numHeads, y.numHeads);
  EXPECT_EQ(x.numKvHeads, y.numKvHeads);
  EXPECT_EQ(x.headDim, y.headDim);
  EXPECT_EQ(x.maxSeqLen, y.maxSeqLen);
  EXPECT_EQ(x.kvBlockSize, y.kvBlockSize);
  EXPECT_EQ(x.slidingWindow, y.slidingWindow);
  EXPECT_EQ(x.rmsNormEps, y.rmsNormEps);
  EXPECT_EQ(x.ropeTheta, y.ropeTheta);
  EXPECT_EQ(x.ropeStyle, y.ropeStyle);
  EXPECT_EQ(x.ropeLlama3, y.ropeLlama3);
  EXPECT_EQ(x.ropeFactor, y.ropeFactor);
  EXPECT_EQ(x.ropeLowFreqFactor, y.ropeLowFreqFactor);
  EXPECT_EQ(x.ropeHighFreqFactor, y.ropeHighFreqFactor);
  EXPECT_EQ(x.ropeOriginalMaxPos, y.ropeOriginalMaxPos);
  EXPECT_EQ(x.tieWordEmbeddings, y.tieWordEmbeddings);
  EXPECT_EQ(x.attentionBias, y.attentionBias);
  EXPECT_EQ(x.qkNorm, y.qkNorm);
  EXPECT_EQ(x.numExperts, y.numExperts);
  EXPECT_EQ(x.numExpertsPerTok, y.numExpertsPerTok);
  EXPECT_EQ(x.normTopkProb, y.normTopkProb);
  EXPECT_EQ(x.moeIntermediateSize, y.moeIntermediateSize);
  EXPECT_EQ(x.bosTokenId, y.bosTokenId);
  EXPECT_EQ(x.eosTokenIds, y.eosTokenIds);
  EXPECT_EQ(x.configHash, y.configHash);

  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    SCOPED_TRACE("tensor " + std::to_string(i));
    const TensorDesc &s = a.tensors[i], &t = b.tensors[i];
    EXPECT_EQ(s.name, t.name);
    EXPECT_EQ(s.dtype, t.dtype);
    EXPECT_EQ(s.placement, t.placement);
    EXPECT_EQ(s.rank, t.rank);
    for (uint32_t d = 0; d < kMaxRank; ++d)
      EXPECT_EQ(s.shape[d], t.shape[d]);
    EXPECT_EQ(s.offset, t.offset);
    EXPECT_EQ(s.shardDim, t.shardDim);
    EXPECT_EQ(s.shardParts, t.shardParts);
    EXPECT_EQ(s.shardReplicas, t.shardReplicas);
    EXPECT_EQ(s.layer, t.layer);
    EXPECT_EQ(s.program, t.program);
  }
  ASSERT_EQ(a.programs.size(), b.programs.size());
  for (size_t p = 0; p < a.programs.size(); ++p) {
    SCOPED_TRACE("program " + std::to_string(p));
    const Program &s = a.programs[p], &t = b.programs[p];
    EXPECT_EQ(s.name, t.name);
    EXPECT_EQ(s.kind, t.kind);
    EXPECT_EQ(s.rows, t.rows);
    EXPECT_EQ(s.arenaBytes, t.arenaBytes);
    ASSERT_EQ(s.events.size(), t.events.size());
    for (size_t e = 0; e < s.events.size(); ++e) {
      EXPECT_EQ(s.events[e].name, t.events[e].name);
      EXPECT_EQ(s.events[e].count, t.events[e].count);
    }
    ASSERT_EQ(s.tasks.size(), t.tasks.size());
    for (size_t i = 0; i < s.tasks.size(); ++i)
      EXPECT_EQ(std::memcmp(&s.tasks[i], &t.tasks[i], sizeof(TaskRecord)), 0)
          << "task " << i;
    EXPECT_EQ(s.order, t.order);
  }
}

void expectFirstViolation(const Plan &plan, const std::string &expected) {
  Status s = verifyPlan(plan);
  ASSERT_FALSE(s.isOk()) << "the plan passed; expected: " << expected;
  EXPECT_EQ(s.message(), expected);
  std::vector<std::string> all = verifyPlanAll(plan);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), expected);
}

namespace {

constexpr Range kNone{0, 0};
constexpr uint16_t kNo = kNoTensor;

ModelMeta toyModel() {
  ModelMeta m;
  m.family = "llama";
  m.vocabSize = 64;
  m.hiddenSize = 32;
  m.intermediateSize = 64;
  m.numLayers = 1;
  m.numHeads = 4;
  m.numKvHeads = 2;
  m.headDim = 8;
  m.maxSeqLen = 128;
  m.kvBlockSize = 16;
  m.rmsNormEps = 1e-5f;
  m.ropeTheta = 500000.0f;
  m.ropeLlama3 = true;
  m.ropeFactor = 8.0f;
  m.ropeLowFreqFactor = 1.0f;
  m.ropeHighFreqFactor = 4.0f;
  m.ropeOriginalMaxPos = 8192;
  m.bosTokenId = 1;
  m.eosTokenIds = {2, 3};
  m.configHash = 0x0123456789abcdefull;
  return m;
}

} // namespace

// See toy_plan.h.
//   0 embedding --emb--> 1, 2 o_proj (no residual, columns [0,16) / [16,32)) --o-->
//   3, 4 all_reduce site 0 (tiles 0, 1) --ar--> 5, 6 lm_head (vocab [0,16) / [16,32) of
//   the rank's slice) --lm--> 7 all_gather site 1 --ag--> 8 argmax --argmax--> (next
//   step's embedding)

Plan makeToyTpPlan() {
  using enum ToyTpEvent;
  using enum TaskKind;
  PlanBuilder b;
  b.plan.target = TargetKind::Host;
  b.plan.tensorParallel = 2;
  ModelMeta &m = b.plan.model;
  m.family = "llama";
  m.vocabSize = 64;
  m.hiddenSize = 32;
  m.intermediateSize = 64;
  m.numLayers = 1;
  m.numHeads = 4;
  m.numKvHeads = 2;
  m.headDim = 8;
  m.maxSeqLen = 64;
  const auto W = Placement::Weight, S = Placement::StepState, C = Placement::Comm;
  const auto bf = DType::BF16, f32 = DType::F32, i32 = DType::I32;
  const uint16_t embed = b.tensor("model.embed_tokens.weight", bf, W, {64, 32});
  const uint16_t oW =
      b.tensor("model.layers.0.self_attn.o_proj.weight", bf, W, {32, 32}, 0);
  b.plan.tensors[oW].shardDim = 1;
  b.plan.tensors[oW].shardParts = 2;
  const uint16_t norm = b.tensor("model.norm.weight", bf, W, {32});
  const uint16_t lmW = b.tensor("lm_head.weight", bf, W, {32, 32});
  b.plan.tensors[lmW].shardParts = 2;
  const uint32_t d = b.program("decode", ProgramKind::Decode, 2, 768);
  const uint16_t tokens = b.tensor("decode.tokens", i32, S, {2});
  const uint16_t out = b.tensor("decode.tokens_out", i32, S, {2});
  const uint16_t x = b.activation("decode.x", d, bf, {2, 32}, 0);
  const uint16_t part = b.activation("decode.partial", d, bf, {2, 32}, 128);
  const uint16_t h = b.activation("decode.h", d, bf, {2, 32}, 256);
  const uint16_t logits = b.activation("decode.logits", d, f32, {2, 32}, 384);
  const uint16_t pm = b.activation("decode.partial_max", d, f32, {2, 2, 2}, 640);
  const uint16_t gathered = b.activation("decode.gathered", d, f32, {2, 4, 2}, 672);
  const uint16_t reduce = b.tensor("decode.comm.reduce", bf, C, {2, 2, 2, 32});
  const uint16_t gather = b.tensor("decode.comm.gather", f32, C, {2, 2, 2, 4});
  const uint16_t flags = b.tensor("decode.comm.flags", i32, C, {2, 2, 2});
  for (const char *name : {"emb", "o", "ar", "lm", "ag", "argmax"})
    b.event(d, name);
  const Range rows{0, 2}, none{0, 0};
  b.task(d, Embedding, kNoLayer, {tokens, embed, x}, rows, {0, 32}, none, {{eArgmax, 1}},
         {eEmb});
  for (uint32_t t = 0; t < 2; ++t)
    b.task(d, OProj, 0, {x, oW, kNoTensor, part}, rows, {16 * t, 16 * t + 16}, none,
           {{eEmb}}, {eO});
  for (uint32_t t = 0; t < 2; ++t) {
    const uint32_t i = b.task(d, AllReduce, 0, {part, x, reduce, flags, h}, rows,
                              {16 * t, 16 * t + 16}, none, {{eO}}, {eAr}, 0);
    b.plan.programs[d].tasks[i].aux[1] = t;
  }
  for (uint32_t t = 0; t < 2; ++t)
    b.task(d, LmHead, kNoLayer, {h, norm, lmW, logits, pm}, rows, {16 * t, 16 * t + 16},
           none, {{eAr}}, {eLm}, t);
  b.task(d, AllGather, kNoLayer, {pm, gather, flags, gathered}, rows, {0, 2}, none,
         {{eLm}}, {eAg}, 1);
  b.task(d, Argmax, kNoLayer, {gathered, out}, rows, none, none, {{eAg}}, {eArgmax});
  b.finish();
  return b.plan;
}

std::vector<std::vector<uint8_t>> makeToyTpRankMemory(const Plan &plan, uint32_t rank) {
  using host::bf16;
  using host::floatToBf16;
  std::vector<std::vector<uint8_t>> buffers(plan.tensors.size());
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorDesc &t = plan.tensors[i];
    if (t.placement == Placement::Activation || t.placement == Placement::Comm)
      continue;
    buffers[i].assign(t.bytes(), 0);
    if (t.placement != Placement::Weight)
      continue;
    std::mt19937 rng(uint32_t(i * 977 + t.shardIndex(rank) * 13 + 1));
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    bf16 *w = reinterpret_cast<bf16 *>(buffers[i].data());
    for (uint64_t e = 0; e < t.numElements(); ++e)
      w[e] = floatToBf16(value(rng));
  }
  int32_t *tokens =
      reinterpret_cast<int32_t *>(buffers[tensorId(plan, "decode.tokens")].data());
  tokens[0] = 5, tokens[1] = 60;
  return buffers;
}

Plan makeToyPlan() {
  using enum TaskKind;
  PlanBuilder b;
  b.plan.target = TargetKind::Host;
  b.plan.tensorParallel = 1;
  b.plan.model = toyModel();

  const auto W = Placement::Weight;
  const auto bf = DType::BF16, f32 = DType::F32, i32 = DType::I32;
  uint16_t embed = b.tensor("model.embed_tokens.weight", bf, W, {64, 32});
  uint16_t inNorm = b.tensor("model.layers.0.input_layernorm.weight", bf, W, {32}, 0);
  uint16_t qW = b.tensor("model.layers.0.self_attn.q_proj.weight", bf, W, {32, 32}, 0);
  uint16_t kW = b.tensor("model.layers.0.self_attn.k_proj.weight", bf, W, {16, 32}, 0);
  uint16_t vW = b.tensor("model.layers.0.self_attn.v_proj.weight", bf, W, {16, 32}, 0);
  uint16_t oW = b.tensor("model.layers.0.self_attn.o_proj.weight", bf, W, {32, 32}, 0);
  uint16_t postNorm =
      b.tensor("model.layers.0.post_attention_layernorm.weight", bf, W, {32}, 0);
  uint16_t gate = b.tensor("model.layers.0.mlp.gate_proj.weight", bf, W, {64, 32}, 0);
  uint16_t up = b.tensor("model.layers.0.mlp.up_proj.weight", bf, W, {64, 32}, 0);
  uint16_t down = b.tensor("model.layers.0.mlp.down_proj.weight", bf, W, {32, 64}, 0);
  uint16_t finalNorm = b.tensor("model.norm.weight", bf, W, {32});
  uint16_t lmW = b.tensor("lm_head.weight", bf, W, {64, 32});
  // [blocks, kv heads, block tokens, head dim]
  uint16_t kCache = b.tensor("kv.0.k", bf, Placement::KvCache, {8, 2, 16, 8}, 0);
  uint16_t vCache = b.tensor("kv.0.v", bf, Placement::KvCache, {8, 2, 16, 8}, 0);

  // ---- decode: rows = batch 2 -------------------------------------------------
  const uint32_t d = b.program("decode", ProgramKind::Decode, 2, 1344);
  const auto S = Placement::StepState;
  uint16_t dTokens = b.tensor("decode.tokens", i32, S, {2});
  uint16_t dPos = b.tensor("decode.positions", i32, S, {2});
  uint16_t dSlots = b.tensor("decode.kv_slots", i32, S, {2});
  uint16_t dTable = b.tensor("decode.block_table", i32, S, {2, 8});
  uint16_t dLens = b.tensor("decode.seq_lens", i32, S, {2});
  uint16_t dOut = b.tensor("decode.tokens_out", i32, S, {2});
  uint16_t h0 = b.activation("decode.h0", d, bf, {2, 32}, 0);
  uint16_t q = b.activation("decode.q", d, bf, {2, 32}, 128);
  uint16_t partO = b.activation("decode.partial_o", d, f32, {2, 4, 8}, 256);
  uint16_t partL = b.activation("decode.partial_lse", d, f32, {2, 4}, 512);
  uint16_t attn = b.activation("decode.attn", d, bf, {2, 32}, 544);
  uint16_t h1 = b.activation("decode.h1", d, bf, {2, 32}, 672);
  uint16_t mlp = b.activation("decode.mlp", d, bf, {2, 64}, 128); // over q, partial_o
  uint16_t h2 = b.activation("decode.h2", d, bf, {2, 32}, 0);     // over h0
  uint16_t logits = b.activation("decode.logits", d, f32, {2, 64}, 800);
  uint16_t partMax = b.activation("decode.partial_max", d, f32, {2, 2, 2}, 1312);

  for (const char *name :
       {"emb", "qkv", "attn", "merge", "o", "gu", "down", "lm", "argmax"})
    b.event(d, name);
  const Range rows{0, 2};
  b.task(d, Embedding, kNoLayer, {dTokens, embed, h0}, rows, {0, 32}, kNone,
         {{kEvArgmax, 1}}, {kEvEmb});
  b.task(d, Qkv, 0, {h0, inNorm, qW, kNo, kNo, q, dPos, dSlots, dTable}, rows, {0, 4},
         kNone, {{kEvEmb}}, {kEvQkv}, 0);
  b.task(d, Qkv, 0, {h0, inNorm, kW, kNo, kNo, kCache, dPos, dSlots, dTable}, rows,
         {0, 2}, kNone, {{kEvEmb}}, {kEvQkv}, 1);
  b.task(d, Qkv, 0, {h0, inNorm, vW, kNo, kNo, vCache, dPos, dSlots, dTable}, rows,
         {0, 2}, kNone, {{kEvEmb}}, {kEvQkv}, 2);
  b.task(d, AttnDecode, 0, {q, kCache, vCache, dTable, dLens, partO, partL}, rows, {0, 2},
         {0, 128}, {{kEvQkv}}, {kEvAttn});
  b.task(d, AttnMerge, 0, {partO, partL, attn}, rows, {0, 2}, kNone, {{kEvAttn}},
         {kEvMerge});
  b.task(d, OProj, 0, {attn, oW, h0, h1}, rows, {0, 32}, kNone, {{kEvMerge}}, {kEvO});
  b.task(d, GateUp, 0, {h1, postNorm, gate, up, mlp}, rows, {0, 64}, kNone, {{kEvO}},
         {kEvGu});
  b.task(d, DownProj, 0, {mlp, down, h1, h2}, rows, {0, 32}, kNone, {{kEvGu}}, {kEvDown});
  b.task(d, LmHead, kNoLayer, {h2, finalNorm, lmW, logits, partMax}, rows, {0, 32}, kNone,
         {{kEvDown}}, {kEvLm});
  b.task(d, LmHead, kNoLayer, {h2, finalNorm, lmW, logits, partMax}, rows, {32, 64},
         kNone, {{kEvDown}}, {kEvLm});
  b.task(d, Argmax, kNoLayer, {partMax, dOut}, rows, kNone, kNone, {{kEvLm}},
         {kEvArgmax});
  // Any topological order will do; this one is not the identity on purpose.
  b.plan.programs[d].order = {0, 3, 2, 1, 4, 5, 6, 7, 8, 10, 9, 11};

  // ---- prefill: rows = chunk 4 ------------------------------------------------
  const uint32_t p = b.program("prefill", ProgramKind::Prefill, 4, 2080);
  uint16_t pTokens = b.tensor("prefill.tokens", i32, S, {4});
  uint16_t pPos = b.tensor("prefill.positions", i32, S, {4});
  uint16_t pSlots = b.tensor("prefill.kv_slots", i32, S, {4});
  uint16_t pTable = b.tensor("prefill.block_table", i32, S, {1, 8});
  uint16_t pOut = b.tensor("prefill.tokens_out", i32, S, {4});
  uint16_t ph0 = b.activation("prefill.h0", p, bf, {4, 32}, 0);
  uint16_t pq = b.activation("prefill.q", p, bf, {4, 32}, 256);
  uint16_t pAttn = b.activation("prefill.attn", p, bf, {4, 32}, 512);
  uint16_t ph1 = b.activation("prefill.h1", p, bf, {4, 32}, 768);
  uint16_t pMlp = b.activation("prefill.mlp", p, bf, {4, 64}, 256); // over q, attn
  uint16_t ph2 = b.activation("prefill.h2", p, bf, {4, 32}, 0);     // over h0
  uint16_t pLogits = b.activation("prefill.logits", p, f32, {4, 64}, 1024);
  uint16_t pMax = b.activation("prefill.partial_max", p, f32, {4, 1, 2}, 2048);

  enum : uint32_t { eEmb, eQkv, eAttn, eO, eGu, eDown, eLm, eArgmax };
  for (const char *name : {"emb", "qkv", "attn", "o", "gu", "down", "lm", "argmax"})
    b.event(p, name);
  const Range chunk{0, 4};
  b.task(p, Embedding, kNoLayer, {pTokens, embed, ph0}, chunk, {0, 32}, kNone, {},
         {eEmb});
  b.task(p, Qkv, 0, {ph0, inNorm, qW, kNo, kNo, pq, pPos, pSlots, pTable}, chunk, {0, 4},
         kNone, {{eEmb}}, {eQkv}, 0);
  b.task(p, Qkv, 0, {ph0, inNorm, kW, kNo, kNo, kCache, pPos, pSlots, pTable}, chunk,
         {0, 2}, kNone, {{eEmb}}, {eQkv}, 1);
  b.task(p, Qkv, 0, {ph0, inNorm, vW, kNo, kNo, vCache, pPos, pSlots, pTable}, chunk,
         {0, 2}, kNone, {{eEmb}}, {eQkv}, 2);
  b.task(p, AttnPrefill, 0, {pq, kCache, vCache, pTable, pPos, pAttn}, chunk, {0, 2},
         kNone, {{eQkv}}, {eAttn});
  b.task(p, OProj, 0, {pAttn, oW, ph0, ph1}, chunk, {0, 32}, kNone, {{eAttn}}, {eO});
  b.task(p, GateUp, 0, {ph1, postNorm, gate, up, pMlp}, chunk, {0, 64}, kNone, {{eO}},
         {eGu});
  b.task(p, DownProj, 0, {pMlp, down, ph1, ph2}, chunk, {0, 32}, kNone, {{eGu}}, {eDown});
  b.task(p, LmHead, kNoLayer, {ph2, finalNorm, lmW, pLogits, pMax}, chunk, {0, 64}, kNone,
         {{eDown}}, {eLm});
  b.task(p, Argmax, kNoLayer, {pMax, pOut}, chunk, kNone, kNone, {{eLm}}, {eArgmax});

  b.finish();
  return std::move(b.plan);
}

Plan makeToyMoePlan() {
  using enum TaskKind;
  PlanBuilder b;
  b.plan.target = TargetKind::Host;
  b.plan.model = toyModel();
  ModelMeta &m = b.plan.model;
  m.family = "qwen3_moe";
  m.hiddenSize = kMoeHidden;
  m.numExperts = kMoeExperts;
  m.numExpertsPerTok = kMoeTopK;
  m.normTopkProb = true;
  m.moeIntermediateSize = kMoeInter;

  const auto W = Placement::Weight, S = Placement::StepState;
  const auto bf = DType::BF16, f32 = DType::F32, i32 = DType::I32;
  const int64_t R = kMoeRows, H = kMoeHidden, I = kMoeInter, E = kMoeExperts;
  const int64_t Smax = kMoeSlots, K = kMoeTopK;
  const std::string layer = "model.layers.0.";
  uint16_t norm = b.tensor(layer + "post_attention_layernorm.weight", bf, W, {H}, 0);
  uint16_t router = b.tensor(layer + "mlp.gate.weight", bf, W, {E, H}, 0);
  auto group = [&](const char *proj, std::initializer_list<int64_t> shape) {
    uint16_t first = kNoTensor;
    for (int64_t e = 0; e < E; ++e) {
      const uint16_t id =
          b.tensor(layer + "mlp.experts." + std::to_string(e) + "." + proj + ".weight",
                   bf, W, shape, 0);
      first = e == 0 ? id : first;
    }
    return first;
  };
  uint16_t gate = group("gate_proj", {I, H});
  uint16_t up = group("up_proj", {I, H});
  uint16_t down = group("down_proj", {H, I});

  const uint64_t routesBytes = moeRoutesLength(kMoeRows, kMoeTopK, kMoeSlots) * 4;
  const uint64_t xgAt = 0, routesAt = xgAt + uint64_t(Smax * R * H * 2);
  const uint64_t weightsAt = (routesAt + routesBytes + 15) / 16 * 16;
  const uint64_t actAt = weightsAt + uint64_t(R * K * 4);
  const uint64_t eoAt = actAt + uint64_t(Smax * R * I * 2);
  const uint64_t outAt = eoAt + uint64_t(Smax * R * H * 2);
  const uint32_t d =
      b.program("decode", ProgramKind::Decode, kMoeRows, outAt + R * H * 2);
  uint16_t x = b.tensor("decode.x", bf, S, {R, H});
  uint16_t pos = b.tensor("decode.positions", i32, S, {R});
  uint16_t xg = b.activation("decode.l0.moe_xg", d, bf, {Smax, R, H}, xgAt, 0);
  uint16_t routes = b.activation("decode.l0.moe_routes", d, i32,
                                 {int64_t(routesBytes / 4)}, routesAt, 0);
  uint16_t rw = b.activation("decode.l0.moe_route_weights", d, f32, {R, K}, weightsAt, 0);
  uint16_t act = b.activation("decode.l0.moe_act", d, bf, {Smax, R, I}, actAt, 0);
  uint16_t eo = b.activation("decode.l0.moe_expert_out", d, bf, {Smax, R, H}, eoAt, 0);
  uint16_t out = b.activation("decode.h_mlp", d, bf, {R, H}, outAt, 0);

  const uint32_t evRouter = b.event(d, "router"), evGu = b.event(d, "gu");
  const uint32_t evDown = b.event(d, "down"), evCombine = b.event(d, "combine");
  const Range rows{0, kMoeRows};
  b.task(d, MoeRouter, 0, {x, norm, router, pos, xg, routes, rw}, rows, {0, kMoeExperts},
         kNone, {}, {evRouter});
  for (uint32_t s = 0; s < kMoeSlots; ++s)
    for (uint32_t c = 0; c < kMoeInter; c += 8)
      b.task(d, MoeGateUp, 0, {xg, routes, gate, up, act}, rows, {c, c + 8}, {s, s + 1},
             {{evRouter}}, {evGu});
  for (uint32_t s = 0; s < kMoeSlots; ++s)
    for (uint32_t c = 0; c < kMoeHidden; c += 16)
      b.task(d, MoeDown, 0, {act, routes, down, eo}, rows, {c, c + 16}, {s, s + 1},
             {{evGu}}, {evDown});
  for (uint32_t c = 0; c < kMoeHidden; c += 16)
    b.task(d, MoeCombine, 0, {eo, routes, rw, x, out}, rows, {c, c + 16}, kNone,
           {{evDown}}, {evCombine});
  b.finish();
  return std::move(b.plan);
}

Plan makeLargePlan(uint32_t layers) {
  using enum TaskKind;
  constexpr int64_t kHidden = 4096, kInter = 14336, kVocab = 128256;
  constexpr uint32_t kHeads = 32, kKvHeads = 8, kHeadDim = 128, kSplits = 16;
  constexpr uint32_t kSplitLen = 512, kColTile = 64, kVocabTile = 256;
  PlanBuilder b;
  b.plan.target = TargetKind::H100;
  ModelMeta &m = b.plan.model;
  m.family = "llama";
  m.vocabSize = kVocab;
  m.hiddenSize = kHidden;
  m.intermediateSize = kInter;
  m.numLayers = layers;
  m.numHeads = kHeads;
  m.numKvHeads = kKvHeads;
  m.headDim = kHeadDim;
  m.maxSeqLen = kSplits * kSplitLen;
  m.eosTokenIds = {128001, 128009};

  // Arena slots, reused by every layer: x (residual in), q, partial_o, partial_lse,
  // attn, r (residual mid), mlp (over q + partial_o), logits, partial_max.
  constexpr uint64_t kX = 0, kQ = 8192, kPartO = 16384, kPartL = kPartO + 262144;
  constexpr uint64_t kAttn = kPartL + 2048, kR = kAttn + 8192, kMlp = kQ;
  constexpr uint64_t kLogits = kR + 8192, kMax = kLogits + kVocab * 4;
  const uint32_t d = b.program("decode", ProgramKind::Decode, 1, kMax + 4096);
  const auto W = Placement::Weight, S = Placement::StepState;
  const auto bf = DType::BF16, f32 = DType::F32, i32 = DType::I32;
  uint16_t tokens = b.tensor("tokens", i32, S, {1});
  uint16_t pos = b.tensor("positions", i32, S, {1});
  uint16_t slots = b.tensor("kv_slots", i32, S, {1});
  uint16_t table = b.tensor("block_table", i32, S, {1, 512});
  uint16_t lens = b.tensor("seq_lens", i32, S, {1});
  uint16_t out = b.tensor("tokens_out", i32, S, {1});
  uint16_t embed = b.tensor("model.embed_tokens.weight", bf, W, {kVocab, kHidden});

  const uint32_t evArgmax = b.event(d, "argmax");
  const uint32_t evEmb = b.event(d, "emb");
  uint16_t x = b.activation("x.0", d, bf, {1, kHidden}, kX);
  for (uint32_t t = 0; t < kHidden / 512; ++t)
    b.task(d, Embedding, kNoLayer, {tokens, embed, x}, {0, 1}, {t * 512, t * 512 + 512},
           {0, 0}, {{evArgmax, 1}}, {evEmb});
  uint32_t prevDone = evEmb;
  for (uint32_t l = 0; l < layers; ++l) {
    auto L = static_cast<uint16_t>(l);
    auto name = [&](const char *what) { return "l" + std::to_string(l) + "." + what; };
    auto wname = [&](const char *what) {
      return "model.layers." + std::to_string(l) + "." + what + ".weight";
    };
    uint16_t norm = b.tensor(wname("input_layernorm"), bf, W, {kHidden}, L);
    uint16_t qW =
        b.tensor(wname("self_attn.q_proj"), bf, W, {kHeads * kHeadDim, kHidden}, L);
    uint16_t kW =
        b.tensor(wname("self_attn.k_proj"), bf, W, {kKvHeads * kHeadDim, kHidden}, L);
    uint16_t vW =
        b.tensor(wname("self_attn.v_proj"), bf, W, {kKvHeads * kHeadDim, kHidden}, L);
    uint16_t oW = b.tensor(wname("self_attn.o_proj"), bf, W, {kHidden, kHidden}, L);
    uint16_t post = b.tensor(wname("post_attention_layernorm"), bf, W, {kHidden}, L);
    uint16_t gW = b.tensor(wname("mlp.gate_proj"), bf, W, {kInter, kHidden}, L);
    uint16_t uW = b.tensor(wname("mlp.up_proj"), bf, W, {kInter, kHidden}, L);
    uint16_t dW = b.tensor(wname("mlp.down_proj"), bf, W, {kHidden, kInter}, L);
    uint16_t kc =
        b.tensor(name("k_cache"), bf, Placement::KvCache, {1024, 8, 16, 128}, L);
    uint16_t vc =
        b.tensor(name("v_cache"), bf, Placement::KvCache, {1024, 8, 16, 128}, L);
    uint16_t q = b.activation(name("q"), d, bf, {1, kHidden}, kQ, L);
    uint16_t po = b.activation(name("partial_o"), d, f32, {1, kHeads, kSplits, kHeadDim},
                               kPartO, L);
    uint16_t pl =
        b.activation(name("partial_lse"), d, f32, {1, kHeads, kSplits}, kPartL, L);
    uint16_t at = b.activation(name("attn"), d, bf, {1, kHidden}, kAttn, L);
    uint16_t r = b.activation(name("r"), d, bf, {1, kHidden}, kR, L);
    uint16_t mlp = b.activation(name("mlp"), d, bf, {1, kInter}, kMlp, L);
    uint16_t xNext = b.activation("x." + std::to_string(l + 1), d, bf, {1, kHidden}, kX);

    std::vector<uint32_t> evQkv(kKvHeads), evAttn(kKvHeads);
    for (uint32_t g = 0; g < kKvHeads; ++g) {
      evQkv[g] = b.event(d, name("qkv.g") + std::to_string(g));
      evAttn[g] = b.event(d, name("attn.g") + std::to_string(g));
    }
    uint32_t evMerge = b.event(d, name("merge")), evO = b.event(d, name("o"));
    uint32_t evGu = b.event(d, name("gu")), evDown = b.event(d, name("down"));
    const uint16_t no = kNoTensor;
    for (uint32_t h = 0; h < kHeads; ++h)
      b.task(d, Qkv, L, {x, norm, qW, no, no, q, pos, slots, table}, {0, 1}, {h, h + 1},
             {0, 0}, {{prevDone}}, {evQkv[h / (kHeads / kKvHeads)]}, 0);
    for (uint32_t g = 0; g < kKvHeads; ++g) {
      b.task(d, Qkv, L, {x, norm, kW, no, no, kc, pos, slots, table}, {0, 1}, {g, g + 1},
             {0, 0}, {{prevDone}}, {evQkv[g]}, 1);
      b.task(d, Qkv, L, {x, norm, vW, no, no, vc, pos, slots, table}, {0, 1}, {g, g + 1},
             {0, 0}, {{prevDone}}, {evQkv[g]}, 2);
    }
    for (uint32_t g = 0; g < kKvHeads; ++g)
      for (uint32_t s = 0; s < kSplits; ++s)
        b.task(d, AttnDecode, L, {q, kc, vc, table, lens, po, pl}, {0, 1}, {g, g + 1},
               {s * kSplitLen, (s + 1) * kSplitLen}, {{evQkv[g]}}, {evAttn[g]});
    for (uint32_t g = 0; g < kKvHeads; ++g)
      b.task(d, AttnMerge, L, {po, pl, at}, {0, 1}, {g, g + 1}, {0, 0}, {{evAttn[g]}},
             {evMerge});
    for (uint32_t c = 0; c < kHidden; c += kColTile)
      b.task(d, OProj, L, {at, oW, x, r}, {0, 1}, {c, c + kColTile}, {0, 0}, {{evMerge}},
             {evO});
    for (uint32_t c = 0; c < kInter; c += kColTile)
      b.task(d, GateUp, L, {r, post, gW, uW, mlp}, {0, 1}, {c, c + kColTile}, {0, 0},
             {{evO}}, {evGu});
    for (uint32_t c = 0; c < kHidden; c += kColTile)
      b.task(d, DownProj, L, {mlp, dW, r, xNext}, {0, 1}, {c, c + kColTile}, {0, 0},
             {{evGu}}, {evDown});
    x = xNext;
    prevDone = evDown;
  }
  uint16_t finalNorm = b.tensor("model.norm.weight", bf, W, {kHidden});
  uint16_t lmW = b.tensor("lm_head.weight", bf, W, {kVocab, kHidden});
  constexpr uint32_t kLmTiles = (kVocab + kVocabTile - 1) / kVocabTile;
  uint16_t logits = b.activation("logits", d, f32, {1, kVocab}, kLogits);
  uint16_t partMax = b.activation("partial_max", d, f32, {1, kLmTiles, 2}, kMax);
  uint32_t evLm = b.event(d, "lm");
  for (uint32_t c = 0; c < kVocab; c += kVocabTile)
    b.task(d, LmHead, kNoLayer, {x, finalNorm, lmW, logits, partMax}, {0, 1},
           {c, std::min<uint32_t>(c + kVocabTile, kVocab)}, {0, 0}, {{prevDone}}, {evLm});
  b.task(d, Argmax, kNoLayer, {partMax, out}, {0, 1}, {0, 0}, {0, 0}, {{evLm}},
         {evArgmax});
  b.finish();
  return std::move(b.plan);
}

} // namespace mk::isa::test
