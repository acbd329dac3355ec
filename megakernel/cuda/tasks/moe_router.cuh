//===- moe_router.cuh - MoE router: each row's top-k experts, compact routes ===//
//
//   x [R, H] bf16, norm_w [H] bf16, w [E, H] bf16, positions [R] i32
//   -> xg [Smax, R, H] bf16, routes (mk/isa/moe_routes.h) i32, route_weights [R, k] f32
//   one task: range[0] = [0, R), range[1] = [0, E).
// The host's tasks/moe_router.h on one CTA, in blocks of rb rows
// (device/moe_router_layout.h):
//   1. each row's RMSNorm scale, its normalized row xn (shared memory, the dense
//      prologue's rounding points) and its E logits xn . w[e]: every sum of squares and
//      logit is a dot product of the host's contract computed by a lane quad, so they
//      are the host's bits;
//   2. a warp per active row routes it: m = max logit; ex[e] = exp(logit[e] - m);
//      l = sum of ex[e] in ascending e (one lane); p[e] = ex[e] / l; k rounds of a warp
//      argmax over the experts not taken (larger p wins, equal p the lower id: a total
//      order, so the shuffle order does not matter); the chosen in ascending id;
//      w_j = p[e_j], divided by their sum in ascending id with normTopkProb.
// Then the slots (the selected experts in ascending id, one thread), each slot's rows
// in ascending order (a thread per slot), rowSlot, and xg: each slot's rows normalized
// again from x with the saved scale (the same bits).
//
// exp is float(exp(double)): correctly rounded unless the exact value lies within
// 2^-29 ulp of a rounding boundary. The host's std::exp (glibc's expf: within 0.502
// ulp) rounds the same way unless the value lies within 0.002 ulp of one; only then do
// the two p differ, by one ulp, and the routes only if two experts' p at the top-k
// boundary also lie within that ulp. The gpu tests compare routes exactly on logits
// that are not that close, and on exact ties (equal logits give equal p everywhere).
//===----------------------------------------------------------------------===//
#pragma once

#include "config.cuh"
#include "device/async_copy.cuh"
#include "device/bf16.cuh"
#include "device/moe_router_layout.h"
#include "device/projection_mma_sync.cuh"
#include "device/reduce.cuh"
#include "device/rms_norm.cuh"
#include "task_context.cuh"

#include "mk/isa/moe_routes.h"
#include "mk/isa/task_kinds.h"
#include "mk/isa/task_record.h"

#include <cstdint>

namespace mk::cuda::tasks {

namespace moe_router {
using router::alignUp;
using router::DotIndex;
using router::dotIndex;
using router::foldLanePartials;
using router::kLanePartials;
using router::kPartials;
using router::kQuadLanes;
using router::kQuads;
using router::kQuadShuffleSteps;
using router::kRingBlocks;
using router::quadChunk;
using router::quadShuffle;
using router::RouterLayout;
using router::routerLayout;
constexpr isa::TaskKind kKind = isa::TaskKind::MoeRouter;
constexpr uint32_t kX = role(kKind, "x");
constexpr uint32_t kNormW = role(kKind, "norm_w");
constexpr uint32_t kW = role(kKind, "w");
constexpr uint32_t kPositions = role(kKind, "positions");
constexpr uint32_t kXg = role(kKind, "xg");
constexpr uint32_t kRoutes = role(kKind, "routes");
constexpr uint32_t kRouteWeights = role(kKind, "route_weights");
static_assert(router::kThreads == kThreads, "quads span the CTA");

/// The router's operands and shapes.
struct Operands {
  const bf16 *x, *normW, *w;
  const int32_t *positions;
  bf16 *xg;
  float *routeWeights;
  isa::MoeRoutes routes;
  uint32_t experts, hidden;

