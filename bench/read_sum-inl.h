//===- read_sum-inl.h - A loop that only streams memory, per SIMD target --===//
//
// The read the bench programs hold the kernels against: full-vector loads into 8
// independent accumulators, nothing else. A Highway "-inl.h" header: included once
// per target by a file that dispatches (host_roofline.cpp, under foreach_target.h), or
// once by a file compiled for the static target (host_kernels.cpp).
//===----------------------------------------------------------------------===//

#if defined(MK_BENCH_READ_SUM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MK_BENCH_READ_SUM_INL_H_
#undef MK_BENCH_READ_SUM_INL_H_
#else
#define MK_BENCH_READ_SUM_INL_H_
#endif

#include <hwy/highway.h>

#include <cstddef>

HWY_BEFORE_NAMESPACE();
namespace bench {
namespace HWY_NAMESPACE {

/// The sum of p[0, n): whole groups of 8 vectors through 8 accumulators, the rest
/// one element at a time.
template <class D>
HWY_NOINLINE hwy::HWY_NAMESPACE::TFromD<D>
streamSum(D d, const hwy::HWY_NAMESPACE::TFromD<D> *p, size_t n) {
  namespace hn = hwy::HWY_NAMESPACE;
  const size_t lanes = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  size_t i = 0;
  for (; i + 8 * lanes <= n; i += 8 * lanes) {
    s0 = hn::Add(s0, hn::LoadU(d, p + i));
    s1 = hn::Add(s1, hn::LoadU(d, p + i + lanes));
    s2 = hn::Add(s2, hn::LoadU(d, p + i + 2 * lanes));
    s3 = hn::Add(s3, hn::LoadU(d, p + i + 3 * lanes));
    s4 = hn::Add(s4, hn::LoadU(d, p + i + 4 * lanes));
    s5 = hn::Add(s5, hn::LoadU(d, p + i + 5 * lanes));
    s6 = hn::Add(s6, hn::LoadU(d, p + i + 6 * lanes));
    s7 = hn::Add(s7, hn::LoadU(d, p + i + 7 * lanes));
  }
  auto t =
      hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)),
                                            hn::Add(hn::Add(s4, s5), hn::Add(s6, s7)))));
  for (; i < n; ++i)
    t += p[i];
  return t;
}

} // namespace HWY_NAMESPACE
} // namespace bench
HWY_AFTER_NAMESPACE();

#endif // MK_BENCH_READ_SUM_INL_H_
