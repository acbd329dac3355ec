//===- simd_ops.cpp - The SIMD primitives, compiled once per target --------===//
//
// Highway's dynamic dispatch: foreach_target.h includes this file once per target in
// HWY_TARGETS, each copy in its own namespace (N_AVX2, N_AVX3, ...) compiled for that
// target's instructions; HWY_EXPORT lists the copies and HWY_DYNAMIC_DISPATCH picks the
// best one this CPU supports. Nothing depends on the build machine's CPU.
//
// The target set, on a plain x86-64 build: AVX3_DL (opted into with HWY_WANT_AVX3_DL),
// AVX3, AVX2 and Highway's fallback (SCALAR; EMU128 from GCC 12.3). SSSE3 and SSE4 are
// disabled: without FMA they would run the fallback's code, compiled twice more for
// nothing. A build whose baseline is a SIMD target (-march=x86-64-v3, -march=znver4)
// compiles that target and the better ones.
//
// Every target computes the same function (dot.h, simd_ops.h): targets with FMA and a
// fixed vector width of 4 to 16 floats run the vector path, every other one (the
// fallback, which serves CPUs without AVX2 and FMA) the scalar path with std::fma.
//
// Highway compiles AVX3_DL with AVX-VNNI enabled but selects it on CPUs with AVX-512
// VNNI, such as Zen 4, which lack AVX-VNNI. Only integer dot products would make the
// compiler emit it; keep them out of this file (the AVX3_DL tests run on Zen 4).
//===----------------------------------------------------------------------===//

// Before any Highway header (and again, unchanged, on each re-inclusion).
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#include "kernels/simd_ops.h"
#include "kernels/dot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd_ops.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace mk::host::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

inline float toF32(bf16 v) { return bf16ToFloat(v); }
inline float toF32(float v) { return v; }

#undef MK_SIMD_VECTOR_PATH
#if HWY_NATIVE_FMA && !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR &&                  \
    HWY_TARGET != HWY_EMU128
#define MK_SIMD_VECTOR_PATH 1
#else
#define MK_SIMD_VECTOR_PATH 0
#endif

#if MK_SIMD_VECTOR_PATH

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;
constexpr size_t kLanes = hn::MaxLanes(DF());
constexpr size_t kVectors = kDotPartials / kLanes; // 4 on AVX2, 2 on AVX-512
static_assert(kLanes >= 4 && kLanes <= 16 && kDotPartials % kLanes == 0);

HWY_INLINE VF load(DF df, const float *p) { return hn::LoadU(df, p); }

/// kLanes bf16 widened to fp32 (exact: bf16 is the top half of an fp32).
HWY_INLINE VF load(DF df, const bf16 *p) {
  const hn::RebindToUnsigned<DF> du32;
  const hn::Rebind<uint16_t, DF> du16;
  const auto bits = hn::LoadU(du16, reinterpret_cast<const uint16_t *>(p));
  return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du32, bits)));
}

/// The last steps of the tree on one vector: lane j += lane j + w for w = N/2 ... 1,
/// by halves (512 -> 256 -> 128 bits), then within 128 bits.
template <class D> HWY_INLINE float foldLanes(D d, hn::Vec<D> v) {
  if constexpr (hn::MaxLanes(D()) == 4) {
    const auto t = hn::Add(v, hn::Shuffle1032(v)); // lanes j + (j + 2)
    return hn::GetLane(hn::Add(t, hn::Shuffle2301(t)));
  } else {
    const hn::Half<D> dh;
    return foldLanes(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)));
  }
}

/// One block of 32 elements: partial v * kLanes + l takes element v * kLanes + l.
template <typename T>
HWY_INLINE void fmaBlock(DF df, const T *a, const T *b, VF (&acc)[kVectors]) {
  HWY_UNROLL(4)
  for (size_t v = 0; v < kVectors; ++v)
    acc[v] = hn::MulAdd(load(df, a + v * kLanes), load(df, b + v * kLanes), acc[v]);
}

/// The zero-padded last block: src[0, count) and zeros. Out of line, so that the
/// accumulators of a dot without a tail never leave registers.
template <typename T>
HWY_NOINLINE void padTail(const T *src, size_t count, T (&dst)[kDotPartials]) {
  std::fill(std::copy(src, src + count, dst), dst + kDotPartials, T{});
}

template <typename T> float dot(const T *a, const T *b, size_t n) {
  const DF df;
  VF acc[kVectors];
  for (VF &v : acc)
    v = hn::Zero(df);
  size_t i = 0;
  for (; i + kDotPartials <= n; i += kDotPartials)
    fmaBlock(df, a + i, b + i, acc);
  if (i < n) {
    T ta[kDotPartials], tb[kDotPartials];
    padTail(a + i, n - i, ta);
    padTail(b + i, n - i, tb);
    fmaBlock(df, ta, tb, acc);
  }
  // The first steps of the tree add whole vectors: vector v holds partials
  // [v * kLanes, (v + 1) * kLanes), so p[j] + p[j + w] is vector v + vector v + w/kLanes.
  HWY_UNROLL(2)
  for (size_t count = kVectors; count > 1; count /= 2)
    for (size_t v = 0; v < count / 2; ++v)
      acc[v] = hn::Add(acc[v], acc[v + count / 2]);
  return foldLanes(df, acc[0]);
}

