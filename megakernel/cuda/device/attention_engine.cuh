//===- attention_engine.cuh - Online-softmax attention over a paged KV cache ===//
//
// The device twin of host/kernels/attention.h, shared by attn_decode and attn_prefill.
// A unit is up to kUnitQueries query vectors that read the same KV head of the same
// sequence; query i attends the key positions [lo_i, hi_i), read through the
// sequence's block table. For each query:
//   s_j = (q . k_j) * scale      fp32 (per-lane dot of 8 dims, then a lane butterfly)
//   m = max_j s_j,  l = sum_j exp(s_j - m),  o = (sum_j exp(s_j - m) v_j) / l
//   lse = m + log(l);  no key: o = 0, lse = -inf
// computed online (flash attention), probabilities in fp32.
//
// Work split (all fixed by the task, never by timing):
//   - the CTA's warps form teams of T warps (T = kWarps / teams, teams = the largest
//     power of two <= min(kWarps, units)); team j attends units j, j + teams, ...
//   - key layout (KeyLayout): `lanes` lanes hold one key row, 8 dims per lane, so a
//     warp covers 32 / lanes keys per iteration; warp t of the team takes iterations
//     t, t + T, ... Each key is loaded once for all the unit's queries (GQA). Vector
//     layouts copy K/V chunks with 16-byte cp.async into a per-warp ring of kKvStages
//     iterations, so kKvStages - 1 iterations' loads are in flight while one computes,
//     without holding registers.
//   - every lane keeps one online-softmax state (m, l, o[8]) per query for the keys of
//     its lane group; the groups of a warp merge by a fixed xor butterfly, the warps of
//     a team through shared memory in warp order.
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/async_copy.cuh"
#include "device/bf16.cuh"
#include "launch.h"

#include <cstdint>

namespace mk::cuda {

/// Query vectors a warp attends together (registers: o, m, l per query).
inline constexpr uint32_t kUnitQueries = 4;
/// Iterations of K/V chunks a warp's cp.async ring holds.
inline constexpr uint32_t kKvStages = 4;

/// The paged caches: [blocks, blockSize, kvHeads, hd] bf16.
struct PagedKv {
  const bf16 *k;
  const bf16 *v;
  uint32_t blockSize;
  uint32_t kvHeads;
  uint32_t hd;
};

/// How a warp holds key rows: `lanes` lanes (a power of two) hold one row, 8 dims
/// each, so a warp holds 32 / lanes rows at once. Lane `sl` of a row's lane group holds
///   vector: dims [8 sl, 8 sl + 8), one 16-byte load; rows 16-byte aligned, hd % 8 == 0
///           (lanes = hd / 8 when that is a power of two, else 32 with lanes past hd
///           idle);
///   scalar: dims sl + 32 i, i < 8, bf16 loads (lanes = 32; any hd <= kMaxHeadDim).
/// A runtime choice: one copy of the attention code serves every head dim.
struct KeyLayout {
  uint32_t lanes;
  bool vector;