  __device__ Operands(const TaskContext &ctx, const isa::TaskRecord &task) {
    const DeviceTensor &wRef = ctx.tensor(task, kW);
    const DeviceTensor &weightsRef = ctx.tensor(task, kRouteWeights);
    x = ctx.data<const bf16>(task, kX);                    // [R, H]
    normW = ctx.data<const bf16>(task, kNormW);            // [H]
    w = static_cast<const bf16 *>(wRef.data);              // [E, H]
    positions = ctx.data<const int32_t>(task, kPositions); // [R]
    xg = ctx.data<bf16>(task, kXg);                        // [Smax, R, H]
    routeWeights = static_cast<float *>(weightsRef.data);  // [R, k]
    routes = {ctx.data<int32_t>(task, kRoutes), uint32_t(weightsRef.shape[0]),
              uint32_t(weightsRef.shape[1]), uint32_t(ctx.tensor(task, kXg).shape[0])};
    experts = uint32_t(wRef.shape[0]);
    hidden = uint32_t(wRef.shape[1]);
  }
};

/// threadIdx.x, read opaquely where it is used: ptxas would otherwise hoist what is
/// computed from it out of the worker loop, into registers the projection engines need
/// (see projectWgmma).
__device__ __forceinline__ uint32_t threadIndex() {
  uint32_t t;
  asm volatile("mov.u32 %0, %%tid.x;" : "=r"(t));
  return t;
}

__device__ __forceinline__ void storeShared16(uint32_t address, const uint4 &v) {
  asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};" ::"r"(address), "r"(v.x),
               "r"(v.y), "r"(v.z), "r"(v.w)
               : "memory");
}

/// p += a * b over eight bf16 pairs: the lane's partials, one fma each.
__device__ __forceinline__ void fma8(float (&p)[kLanePartials], const uint4 &a,
                                     const uint4 &b) {
  const Bf16x8 av = *reinterpret_cast<const Bf16x8 *>(&a);
  const Bf16x8 bv = *reinterpret_cast<const Bf16x8 *>(&b);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 fa = __bfloat1622float2(av.h[i]), fb = __bfloat1622float2(bv.h[i]);
    p[2 * i] = fmaf(fa.x, fb.x, p[2 * i]);
    p[2 * i + 1] = fmaf(fa.y, fb.y, p[2 * i + 1]);
  }
}

/// The quad's dot product from its lanes' partials (the contract's tree); lane q = 0 of
/// the quad holds it. Call from every lane of the warp.
__device__ __forceinline__ float quadSum(float (&p)[kLanePartials]) {
#pragma unroll
  for (uint32_t s = 0; s < kQuadShuffleSteps; ++s)
#pragma unroll
    for (uint32_t i = 0; i < kLanePartials; ++i)
      p[i] = p[i] + __shfl_down_sync(0xFFFFFFFFu, p[i], quadShuffle(s), kQuadLanes);
  return foldLanePartials(p);
}

/// x . x for x [n] (a row of the router's input), by the calling quad (every lane of
/// the warp calls it, with the same n).
template <bool kVec>
__device__ __forceinline__ float quadSquares(const bf16 *x, uint32_t n) {
  const uint32_t q = threadIndex() % kQuadLanes;
  const uint32_t blocks = (n + kPartials - 1) / kPartials;
  float p[kLanePartials];
#pragma unroll
  for (uint32_t i = 0; i < kLanePartials; ++i)
    p[i] = 0.0f;
#pragma unroll 4
  for (uint32_t b = 0; b < blocks; ++b) {
    const uint4 v = rmsNormalized8(x, nullptr, 0.0f, quadChunk(b, q), n, kVec);
    fma8(p, v, v);
  }
  return quadSum(p);
}