/// Columns [d, d + kBlock * kLanes) of the weighted row sum, held in registers while
/// the rows stream by: kBlock independent FMA chains.
template <size_t kBlock>
HWY_INLINE void weightedBlock(DF df, const float *p, const bf16 *v, const int64_t *rows,
                              int64_t stride, int64_t n, float *o) {
  VF acc[kBlock];
  for (size_t c = 0; c < kBlock; ++c)
    acc[c] = hn::LoadU(df, o + c * kLanes);
  for (int64_t j = 0; j < n; ++j) {
    const VF pj = hn::Set(df, p[j]);
    const bf16 *vj = v + rows[j] * stride;
    HWY_UNROLL(4)
    for (size_t c = 0; c < kBlock; ++c)
      acc[c] = hn::MulAdd(pj, load(df, vj + c * kLanes), acc[c]);
  }
  for (size_t c = 0; c < kBlock; ++c)
    hn::StoreU(acc[c], df, o + c * kLanes);
}

/// The bf16 bits of each lane in the low half of a u32 lane: bf16.h's floatToBf16
/// (round to nearest even; a NaN is quietened and keeps its sign and top payload).
HWY_INLINE hn::Vec<hn::RebindToSigned<DF>> bf16Bits(DF df, VF v) {
  const hn::RebindToSigned<DF> di;
  const auto u = hn::BitCast(di, v);
  // |v| > +inf as integers: NaN (both operands are non-negative int32).
  const auto isNaN = hn::Gt(hn::And(u, hn::Set(di, 0x7FFFFFFF)), hn::Set(di, 0x7F800000));
  const auto high = hn::And(hn::ShiftRight<16>(u), hn::Set(di, 0xFFFF)); // logical
  const auto lsb = hn::And(high, hn::Set(di, 1));
  const auto rounded =
      hn::And(hn::ShiftRight<16>(hn::Add(hn::Add(u, hn::Set(di, 0x7FFF)), lsb)),
              hn::Set(di, 0xFFFF));
  return hn::IfThenElse(isNaN, hn::Or(high, hn::Set(di, 0x40)), rounded);
}

void NormalizeBf16(const bf16 *x, const bf16 *w, float scale, size_t n, bf16 *out) {
  const DF df;
  const hn::Rebind<uint16_t, DF> du16;
  const VF s = hn::Set(df, scale);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const auto xs = bf16Bits(df, hn::Mul(load(df, x + i), s));
    const VF xn = hn::BitCast(df, hn::ShiftLeft<16>(xs));
    const auto y = bf16Bits(df, hn::Mul(load(df, w + i), xn));
    hn::StoreU(hn::DemoteTo(du16, y), du16, reinterpret_cast<uint16_t *>(out + i));
  }
  for (; i < n; ++i)
    out[i] = floatToBf16(bf16ToFloat(w[i]) * roundToBf16(bf16ToFloat(x[i]) * scale));
}

void WeightedRowSum(const float *p, const bf16 *v, const int64_t *rows, int64_t stride,
                    int64_t n, uint32_t hd, float *o) {
  const DF df;
  size_t d = 0;
  for (; d + 4 * kLanes <= hd; d += 4 * kLanes)
    weightedBlock<4>(df, p, v + d, rows, stride, n, o + d);
  if (d + 2 * kLanes <= hd) {
    weightedBlock<2>(df, p, v + d, rows, stride, n, o + d);
    d += 2 * kLanes;
  }
  if (d + kLanes <= hd) {
    weightedBlock<1>(df, p, v + d, rows, stride, n, o + d);
    d += kLanes;
  }
  for (; d < hd; ++d)
    for (int64_t j = 0; j < n; ++j)
      o[d] = std::fma(p[j], bf16ToFloat(v[rows[j] * stride + d]), o[d]);
}