  __device__ uint32_t dim(uint32_t sl, uint32_t i) const {
    return vector ? 8 * sl + i : sl + 32 * i;
  }
};

__device__ __forceinline__ bool aligned16(const void *p) {
  return (reinterpret_cast<uintptr_t>(p) & 15) == 0;
}

/// The layout for head dim `hd` (<= kMaxHeadDim) over caches whose bases are
/// `aligned` to 16 bytes.
__device__ __forceinline__ KeyLayout keyLayout(uint32_t hd, bool aligned) {
  if (!aligned || hd % 8 != 0)
    return {32, false};
  const uint32_t lanes = hd / 8;
  return {(lanes & (lanes - 1)) == 0 ? lanes : 32, true};
}

/// What an attention kind's tile attends: units [0, numUnits) of `units` (see
/// attendUnits) over the caches `kv` (tasks/attention_dispatch.cuh runs it).
template <class Units> struct AttentionWork {
  Units units;
  PagedKv kv;
  uint32_t numUnits;
};

/// The unit a team attends in the current round (shared memory, written by the team).
struct TeamUnit {
  const bf16 *k;             // the unit's KV head in the caches: row 0, dim 0
  const bf16 *v;             //
  const int32_t *blockTable; // [max_blocks] of the unit's sequence
  int2 keys[kUnitQueries];   // key positions [x, y) of each query; x >= y: none
  int32_t begin, end;        // union of the ranges (begin = end: no key)
  uint32_t count;            // queries, 0 (no unit) to kUnitQueries
};

/// Task scratch of attendUnits. During the key loop it holds each team's queries and
/// each warp's K/V ring; after it (a CTA barrier between) each warp's o.
struct AttnScratch {
  struct KeyLoop {
    uint4 q[kWarps][kUnitQueries][32];    // per team: 8 bf16 per lane slot (lane order)
    uint4 ring[kWarps][kKvStages][2][32]; // per warp: K and V chunk of each lane
  };
  union {
    KeyLoop loop;
    float o[kWarps][kUnitQueries][kMaxHeadDim]; // per warp
  };
  float m[kWarps][kUnitQueries]; // per warp
  float l[kWarps][kUnitQueries]; // per warp
  TeamUnit unit[kWarps];         // per team
};
/// The task's unit description (attendUnits' `Units`) follows the scratch.
inline constexpr uint32_t kAttnUnitsBytes = 256;
static_assert(sizeof(AttnScratch) % 16 == 0 &&
                  sizeof(AttnScratch) + kAttnUnitsBytes <= kSm80.scratchBytes &&
                  sizeof(AttnScratch) + kAttnUnitsBytes <= kSm90.scratchBytes,
              "attention scratch fits the task scratch");

__device__ __forceinline__ Bf16x8 zero8() {
  const uint4 z = make_uint4(0, 0, 0, 0);
  return *reinterpret_cast<const Bf16x8 *>(&z);
}

/// Folds state (m2, l2, o2) into (m, l, o). A state with m = -inf has no key.
__device__ __forceinline__ void mergeState(float &m, float &l, float (&o)[8], float m2,
                                           float l2, const float (&o2)[8]) {
  const float mNew = fmaxf(m, m2);
  const float a = m == -INFINITY ? 0.0f : expf(m - mNew);
  const float b = m2 == -INFINITY ? 0.0f : expf(m2 - mNew);
  l = l * a + l2 * b;
#pragma unroll
  for (int k = 0; k < 8; ++k)
    o[k] = o[k] * a + o2[k] * b;
  m = mNew;
}

/// A lane's online-softmax state per query: its 8 dims of o (KeyLayout::dim order).
struct LaneState {
  float m[kUnitQueries];
  float l[kUnitQueries];
  float o[kUnitQueries][8];
};

/// Warp t of a team of `teamWarps` attends its share of the keys of the team's unit
/// (queries staged in scratch). Returns the warp's state, merged over its lane groups
/// (every lane group holds it).
__device__ __forceinline__ LaneState attendWarp(const PagedKv &kv, KeyLayout layout,
                                                float scale, uint32_t team, uint32_t t,
                                                uint32_t teamWarps, AttnScratch &sh) {
  const TeamUnit &u = sh.unit[team];
  const uint32_t lanes = layout.lanes, keysPerIter = 32 / lanes;
  const uint32_t lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const uint32_t sub = lane / lanes, sl = lane % lanes, hd = kv.hd;
  // Vector layouts: whether this lane holds dims (lanes past hd idle).
  const bool vectorLane = layout.vector && 8 * sl < hd;

  LaneState st;
#pragma unroll
  for (uint32_t i = 0; i < kUnitQueries; ++i) {
    st.m[i] = -INFINITY;
    st.l[i] = 0.0f;
#pragma unroll
    for (int k = 0; k < 8; ++k)
      st.o[i][k] = 0.0f;
  }

  // Element offset of the row of key position `pos` (>= 0) from the head's row 0:
  // [slot, head] of [slots, kvHeads, hd].
  auto rowOffset = [&](int32_t pos) {
    const uint32_t p = uint32_t(pos), bs = kv.blockSize;
    return (int64_t(u.blockTable[p / bs]) * bs + p % bs) * kv.kvHeads * hd;
  };
  // Starts the copies of the chunks of key `pos` into ring slot `slot`; one commit
  // group per iteration, empty or not, so the wait counts are uniform.
  const int32_t end = u.end;
  auto issue = [&](int32_t pos, uint32_t slot) {
    if (vectorLane && pos < end) {
      const int64_t off = rowOffset(pos) + 8 * sl;
      cpAsync16(&sh.loop.ring[warp][slot][0][lane], u.k + off);
      cpAsync16(&sh.loop.ring[warp][slot][1][lane], u.v + off);
    }
    cpAsyncCommit();
  };

  const int32_t stride = int32_t(teamWarps * keysPerIter);
  int32_t base = u.begin + int32_t(t * keysPerIter);
  int32_t pos = base + int32_t(sub); // this lane's key
#pragma unroll
  for (uint32_t s = 0; s + 1 < kKvStages; ++s)
    issue(pos + int32_t(s) * stride, s);
  for (uint32_t slot = 0; base < end; base += stride, pos += stride) { // warp-uniform
    cpAsyncWait<kKvStages - 2>(); // this iteration's chunks have landed
    // The slot read in the previous iteration (its values are consumed) gets the
    // chunks of kKvStages - 1 iterations ahead.
    issue(pos + int32_t(kKvStages - 1) * stride, slot == 0 ? kKvStages - 1 : slot - 1);
    Bf16x8 kCur = zero8(), vCur = zero8();
    if (pos < end) {
      if (vectorLane) {
        kCur = *reinterpret_cast<const Bf16x8 *>(&sh.loop.ring[warp][slot][0][lane]);
        vCur = *reinterpret_cast<const Bf16x8 *>(&sh.loop.ring[warp][slot][1][lane]);
      } else if (!layout.vector) { // dims sl + 32 i: constant offsets from dim sl
        const int64_t off = rowOffset(pos) + sl;
        const bf16 *k = u.k + off, *v = u.v + off, zero = __ushort_as_bfloat16(0);
        const uint32_t dims = hd - min(sl, hd); // dim sl + 32 i < hd: 32 i < dims
#pragma unroll
        for (uint32_t j = 0; j < 4; ++j) {
          const uint32_t i0 = 64 * j, i1 = i0 + 32;
          kCur.h[j] =
              __halves2bfloat162(i0 < dims ? k[i0] : zero, i1 < dims ? k[i1] : zero);
          vCur.h[j] =
              __halves2bfloat162(i0 < dims ? v[i0] : zero, i1 < dims ? v[i1] : zero);
        }
      }
    }
    slot = slot + 1 == kKvStages ? 0 : slot + 1;
#pragma unroll
    for (uint32_t i = 0; i < kUnitQueries; ++i) {
      if (i >= u.count) // warp-uniform
        break;
      const Bf16x8 q = *reinterpret_cast<const Bf16x8 *>(&sh.loop.q[team][i][sl]);
      float s = dot8(q, kCur, 0.0f);
      for (uint32_t off = lanes / 2; off > 0; off /= 2)
        s += __shfl_xor_sync(0xFFFFFFFFu, s, off);
      s *= scale;
      const int2 r = u.keys[i];
      if (pos >= r.x && pos < r.y) {
        const float mNew = fmaxf(st.m[i], s);
        const float corr = expf(st.m[i] - mNew); // 0 for the first key (m = -inf)
        const float p = expf(s - mNew);
        st.l[i] = st.l[i] * corr + p;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const float2 v = __bfloat1622float2(vCur.h[j]);
          st.o[i][2 * j] = st.o[i][2 * j] * corr + p * v.x;
          st.o[i][2 * j + 1] = st.o[i][2 * j + 1] * corr + p * v.y;
        }
        st.m[i] = mNew;
      }
    }
  }
  cpAsyncWait<0>(); // nothing lands in the ring once the scratch is reused

