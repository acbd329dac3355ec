// Stress test of the queue/scoreboard protocol (mk/isa/protocol.h) on CPU threads.
//
// Random DAG programs with multi-producer events and a cross-step barrier run for
// several steps on 1..8 workers that sleep and yield at random. Every task computes a
// value from the values of the tasks it depends on and stores it with a plain,
// non-atomic write; consumers read them with plain reads. The result must equal a
// sequential evaluation, and in the ThreadSanitizer build (label `tsan`) any missing
// release/acquire edge shows up as a data race.
//
// The CUDA kernel's loop (ctaWorkerLoop: a CTA of threads per worker, the next ticket
// claimed ahead and staged into the other of two slots) runs the same programs with
// CTAs emulated by thread groups and std::barrier, checking the staging-slot
// discipline as well.
#include "mk/isa/protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace {

using mk::isa::TaskRecord;
using mk::isa::Wait;

struct RandomProgram {
  std::vector<TaskRecord> tasks;
  std::vector<uint32_t> order;
  std::vector<std::vector<uint32_t>> deps; // same-step producer tasks of each task
  uint32_t numEvents = 0;
};

/// Task 0 is the step's source (it waits on the previous step's sink), the last task
/// the sink. Middle tasks come in groups of 1..3 that signal one event together; each
/// task waits on the previous group's event (so every task reaches the sink and is
/// reached from the source: steps cannot overlap) plus up to 3 random earlier events.
RandomProgram makeProgram(uint32_t numTasks, std::mt19937 &rng) {
  RandomProgram p;
  p.tasks.resize(numTasks);
  p.deps.resize(numTasks);
  std::vector<uint32_t> eventOf(numTasks);
  std::vector<std::vector<uint32_t>> producers = {{0}};
  for (uint32_t t = 1; t + 1 < numTasks;) {
    producers.emplace_back();
    for (uint32_t g = 1 + rng() % 3; g > 0 && t + 1 < numTasks; --g, ++t) {
      eventOf[t] = producers.size() - 1;
      producers.back().push_back(t);
    }
  }
  eventOf[numTasks - 1] = producers.size();
  producers.push_back({numTasks - 1});
  p.numEvents = producers.size();
  const uint32_t sinkEvent = p.numEvents - 1;

  for (uint32_t t = 0; t < numTasks; ++t) {
    TaskRecord &r = p.tasks[t];
    r = {};
    r.numSignals = 1;
    r.signal[0] = eventOf[t];
    if (t == 0) {
      r.wait[r.numWaits++] = Wait{sinkEvent, 1, 1, 0};
      continue;
    }
    std::vector<uint32_t> waits = {eventOf[t] - 1};
    for (uint32_t extra = rng() % 4; extra > 0; --extra) {
      uint32_t e = rng() % eventOf[t];
      if (std::find(waits.begin(), waits.end(), e) == waits.end())
        waits.push_back(e);
    }
    for (uint32_t e : waits) {
      r.wait[r.numWaits++] = Wait{e, uint16_t(producers[e].size()), 0, 0};
      for (uint32_t q : producers[e])
        p.deps[t].push_back(q);
    }
  }
  p.order.resize(numTasks);
  for (uint32_t t = 0; t < numTasks; ++t)
    p.order[t] = t;
  return p;
}

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 32);
}

/// What a task computes: a hash of its id, the step and its producers' values (this
/// step's), and for the source the previous step's sink value.
uint64_t taskValue(const RandomProgram &p, const std::vector<uint64_t> &values,
                   uint32_t t, uint64_t step) {
  uint64_t v = mix(t, step);
  for (uint32_t q : p.deps[t])
    v = mix(v, values[q]);
  if (t == 0)
    v = mix(v, values[p.tasks.size() - 1]); // previous step's sink (0 before step 0)
  return v;
}

/// Sleeps or yields now and then, so the threads interleave differently on each run.
void randomPause(std::mt19937 &rng) {
  uint32_t r = rng() % 16;
  if (r == 0)
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50));
  else if (r < 4)
    std::this_thread::yield();
}

struct StressExec {
  const RandomProgram &program;
  std::vector<uint64_t> &values; // plain memory, published by the protocol
  std::mt19937 rng;
  std::atomic<bool> &stop;

  bool stopRequested() { return stop.load(std::memory_order_relaxed); }
  void prefetch(const TaskRecord &, uint32_t, uint64_t) { jitter(); }
  bool spin(const TaskRecord &, uint32_t, uint64_t, uint32_t, uint64_t spins) {
    if (spins > 50'000'000)
      return false; // a hang is a failure, not a stuck test
    std::this_thread::yield();
    return true;
  }
  void prefetchLate(const TaskRecord &, uint32_t, uint64_t) { jitter(); }
  void run(const TaskRecord &, uint32_t task, uint64_t step) {
    jitter();
    values[task] = taskValue(program, values, task, step);
  }
  void onClaim(uint32_t, uint64_t) {}
  void onReady(uint32_t, uint64_t) {}
  void onDone(uint32_t, uint64_t) {}