// dotBlockBf16's tiles. A bf16 pair loaded as one u32 lane splits into two fp32 by a
// shift (the even element) and a mask (the odd one), cheaper than widening, so a tile
// holds each dot's 32 partials permuted: of a 32-element block, u32 vector s (kSub of
// them, 2 * kLanes elements each) gives E_s, lane l = element s * 2kLanes + 2l, and
// O_s, lane l = element s * 2kLanes + 2l + 1; each feeds its own accumulator. The
// tree's pairs p[j], p[j + w] keep j's parity for w >= 2: for w >= 2kLanes they are
// accumulators s and s + w / 2kLanes of one parity, below that lanes l and l + w/2 of
// one vector (foldLanes' steps); w = 1 adds E's p[0] to O's p[1]. Same FMAs in the
// same order per partial, same adds: the bits of dot().
//
// The activation rows are packed once per call into that permuted fp32 layout
// (zero-padded to whole blocks), so a tile's inner loop loads x with no conversion
// and each weight row's pairs once for all the tile's rows.
constexpr size_t kSub = kDotPartials / (2 * kLanes); // 1 on AVX-512, 2 on AVX2
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr size_t kRegisters = 32;
#else
constexpr size_t kRegisters = 16;
#endif
/// Accumulators a tile may keep in registers; the rest hold weights and x.
constexpr size_t kAccBudget = kRegisters * 3 / 4;
/// With 16 registers a tile holding all kVectors accumulators of each dot fits only
/// 3 x 1 (12 accumulators, each x vector used once: a load per FMA). Instead the tile
/// runs one accumulator vector v at a time over a chunk of blocks (kPassBlocks), the
/// chunk's x and w staying in L1 between the kVectors passes; each accumulator still
/// gets its blocks in order. A pass holds R * C accumulators, C weights and one x.
constexpr bool kVectorPasses = kRegisters == 16;
constexpr size_t kMaxTileRows = 4;
constexpr size_t kMaxTileCols = 8;
/// Columns (weight rows) of a tile of `rows` activation rows: 8 / 6 / 4 / 3 on
/// AVX-512, 7 / 5 / 3 / 3 on AVX2.
constexpr size_t tileCols(size_t rows) {
  if constexpr (kVectorPasses)
    return std::clamp<size_t>((kRegisters - 1) / (rows + 1), 1, kMaxTileCols);
  return std::clamp<size_t>(kAccBudget / (kVectors * rows), 1, kMaxTileCols);
}
/// The packed activation panel's budget (fits L2 beside the weight tiles).
constexpr size_t kPanelBytes = 192 * 1024;
/// Up to this size a row tile of the panel is kept in L1 across the column tiles
/// (half of a 32 KiB L1; measured at 64 rows x 64 columns, AVX2: k = 1024 8% faster
/// than column tiles outer, k = 2816, whose row tile does not fit, 2% slower).
constexpr size_t kL1RowTileBytes = 16 * 1024;

HWY_INLINE void packBlock(DF df, const bf16 *x, float *dst) {
  const hn::RebindToUnsigned<DF> du;
  HWY_UNROLL(2)
  for (size_t s = 0; s < kSub; ++s) {
    const auto u = hn::LoadU(du, reinterpret_cast<const uint32_t *>(x + s * 2 * kLanes));
    hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(u)), df, dst + s * 2 * kLanes);
    hn::StoreU(hn::BitCast(df, hn::And(u, hn::Set(du, 0xFFFF0000u))), df,
               dst + s * 2 * kLanes + kLanes);
  }
}

/// One row of x [k] bf16 -> [ceil(k / 32) * 32] fp32, permuted as above, zero-padded.
void packRow(const bf16 *x, size_t k, float *dst) {
  const DF df;
  size_t i = 0;
  for (; i + kDotPartials <= k; i += kDotPartials)
    packBlock(df, x + i, dst + i);
  if (i < k) {
    bf16 t[kDotPartials];
    padTail(x + i, k - i, t);
    packBlock(df, t, dst + i);
  }
}

/// Makes the compiler hold v in a register: left to itself, it folds a vector used by
/// several FMAs into each one's memory operand, one load per use.
HWY_INLINE void keepInRegister(VF &v) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  asm("" : "+v"(v.raw));
#else
  (void)v;
#endif
}

/// One 32-element block of an R x C tile: x rows kp floats apart, w rows ldw apart.
/// One accumulator vector v at a time (E_0, O_0, E_1, ...): its C weight vectors and
/// one x vector live beside the R * C * kVectors accumulators, so every x vector is
/// loaded once per tile step and used C times from a register (folding it into each
/// FMA's memory operand instead costs a load per FMA, and the loads, not the FMAs,
/// then set the pace). Each accumulator still gets one FMA per block, in block order.
template <size_t R, size_t C>
HWY_INLINE void tileStep(DF df, const float *x, size_t kp, const bf16 *w, size_t ldw,
                         VF (&acc)[R][C][kVectors]) {
  const hn::RebindToUnsigned<DF> du;
  const auto high = hn::Set(du, 0xFFFF0000u);
  HWY_UNROLL(4)
  for (size_t v = 0; v < kVectors; ++v) {
    const size_t s = v / 2;
    VF wv[C];
    HWY_UNROLL(8)
    for (size_t c = 0; c < C; ++c) {
      const auto u =
          hn::LoadU(du, reinterpret_cast<const uint32_t *>(w + c * ldw + s * 2 * kLanes));
      wv[c] = hn::BitCast(df, v % 2 == 0 ? hn::ShiftLeft<16>(u) : hn::And(u, high));
    }
    HWY_UNROLL(4)
    for (size_t r = 0; r < R; ++r) {
      VF xv = hn::LoadU(df, x + r * kp + v * kLanes);
      keepInRegister(xv);
      HWY_UNROLL(8)
      for (size_t c = 0; c < C; ++c)
        acc[r][c][v] = hn::MulAdd(xv, wv[c], acc[r][c][v]);
    }
  }
}

