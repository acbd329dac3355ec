//===- mpi_rank_comm.cpp - RankComm over MPI_COMM_WORLD --------------------===//
#include "mk/runtime/mpi_rank_comm.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace mk::runtime {

namespace {

Status mpiError(const char *call, int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    length = std::snprintf(text, sizeof text, "MPI error %d", code);
  return Status::error(std::string("mpi: ") + call + ": " + std::string(text, length));
}

#define MK_MPI_TRY(call)                                                                 \
  do {                                                                                   \
    if (int mkMpiErr_ = (call); mkMpiErr_ != MPI_SUCCESS)                                \
      return mpiError(#call, mkMpiErr_);                                                 \
  } while (0)

} // namespace

Status MpiProcess::init(int &argc, char **&argv, std::unique_ptr<MpiProcess> &out) {
  int initialized = 0;
  MK_MPI_TRY(MPI_Initialized(&initialized));
  if (initialized)
    return Status::error("mpi: MPI is already initialized in this process");
  int provided = 0;
  MK_MPI_TRY(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided));
  std::unique_ptr<MpiProcess> p(new MpiProcess());
  // From here on MPI errors return codes instead of ending the job, and p's destructor
  // finalizes MPI whatever fails below.
  MK_MPI_TRY(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  int rank = 0, ranks = 1;
  MK_MPI_TRY(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  MK_MPI_TRY(MPI_Comm_size(MPI_COMM_WORLD, &ranks));
  p->rank_ = uint32_t(rank);
  p->ranks_ = uint32_t(ranks);
  if (provided < MPI_THREAD_FUNNELED)
    return Status::error("mpi: MPI_Init_thread provides thread level " +
                         std::to_string(provided) + ", below MPI_THREAD_FUNNELED");
  MPI_Comm node = MPI_COMM_NULL;
  MK_MPI_TRY(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank,
                                 MPI_INFO_NULL, &node));
  int localRank = 0, localRanks = 1;
  const int rc1 = MPI_Comm_rank(node, &localRank);
  const int rc2 = MPI_Comm_size(node, &localRanks);
  MPI_Comm_free(&node);
  MK_MPI_TRY(rc1);
  MK_MPI_TRY(rc2);
  p->localRank_ = uint32_t(localRank);
  p->localRanks_ = uint32_t(localRanks);
  out = std::move(p);
  return Status::ok();
}

MpiProcess::~MpiProcess() {
  int finalized = 0;
  if (MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized)
    MPI_Finalize();
}

MpiRankComm::MpiRankComm(const MpiProcess &process)
    : rank_(process.rank()), ranks_(process.ranks()) {}

Status MpiRankComm::allGather(std::span<const float> mine, std::span<float> all) {
  // The sizes first: MPI_Allgather with differing counts is undefined, and a rank that
  // passes another size must fail on every rank, not corrupt its peers' buffers.
  const uint64_t size = mine.size();
  std::vector<uint64_t> sizes(ranks_);
  MK_MPI_TRY(MPI_Allgather(&size, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T,
                           MPI_COMM_WORLD));
  for (uint32_t q = 1; q < ranks_; ++q)
    if (sizes[q] != sizes[0])
      return Status::error("rank gather: rank 0 passes " + std::to_string(sizes[0]) +
                           " floats, rank " + std::to_string(q) + " " +
                           std::to_string(sizes[q]));
  if (size > uint64_t(INT_MAX))
    return Status::error("rank gather: " + std::to_string(size) +
                         " floats per rank is more than one MPI call moves");
  const int ok = all.size() == size * ranks_ ? 1 : 0;
  int allOk = 0;
  MK_MPI_TRY(MPI_Allreduce(&ok, &allOk, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (!allOk)
    return Status::error(
        ok ? std::string("rank gather: a peer's receive buffer has the wrong size")
           : "rank gather: rank " + std::to_string(rank_) + " receives into " +
                 std::to_string(all.size()) + " floats, expected " +
                 std::to_string(ranks_) + " x " + std::to_string(size));
  MK_MPI_TRY(MPI_Allgather(mine.data(), int(size), MPI_FLOAT, all.data(), int(size),
                           MPI_FLOAT, MPI_COMM_WORLD));
  return Status::ok();
}

Status MpiRankComm::agree(const Status &mine) {
  const int ok = mine ? 1 : 0;
  std::vector<int> oks(ranks_);
  MK_MPI_TRY(MPI_Allgather(&ok, 1, MPI_INT, oks.data(), 1, MPI_INT, MPI_COMM_WORLD));
  const auto failed = std::find(oks.begin(), oks.end(), 0);
  if (failed == oks.end())
    return Status::ok();
  // Every rank knows the lowest failing rank; it sends its message to the others.
  const int root = int(failed - oks.begin());
  std::string message = uint32_t(root) == rank_ ? mine.message() : std::string();
  int length = int(std::min<size_t>(message.size(), 4096));
  MK_MPI_TRY(MPI_Bcast(&length, 1, MPI_INT, root, MPI_COMM_WORLD));
  message.resize(size_t(length));
  MK_MPI_TRY(MPI_Bcast(message.data(), length, MPI_CHAR, root, MPI_COMM_WORLD));
  return Status::error("rank " + std::to_string(root) + ": " + message);
}

void MpiRankComm::abort(const Status &why) {
  std::fprintf(stderr, "rank %u: %s\n", rank_, why ? "failed" : why.message().c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort(); // MPI_Abort does not return; this keeps [[noreturn]] honest
}

Status MpiRankComm::broadcast(std::span<uint8_t> bytes, uint32_t root) {
  if (bytes.size() > uint64_t(INT_MAX))
    return Status::error("mpi: broadcast of " + std::to_string(bytes.size()) +
                         " bytes is more than one MPI call moves");
  MK_MPI_TRY(
      MPI_Bcast(bytes.data(), int(bytes.size()), MPI_BYTE, int(root), MPI_COMM_WORLD));
  return Status::ok();
}

} // namespace mk::runtime