/// xn . w for a normalized row xn (shared memory, zero past n) and a weight row w [n],
/// by the calling quad (every lane of the warp calls it, with the same n). w streams
/// through the lane's ring of kRingBlocks 16-byte slots (ring: this lane's first slot,
/// a shared address; slot i is i kThreads 16 bytes further), kRingBlocks - 1 blocks
/// ahead, by cp.async from global memory or by copies from the staged prefix
/// (TaskContext::weight); k % 8 != 0 (unaligned rows) loads one block at a time.
template <bool kVec>
__device__ __forceinline__ float quadLogit(const TaskContext &ctx, const bf16 *xn,
                                           const bf16 *w, uint32_t n, uint32_t ring) {
  const uint32_t q = threadIndex() % kQuadLanes;
  const uint32_t blocks = (n + kPartials - 1) / kPartials;
  float p[kLanePartials];
#pragma unroll
  for (uint32_t i = 0; i < kLanePartials; ++i)
    p[i] = 0.0f;
  auto xnChunk = [&](uint32_t b) {
    return *reinterpret_cast<const uint4 *>(xn + quadChunk(b, q));
  };
  if constexpr (kVec) {
    auto slot = [&](uint32_t b) { return ring + b % kRingBlocks * (kThreads * 16); };
    // Block b into its slot; one commit group per block (empty past the last), so
    // the groups in flight are the blocks ahead.
    auto issue = [&](uint32_t b) {
      if (b < blocks) {
        const uint32_t k0 = quadChunk(b, q);
        const bf16 *src = w + k0, *staged = ctx.weight(src);
        if (k0 >= n)
          cpAsync16OrZero(slot(b), w, 0); // the contract's zero padding
        else if (staged != src)
          storeShared16(slot(b), *reinterpret_cast<const uint4 *>(staged));
        else
          cpAsync16OrZero(slot(b), src, 16);
      }
      cpAsyncCommit();
    };
    for (uint32_t b = 0; b + 1 < kRingBlocks; ++b)
      issue(b);
    for (uint32_t b = 0; b < blocks; ++b) {
      cpAsyncWait<kRingBlocks - 2>(); // this lane's block b has landed
      const uint4 wv = projection::loadShared16(slot(b));
      issue(b + kRingBlocks - 1); // into the slot block b - 1 used
      fma8(p, xnChunk(b), wv);
    }
    cpAsyncWait<0>();
  } else {
    for (uint32_t b = 0; b < blocks; ++b)
      fma8(p, xnChunk(b), projection::loadWeights8<false>(ctx, w, quadChunk(b, q), n));
  }
  return quadSum(p);
}

/// scales[r] for rows [row0, row0 + rows): 1 / sqrt(x[r] . x[r] / H + eps), the dot
/// product by the contract (the host's rmsNormRow).
template <bool kVec>
__device__ void rowScales(const Operands &o, float eps, uint32_t row0, uint32_t rows,
                          float *scales) {
  const uint32_t quad = threadIndex() / kQuadLanes;
  for (uint32_t base = 0; base < rows; base += kQuads) {
    // Quads past the rows repeat the last one (every lane must shuffle).
    const uint32_t r = row0 + min(base + quad, rows - 1);
    const float sum = quadSquares<kVec>(o.x + size_t(r) * o.hidden, o.hidden);
    if (threadIndex() % kQuadLanes == 0 && base + quad < rows)
      scales[r] = rmsScale(sum, o.hidden, eps);
  }
}

/// logits[r][e] = xn[r] . w[e] for the rb rows of the block and every expert.
template <bool kVec>
__device__ void blockLogits(const TaskContext &ctx, const Operands &o, const bf16 *xn,
                            uint32_t stride, uint32_t rb, float *logits, uint32_t ring) {
  const uint32_t quad = threadIndex() / kQuadLanes;
  const uint32_t dots = rb * o.experts;
  for (uint32_t base = 0; base < dots; base += kQuads) {
    const DotIndex d = dotIndex(min(base + quad, dots - 1), rb);
    const float logit = quadLogit<kVec>(
        ctx, xn + d.row * stride, o.w + size_t(d.expert) * o.hidden, o.hidden, ring);
    if (threadIndex() % kQuadLanes == 0 && base + quad < dots)
      logits[d.row * o.experts + d.expert] = logit;
  }
}