  void jitter() { randomPause(rng); }
};

std::vector<uint64_t> runSequential(const RandomProgram &p, uint64_t steps) {
  std::vector<uint64_t> values(p.tasks.size(), 0);
  for (uint64_t s = 0; s < steps; ++s)
    for (uint32_t t : p.order)
      values[t] = taskValue(p, values, t, s);
  return values;
}

std::vector<uint64_t> runParallel(const RandomProgram &p, uint64_t steps,
                                  unsigned workers, uint32_t seed, bool staggered) {
  std::vector<uint64_t> values(p.tasks.size(), 0);
  std::vector<uint64_t> events(p.numEvents, 0);
  mk::protocol::LaunchState state{0, events.data()};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      if (staggered) // workers that join late, as non-resident CTAs would
        std::this_thread::sleep_for(std::chrono::microseconds(200 * w));
      StressExec exec{p, values, std::mt19937(seed * 131 + w), stop};
      mk::protocol::workerLoop(exec, state, p.tasks.data(), p.order.data(),
                               p.tasks.size(), steps);
    });
  for (std::thread &t : threads)
    t.join();
  return values;
}

/// One emulated CTA: its barrier, the protocol's broadcast words and the bookkeeping
/// of its two staging slots (written by the leader, read by all threads after a
/// barrier, like the kernel's shared memory).
struct Cta {
  struct Slot {
    uint32_t task = ~0u;
    uint64_t step = 0;
    bool inUse = false;   // prefetched for a task that has not finished
    bool pending = false; // prefetched, not yet awaited
  };
  std::barrier<> bar;
  uint64_t words[3] = {};
  Slot slot[mk::protocol::kPrefetchSlots];
  uint32_t current = 0; // the slot of the task being run
  explicit Cta(unsigned threads) : bar(threads) {}
};

/// ctaWorkerLoop's Exec for one thread of an emulated CTA. Thread task % threads (not
/// the leader, which signals) publishes the task's value, so the barrier after run is
/// what orders it before the signal.
struct CtaExec {
  const RandomProgram &program;
  std::vector<uint64_t> &values;
  Cta &cta;
  unsigned thread, threads;
  std::mt19937 rng;
  std::atomic<bool> &stop;
  std::atomic<uint64_t> &runs;
  bool stopWhileWaiting; // a leader that waits long stops the launch

  bool leader() const { return thread == 0; }
  void barrier() { cta.bar.arrive_and_wait(); }
  // Nothing to do here: in C++ the barrier and the leader's release RMW already chain
  // the other threads' writes into happens-before (the device's CTA barrier is not
  // cumulative at device scope, hence its __threadfence).
  void fence() {}
  uint64_t *broadcast() { return cta.words; }
  bool stopRequested() { return stop.load(std::memory_order_relaxed); }

  void prefetch(const TaskRecord &, uint32_t task, uint64_t step, uint32_t s) {
    if (leader()) {
      EXPECT_FALSE(cta.slot[s].inUse) << "slot " << s << " restaged while task "
                                      << cta.slot[s].task << " may still read it";
      cta.slot[s] = {task, step, true, true};
    }
    jitter();
  }
  void awaitPrefetch(uint32_t s) {
    if (leader())
      cta.slot[s].pending = false;
  }
  void prepare(const TaskRecord &, uint32_t task, uint64_t step, uint32_t s) {
    EXPECT_TRUE(cta.slot[s].inUse && cta.slot[s].task == task && cta.slot[s].step == step)
        << "task " << task << " step " << step << " runs from slot " << s
        << ", which was staged for task " << cta.slot[s].task << " step "
        << cta.slot[s].step;
    cta.current = s;
  }
  bool spin(const TaskRecord &, uint32_t, uint64_t, uint32_t, uint64_t spins) {
    if (stopWhileWaiting) { // as the watchdog does on the device: stop, give up
      stop.store(true, std::memory_order_relaxed);
      return false;
    }
    if (spins > 50'000'000 || (stopRequested() && spins > 1000))
      return false; // a hang is a failure, not a stuck test
    std::this_thread::yield();
    return true;
  }
  void run(const TaskRecord &, uint32_t task, uint64_t step) {
    const Cta::Slot &slot = cta.slot[cta.current];
    EXPECT_FALSE(slot.pending) << "task " << task << " ran before its slot was awaited";
    EXPECT_EQ(slot.task, task) << "thread " << thread << " runs another task";
    jitter();
    if (thread == task % threads)
      values[task] = taskValue(program, values, task, step);
    if (stopWhileWaiting && task == 5) { // others wait on it until one of them stops
      const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!stopRequested() && std::chrono::steady_clock::now() < giveUp)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (leader())
      runs.fetch_add(1);
  }
  void onClaim(uint32_t, uint64_t) {}
  void onReady(uint32_t, uint64_t) {}
  void publish(const TaskRecord &, uint32_t task, uint64_t) {
    EXPECT_TRUE(cta.slot[cta.current].inUse && cta.slot[cta.current].task == task);
  }
  void onDone(uint32_t, uint64_t) { cta.slot[cta.current].inUse = false; }

