//===- mpi_launch.cpp - mkrun under mpirun ---------------------------------===//
#include "mpi_launch.h"

#include "options.h"

#if MK_HAVE_MPI
#include "mk/runtime/mpi_rank_comm.h"
#endif

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace mk::mkrun {

bool launchedByMpi() {
  // Open MPI; MPICH, Intel MPI (PMI); PMIx launchers (srun, prterun).
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var))
      return true;
  return false;
}

Status checkCudaLaunch(const RunOptions &o, const isa::Plan &plan) {
  const uint32_t tp = plan.tensorParallel;
  if (o.mpi) {
    if (o.mpi->ranks > 1 && o.backend != "cuda")
      return Status::error("under mpirun mkrun runs --backend cuda, one process per GPU "
                           "(tensor-parallel ranks on the host are threads of one "
                           "mkrun: run it without mpirun)");
    if (tp != o.mpi->ranks)
      return Status::error(o.planPath + ": the plan is tensor-parallel over " +
                           std::to_string(tp) + " rank" + (tp == 1 ? "" : "s") +
                           ", but mpirun started " + std::to_string(o.mpi->ranks) +
                           " (mpirun -np " + std::to_string(tp) + ")");
    return Status::ok();
  }
  if (o.backend != "cuda" || tp <= 1)
    return Status::ok();
#if MK_HAVE_MPI
  return Status::error(o.planPath + ": the plan is tensor-parallel over " +
                       std::to_string(tp) +
                       " ranks; --backend cuda runs one process per GPU: mpirun -np " +
                       std::to_string(tp) + " mkrun ... --backend cuda");
#else
  return Status::error(o.planPath + ": the plan is tensor-parallel over " +
                       std::to_string(tp) +
                       " ranks, which --backend cuda runs under mpirun, and this mkrun "
                       "was built without MPI (install libopenmpi-dev and reconfigure)");
#endif
}

#if MK_HAVE_MPI

int runUnderMpi(int &argc, char **&argv, RunOptions &o,
                const std::function<Status(RunOptions &)> &prepare,
                const std::function<Status(RunOptions &)> &execute) {
  std::unique_ptr<runtime::MpiProcess> process;
  if (Status s = runtime::MpiProcess::init(argc, argv, process); !s) {
    fmt::print(stderr, "mkrun: error: {}\n", s.message());
    return 1;
  }
  runtime::MpiRankComm comm(*process);
  const std::string who =
      "rank " + std::to_string(comm.rank()) + " of " + std::to_string(comm.ranks());
  // A failure every rank agreed on: each rank prints its own error, or the lowest
  // failing rank's, and every rank exits 1.
  auto agreed = [&](const Status &mine, const Status &all) {
    fmt::print(stderr, "mkrun: error: {}: {}\n", who, (mine ? all : mine).message());
    return 1;
  };

  MpiRank rank;
  rank.rank = comm.rank();
  rank.ranks = comm.ranks();
  rank.comm = &comm;
  o.mpi = &rank;
  // The node's ranks take consecutive GPUs from --device.
  o.device += int(process->localRank());
  Status mine = prepare(o);
  if (Status all = comm.agree(mine); !all)
    return agreed(mine, all);

  // Rank 0's NCCL id (no other rank makes NCCL calls until it has it).
  mine = comm.rank() == 0 ? cuda::newCommId(rank.commId) : Status::ok();
  if (Status all = comm.agree(mine); !all)
    return agreed(mine, all);
  if (Status s = comm.broadcast({rank.commId.bytes, sizeof rank.commId.bytes}, 0); !s)
    comm.abort(s);

  bool agreedFailure = false;
  rank.agree = [&](const Status &local) {
    Status all = comm.agree(local);
    agreedFailure = !all;
    if (!all)
      fmt::print(stderr, "mkrun: error: {}: {}\n", who, (local ? all : local).message());
    return all;
  };
  // Rank 0 speaks for the job; the others' stdout would repeat it.
  if (comm.rank() != 0 && !std::freopen("/dev/null", "w", stdout))
    comm.abort(
        Status::error("cannot silence stdout of rank " + std::to_string(comm.rank())));
  if (Status s = execute(o); !s) {
    if (agreedFailure)
      return 1; // printed by rank.agree on every rank
    // A peer may be inside NCCL or the megakernel, waiting for this rank.
    comm.abort(Status::error(s.message()));
  }
  return 0;
}

#else

int runUnderMpi(int &, char **&, RunOptions &,
                const std::function<Status(RunOptions &)> &,
                const std::function<Status(RunOptions &)> &) {
  fmt::print(stderr, "mkrun: error: started by an MPI launcher, but this mkrun was built "
                     "without MPI (install libopenmpi-dev and reconfigure)\n");
  return 1;
}

#endif

} // namespace mk::mkrun