  // Lane groups of the warp: xor butterfly over the key bits of the lane index.
  for (uint32_t off = lanes; off < 32; off *= 2) {
#pragma unroll
    for (uint32_t i = 0; i < kUnitQueries; ++i) {
      const float m2 = __shfl_xor_sync(0xFFFFFFFFu, st.m[i], off);
      const float l2 = __shfl_xor_sync(0xFFFFFFFFu, st.l[i], off);
      float o2[8];
#pragma unroll
      for (int k = 0; k < 8; ++k)
        o2[k] = __shfl_xor_sync(0xFFFFFFFFu, st.o[i][k], off);
      mergeState(st.m[i], st.l[i], st.o[i], m2, l2, o2);
    }
  }
  return st;
}

/// Lane group 0 of the warp writes the warp's state to its scratch slot.
__device__ __forceinline__ void storeWarpState(const LaneState &st, KeyLayout layout,
                                               uint32_t hd, AttnScratch &sh) {
  const uint32_t lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (uint32_t i = 0; i < kUnitQueries; ++i) {
    if (lane < layout.lanes) {
#pragma unroll
      for (uint32_t k = 0; k < 8; ++k) {
        const uint32_t d = layout.dim(lane, k);
        if (d < hd)
          sh.o[warp][i][d] = st.o[i][k];
      }
    }
    if (lane == 0) {
      sh.m[warp][i] = st.m[i];
      sh.l[warp][i] = st.l[i];
    }
  }
}

