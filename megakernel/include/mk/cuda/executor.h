//===- executor.h - The CUDA megakernel: a plan on the GPU ------------------===//
//
// One persistent CTA per SM runs mk/isa/protocol.h (ctaWorkerLoop): the CTA's leader
// thread claims tickets, the CTA stages the task's weights into shared memory before
// the dependency wait, all threads compute, the leader signals with device-scope
// release. The host executor is the reference it is tested against (ctest -L gpu).
//
// Plain C++: no CUDA header leaks to users, so the runtime and tools compile with g++.
// When mk is built without CUDA (MK_ENABLE_CUDA=OFF, or no nvcc), create() returns an
// error that says so.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/executor.h"
#include "mk/isa/plan.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace mk::cuda {

/// The NCCL unique id of a tensor-parallel run (ncclUniqueId's bytes): rank 0 makes it
/// (newCommId), the launcher gives every rank the same bytes (MPI_Bcast).
struct CommId {
  uint8_t bytes[128] = {};
};

/// Makes a new NCCL unique id (ncclGetUniqueId); an error in builds without NCCL.
Status newCommId(CommId &out);

/// Whether this build runs tensor-parallel plans (CUDA and NCCL >= 2.28 were found).
bool tensorParallelBuilt();

/// How the comm tasks push a rank's tile to every rank (the wait, the flags and the
/// rank-order sum are the same on every path):
///   Auto      multimem where every rank's device supports multicast (NVLink SHARP) and
///             NCCL gives the window a multicast address, else LSA peer stores;
///   Lsa       one store per peer through its LSA pointer;
///   Multimem  multimem only: createExecutor fails where it is not available.
/// The environment variable MK_CUDA_COMM (auto, lsa, multimem) overrides Auto.
enum class CommPath { Auto, Lsa, Multimem };

struct CudaOptions {
  int device = 0;
  unsigned workers = 0;         // CTAs; 0 = one per SM (times the occupancy, which is 1)
  uint64_t watchdogMs = 10'000; // a wait longer than this stops the kernel with an error
  bool profile = false;         // record one ProfileRecord per task (globaltimer)
  uint64_t profileCapacity = 1u << 22; // records per launch
  bool checkTarget = true; // refuse plans whose target does not match the device
  // Each worker CTA claims its next task when it turns to the current one and stages
  // that task's first weight bytes while the current one waits and runs
  // (protocol::ctaWorkerLoop). Off: the next task is claimed when the current is done.
  bool lookahead = true;
  // Tensor parallelism: this process is rank `rank` of `ranks` (the plan's
  // tensorParallel), one process per GPU, all with the same `commId`. The comm tensors
  // are NCCL symmetric memory (ncclMemAlloc + ncclCommWindowRegister) and the kernel's
  // all_reduce / all_gather tasks store into the peers' copies through LSA pointers.
  uint32_t rank = 0, ranks = 1;
  CommId commId{};
  // Called exactly once by createExecutor on every rank of a tensor-parallel plan with
  // this rank's status so far, before the first NCCL call (ncclCommInitRank waits for
  // every rank: one that failed earlier must not leave its peers there). Returns the
  // ranks' common status (e.g. MpiRankComm::agree); an error stops createExecutor with
  // it. Unset: the rank's own status.
  std::function<Status(const Status &)> agree{};
  // The push path of the comm tasks (every rank should pass the same; the ranks agree
  // on multimem through NCCL before asking for it).
  CommPath commPath = CommPath::Auto;
};

/// Whether this build has the CUDA executor.
bool built();

/// Checks that a CUDA driver and device `device` are usable; the error is one line
/// (no driver, no device, the driver too old for this build, ...). On success the
/// device's name and compute capability (e.g. 90) go to the non-null out parameters.
Status probeDevice(int device, std::string *name = nullptr, int *smVersion = nullptr);

/// Whether a device is usable (for tests that skip without one).
bool deviceAvailable(int device = 0);

/// Creates a CUDA executor for `plan` (which must outlive it): checks the device and
/// that the plan's target fits the device (an h100/h200 plan needs sm_90, an a100 plan
/// sm_80 or newer; a host plan is refused).
Status createExecutor(const isa::Plan &plan, const CudaOptions &options,
                      std::unique_ptr<Executor> &out);

} // namespace mk::cuda
