//===- host_roofline.cpp - This CPU's streaming-read bandwidth and FMA peak -===//
//
// The two rates the host executor is held against, measured with the thread count of
// the workers (bench/host_decode.sh):
//   read: every thread sums its own slice of one buffer much larger than the caches,
//         with aligned full-vector loads into 8 independent accumulators; the rate is
//         the buffer's bytes over the time from the common start to the last thread's
//         end (the median of --reps passes, after one untimed pass that faults the
//         pages in). The buffer is on 2 MiB transparent huge pages where the system
//         allows them (mk/host/huge_pages.h), like mkrun's weights: reads run faster on
//         them, so this is the floor mkrun's decode is held against (--small-pages
//         measures 4 KiB pages instead).
//   fma:  every thread runs 12 independent FMA chains of full vectors (enough to cover
//         the FMA latency on two pipes); 2 flops per lane per FMA. Measured on every
//         SIMD target this CPU supports that has FMA.
// The kernels are compiled once per SIMD target with Highway's dynamic dispatch, as the
// host kernels are (megakernel/host/kernels/simd_ops.cpp): nothing here depends on the
// build machine's CPU.
//
// Output: key=value lines (threads, best_target, read_pages, read_mib, read_gbps,
// fma_gflops_<TARGET>, fma_gflops_best), which the script reads.
//===----------------------------------------------------------------------===//

#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif

#include "bench_args.h"
#include "mk/host/huge_pages.h"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "host_roofline.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep

#include <hwy/highway.h>

#include "read_sum-inl.h"

// Once, though foreach_target.h includes this file once per target.
#ifndef MK_HOST_ROOFLINE_KERNELS
#define MK_HOST_ROOFLINE_KERNELS
namespace roofline {

/// One target's kernels.
struct Kernels {
  const char *target;
  int64_t targetBit;
  bool fma; // whether the target has native FMA (the peak is measured only then)
  /// The sum of n floats at p (a multiple of 8 vectors, aligned).
  float (*readSum)(const float *p, size_t n);
  /// Runs `iters` rounds of 12 vector FMAs; returns the flops done (and writes a value
  /// derived from the accumulators to *sink, so nothing is dropped).
  double (*fmaChains)(uint64_t iters, float *sink);
};

} // namespace roofline
#endif

HWY_BEFORE_NAMESPACE();
namespace roofline {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

float ReadSum(const float *p, size_t n) {
  return bench::HWY_NAMESPACE::streamSum(hn::ScalableTag<float>(), p, n);
}

double FmaChains(uint64_t iters, float *sink) {
  const hn::ScalableTag<float> d;
  constexpr int kChains = 12;
  const auto m = hn::Set(d, 0.999999f);
  const auto c = hn::Set(d, 1e-7f);
  hn::Vec<decltype(d)> acc[kChains];
  for (int k = 0; k < kChains; ++k)
    acc[k] = hn::Set(d, float(k + 1));
  for (uint64_t i = 0; i < iters; ++i) {
    HWY_UNROLL(12)
    for (int k = 0; k < kChains; ++k)
      acc[k] = hn::MulAdd(acc[k], m, c);
  }
  auto s = acc[0];
  for (int k = 1; k < kChains; ++k)
    s = hn::Add(s, acc[k]);
  *sink = hn::GetLane(hn::SumOfLanes(d, s));
  return 2.0 * double(hn::Lanes(d)) * kChains * double(iters);
}

const Kernels *GetKernels() {
  static const Kernels k {
    hwy::TargetName(HWY_TARGET), HWY_TARGET,
#if HWY_NATIVE_FMA && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
        true,
#else
        false,
#endif
        &ReadSum, &FmaChains
  };
  return &k;
}

} // namespace HWY_NAMESPACE
} // namespace roofline
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace roofline {

HWY_EXPORT(GetKernels);

namespace {

using Clock = std::chrono::steady_clock;

/// The compiled targets this CPU supports, best first.
std::vector<const Kernels *> supportedKernels() {
  using GetFn = const Kernels *(*)();
  const GetFn table[] = {HWY_CHOOSE_TARGET_LIST(GetKernels),
                         HWY_CHOOSE_FALLBACK(GetKernels)};
  std::vector<const Kernels *> list;
  for (GetFn get : table)
    if (get && (hwy::SupportedTargets() & get()->targetBit) &&
        std::find(list.begin(), list.end(), get()) == list.end())
      list.push_back(get());
  return list;
}

/// Runs body(thread) on `threads` threads at once, `reps` times; returns each pass's
/// seconds from the common start to the last thread's end.
std::vector<double> timePasses(unsigned threads, unsigned reps,
                               const std::function<void(unsigned)> &body) {
  // Each thread stamps its own start and end, and a pass lasts from the first start
  // to the last end. (A pass timed by the launching thread, from when it left the
  // start barrier, came out short whenever that thread, a third one on a machine with
  // as many cores as workers, was not scheduled until the workers were well on: a
  // 2-thread read of 256 MiB measured up to 278 GB/s on the 2-core VM.)
  std::vector<double> seconds;
  std::vector<Clock::time_point> starts(threads), ends(threads);
  std::barrier sync(threads + 1);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (unsigned r = 0; r < reps; ++r) {
        sync.arrive_and_wait(); // start
        starts[t] = Clock::now();
        body(t);
        ends[t] = Clock::now();
        sync.arrive_and_wait(); // end
      }
    });
  for (unsigned r = 0; r < reps; ++r) {
    sync.arrive_and_wait();
    sync.arrive_and_wait();
    const Clock::time_point first = *std::min_element(starts.begin(), starts.end());
    const Clock::time_point last = *std::max_element(ends.begin(), ends.end());
    seconds.push_back(std::chrono::duration<double>(last - first).count());
  }
  for (std::thread &th : pool)
    th.join();
  return seconds;
}

