//===- mpi_rank_comm.h - Ranks as processes of one MPI job (mpirun) ---------===//
//
// `mpirun -np N mkrun ... --backend cuda` runs one process per GPU; MPI_COMM_WORLD's
// rank r is tensor-parallel rank r. MpiProcess initializes MPI for the process's
// lifetime; MpiRankComm is RankComm over MPI_COMM_WORLD:
//   allGather   MPI_Allgather of the sizes (checked equal), then of the floats
//   agree       MPI_Allgather of the ok flags, then MPI_Bcast of the lowest failing
//               rank's message
//   abort       prints "rank R: <why>" and MPI_Abort: a peer blocked in MPI (or in the
//               megakernel, waiting on this rank's flags) cannot be told otherwise, so
//               mpirun ends every rank
// MPI errors return (MPI_ERRORS_RETURN on the communicator) and become one-line
// Status errors naming the call. Built only where CMake found MPI (MK_MPI_ENABLED);
// mpi.h does not leak through this header.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/runtime/rank_comm.h"

#include <cstdint>
#include <memory>
#include <span>

namespace mk::runtime {

/// MPI_Init_thread on construction (through init), MPI_Finalize on destruction.
class MpiProcess {
public:
  /// Initializes MPI (one process per rank: the thread level is FUNNELED, every MPI call
  /// comes from the main thread).
  static Status init(int &argc, char **&argv, std::unique_ptr<MpiProcess> &out);
  ~MpiProcess();
  MpiProcess(const MpiProcess &) = delete;
  MpiProcess &operator=(const MpiProcess &) = delete;

  uint32_t rank() const { return rank_; }
  uint32_t ranks() const { return ranks_; }
  /// Rank among the processes of this node (MPI_COMM_TYPE_SHARED): the GPU this rank
  /// uses by default.
  uint32_t localRank() const { return localRank_; }
  uint32_t localRanks() const { return localRanks_; }

private:
  MpiProcess() = default;
  uint32_t rank_ = 0, ranks_ = 1, localRank_ = 0, localRanks_ = 1;
};

/// RankComm over MPI_COMM_WORLD. MPI must stay initialized while it is used.
class MpiRankComm final : public RankComm {
public:
  explicit MpiRankComm(const MpiProcess &process);

  uint32_t rank() const override { return rank_; }
  uint32_t ranks() const override { return ranks_; }
  Status allGather(std::span<const float> mine, std::span<float> all) override;
  Status agree(const Status &mine) override;
  [[noreturn]] void abort(const Status &why) override;

  /// Collective: `bytes` of rank `root` to every rank (same size everywhere); e.g. the
  /// NCCL unique id.
  Status broadcast(std::span<uint8_t> bytes, uint32_t root);

private:
  const uint32_t rank_, ranks_;
};

} // namespace mk::runtime
