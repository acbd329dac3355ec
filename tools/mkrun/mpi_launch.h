//===- mpi_launch.h - mkrun under mpirun: one rank per process (GPU) --------===//
//
//   mpirun -np N mkrun PLAN --weights DIR ... --backend cuda
// runs rank r of an N-way tensor-parallel plan in process r, on GPU --device + r's rank
// on its node. Before anything that could wait for a peer, the ranks agree (over MPI)
// on every local check: flags, the device, the plan (its tensorParallel must be N),
// the prompts. A rank that fails there makes every rank exit 1 with one line
//   mkrun: error: rank R of N: <its error, or the lowest failing rank's>
// within seconds. Then rank 0's NCCL unique id reaches every rank (MPI_Bcast), and the
// CUDA executors agree once more before NCCL (CudaOptions::agree). A failure after
// that, where a peer may be inside NCCL or the megakernel, ends the job (MPI_Abort).
// Rank 0 prints the text and writes the output files; the other ranks print errors
// only. Without an MPI launcher mkrun never initializes MPI, so it behaves as in a
// build without MPI.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/cuda/executor.h"
#include "mk/isa/plan.h"
#include "mk/isa/status.h"
#include "mk/runtime/rank_comm.h"

#include <cstdint>
#include <functional>

namespace mk::mkrun {

struct RunOptions;

/// What runPlan needs of its rank under mpirun (RunOptions::mpi).
struct MpiRank {
  uint32_t rank = 0, ranks = 1;
  cuda::CommId commId;
  std::function<Status(const Status &)> agree; // CudaOptions::agree
  runtime::RankComm *comm = nullptr;           // MPI_COMM_WORLD (MpiRankComm)
};

/// Whether an MPI launcher (mpirun, mpiexec, srun) started this process.
bool launchedByMpi();

/// mkrun's run under an MPI launcher: `prepare` (flags, plan, prompts) on every rank,
/// agreed; then `execute` (session and generation) with options.mpi set. Returns the
/// process's exit code; errors are printed here.
int runUnderMpi(int &argc, char **&argv, RunOptions &options,
                const std::function<Status(RunOptions &)> &prepare,
                const std::function<Status(RunOptions &)> &execute);

/// The cuda branch's check of a plan against the launch: a tensor-parallel plan runs
/// on --backend cuda only under mpirun with one rank per plan rank.
Status checkCudaLaunch(const RunOptions &options, const isa::Plan &plan);

} // namespace mk::mkrun