int usage(const char *msg) {
  if (msg)
    std::fprintf(stderr, "host_roofline: error: %s\n", msg);
  std::fprintf(msg ? stderr : stdout,
               "usage: host_roofline [--threads N] [--mib M] [--reps R] [--fma-ms MS] "
               "[--small-pages]\n"
               "  Streaming-read bandwidth (N threads summing a buffer of M MiB, default "
               "1024, on 2 MiB transparent huge pages where the system allows them, or "
               "4 KiB pages with --small-pages; median of R passes, default 7) and the "
               "FMA peak of every SIMD target this CPU supports (N threads, R passes of "
               "about MS ms each, default 200). Prints key=value lines (read_pages: 2M "
               "or 4K, what the buffer got).\n");
  return msg ? 2 : 0;
}

} // namespace

int run(int argc, char **argv) {
  unsigned long threads = std::max(1u, std::thread::hardware_concurrency());
  unsigned long mib = 1024, reps = 7, fmaMs = 200;
  bool smallPages = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help")
      return usage(nullptr);
    if (arg == "--small-pages") {
      smallPages = true;
      continue;
    }
    unsigned long *dst = arg == "--threads"  ? &threads
                         : arg == "--mib"    ? &mib
                         : arg == "--reps"   ? &reps
                         : arg == "--fma-ms" ? &fmaMs
                                             : nullptr;
    if (!dst)
      return usage(("unknown argument '" + arg + "'").c_str());
    if (i + 1 >= argc || !bench::parsePositive(argv[i + 1], *dst))
      return usage((arg + " needs a positive integer").c_str());
    ++i;
  }
  if (threads > 1024)
    return usage("--threads above 1024");

  const std::vector<const Kernels *> kernels = supportedKernels();
  const Kernels &best = *kernels.front();
  std::printf("threads=%lu\nbest_target=%s\n", threads, best.target);

  // Streaming read: each thread's slice is a multiple of 128 floats (8 vectors of up
  // to 16 lanes), filled by the thread that reads it.
  const size_t total = (mib << 20) / sizeof(float);
  const size_t slice = total / threads / 128 * 128;
  if (slice == 0)
    return usage("--mib too small for the threads");
  mk::host::HugePageBuffer mapping =
      mk::host::HugePageBuffer::allocate(slice * threads * sizeof(float), !smallPages);
  if (!mapping)
    return usage("cannot allocate the read buffer");
  std::printf("read_pages=%s\n", mapping.hugePages() ? "2M" : "4K");
  float *const buf = reinterpret_cast<float *>(mapping.data());
  std::vector<float> sinks(threads * 16);
  timePasses(unsigned(threads), 1, [&](unsigned t) {
    float *p = buf + t * slice;
    for (size_t i = 0; i < slice; ++i)
      p[i] = float(i & 7);
  });
  timePasses(unsigned(threads), 1,
             [&](unsigned t) { sinks[t * 16] += best.readSum(buf + t * slice, slice); });
  const std::vector<double> readS =
      timePasses(unsigned(threads), unsigned(reps), [&](unsigned t) {
        sinks[t * 16] += best.readSum(buf + t * slice, slice);
      });
  const double bytes = double(slice * threads * sizeof(float));
  std::printf("read_mib=%.0f\nread_gbps=%.2f\n", bytes / (1 << 20),
              bytes / bench::median(readS) / 1e9);
  mapping = {};

  // FMA peak per target: size the rounds for about fmaMs on one thread first.
  double bestGflops = 0;
  for (const Kernels *k : kernels) {
    if (!k->fma)
      continue;
    float sink = 0;
    uint64_t iters = 1 << 16;
    for (;;) {
      const Clock::time_point t0 = Clock::now();
      k->fmaChains(iters, &sink);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      if (s * 1000 >= double(fmaMs) / 4 || iters > (uint64_t(1) << 40)) {
        iters = uint64_t(double(iters) * double(fmaMs) / 1000 / std::max(s, 1e-9));
        break;
      }
      iters *= 4;
    }
    std::vector<double> flops(threads);
    const std::vector<double> fmaS =
        timePasses(unsigned(threads), unsigned(reps), [&](unsigned t) {
          flops[t] = k->fmaChains(iters, &sinks[t * 16 + 1]);
        });
    double all = 0;
    for (double f : flops)
      all += f;
    const double gflops = all / bench::median(fmaS) / 1e9;
    std::printf("fma_gflops_%s=%.1f\n", k->target, gflops);
    bestGflops = std::max(bestGflops, gflops);
  }
  std::printf("fma_gflops_best=%.1f\n", bestGflops);
  // The sums keep the loops; their values mean nothing.
  double sum = 0;
  for (float s : sinks)
    sum += s;
  std::fprintf(stderr, "(checksum %g)\n", sum);
  return 0;
}

} // namespace roofline

int main(int argc, char **argv) { return roofline::run(argc, argv); }
#endif // HWY_ONCE
