//===- host_kernels.cpp - The host kernels' dot blocks, away from the executor ---===//
//
// Two measurements of megakernel/host/kernels' dotBlockBf16 on one SIMD target, away
// from the executor, for changes to the tiles (bench/NOTES.md):
//   block: `--calls` dot blocks of --rows x --cols x --k on the same warm x and weights
//          (the prefill's GEMM tiles: 64 rows, 64 or 128 columns, k = hidden or ffn);
//          prints GFLOP/s over the thread's CPU time, the median of --reps passes.
//   gemv:  dot blocks of --rows (1 for decode) x --cols over --mib MiB of cold weights,
//          one column block after the other, against a plain read-sum of the same
//          buffer on the same thread; prints both rates and the median over --reps
//          passes of gemv time / read time (1.00: the dots stream the weights as fast
//          as a loop that only reads them); with --threads T, T threads each stream
//          their own part of the buffer, for both loops. The weights are on 2 MiB
//          transparent huge pages where the system allows them, as mkrun's are
//          (--small-pages: 4 KiB).
// The target is one of the compiled Highway targets this CPU supports (--target, the
// best by default). Prints key=value lines.
//===----------------------------------------------------------------------===//
#include "bench_args.h"
#include "kernels/simd_ops.h"
#include "read_sum-inl.h"

#include "mk/host/bf16.h"
#include "mk/host/huge_pages.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <hwy/highway.h>
#include <string>
#include <thread>
#include <vector>

namespace {

using mk::host::bf16;
namespace kernels = mk::host::kernels;

double threadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

double wallSeconds() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

/// Deterministic bf16 values in [-1, 1).
void fill(bf16 *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t h = uint32_t(i) * 2654435761u + seed * 40503u;
    p[i] = mk::host::floatToBf16(float(int32_t(h >> 8) % 1000) / 1000.0f);
  }
}

/// A sum of the bytes of p[0, n) as 64-bit words, with full-vector loads of the
/// build's baseline target: a loop that only streams them.
uint64_t readSum(const bf16 *p, size_t n) {
  return bench::HWY_NAMESPACE::streamSum(hwy::HWY_NAMESPACE::ScalableTag<uint64_t>(),
                                         reinterpret_cast<const uint64_t *>(p),
                                         n * sizeof(bf16) / sizeof(uint64_t));
}

int usage(const char *msg) {
  if (msg)
    std::fprintf(stderr, "host_kernels: error: %s\n", msg);
  std::fprintf(
      msg ? stderr : stdout,
      "usage: host_kernels block|gemv [--target T] [--rows R] [--cols C] [--k K]\n"
      "                    [--calls N] [--mib M] [--reps P] [--threads T] "
      "[--small-pages]\n"
      "  block: N dot blocks of R x C x K (defaults 64 x 64 x 1024, N = 2000) on warm\n"
      "         operands: GFLOP/s over thread CPU time, median of P passes (5).\n"
      "  gemv:  dot blocks of R (default 1) x C over M MiB (default 256) of cold\n"
      "         weights against a read-sum of the same buffer: the median ratio of\n"
      "         their times over P passes (7); with T threads (1), each streams its own\n"
      "         part of the buffer, for both. The weights are on 2 MiB transparent\n"
      "         huge pages where the system allows them (--small-pages: 4 KiB pages).\n"
      "  --target: a compiled SIMD target this CPU supports (AVX3_DL, AVX3, AVX2, ...;\n"
      "         default: the best).\n");
  return msg ? 2 : 0;
}