/// Routes row r from its logits lg [E] (overwritten with p) by the calling warp: writes
/// route_weights[r], the chosen experts (ascending) into rowSlot[r] (replaced by their
/// slots later) and their selected flags. taken [E], chosen [k]: the warp's scratch.
__device__ void routeRow(const Operands &o, bool normTopkProb, uint32_t r, float *lg,
                         uint8_t *taken, int32_t *chosen, int32_t *selected) {
  const uint32_t lane = threadIndex() % 32, experts = o.experts, k = o.routes.topK;
  float m = lg[0];
  for (uint32_t e = lane; e < experts; e += 32)
    m = fmaxf(m, lg[e]);
  m = warpMax(m);
  for (uint32_t e = lane; e < experts; e += 32) {
    lg[e] = float(exp(double(lg[e] - m)));
    taken[e] = 0;
  }
  __syncwarp();
  float l = 0.0f;
  if (lane == 0)
    for (uint32_t e = 0; e < experts; ++e)
      l += lg[e];
  l = __shfl_sync(0xFFFFFFFFu, l, 0);
  for (uint32_t e = lane; e < experts; e += 32)
    lg[e] = lg[e] / l;
  __syncwarp();
  for (uint32_t j = 0; j < k; ++j) {
    constexpr uint32_t kNone = 0xFFFFFFFFu;
    float best = 0.0f;
    uint32_t bestE = kNone;
    for (uint32_t e = lane; e < experts; e += 32)
      if (!taken[e] && (bestE == kNone || lg[e] > best)) {
        best = lg[e];
        bestE = e;
      }
#pragma unroll
    for (uint32_t offset = 16; offset > 0; offset /= 2) {
      const float ob = __shfl_xor_sync(0xFFFFFFFFu, best, offset);
      const uint32_t oe = __shfl_xor_sync(0xFFFFFFFFu, bestE, offset);
      if (oe != kNone && (bestE == kNone || ob > best || (ob == best && oe < bestE))) {
        best = ob;
        bestE = oe;
      }
    }
    if (lane == 0)
      taken[bestE] = 1;
    __syncwarp();
  }
  // The chosen in ascending id.
  uint32_t count = 0;
  for (uint32_t base = 0; base < experts; base += 32) {
    const uint32_t e = base + lane;
    const bool t = e < experts && taken[e];
    const uint32_t mask = __ballot_sync(0xFFFFFFFFu, t);
    if (t)
      chosen[count + __popc(mask & ((1u << lane) - 1))] = int32_t(e);
    count += __popc(mask);
  }
  __syncwarp();
  float sum = 0.0f;
  if (lane == 0)
    for (uint32_t j = 0; j < k; ++j)
      sum += lg[chosen[j]];
  sum = __shfl_sync(0xFFFFFFFFu, sum, 0);
  for (uint32_t j = lane; j < k; j += 32) {
    const int32_t e = chosen[j];
    o.routeWeights[size_t(r) * k + j] = normTopkProb ? lg[e] / sum : lg[e];
    o.routes.rowSlot(r, j) = e;
    selected[e] = 1;
  }
  __syncwarp(); // taken and chosen are free for the warp's next row
}

