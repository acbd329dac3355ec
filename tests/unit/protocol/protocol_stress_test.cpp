// Stress test of the queue/scoreboard protocol (mk/isa/protocol.h) on CPU threads.
//
// Random DAG programs with multi-producer events and a cross-step barrier run for
// several steps on 1..8 workers that sleep and yield at random. Every task computes a
// value from the values of the tasks it depends on and stores it with a plain,
// non-atomic write; consumers read them with plain reads. The result must equal a
// sequential evaluation, and in the ThreadSanitizer build (label `tsan`) any missing
// release/acquire edge shows up as a data race.
#include "mk/isa/protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
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
  void run(const TaskRecord &, uint32_t task, uint64_t step) {
    jitter();
    values[task] = taskValue(program, values, task, step);
  }
  void onClaim(uint32_t, uint64_t) {}
  void onReady(uint32_t, uint64_t) {}
  void onDone(uint32_t, uint64_t) {}

  void jitter() {
    uint32_t r = rng() % 16;
    if (r == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50));
    else if (r < 4)
      std::this_thread::yield();
  }
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