bool sameName(const char *a, const std::string &b) {
  std::string x(a);
  if (x.size() != b.size())
    return false;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(x[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return usage("no mode (block or gemv)");
  const std::string mode = argv[1];
  if (mode == "-h" || mode == "--help")
    return usage(nullptr);
  if (mode != "block" && mode != "gemv")
    return usage(("unknown mode '" + mode + "'").c_str());
  const bool gemv = mode == "gemv";
  unsigned long rows = gemv ? 1 : 64, cols = 64, k = 1024, calls = 2000, mib = 256,
                reps = gemv ? 7 : 5, threads = 1;
  std::string target;
  bool smallPages = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help")
      return usage(nullptr);
    if (arg == "--small-pages") {
      smallPages = true;
      continue;
    }
    if (i + 1 >= argc)
      return usage((arg + " needs a value").c_str());
    if (arg == "--target") {
      target = argv[++i];
      continue;
    }
    unsigned long *dst = arg == "--rows"      ? &rows
                         : arg == "--cols"    ? &cols
                         : arg == "--k"       ? &k
                         : arg == "--calls"   ? &calls
                         : arg == "--mib"     ? &mib
                         : arg == "--reps"    ? &reps
                         : arg == "--threads" ? &threads
                                              : nullptr;
    if (!dst)
      return usage(("unknown argument '" + arg + "'").c_str());
    if (!bench::parsePositive(argv[++i], *dst))
      return usage((arg + " needs a positive integer").c_str());
  }
  if (rows > 4096 || cols > 65536 || k > (1ul << 20))
    return usage("--rows, --cols or --k too large");
  if (threads > 256)
    return usage("--threads above 256");

  const kernels::SimdOps *ops = &kernels::bestOps();
  if (!target.empty()) {
    ops = nullptr;
    for (const kernels::SimdOps *o : kernels::compiledOps())
      if (sameName(o->target, target))
        ops = o;
    if (!ops)
      return usage(("'" + target + "' is not a compiled SIMD target").c_str());
    if (!kernels::supportedByCpu(*ops))
      return usage(("this CPU cannot run " + std::string(ops->target)).c_str());
  }
  std::printf("target=%s\nrows=%lu\ncols=%lu\nk=%lu\n", ops->target, rows, cols, k);

  std::vector<bf16> x(rows * k);
  fill(x.data(), x.size(), 1);
  std::vector<float> out(rows * cols);
  float sink = 0;

  if (!gemv) {
    std::vector<bf16> w(cols * k);
    fill(w.data(), w.size(), 2);
    std::vector<double> rates;
    for (unsigned long p = 0; p < reps; ++p) {
      const double t0 = threadSeconds();
      for (unsigned long c = 0; c < calls; ++c) {
        ops->dotBlockBf16(x.data(), int64_t(k), int64_t(rows), w.data(), int64_t(k),
                          int64_t(cols), k, out.data(), int64_t(cols));
        sink += out[c % out.size()];
      }
      rates.push_back(2.0 * double(rows * cols * k * calls) / (threadSeconds() - t0));
    }
    std::printf("block_gflops=%.1f\n(checksum %g)\n", bench::median(rates) * 1e-9, sink);
    return 0;
  }

  const size_t blockElems = cols * k;
  const size_t blocks = std::max<size_t>(1, (mib << 20) / (blockElems * sizeof(bf16)));
  const mk::host::HugePageBuffer mapping =
      mk::host::HugePageBuffer::allocate(blocks * blockElems * sizeof(bf16), !smallPages);
  if (!mapping)
    return usage("cannot allocate the weights");
  std::printf("pages=%s\n", mapping.hugePages() ? "2M" : "4K");
  bf16 *const w = reinterpret_cast<bf16 *>(mapping.data());
  fill(w, blocks * blockElems, 2);
  const double bytes = double(blocks * blockElems * sizeof(bf16));
  // One pass of `work(t)` on every thread, timed from before the first starts to after
  // the last ends. Thread t reads blocks [t * blocks / T, (t + 1) * blocks / T): each
  // streams its own part, as the read of host_roofline does.
  auto timed = [&](auto work) {
    const double t0 = wallSeconds();
    std::vector<std::thread> pool;
    for (unsigned long t = 1; t < threads; ++t)
      pool.emplace_back(work, t);
    work(0);
    for (std::thread &th : pool)
      th.join();
    return wallSeconds() - t0;
  };
  auto first = [&](unsigned long t) { return t * blocks / threads; };
  std::vector<std::vector<float>> outs(threads, out);
  std::vector<uint64_t> checks(threads, 0);
  std::vector<float> sinks(threads, 0);
  std::vector<double> ratios, readRates, gemvRates;
  for (unsigned long p = 0; p < reps; ++p) {
    const double read = timed([&](unsigned long t) {
      checks[t] +=
          readSum(w + first(t) * blockElems, (first(t + 1) - first(t)) * blockElems);
    });
    const double dots = timed([&](unsigned long t) {
      for (size_t b = first(t); b < first(t + 1); ++b) {
        ops->dotBlockBf16(x.data(), int64_t(k), int64_t(rows), w + b * blockElems,
                          int64_t(k), int64_t(cols), k, outs[t].data(), int64_t(cols));
        sinks[t] += outs[t][b % outs[t].size()];
      }
    });
    ratios.push_back(dots / read);
    readRates.push_back(bytes / read);
    gemvRates.push_back(bytes / dots);
  }
  uint64_t check = 0;
  for (unsigned long t = 0; t < threads; ++t) {
    check += checks[t];
    sink += sinks[t];
  }
  std::printf("threads=%lu\nread_gbps=%.1f\ngemv_gbps=%.1f\ngemv_over_read=%.3f\n"
              "(checksum %g %llu)\n",
              threads, bench::median(readRates) * 1e-9, bench::median(gemvRates) * 1e-9,
              bench::median(ratios), sink, static_cast<unsigned long long>(check));
  return 0;
}
