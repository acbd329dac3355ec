// MpiRankComm under `mpirun -np 2` (tests/unit/mpi/CMakeLists.txt): gathers arrive in
// rank order on every rank, round after round; a size mismatch fails on every rank; a
// status agreed on is the lowest failing rank's on every rank; a broadcast reaches every
// rank. Each rank runs every test; mpirun fails when any rank does.
#include "mk/runtime/mpi_rank_comm.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

using namespace mk;
using namespace mk::runtime;

namespace {

MpiProcess *gProcess = nullptr;

float value(uint32_t rank, uint32_t round, size_t i) {
  return float(rank * 1000 + round * 10) + float(i) * 0.25f;
}

} // namespace

TEST(MpiRankComm, RunsOnTwoRanks) {
  MpiRankComm comm(*gProcess);
  EXPECT_EQ(comm.ranks(), 2u) << "run under mpirun -np 2";
  EXPECT_LT(comm.rank(), comm.ranks());
  EXPECT_LT(gProcess->localRank(), gProcess->localRanks());
}

TEST(MpiRankComm, AllGatherIsInRankOrderForManyRounds) {
  MpiRankComm comm(*gProcess);
  const uint32_t ranks = comm.ranks(), r = comm.rank();
  for (uint32_t round = 0; round < 50; ++round) {
    const size_t n = 1 + round % 7;
    std::vector<float> mine(n), all(n * ranks, -1.0f);
    for (size_t i = 0; i < n; ++i)
      mine[i] = value(r, round, i);
    Status s = comm.allGather(mine, all);
    ASSERT_TRUE(s) << s.message();
    for (uint32_t q = 0; q < ranks; ++q)
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(all[q * n + i], value(q, round, i)) << "round " << round;
  }
}

TEST(MpiRankComm, AllGatherOfDifferentSizesFailsOnEveryRank) {
  MpiRankComm comm(*gProcess);
  const size_t n = comm.rank() == 1 ? 3 : 2;
  std::vector<float> mine(n, 1.0f), all(n * comm.ranks());
  Status s = comm.allGather(mine, all);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "rank gather: rank 0 passes 2 floats, rank 1 3");
  // The communicator still works afterwards.
  std::vector<float> one{float(comm.rank())}, both(comm.ranks());
  ASSERT_TRUE(comm.allGather(one, both));
  EXPECT_EQ(both[1], 1.0f);
}

TEST(MpiRankComm, AllGatherIntoAWrongBufferFailsOnEveryRank) {
  MpiRankComm comm(*gProcess);
  std::vector<float> mine(4, 1.0f), all(comm.rank() == 0 ? 5 : 4 * comm.ranks());
  Status s = comm.allGather(mine, all);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(),
            comm.rank() == 0
                ? "rank gather: rank 0 receives into 5 floats, expected 2 x 4"
                : "rank gather: a peer's receive buffer has the wrong size");
}

TEST(MpiRankComm, AgreeGivesTheLowestFailingRanksMessageEverywhere) {
  MpiRankComm comm(*gProcess);
  EXPECT_TRUE(comm.agree(Status::ok()));
  Status s =
      comm.agree(comm.rank() == 1 ? Status::error("no GPU for rank 1") : Status::ok());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "rank 1: no GPU for rank 1");
  s = comm.agree(Status::error("rank " + std::to_string(comm.rank()) + " failed"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "rank 0: rank 0 failed");
  EXPECT_TRUE(comm.agree(Status::ok()));
}

TEST(MpiRankComm, BroadcastReachesEveryRank) {
  MpiRankComm comm(*gProcess);
  std::vector<uint8_t> id(128, 0);
  if (comm.rank() == 1)
    for (size_t i = 0; i < id.size(); ++i)
      id[i] = uint8_t(i * 7 + 3);
  ASSERT_TRUE(comm.broadcast(id, 1));
  for (size_t i = 0; i < id.size(); ++i)
    ASSERT_EQ(id[i], uint8_t(i * 7 + 3));
}

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::unique_ptr<MpiProcess> process;
  if (Status s = MpiProcess::init(argc, argv, process); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  gProcess = process.get();
  return RUN_ALL_TESTS();
}