/// The router on one CTA, rows in blocks of layout.blockRows.
template <bool kVec>
__device__ void route(const TaskContext &ctx, const Operands &o,
                      const RouterLayout &layout) {
  uint8_t *scratch = ctx.scratch;
  float *scales = reinterpret_cast<float *>(scratch + layout.scales);
  int32_t *slotOf = reinterpret_cast<int32_t *>(scratch + layout.slotOf);
  int32_t *expertOf = reinterpret_cast<int32_t *>(scratch + layout.expertOf);
  int32_t *count = reinterpret_cast<int32_t *>(scratch + layout.count);
  float *logits = reinterpret_cast<float *>(scratch + layout.logits);
  bf16 *xn = reinterpret_cast<bf16 *>(scratch + layout.xn);
  const uint32_t ring =
      projection::sharedAddress(scratch + layout.ring) + threadIndex() * 16;
  const uint32_t warp = threadIndex() / 32, lane = threadIndex() % 32;
  uint8_t *taken = scratch + layout.taken + warp * alignUp(o.experts, 16);
  int32_t *chosen =
      reinterpret_cast<int32_t *>(scratch + layout.chosen) + warp * o.routes.topK;
  const uint32_t rows = o.routes.rows, experts = o.experts, k = o.routes.topK;
  const uint32_t stride = layout.xnStride, rb = layout.blockRows;
  const bool normTopkProb = ctx.model->normTopkProb != 0;

  for (uint32_t e = threadIndex(); e < experts; e += kThreads)
    slotOf[e] = 0; // the selected flags
  for (uint32_t row0 = 0; row0 < rows; row0 += rb) {
    const uint32_t nr = min(rb, rows - row0);
    rowScales<kVec>(o, ctx.model->rmsNormEps, row0, nr, scales);
    __syncthreads();
    const uint32_t chunks = stride / 8;
    for (uint32_t i = threadIndex(); i < nr * chunks; i += kThreads) {
      const uint32_t r = i / chunks, k0 = i % chunks * 8;
      *reinterpret_cast<uint4 *>(xn + r * stride + k0) =
          rmsNormalized8(o.x + size_t(row0 + r) * o.hidden, o.normW, scales[row0 + r], k0,
                         o.hidden, kVec);
    }
    __syncthreads();
    blockLogits<kVec>(ctx, o, xn, stride, nr, logits, ring);
    __syncthreads();
    for (uint32_t i = warp; i < nr; i += kWarps) {
      const uint32_t r = row0 + i;
      if (o.positions[r] >= 0) {
        routeRow(o, normTopkProb, r, logits + i * experts, taken, chosen, slotOf);
      } else {
        for (uint32_t j = lane; j < k; j += 32) {
          o.routeWeights[size_t(r) * k + j] = 0.0f;
          o.routes.rowSlot(r, j) = -1;
          o.routes.rowLocal(r, j) = -1;
        }
      }
    }
    __syncthreads(); // the block's scratch is free; the flags are complete at the end
  }

  // Slots in ascending expert id.
  if (threadIndex() == 0) {
    int32_t distinct = 0;
    for (uint32_t e = 0; e < experts; ++e)
      if (slotOf[e]) {
        expertOf[distinct] = int32_t(e);
        slotOf[e] = distinct++;
      } else {
        slotOf[e] = -1;
      }
    *count = distinct;
    o.routes.numDistinct() = distinct;
  }
  __syncthreads();
  const uint32_t distinct = uint32_t(*count), slots = o.routes.slots;
  // Each slot's rows in ascending order; rowSlot still holds the chosen expert ids.
  for (uint32_t s = threadIndex(); s < slots; s += kThreads) {
    uint32_t n = 0;
    if (s < distinct) {
      const int32_t e = expertOf[s];
      for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t j = 0; j < k; ++j)
          if (o.routes.rowSlot(r, j) == e) {
            o.routes.slotRow(s, n) = int32_t(r);
            o.routes.rowLocal(r, j) = int32_t(n);
            ++n;
          }
    }
    o.routes.slotExpert(s) = s < distinct ? expertOf[s] : -1;
    o.routes.slotRows(s) = int32_t(n);
    for (uint32_t i = n; i < rows; ++i)
      o.routes.slotRow(s, i) = -1;
  }
  __syncthreads(); // every slot's scan has read the chosen ids
  for (uint32_t i = threadIndex(); i < rows * k; i += kThreads) {
    int32_t &entry = o.routes.rowSlot(i / k, i % k);
    entry = entry >= 0 ? slotOf[entry] : -1;
  }
  // xg[s][i] = xn of row slotRow[s][i], for i < n_s.
  const uint32_t groups = kVec ? o.hidden / 8 : o.hidden;
  for (uint32_t s = 0; s < distinct; ++s) {
    const uint32_t n = uint32_t(o.routes.slotRows(s));
    for (uint32_t i = threadIndex(); i < n * groups; i += kThreads) {
      const uint32_t local = i / groups, g = i % groups;
      const uint32_t r = uint32_t(o.routes.slotRow(s, local));
      const bf16 *xr = o.x + size_t(r) * o.hidden;
      bf16 *dst = o.xg + (size_t(s) * rows + local) * o.hidden;
      if constexpr (kVec)
        *reinterpret_cast<uint4 *>(dst + 8 * g) =
            rmsNormalized8(xr, o.normW, scales[r], 8 * g, o.hidden, true);
      else
        dst[g] = toBf16(rmsNormValue(toFloat(xr[g]), toFloat(o.normW[g]), scales[r]));
    }
  }
}
} // namespace moe_router

template <> struct CudaTask<isa::TaskKind::MoeRouter> {
  static constexpr Engine kEngine = Engine::Own;
  __device__ static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

__device__ inline void
CudaTask<isa::TaskKind::MoeRouter>::run(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
  using namespace moe_router;
  const Operands o(ctx, task);
  const RouterLayout layout = routerLayout(o.routes.rows, o.experts, o.routes.topK,
                                           o.hidden, kConfig.scratchBytes);
  if (layout.blockRows == 0)
    __trap(); // the executor refuses such plans (cuda/executor.cpp)
  if (o.hidden % 8 == 0)
    route<true>(ctx, o, layout);
  else
    route<false>(ctx, o, layout);
}

} // namespace mk::cuda::tasks