/// The tree on one dot's permuted accumulators (acc[2s] = E_s, acc[2s + 1] = O_s).
HWY_INLINE float reducePermuted(DF df, VF (&acc)[kVectors]) {
  HWY_UNROLL(2)
  for (size_t count = kSub; count > 1; count /= 2)
    for (size_t s = 0; s < count / 2; ++s) {
      acc[2 * s] = hn::Add(acc[2 * s], acc[2 * (s + count / 2)]);
      acc[2 * s + 1] = hn::Add(acc[2 * s + 1], acc[2 * (s + count / 2) + 1]);
    }
  return foldLanes(df, acc[0]) + foldLanes(df, acc[1]);
}

/// Blocks per chunk of a vector pass: long enough that the passes' accumulator loads
/// and stores are rare, short enough that the chunk's x and w stay in L1 for the next
/// pass (measured at k = 2816: 16 and 64 slower than 32).
constexpr size_t kPassBlocks = 32;

/// Accumulator vector v of an R x C tile over blocks [0, n): x rows kp floats apart,
/// w rows ldw apart, block b at x + b * kDotPartials and w + b * kDotPartials.
template <size_t R, size_t C, size_t v>
HWY_INLINE void tilePass(DF df, const float *x, size_t kp, const bf16 *w, size_t ldw,
                         size_t n, VF (&acc)[R][C]) {
  const hn::RebindToUnsigned<DF> du;
  constexpr size_t s = v / 2;
  for (size_t b = 0; b < n; ++b) {
    const bf16 *wb = w + b * kDotPartials + s * 2 * kLanes;
    VF wv[C];
    HWY_UNROLL(8)
    for (size_t c = 0; c < C; ++c) {
      const auto u = hn::LoadU(du, reinterpret_cast<const uint32_t *>(wb + c * ldw));
      if constexpr (v % 2 == 0)
        wv[c] = hn::BitCast(df, hn::ShiftLeft<16>(u));
      else // u & 0xFFFF0000 without a mask register (all 16 are taken)
        wv[c] = hn::BitCast(df, hn::ShiftLeft<16>(hn::ShiftRight<16>(u)));
    }
    const float *xb = x + b * kDotPartials + v * kLanes;
    HWY_UNROLL(4)
    for (size_t r = 0; r < R; ++r) {
      VF xv = hn::LoadU(df, xb + r * kp);
      keepInRegister(xv);
      HWY_UNROLL(8)
      for (size_t c = 0; c < C; ++c)
        acc[r][c] = hn::MulAdd(xv, wv[c], acc[r][c]);
    }
  }
}

/// Pass v over n blocks, its accumulators loaded from (zero in the first chunk) and
/// stored to `all`. Each loaded vector goes through keepInRegister: left to itself,
/// GCC turns the loads into a copy of the array (a rep movs into a stack frame, then
/// vector loads from it, which wait for the copy's stores to retire): a third of a
/// 32-block pass's time was measured there.
template <size_t R, size_t C, size_t v, bool kFirst>
HWY_INLINE void tilePassFrom(DF df, const float *x, size_t kp, const bf16 *w, size_t ldw,
                             size_t n, float *all) {
  float *const a = all + v * R * C * kLanes;
  VF acc[R][C];
  HWY_UNROLL(4)
  for (size_t r = 0; r < R; ++r)
    HWY_UNROLL(8)
  for (size_t c = 0; c < C; ++c) {
    acc[r][c] = kFirst ? hn::Zero(df) : hn::Load(df, a + (r * C + c) * kLanes);
    keepInRegister(acc[r][c]);
  }
  tilePass<R, C, v>(df, x, kp, w, ldw, n, acc);
  HWY_UNROLL(4)
  for (size_t r = 0; r < R; ++r)
    HWY_UNROLL(8)
  for (size_t c = 0; c < C; ++c) {
    keepInRegister(acc[r][c]);
    hn::Store(acc[r][c], df, a + (r * C + c) * kLanes);
  }
}

/// kVectors passes over n blocks.
template <size_t R, size_t C, bool kFirst, size_t... Vs>
HWY_INLINE void tilePasses(DF df, const float *x, size_t kp, const bf16 *w, size_t ldw,
                           size_t n, float *all, std::index_sequence<Vs...>) {
  (tilePassFrom<R, C, Vs, kFirst>(df, x, kp, w, ldw, n, all), ...);
}

