//===- dot.cpp - Fixed-order bf16 dot product (Highway, static dispatch) ----===//
//
// Static dispatch only: the target is the build's baseline (HWY_STATIC_TARGET), so the
// summation order is fixed per build. Dynamic dispatch would make results depend on
// the machine a plan runs on, which the determinism contract forbids.
//===----------------------------------------------------------------------===//
#include "kernels/dot.h"

#include <hwy/highway.h>

namespace mk::host::kernels {
namespace hn = hwy::HWY_NAMESPACE;

namespace {

using FloatTag = hn::ScalableTag<float>;

/// Loads Lanes(df) bf16 values and widens them to f32 (bf16 is the top half of f32).
HWY_INLINE hn::Vec<FloatTag> loadBf16(FloatTag df, const bf16 *p) {
  const hn::RebindToUnsigned<FloatTag> du32;
  const hn::Rebind<uint16_t, FloatTag> du16;
  auto bits = hn::LoadU(du16, reinterpret_cast<const uint16_t *>(p));
  return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du32, bits)));
}

} // namespace

float dotBf16(const bf16 *a, const bf16 *b, size_t n) {
  const FloatTag df;
  const size_t w = hn::Lanes(df);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  size_t i = 0;
  for (; i + 4 * w <= n; i += 4 * w) {
    acc0 = hn::MulAdd(loadBf16(df, a + i), loadBf16(df, b + i), acc0);
    acc1 = hn::MulAdd(loadBf16(df, a + i + w), loadBf16(df, b + i + w), acc1);
    acc2 = hn::MulAdd(loadBf16(df, a + i + 2 * w), loadBf16(df, b + i + 2 * w), acc2);
    acc3 = hn::MulAdd(loadBf16(df, a + i + 3 * w), loadBf16(df, b + i + 3 * w), acc3);
  }
  float sum =
      hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(acc0, acc1), hn::Add(acc2, acc3))));
  for (; i < n; ++i)
    sum += bf16ToFloat(a[i]) * bf16ToFloat(b[i]);
  return sum;
}

size_t dotLanes() { return hn::Lanes(FloatTag()); }

} // namespace mk::host::kernels
