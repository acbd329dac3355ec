// Stress test of the cross-rank flag protocol (mk/isa/protocol.h, "Cross-rank
// communication") on threads: 2..4 ranks, 1..4 workers each, random sleeps and yields.
//
// Every rank runs the same program with workerLoop and its own events. A step is a
// chain of comm sites; site k has n_k tiles. Producer task P(k, j) writes this rank's
// partial of tile j from the whole output of site k - 1 (so every tile of site k waits
// for all of site k - 1, as the plan verifier requires), and comm task C(k, j) pushes
// it to every rank with kernels::exchangeTile (the host executor's code), waits for
// every rank's, and writes the sum in rank order. Site 0's producers wait on the
// previous step's last site (stepBack 1). The values are small integers in float, so
// the result is checked exactly against a sequential evaluation. Pushed bytes are plain
// writes into the peer's buffer and read with plain reads: in the ThreadSanitizer build
// (label tsan) a missing release/acquire on a flag is a data race, and the variant built
// with relaxed flags must be reported (label tsan, test tp_stress_tsan_relaxed_flags).
#include "kernels/comm_exchange.h"
#include "mk/isa/protocol.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace {

using mk::isa::TaskRecord;
using mk::isa::Wait;
namespace protocol = mk::protocol;
namespace kernels = mk::host::kernels;

constexpr uint32_t kWidth = 8; // floats per tile

struct Shape {
  uint32_t ranks, workers, sites, steps;
  std::vector<uint32_t> tiles; // per site
  uint32_t maxTiles() const {
    uint32_t m = 0;
    for (uint32_t t : tiles)
      m = std::max(m, t);
    return m;
  }
};

/// The program: for each site k, producers P(k, j) then comm tasks C(k, j).
/// aux[0] = site, aux[1] = tile, range[0].begin = 0 for P, 1 for C. Events: per site,
/// one event for its producers of tile j (count 1) and one for all its comm tiles.
struct Program {
  std::vector<TaskRecord> tasks;
  std::vector<uint32_t> order;
  uint32_t numEvents = 0;
};

Program makeProgram(const Shape &s, std::mt19937 &rng) {
  Program p;
  std::vector<uint32_t> siteEvent(s.sites);
  std::vector<std::vector<uint32_t>> tileEvent(s.sites);
  for (uint32_t k = 0; k < s.sites; ++k) {
    for (uint32_t j = 0; j < s.tiles[k]; ++j)
      tileEvent[k].push_back(p.numEvents++);
    siteEvent[k] = p.numEvents++;
  }
  for (uint32_t k = 0; k < s.sites; ++k) {
    for (uint32_t j = 0; j < s.tiles[k]; ++j) {
      TaskRecord r{};
      r.range[0] = {0, 0};
      r.aux[0] = k;
      r.aux[1] = j;
      if (k == 0)
        r.wait[r.numWaits++] =
            Wait{siteEvent[s.sites - 1], uint16_t(s.tiles.back()), 1, 0};
      else
        r.wait[r.numWaits++] = Wait{siteEvent[k - 1], uint16_t(s.tiles[k - 1]), 0, 0};
      // The producer overwrites its partial, which the previous step's comm tile of the
      // same (site, tile) pushed: it waits for that push too (stepBack 1).
      r.wait[r.numWaits++] = Wait{siteEvent[k], uint16_t(s.tiles[k]), 1, 0};
      r.signal[r.numSignals++] = tileEvent[k][j];
      p.tasks.push_back(r);
    }
    for (uint32_t j = 0; j < s.tiles[k]; ++j) {
      TaskRecord r{};
      r.range[0] = {1, 1};
      r.aux[0] = k;
      r.aux[1] = j;
      r.wait[r.numWaits++] = Wait{tileEvent[k][j], 1, 0, 0};
      r.signal[r.numSignals++] = siteEvent[k];
      p.tasks.push_back(r);
    }
  }
  // A random topological queue order: repeatedly take a random ready task.
  const uint32_t n = uint32_t(p.tasks.size());
  std::vector<bool> done(n, false);
  std::vector<uint32_t> signalled(p.numEvents, 0), count(p.numEvents, 0);
  for (const TaskRecord &r : p.tasks)
    ++count[r.signal[0]];
  while (p.order.size() < n) {
    std::vector<uint32_t> ready;
    for (uint32_t t = 0; t < n; ++t) {
      if (done[t])
        continue;
      bool ok = true;
      for (uint32_t w = 0; w < p.tasks[t].numWaits; ++w)
        if (p.tasks[t].wait[w].stepBack == 0 &&
            signalled[p.tasks[t].wait[w].event] < count[p.tasks[t].wait[w].event])
          ok = false;
      if (ok)
        ready.push_back(t);
    }
    const uint32_t t = ready[rng() % ready.size()];
    done[t] = true;
    ++signalled[p.tasks[t].signal[0]];
    p.order.push_back(t);
  }
  return p;
}