/// Blocks [b0, b1) of an R x C tile, by kVectors passes per chunk of kPassBlocks, its
/// accumulators in `all` (all[((v * R + r) * C + c) * kLanes, + kLanes): accumulator v
/// of dot (r, c)), from zero when b0 is 0. When b1 is the last whole block of k it
/// also takes the zero-padded tail and writes the tree of each dot to out. x and w
/// point at block 0. Every accumulator gets its blocks in order however k is cut.
template <size_t R, size_t C>
HWY_NOINLINE void dotTilePassRange(const float *x, size_t kp, const bf16 *w, size_t ldw,
                                   size_t k, size_t b0, size_t b1, float *all, float *out,
                                   size_t ldo) {
  const DF df;
  const size_t full = k / kDotPartials;
  constexpr auto kPassList = std::make_index_sequence<kVectors>();
  for (size_t b = b0; b < b1; b += kPassBlocks) {
    const size_t n = std::min(kPassBlocks, b1 - b);
    if (b == 0)
      tilePasses<R, C, true>(df, x, kp, w, ldw, n, all, kPassList);
    else
      tilePasses<R, C, false>(df, x + b * kDotPartials, kp, w + b * kDotPartials, ldw, n,
                              all, kPassList);
  }
  if (b1 != full)
    return;
  if (full * kDotPartials < k) {
    bf16 tail[C][kDotPartials];
    for (size_t c = 0; c < C; ++c)
      padTail(w + c * ldw + full * kDotPartials, k - full * kDotPartials, tail[c]);
    const float *xt = x + full * kDotPartials;
    if (full > 0)
      tilePasses<R, C, false>(df, xt, kp, &tail[0][0], kDotPartials, 1, all, kPassList);
    else
      tilePasses<R, C, true>(df, xt, kp, &tail[0][0], kDotPartials, 1, all, kPassList);
  }
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) {
      VF acc[kVectors];
      for (size_t v = 0; v < kVectors; ++v)
        acc[v] = hn::Load(df, all + ((v * R + r) * C + c) * kLanes);
      out[r * ldo + c] = reducePermuted(df, acc);
    }
}

/// The floats of one pass tile's accumulators.
constexpr size_t kPassTileFloats = kVectors * kMaxTileRows * kMaxTileCols * kLanes;

template <size_t R, size_t C>
HWY_NOINLINE void dotTilePasses(const float *x, size_t kp, const bf16 *w, size_t ldw,
                                size_t k, float *out, size_t ldo) {
  alignas(64) float all[kVectors * R * C * kLanes];
  dotTilePassRange<R, C>(x, kp, w, ldw, k, 0, k / kDotPartials, all, out, ldo);
}

/// out[r * ldo + c] for an R x C tile: x the packed rows (kp floats apart), w's rows
/// ldw apart, k elements of which `full` whole blocks.
template <size_t R, size_t C>
HWY_NOINLINE void dotTile(const float *x, size_t kp, const bf16 *w, size_t ldw, size_t k,
                          float *out, size_t ldo) {
  const DF df;
  VF acc[R][C][kVectors];
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c)
      for (size_t v = 0; v < kVectors; ++v)
        acc[r][c][v] = hn::Zero(df);
  const size_t full = k / kDotPartials;
  for (size_t b = 0; b < full; ++b) {
    tileStep<R, C>(df, x + b * kDotPartials, kp, w + b * kDotPartials, ldw, acc);
  }
  if (full * kDotPartials < k) {
    bf16 tail[C][kDotPartials];
    for (size_t c = 0; c < C; ++c)
      padTail(w + c * ldw + full * kDotPartials, k - full * kDotPartials, tail[c]);
    tileStep<R, C>(df, x + full * kDotPartials, kp, &tail[0][0], kDotPartials, acc);
  }
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c)
      out[r * ldo + c] = reducePermuted(df, acc[r][c]);
}

using TileFn = void (*)(const float *, size_t, const bf16 *, size_t, size_t, float *,
                        size_t);

using RangeFn = void (*)(const float *, size_t, const bf16 *, size_t, size_t, size_t,
                         size_t, float *, float *, size_t);

/// The whole-k tile of each shape: pass tiles with 16 registers, register tiles with 32.
struct WholeKTiles {
  template <size_t R, size_t C> static constexpr TileFn get() {
    if constexpr (C > tileCols(R))
      return nullptr;
    else if constexpr (kVectorPasses)
      return &dotTilePasses<R, C>;
    else
      return &dotTile<R, C>;
  }
};

/// The pass tiles over a range of k's blocks (targets with 16 registers only).
struct KRangeTiles {
  template <size_t R, size_t C> static constexpr RangeFn get() {
    if constexpr (!kVectorPasses || C > tileCols(R))
      return nullptr;
    else
      return &dotTilePassRange<R, C>;
  }
};