/// Attends units [0, numUnits) of `units` (trivially copyable, at most kAttnUnitsBytes),
/// which provides, for a unit u and its query i:
///   uint32_t count(u)                      queries of the unit, 1..kUnitQueries
///   const bf16 *query(u, i)                [hd]
///   int2 keys(u, i)                        key positions [x, y), x >= y: none
///   const int32_t *table(u)                block table row [max_blocks] of its sequence
///   uint32_t kvHead(u)
///   void store(u, i, d, float o)           normalized o
///   void storeLse(u, i, float lse)
/// Empty queries store o = 0 and lse = -inf. Called by all threads of the CTA.
template <class Units>
__device__ void attendUnits(const PagedKv &kv, KeyLayout layout, const Units &unitsArg,
                            uint32_t numUnits, float scale, uint8_t *scratch) {
  static_assert(sizeof(Units) <= kAttnUnitsBytes);
  AttnScratch &sh = *reinterpret_cast<AttnScratch *>(scratch);
  // The description lives in shared memory: read where it is used, it holds no
  // registers across the key loop.
  Units &units = *reinterpret_cast<Units *>(scratch + sizeof(AttnScratch));
  if (threadIdx.x == 0)
    units = unitsArg;
  __syncthreads();

  uint32_t teams = 1;
  while (teams * 2 <= kWarps && teams * 2 <= numUnits)
    teams *= 2;
  const uint32_t teamWarps = kWarps / teams;
  const uint32_t warp = threadIdx.x / 32, team = warp / teamWarps, t = warp % teamWarps;
  const uint32_t firstWarp = team * teamWarps;
  const uint32_t teamThread = threadIdx.x - firstWarp * 32, teamThreads = teamWarps * 32;
  TeamUnit &u = sh.unit[team];

  for (uint32_t first = 0; first < numUnits; first += teams) { // CTA-uniform
    const uint32_t unit = first + team;
    const uint32_t count = unit < numUnits ? units.count(unit) : 0;
    // Stage the unit: queries in lane order (slot 8 sl + k holds dim(sl, k)), ranges.
    const uint32_t hd = kv.hd, rowSlots = layout.lanes * 8;
    constexpr uint32_t kQRow = sizeof(sh.loop.q[0][0]) / sizeof(bf16); // 32 lanes x 8
    bf16 *q = reinterpret_cast<bf16 *>(sh.loop.q[team]); // [kUnitQueries][kQRow]
    for (uint32_t e = teamThread; e < count * rowSlots; e += teamThreads) {
      const uint32_t i = e / rowSlots, j = e % rowSlots;
      const uint32_t d = layout.dim(j / 8, j % 8);
      q[i * kQRow + j] = d < hd ? units.query(unit, i)[d] : __ushort_as_bfloat16(0);
    }
    if (teamThread == 0) {
      int32_t begin = INT32_MAX, end = 0; // the union of the ranges
      for (uint32_t i = 0; i < count; ++i) {
        const int2 r = units.keys(unit, i);
        u.keys[i] = r;
        if (r.x < r.y) {
          begin = min(begin, r.x);
          end = max(end, r.y);
        }
      }
      u.begin = min(begin, end);
      u.end = end;
      u.count = count;
      if (count > 0) {
        const int64_t head = int64_t(units.kvHead(unit)) * hd;
        u.k = kv.k + head;
        u.v = kv.v + head;
        u.blockTable = units.table(unit);
      }
    }
    __syncthreads();
    LaneState st;
    if (count > 0) // team-uniform
      st = attendWarp(kv, layout, scale, team, t, teamWarps, sh);
    __syncthreads(); // every warp is done with the key loop: `o` may overwrite it
    if (count > 0)
      storeWarpState(st, layout, hd, sh);
    __syncthreads();
    // Merge the team's warps in warp order; one thread per (query, dim).
    for (uint32_t e = teamThread; e < count * hd; e += teamThreads) {
      const uint32_t i = e / hd, d = e % hd;
      float mMax = -INFINITY;
      for (uint32_t w = firstWarp; w < firstWarp + teamWarps; ++w)
        mMax = fmaxf(mMax, sh.m[w][i]);
      if (mMax == -INFINITY) {
        units.store(unit, i, d, 0.0f);
        if (d == 0)
          units.storeLse(unit, i, -INFINITY);
        continue;
      }
      float l = 0.0f, acc = 0.0f;
      for (uint32_t w = firstWarp; w < firstWarp + teamWarps; ++w) {
        const float mw = sh.m[w][i];
        if (mw == -INFINITY)
          continue;
        const float a = expf(mw - mMax);
        l += sh.l[w][i] * a;
        acc += sh.o[w][i][d] * a;
      }
      units.store(unit, i, d, acc / l);
      if (d == 0)
        units.storeLse(unit, i, mMax + logf(l));
    }
    __syncthreads(); // the next round restages the unit over `o`
  }
}

} // namespace mk::cuda