/// One rank's memory: partials and outputs per site, comm [2, N, tiles, kWidth], flags.
struct RankMemory {
  std::vector<std::vector<float>> partial, out; // [site][tiles * kWidth]
  std::vector<float> comm;                      // [2][N][maxTiles * kWidth]
  std::unique_ptr<uint32_t[]> flags;            // [2][F][N]
};

/// The value a producer writes: element i of tile j at site k, step s, on `rank`.
float produce(const std::vector<float> *prevOut, uint32_t rank, uint32_t k, uint32_t j,
              uint32_t i, uint64_t step) {
  float base = float((rank + 1) * (k + 1) + j + i) + float(step % 7);
  if (prevOut) // the whole previous output: every tile of the previous site
    base += (*prevOut)[(j * kWidth + i) % prevOut->size()] * 0.5f +
            (*prevOut)[prevOut->size() - 1 - i] * 0.25f;
  // Keep the values exact small dyadic numbers.
  return float(int64_t(base * 4.0f) % 4096) / 4.0f;
}

struct Group {
  Shape shape;
  Program program;
  std::vector<RankMemory> mem;
  std::vector<uint8_t *> commPtr;
  std::vector<uint32_t *> flagPtr;
};

struct Exec {
  Group &g;
  uint32_t rank;
  std::mt19937 rng;
  uint64_t commBase;