template <class Pick, size_t R, size_t... Cs>
constexpr auto tileRow(std::index_sequence<Cs...>) {
  return std::array{Pick::template get<R, Cs + 1>()...};
}

/// table[R - 1][C - 1]: Pick's R x C tile, null where it would not fit the registers.
template <class Pick, size_t... Rs> constexpr auto tileTable(std::index_sequence<Rs...>) {
  return std::array{tileRow<Pick, Rs + 1>(std::make_index_sequence<kMaxTileCols>())...};
}

constexpr auto kTiles = tileTable<WholeKTiles>(std::make_index_sequence<kMaxTileRows>());
constexpr auto kRangeTiles =
    tileTable<KRangeTiles>(std::make_index_sequence<kMaxTileRows>());

/// One 32-element block of a dot with x packed (packRow's layout) and w's u32 pairs
/// split by a shift (even elements) and a mask (odd ones).
HWY_INLINE void packedStep(DF df, const float *xb, const bf16 *wb, VF (&acc)[kVectors]) {
  const hn::RebindToUnsigned<DF> du;
  const auto high = hn::Set(du, 0xFFFF0000u);
  HWY_UNROLL(2)
  for (size_t s = 0; s < kSub; ++s) {
    const auto u = hn::LoadU(du, reinterpret_cast<const uint32_t *>(wb + s * 2 * kLanes));
    acc[2 * s] = hn::MulAdd(hn::Load(df, xb + s * 2 * kLanes),
                            hn::BitCast(df, hn::ShiftLeft<16>(u)), acc[2 * s]);
    acc[2 * s + 1] = hn::MulAdd(hn::Load(df, xb + s * 2 * kLanes + kLanes),
                                hn::BitCast(df, hn::And(u, high)), acc[2 * s + 1]);
  }
}

/// dot(x, w, k) with x a packed row: no widening of either operand.
HWY_INLINE float dotPacked(DF df, const float *xp, const bf16 *w, size_t k) {
  VF acc[kVectors];
  HWY_UNROLL(4)
  for (size_t v = 0; v < kVectors; ++v)
    acc[v] = hn::Zero(df);
  const size_t full = k / kDotPartials;
  for (size_t b = 0; b < full; ++b)
    packedStep(df, xp + b * kDotPartials, w + b * kDotPartials, acc);
  if (full * kDotPartials < k) {
    bf16 tail[kDotPartials];
    padTail(w + full * kDotPartials, k - full * kDotPartials, tail);
    packedStep(df, xp + full * kDotPartials, tail, acc);
  }
  return reducePermuted(df, acc);
}

/// At least `floats` of `store`, from its first cache-line boundary: a vector load
/// that splits across two lines costs two.
float *lineAligned(std::vector<float> &store, size_t floats) {
  constexpr size_t kLineFloats = 64 / sizeof(float);
  if (store.size() < floats + kLineFloats)
    store.resize(floats + kLineFloats);
  const size_t misalign =
      reinterpret_cast<uintptr_t>(store.data()) / sizeof(float) % kLineFloats;
  return store.data() + (kLineFloats - misalign) % kLineFloats;
}

/// The packed panel of this thread (a packed row is a multiple of 32 floats, so every
/// row of it is line-aligned too).
float *panelBuffer(size_t floats) {
  thread_local std::vector<float> store;
  return lineAligned(store, floats);
}

void DotRowsBf16(const bf16 *q, int64_t nq, const bf16 *k, const int64_t *rows,
                 int64_t stride, int64_t n, size_t hd, float *out) {
  if (nq <= 0 || n <= 0)
    return;
  const DF df;
  const size_t kp = (hd + kDotPartials - 1) / kDotPartials * kDotPartials;
  float *const qp = panelBuffer(size_t(nq) * kp);
  for (int64_t h = 0; h < nq; ++h)
    packRow(q + size_t(h) * hd, hd, qp + size_t(h) * kp);
  for (int64_t j = 0; j < n; ++j) {
    const bf16 *kj = k + rows[j] * stride;
    for (int64_t h = 0; h < nq; ++h)
      out[h * n + j] = dotPacked(df, qp + size_t(h) * kp, kj, hd);
  }
}

/// Up to this many rows DotBlockBf16 runs plain dots, column by column.
constexpr int64_t kPlainDotRows = 4;
/// Whether the plain dots take x packed (packRow, once per block) and split each
/// weight line's bf16 pairs by a shift and a mask (dotPacked), not widen both operands
/// per element (dot). On AVX2 the widening is two shuffles and two shifts per 8
/// elements on the two pipes that run them: about 24 GB/s of weights per core, below
/// the 28 GB/s a core reads from 2 MiB pages, and the packed dot streams 3% faster
/// (host_kernels gemv) and decodes 5% faster (bench/NOTES.md). On AVX-512 the
/// widening keeps up, and the packed dot's one 64-byte load per line streamed cold
/// weights at half the rate on the EPYC VM (host_kernels gemv: 1.03 -> 1.88 the read
/// time), so it keeps the widening dot.
constexpr bool kPackedPlainDots = kLanes == 8;

