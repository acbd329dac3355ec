//===- toy_plan.h - Hand-built plans for the ISA tests ----------------------===//
//
// makeToyPlan(): one layer of a tiny Llama-like model (vocab 64, hidden 32, 4 heads,
// 2 KV heads, head dim 8) with two programs:
//
//   program 0 "decode" (rows 2, several steps per launch)
//     0 embedding --emb--> 1 qkv Q, 2 qkv K, 3 qkv V --qkv--> 4 attn_decode --attn-->
//     5 attn_merge --merge--> 6 o_proj --o--> 7 gate_up --gu--> 8 down_proj --down-->
//     9 lm_head [0,32), 10 lm_head [32,64) --lm--> 11 argmax --argmax--> (next step's 0)
//   program 1 "prefill" (rows 4, one step): the same chain with attn_prefill and one
//     lm_head tile.
//
// Both arenas reuse bytes (h2 over h0, mlp over q / partial_o) in the order the DAG
// allows, so the valid plan exercises the overlap rule. Tests break one thing and check
// the verifier's message.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace mk::isa::test {

// Decode program tasks and events (program 0).
enum DecodeTask : uint32_t {
  kDEmbed,
  kDQ,
  kDK,
  kDV,
  kDAttn,
  kDMerge,
  kDOProj,
  kDGateUp,
  kDDown,
  kDLm0,
  kDLm1,
  kDArgmax,
  kDNumTasks
};
enum DecodeEvent : uint32_t {
  kEvEmb,
  kEvQkv,
  kEvAttn,
  kEvMerge,
  kEvO,
  kEvGu,
  kEvDown,
  kEvLm,
  kEvArgmax,
  kDNumEvents
};
inline constexpr uint32_t kDecode = 0;
inline constexpr uint32_t kPrefill = 1;

struct WaitSpec {
  uint32_t event;
  uint8_t stepBack = 0;
};

/// Appends tensors, programs, events and tasks; finish() fills event and wait counts
/// from the signallers and an identity order where none was given.
class PlanBuilder {
public:
  Plan plan;

  uint16_t tensor(std::string name, DType dtype, Placement placement,
                  std::initializer_list<int64_t> shape, uint16_t layer = kNoLayer);
  uint16_t activation(std::string name, uint32_t program, DType dtype,
                      std::initializer_list<int64_t> shape, uint64_t offset,
                      uint16_t layer = kNoLayer);
  uint32_t program(std::string name, ProgramKind kind, uint32_t rows,
                   uint64_t arenaBytes);
  uint32_t event(uint32_t program, std::string name);
  uint32_t task(uint32_t program, TaskKind kind, uint16_t layer,
                std::initializer_list<uint16_t> operands, Range rows, Range r1, Range r2,
                std::initializer_list<WaitSpec> waits,
                std::initializer_list<uint32_t> signals, uint32_t aux0 = 0);
  void finish();
};

Plan makeToyPlan();

// makeToyMoePlan(): one MoE layer (hidden 32, 4 experts, 2 per token, expert
// intermediate 16) of a decode program of 4 rows; Smax = 4 slots. Step state
// "decode.x" [4, 32] bf16 (the residual stream, also the residual) and
// "decode.positions" [4] i32; the layer writes activation "decode.h_mlp".
//   0 router --router--> 1..8 gate_up (slot s, columns [0,8) / [8,16): task 1 + 2s + t)
//   --gu--> 9..16 down (slot s, columns [0,16) / [16,32)) --down--> 17, 18 combine
//   (columns [0,16) / [16,32)) --combine-->
// Expert groups: gate experts are tensors moeGate .. moeGate + 3, likewise up and down.
enum MoeTask : uint32_t {
  kMRouter = 0,
  kMGateUp0 = 1,
  kMDown0 = 9,
  kMCombine0 = 17,
  kMNumTasks = 19
};
inline constexpr uint32_t kMoeRows = 4, kMoeExperts = 4, kMoeTopK = 2, kMoeHidden = 32,
                          kMoeInter = 16, kMoeSlots = 4;
Plan makeToyMoePlan();

// makeToyTpPlan(): a TP = 2 decode program (rows 2, hidden 32, vocab 64, 32 per rank):
//   0 embedding --emb--> 1, 2 o_proj (no residual, columns [0,16) / [16,32)) --o-->
//   3, 4 all_reduce site 0 (tiles 0, 1; residual = the embedding) --ar--> 5, 6 lm_head
//   (vocab [0,16) / [16,32) of the rank's slice) --lm--> 7 all_gather site 1 --ag-->
//   8 argmax --argmax--> (next step's embedding)
// Weights: the embedding [64, 32] (whole), o_proj [32, 32] (half of [32, 64] by input
// columns), model.norm [32], lm_head [32, 32] (half of the vocabulary).
enum ToyTpTask : uint32_t {
  kTEmb,
  kTO0,
  kTO1,
  kTAr0,
  kTAr1,
  kTLm0,
  kTLm1,
  kTAg,
  kTArgmax
};
enum ToyTpEvent : uint32_t { eEmb, eO, eAr, eLm, eAg, eArgmax };
Plan makeToyTpPlan();
/// Rank `rank`'s memory for every tensor of `plan` it binds (none for activations and
/// comm buffers): weights random per slice, so the ranks differ; step state zero but
/// decode.tokens = {5, 60}.
std::vector<std::vector<uint8_t>> makeToyTpRankMemory(const Plan &plan, uint32_t rank);

/// A Llama-3-8B-shaped decode plan (batch 1): ~536 tasks per layer plus the LM head,
/// events per KV head; ~17.7k tasks for 32 layers. For the verifier speed test.
Plan makeLargePlan(uint32_t layers);

/// Index of the tensor called `name`; aborts the test binary if there is none.
uint16_t tensorId(const Plan &plan, std::string_view name);

/// Field-by-field EXPECT_EQ of two plans (task records compared byte for byte).
void expectPlansEqual(const Plan &a, const Plan &b);

/// verifyPlan() fails with exactly `expected`, and verifyPlanAll() lists it first.
void expectFirstViolation(const Plan &plan, const std::string &expected);

} // namespace mk::isa::test