  bool stopRequested() { return false; }
  void prefetch(const TaskRecord &, uint32_t, uint64_t) {}
  void prefetchLate(const TaskRecord &, uint32_t, uint64_t) {}
  void onClaim(uint32_t, uint64_t) {}
  void onReady(uint32_t, uint64_t) {}
  void onDone(uint32_t, uint64_t) {}
  void jitter() {
    const uint32_t r = rng() % 16;
    if (r == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    else if (r < 4)
      std::this_thread::yield();
  }
  bool spin(const TaskRecord &, uint32_t, uint64_t, uint32_t, uint64_t spins) {
    if (spins > 64)
      std::this_thread::yield();
    return true;
  }
  void run(const TaskRecord &task, uint32_t, uint64_t step) {
    jitter();
    RankMemory &m = g.mem[rank];
    const uint32_t k = task.aux[0], j = task.aux[1];
    if (task.range[0].begin == 0) {
      const std::vector<float> *prev =
          k > 0 ? &m.out[k - 1]
                : (step > 0 || commBase > 0 ? &m.out[g.shape.sites - 1] : nullptr);
      for (uint32_t i = 0; i < kWidth; ++i)
        m.partial[k][j * kWidth + i] = produce(prev, rank, k, j, i, step);
      return;
    }
    kernels::CommPeers peers;
    peers.rank = rank;
    peers.ranks = g.shape.ranks;
    peers.tileSlots = g.shape.maxTiles();
    peers.regionBytes = uint64_t(g.shape.maxTiles()) * kWidth * sizeof(float);
    peers.comm = g.commPtr.data();
    peers.flags = g.flagPtr.data();
    const uint32_t epoch = protocol::commEpoch(commBase, step, g.shape.sites, k);
    // Element stores, not memcpy: GCC expands a small constant memcpy inline, and
    // ThreadSanitizer does not see those stores (the relaxed variant would pass).
    auto write = [&](uint8_t *region) {
      float *dst = reinterpret_cast<float *>(region) + j * kWidth;
      for (uint32_t i = 0; i < kWidth; ++i)
        dst[i] = m.partial[k][j * kWidth + i];
    };
    auto wait = [&](uint32_t, uint64_t spins) {
      if (spins % 32 == 31)
        jitter();
      else if (spins > 64)
        std::this_thread::yield();
      return true;
    };
    ASSERT_TRUE(kernels::exchangeTile(peers, epoch, j, write, wait));
    const uint32_t b = protocol::commBuffer(epoch);
    for (uint32_t i = 0; i < kWidth; ++i) {
      float sum = 0.0f;
      for (uint32_t q = 0; q < g.shape.ranks; ++q)
        sum += reinterpret_cast<const float *>(peers.region(rank, b, q))[j * kWidth + i];
      m.out[k][j * kWidth + i] = sum;
    }
  }
};

/// The outputs of the last site after `launches` x `steps` steps, sequentially.
std::vector<std::vector<float>> reference(const Shape &s, uint32_t launches) {
  std::vector<std::vector<std::vector<float>>> out(
      s.ranks, std::vector<std::vector<float>>(s.sites));
  std::vector<std::vector<std::vector<float>>> partial = out;
  for (uint32_t r = 0; r < s.ranks; ++r)
    for (uint32_t k = 0; k < s.sites; ++k) {
      out[r][k].assign(s.tiles[k] * kWidth, 0.0f);
      partial[r][k].assign(s.tiles[k] * kWidth, 0.0f);
    }
  for (uint32_t l = 0; l < launches; ++l)
    for (uint64_t step = 0; step < s.steps; ++step)
      for (uint32_t k = 0; k < s.sites; ++k) {
        for (uint32_t r = 0; r < s.ranks; ++r) {
          const bool first = l == 0 && step == 0;
          const std::vector<float> *prev =
              k > 0 ? &out[r][k - 1] : (first ? nullptr : &out[r][s.sites - 1]);
          // Launch-local step numbering, as the program sees it.
          for (uint32_t j = 0; j < s.tiles[k]; ++j)
            for (uint32_t i = 0; i < kWidth; ++i)
              partial[r][k][j * kWidth + i] = produce(prev, r, k, j, i, step);
        }
        for (uint32_t e = 0; e < s.tiles[k] * kWidth; ++e) {
          float sum = 0.0f;
          for (uint32_t q = 0; q < s.ranks; ++q)
            sum += partial[q][k][e];
          for (uint32_t r = 0; r < s.ranks; ++r)
            out[r][k][e] = sum;
        }
      }
  std::vector<std::vector<float>> last;
  for (uint32_t r = 0; r < s.ranks; ++r)
    last.push_back(out[r][s.sites - 1]);
  return last;
}

void runGroup(const Shape &shape, uint32_t seed) {
  std::mt19937 rng(seed);
  Group g{shape, makeProgram(shape, rng), {}, {}, {}};
  const uint32_t F = shape.maxTiles(), N = shape.ranks;
  g.mem.resize(N);
  for (RankMemory &m : g.mem) {
    for (uint32_t k = 0; k < shape.sites; ++k) {
      m.partial.emplace_back(shape.tiles[k] * kWidth, 0.0f);
      m.out.emplace_back(shape.tiles[k] * kWidth, 0.0f);
    }
    m.comm.assign(size_t(2) * N * F * kWidth, 0.0f);
    m.flags.reset(new uint32_t[size_t(2) * F * N]());
    g.commPtr.push_back(reinterpret_cast<uint8_t *>(m.comm.data()));
    g.flagPtr.push_back(m.flags.get());
  }
  // The previous-step producers' first step reads the previous launch's output; two
  // launches check that the epochs continue across them.
  const uint32_t launches = 2;
  const uint32_t numTasks = uint32_t(g.program.tasks.size());
  for (uint32_t l = 0; l < launches; ++l) {
    const uint64_t commBase = uint64_t(l) * shape.steps * shape.sites;
    std::vector<std::thread> threads;
    std::vector<std::unique_ptr<std::vector<uint64_t>>> events;
    std::vector<std::unique_ptr<protocol::LaunchState>> states;
    for (uint32_t r = 0; r < N; ++r) {
      events.push_back(std::make_unique<std::vector<uint64_t>>(g.program.numEvents, 0));
      states.push_back(std::make_unique<protocol::LaunchState>(
          protocol::LaunchState{0, events.back()->data()}));
    }
    for (uint32_t r = 0; r < N; ++r)
      for (uint32_t w = 0; w < shape.workers; ++w)
        threads.emplace_back([&, r, w] {
          Exec exec{g, r, std::mt19937(seed * 131 + r * 17 + w), commBase};
          protocol::workerLoop(exec, *states[r], g.program.tasks.data(),
                               g.program.order.data(), numTasks, shape.steps);
        });
    for (std::thread &t : threads)
      t.join();
  }
  const std::vector<std::vector<float>> want = reference(shape, launches);
  for (uint32_t r = 0; r < N; ++r)
    for (size_t e = 0; e < want[r].size(); ++e)
      ASSERT_EQ(g.mem[r].out[shape.sites - 1][e], want[r][e])
          << "rank " << r << " element " << e << " seed " << seed;
}

TEST(TensorParallelProtocol, RandomDelaysRanksAndWorkers) {
  std::mt19937 rng(2026);
  for (uint32_t trial = 0; trial < 12; ++trial) {
    Shape s;
    s.ranks = 2 + trial % 3;
    s.workers = 1 + (trial / 3) % 4;
    s.sites = 2 + rng() % 4;
    s.steps = 3 + rng() % 3;
    for (uint32_t k = 0; k < s.sites; ++k)
      s.tiles.push_back(1 + rng() % 4);
    SCOPED_TRACE(::testing::Message() << "ranks " << s.ranks << " workers " << s.workers
                                      << " sites " << s.sites << " steps " << s.steps);
    runGroup(s, 1000 + trial);
  }
}

} // namespace