void DotBlockBf16(const bf16 *x, int64_t ldx, int64_t rows, const bf16 *w, int64_t ldw,
                  int64_t cols, size_t k, float *out, int64_t ldo) {
  if (rows <= 0 || cols <= 0)
    return;
  if (rows <= kPlainDotRows) {
    // Few rows (decode, a short prompt): the weights dominate and stream from memory
    // once either way; the plain dot streams them faster than a tile does (measured:
    // cold weights), and the other rows reread each weight row from L1.
    if constexpr (kPackedPlainDots) {
      const DF df;
      const size_t kp = (k + kDotPartials - 1) / kDotPartials * kDotPartials;
      float *const xp = panelBuffer(size_t(rows) * kp);
      for (int64_t r = 0; r < rows; ++r)
        packRow(x + r * ldx, k, xp + size_t(r) * kp);
      for (int64_t c = 0; c < cols; ++c)
        for (int64_t r = 0; r < rows; ++r)
          out[r * ldo + c] = dotPacked(df, xp + size_t(r) * kp, w + c * ldw, k);
      return;
    }
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t r = 0; r < rows; ++r)
        out[r * ldo + c] = dot(x + r * ldx, w + c * ldw, k);
    return;
  }
  const size_t kp = (k + kDotPartials - 1) / kDotPartials * kDotPartials;
  // Rows per packed panel: a multiple of the tile's rows, within kPanelBytes. Each
  // weight tile is streamed once per panel and reused from L1 for its rows.
  const size_t panelRows =
      std::max(kMaxTileRows, kPanelBytes / std::max<size_t>(kp * sizeof(float), 1) /
                                 kMaxTileRows * kMaxTileRows);
  for (int64_t r0 = 0; r0 < rows; r0 += int64_t(panelRows)) {
    const size_t nr = std::min<size_t>(panelRows, size_t(rows - r0));
    float *const panel = panelBuffer(nr * kp);
    for (size_t r = 0; r < nr; ++r)
      packRow(x + (r0 + int64_t(r)) * ldx, k, panel + r * kp);
    const size_t tr = std::min(kMaxTileRows, nr), tc = tileCols(tr);
    // Column tiles of tc, but a remainder of tc + 1 as two halves: a one-column tile
    // loads each x vector for a single FMA.
    const auto colsAt = [&](int64_t c0) {
      const size_t rem = size_t(cols - c0);
      return rem == tc + 1 ? rem - rem / 2 : std::min(tc, rem);
    };
    const auto tile = [&](size_t r, int64_t c0, size_t nc) HWY_ATTR {
      const size_t nrt = std::min(tr, nr - r);
      kTiles[nrt - 1][nc - 1](panel + r * kp, kp, w + c0 * ldw, size_t(ldw), k,
                              out + (r0 + int64_t(r)) * ldo + c0, size_t(ldo));
    };
    if (kVectorPasses && tr * kp * sizeof(float) > kL1RowTileBytes) {
      // The same with k cut into chunks whose row tile fits L1: every column tile's
      // accumulators wait in `state` for the next chunk.
      const size_t full = k / kDotPartials;
      const size_t chunk =
          std::max(kPassBlocks, kL1RowTileBytes / (tr * sizeof(float)) / kDotPartials /
                                    kPassBlocks * kPassBlocks);
      const size_t colTiles = (size_t(cols) + tc - 1) / tc + 1;
      thread_local std::vector<float> stateStore;
      float *const state = lineAligned(stateStore, colTiles * kPassTileFloats);
      for (size_t r = 0; r < nr; r += tr) {
        const size_t nrt = std::min(tr, nr - r);
        size_t b0 = 0;
        do {
          const size_t b1 = std::min(b0 + chunk, full);
          size_t t = 0;
          for (int64_t c0 = 0; c0 < cols; ++t) {
            const size_t nc = colsAt(c0);
            kRangeTiles[nrt - 1][nc - 1](panel + r * kp, kp, w + c0 * ldw, size_t(ldw), k,
                                         b0, b1, state + t * kPassTileFloats,
                                         out + (r0 + int64_t(r)) * ldo + c0, size_t(ldo));
            c0 += int64_t(nc);
          }
          b0 = b1;
        } while (b0 < full);
      }
    } else if (tr * kp * sizeof(float) <= kL1RowTileBytes) {
      // The row tile stays in L1 while the weight tiles come by from L2 (a tile's
      // first pass otherwise reads its x rows from L2: more bytes than its weights).
      for (size_t r = 0; r < nr; r += tr)
        for (int64_t c0 = 0; c0 < cols;) {
          const size_t nc = colsAt(c0);
          tile(r, c0, nc);
          c0 += int64_t(nc);
        }
    } else {
      // Each weight tile stays in L1 for the panel's row tiles.
      for (int64_t c0 = 0; c0 < cols;) {
        const size_t nc = colsAt(c0);
        for (size_t r = 0; r < nr; r += tr)
          tile(r, c0, nc);
        c0 += int64_t(nc);
      }
    }
  }
}

