// HostRankGroup: ranks as threads. Gathers arrive in rank order on every rank, round
// after round; a status agreed on is the lowest failing rank's on every rank; an abort
// releases every rank waiting in a collective and fails every later one, and its
// callback runs once.
#include "mk/runtime/rank_comm.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

using namespace mk;
using namespace mk::runtime;

namespace {

/// Runs body(rank) on one thread per rank and joins them.
template <typename Body> void onRanks(HostRankGroup &group, Body body) {
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < group.ranks(); ++r)
    threads.emplace_back([&, r] { body(r); });
  for (std::thread &t : threads)
    t.join();
}

float value(uint32_t rank, uint32_t round, size_t i) {
  return float(rank * 1000 + round * 10) + float(i) * 0.25f;
}

} // namespace

TEST(RankComm, AllGatherIsInRankOrderOnEveryRankForManyRounds) {
  for (uint32_t ranks : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE(ranks);
    HostRankGroup group(ranks);
    constexpr uint32_t kRounds = 200;
    std::atomic<int> bad{0};
    onRanks(group, [&](uint32_t r) {
      RankComm &comm = group.rank(r);
      EXPECT_EQ(comm.rank(), r);
      EXPECT_EQ(comm.ranks(), ranks);
      std::mt19937 rng(r);
      for (uint32_t round = 0; round < kRounds; ++round) {
        const size_t n = 1 + round % 7; // the size changes between rounds
        std::vector<float> mine(n), all(n * ranks, -1.0f);
        for (size_t i = 0; i < n; ++i)
          mine[i] = value(r, round, i);
        if (rng() % 4 == 0) // ranks arrive in every order
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
        Status s = comm.allGather(mine, all);
        if (!s) {
          ADD_FAILURE() << s.message();
          ++bad;
          return;
        }
        for (uint32_t q = 0; q < ranks; ++q)
          for (size_t i = 0; i < n; ++i)
            if (all[q * n + i] != value(q, round, i))
              ++bad;
      }
    });
    EXPECT_EQ(bad.load(), 0);
    EXPECT_TRUE(group.failure());
  }
}

TEST(RankComm, MismatchedSizesFailOnEveryRankAndTheNextGatherWorks) {
  HostRankGroup group(3);
  std::vector<std::string> messages(3);
  std::vector<bool> secondOk(3);
  onRanks(group, [&](uint32_t r) {
    std::vector<float> mine(r == 2 ? 5 : 4, float(r)), all(3 * mine.size());
    Status s = group.rank(r).allGather(mine, all);
    messages[r] = s ? "ok" : s.message();
    std::vector<float> one{float(r)}, three(3);
    Status t = group.rank(r).allGather(one, three);
    secondOk[r] = t && three == std::vector<float>{0, 1, 2};
  });
  for (uint32_t r = 0; r < 3; ++r) {
    EXPECT_EQ(messages[r], "rank gather: rank 0 passes 4 floats, rank 2 5");
    EXPECT_TRUE(secondOk[r]) << r;
  }
}

TEST(RankComm, AgreeGivesTheLowestFailingRanksErrorEverywhere) {
  HostRankGroup group(4);
  std::vector<std::string> first(4), second(4);
  onRanks(group, [&](uint32_t r) {
    Status a = group.rank(r).agree(Status::ok());
    first[r] = a ? "ok" : a.message();
    Status mine = r == 1 || r == 3 ? Status::error("bad weights on " + std::to_string(r))
                                   : Status::ok();
    Status b = group.rank(r).agree(mine);
    second[r] = b ? "ok" : b.message();
  });
  for (uint32_t r = 0; r < 4; ++r) {
    EXPECT_EQ(first[r], "ok");
    EXPECT_EQ(second[r], "rank 1: bad weights on 1");
  }
  EXPECT_TRUE(group.failure()); // agreeing on an error is not an abort
}

TEST(RankComm, AnAbortReleasesEveryWaitingRankAndFailsLaterCollectives) {
  HostRankGroup group(4);
  std::atomic<int> callbacks{0};
  std::string seen;
  group.onAbort([&](uint32_t rank, const Status &s) {
    ++callbacks;
    seen = std::to_string(rank) + " " + s.message();
  });
  std::vector<std::string> gathered(4), later(4);
  onRanks(group, [&](uint32_t r) {
    if (r == 2) {
      // Fails before its gather: the others are (or will be) waiting for it.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      group.rank(r).abort(Status::error("launch failed: watchdog"));
      group.rank(r).abort(Status::error("a second abort is ignored"));
      return;
    }
    std::vector<float> mine(2, float(r)), all(8);
    Status s = group.rank(r).allGather(mine, all);
    gathered[r] = s ? "ok" : s.message();
    Status t = group.rank(r).agree(Status::ok());
    later[r] = t ? "ok" : t.message();
  });
  for (uint32_t r : {0u, 1u, 3u}) {
    EXPECT_EQ(gathered[r], "rank 2: launch failed: watchdog");
    EXPECT_EQ(later[r], "rank 2: launch failed: watchdog");
  }
  EXPECT_EQ(callbacks.load(), 1);
  EXPECT_EQ(seen, "2 launch failed: watchdog");
  ASSERT_FALSE(group.failure());
  EXPECT_EQ(group.failure().message(), "rank 2: launch failed: watchdog");
}

TEST(RankComm, ConcurrentAbortsKeepExactlyOne) {
  for (int trial = 0; trial < 20; ++trial) {
    HostRankGroup group(4);
    std::atomic<int> callbacks{0};
    group.onAbort([&](uint32_t, const Status &) { ++callbacks; });
    onRanks(group, [&](uint32_t r) {
      if (r % 2)
        group.rank(r).abort(Status::error("rank failure " + std::to_string(r)));
      else
        (void)group.rank(r).agree(Status::ok());
    });
    EXPECT_EQ(callbacks.load(), 1);
    const std::string m = group.failure().message();
    EXPECT_TRUE(m == "rank 1: rank failure 1" || m == "rank 3: rank failure 3") << m;
  }
}