  void jitter() { randomPause(rng); }
};

struct CtaRun {
  std::vector<uint64_t> values;
  uint64_t runs = 0;
  bool slotsSettled = true; // no slot left pending (a copy outliving the CTA)
};

CtaRun runCtas(const RandomProgram &p, uint64_t steps, unsigned ctas, unsigned threads,
               uint32_t seed, bool staggered, bool lookahead,
               bool stopWhileWaiting = false) {
  CtaRun result;
  result.values.assign(p.tasks.size(), 0);
  std::vector<uint64_t> events(p.numEvents, 0);
  mk::protocol::LaunchState state{0, events.data()};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> runs{0};
  std::vector<std::unique_ptr<Cta>> group;
  std::vector<std::thread> workers;
  for (unsigned c = 0; c < ctas; ++c)
    group.push_back(std::make_unique<Cta>(threads));
  for (unsigned c = 0; c < ctas; ++c) {
    for (unsigned t = 0; t < threads; ++t)
      workers.emplace_back([&, c, t] {
        if (staggered) // CTAs that start late, as non-resident ones would
          std::this_thread::sleep_for(std::chrono::microseconds(300 * c));
        CtaExec exec{p,    result.values, *group[c],
                     t,    threads,       std::mt19937(seed * 977 + c * 31 + t),
                     stop, runs,          stopWhileWaiting};
        mk::protocol::ctaWorkerLoop(exec, state, p.tasks.data(), p.order.data(),
                                    p.tasks.size(), steps, lookahead);
      });
  }
  for (std::thread &w : workers)
    w.join();
  result.runs = runs.load();
  for (const auto &cta : group)
    for (const Cta::Slot &s : cta->slot)
      result.slotsSettled = result.slotsSettled && !s.pending;
  return result;
}

TEST(ProtocolStress, CtaLoopMatchesSequentialWithAndWithoutLookAhead) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    std::mt19937 rng(seed);
    RandomProgram p = makeProgram(30 + rng() % 50, rng);
    const uint64_t steps = 4;
    std::vector<uint64_t> expected = runSequential(p, steps);
    for (bool lookahead : {true, false})
      for (unsigned ctas : {1u, 2u, 3u}) {
        const unsigned threads = ctas == 2 ? 4 : 2;
        CtaRun got = runCtas(p, steps, ctas, threads, seed, ctas == 3, lookahead);
        ASSERT_EQ(got.values, expected)
            << "seed " << seed << ", " << ctas << " CTAs, look-ahead " << lookahead;
        EXPECT_EQ(got.runs, steps * p.tasks.size()) << "every ticket runs exactly once";
        EXPECT_TRUE(got.slotsSettled);
      }
  }
}

TEST(ProtocolStress, CtaLoopStopsWithoutHangingOrLeavingCopies) {
  // Task 5 runs until the launch stops, so other CTAs wait on it with their look-ahead
  // slot staged; the first leader that waits stops the launch and gives up.
  std::mt19937 rng(99);
  RandomProgram p = makeProgram(40, rng);
  const uint64_t steps = 8;
  CtaRun got = runCtas(p, steps, 3, 2, 7, false, /*lookahead=*/true,
                       /*stopWhileWaiting=*/true);
  EXPECT_LT(got.runs, steps * p.tasks.size()) << "the stop ended the launch early";
  EXPECT_TRUE(got.slotsSettled) << "a stopping CTA awaits its look-ahead slot";
}

TEST(ProtocolStress, MatchesSequentialForAnyWorkerCount) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    RandomProgram p = makeProgram(40 + rng() % 80, rng);
    const uint64_t steps = 6;
    std::vector<uint64_t> expected = runSequential(p, steps);
    for (unsigned workers : {1u, 2u, 3u, 5u, 8u}) {
      std::vector<uint64_t> got = runParallel(p, steps, workers, seed, workers == 5);
      ASSERT_EQ(got, expected) << "seed " << seed << ", " << workers << " workers";
    }
  }
}

TEST(ProtocolStress, WaitTargetsFollowTheStepFormula) {
  Wait same{0, 3, 0, 0}, back{0, 2, 1, 0};
  EXPECT_EQ(mk::protocol::waitTarget(same, 0), 3u);
  EXPECT_EQ(mk::protocol::waitTarget(same, 4), 15u);
  EXPECT_EQ(mk::protocol::waitTarget(back, 0), 0u) << "no previous step at step 0";
  EXPECT_EQ(mk::protocol::waitTarget(back, 3), 6u);
  uint32_t order[] = {2, 0, 1};
  auto w = mk::protocol::decodeTicket(7, order, 3);
  EXPECT_EQ(w.task, 0u);
  EXPECT_EQ(w.step, 2u);
}

} // namespace