#else // !MK_SIMD_VECTOR_PATH: the contract one partial at a time.

template <typename T> float dot(const T *a, const T *b, size_t n) {
  float p[kDotPartials] = {};
  for (size_t i0 = 0; i0 < n; i0 += kDotPartials)
    for (size_t j = 0; j < kDotPartials; ++j) {
      const size_t i = i0 + j;
      p[j] =
          i < n ? std::fma(toF32(a[i]), toF32(b[i]), p[j]) : std::fma(0.0f, 0.0f, p[j]);
    }
  for (size_t w = kDotPartials / 2; w >= 1; w /= 2)
    for (size_t j = 0; j < w; ++j)
      p[j] = p[j] + p[j + w];
  return p[0];
}

void WeightedRowSum(const float *p, const bf16 *v, const int64_t *rows, int64_t stride,
                    int64_t n, uint32_t hd, float *o) {
  for (int64_t j = 0; j < n; ++j) {
    const bf16 *vj = v + rows[j] * stride;
    for (uint32_t d = 0; d < hd; ++d)
      o[d] = std::fma(p[j], bf16ToFloat(vj[d]), o[d]);
  }
}

void NormalizeBf16(const bf16 *x, const bf16 *w, float scale, size_t n, bf16 *out) {
  for (size_t i = 0; i < n; ++i)
    out[i] = floatToBf16(bf16ToFloat(w[i]) * roundToBf16(bf16ToFloat(x[i]) * scale));
}

void DotRowsBf16(const bf16 *q, int64_t nq, const bf16 *k, const int64_t *rows,
                 int64_t stride, int64_t n, size_t hd, float *out) {
  for (int64_t j = 0; j < n; ++j)
    for (int64_t h = 0; h < nq; ++h)
      out[h * n + j] = dot(q + size_t(h) * hd, k + rows[j] * stride, hd);
}

void DotBlockBf16(const bf16 *x, int64_t ldx, int64_t rows, const bf16 *w, int64_t ldw,
                  int64_t cols, size_t k, float *out, int64_t ldo) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[r * ldo + c] = dot(x + r * ldx, w + c * ldw, k);
}

#endif // MK_SIMD_VECTOR_PATH

float DotBf16(const bf16 *a, const bf16 *b, size_t n) { return dot(a, b, n); }
float DotF32(const float *a, const float *b, size_t n) { return dot(a, b, n); }

const SimdOps *GetOps() {
  static const SimdOps ops{hwy::TargetName(HWY_TARGET),
                           HWY_TARGET,
                           &DotBf16,
                           &DotF32,
                           &DotBlockBf16,
                           &DotRowsBf16,
                           &WeightedRowSum,
                           &NormalizeBf16};
  return &ops;
}

} // namespace HWY_NAMESPACE
} // namespace mk::host::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mk::host::kernels {

HWY_EXPORT(GetOps);

namespace detail {
std::atomic<const SimdOps *> activeOps{nullptr};

const SimdOps &selectBestOps() {
  const SimdOps *expected = nullptr;
  // A target forced meanwhile stays.
  activeOps.compare_exchange_strong(expected, &bestOps());
  return *activeOps.load();
}
} // namespace detail

const SimdOps &bestOps() { return *HWY_DYNAMIC_DISPATCH(GetOps)(); }

std::span<const SimdOps *const> compiledOps() {
  static const std::vector<const SimdOps *> ops = [] {
    // HWY_EXPORT's list without its initializing entry: best first, null where a
    // target is not compiled, then the fallback (which a build with a SIMD baseline
    // shares with the list).
    using GetOpsFn = const SimdOps *(*)();
    const GetOpsFn table[] = {HWY_CHOOSE_TARGET_LIST(GetOps),
                              HWY_CHOOSE_FALLBACK(GetOps)};
    std::vector<const SimdOps *> list;
    for (GetOpsFn get : table)
      if (get && std::find(list.begin(), list.end(), get()) == list.end())
        list.push_back(get());
    return list;
  }();
  return ops;
}

bool supportedByCpu(const SimdOps &ops) {
  return (hwy::SupportedTargets() & ops.targetBit) != 0;
}

void setActiveOps(const SimdOps &ops) {
  detail::activeOps.store(&ops, std::memory_order_release);
}

} // namespace mk::host::kernels
#endif // HWY_ONCE
