//===- comm_task.h - What all_reduce and all_gather share on the host ------===//
//
// The peers of a comm task: every rank's comm and flags tensors of the task, found by
// tensor id in each rank's tensor table (the same ids on every rank).
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include "kernels/comm_exchange.h"

#include <cstdint>

namespace mk::host::tasks {

/// Up to kMaxTensorParallel ranks' pointers, on the stack.
struct CommPeerTables {
  uint8_t *comm[isa::kMaxTensorParallel];
  uint32_t *flags[isa::kMaxTensorParallel];
};

/// The exchange of `task` (roles `commRole`, `flagsRole`; comm [2, N, ...]).
inline kernels::CommPeers commPeers(const TaskContext &ctx, const isa::TaskRecord &task,
                                    uint32_t commRole, uint32_t flagsRole,
                                    CommPeerTables &tables) {
  const RankContext &rc = ctx.comm;
  const uint16_t commId = task.operand[commRole], flagsId = task.operand[flagsRole];
  assert(rc.ranks >= 2 && rc.ranks <= isa::kMaxTensorParallel && rc.peers &&
         "a comm task runs only on a rank of a tensor-parallel group");
  for (uint32_t q = 0; q < rc.ranks; ++q) {
    tables.comm[q] = static_cast<uint8_t *>(rc.peers[q][commId].data);
    tables.flags[q] = static_cast<uint32_t *>(rc.peers[q][flagsId].data);
  }
  const TensorRef &comm = ctx.tensor(commId), &flags = ctx.tensor(flagsId);
  assert(comm.shape[0] == 2 && comm.shape[1] == rc.ranks && flags.shape[2] == rc.ranks);
  kernels::CommPeers p;
  p.rank = rc.rank;
  p.ranks = rc.ranks;
  p.tileSlots = uint32_t(flags.shape[1]);
  p.regionBytes = comm.rowBytes() / uint64_t(rc.ranks); // [2, N, ...]: one of N
  p.comm = tables.comm;
  p.flags = tables.flags;
  return p;
}

/// The epoch of `task` (aux[0] = its site) at the context's step.
inline uint32_t commEpoch(const TaskContext &ctx, const isa::TaskRecord &task) {
  return protocol::commEpoch(ctx.comm.commBase, ctx.step, ctx.comm.commSites,
                             task.aux[0]);
}

/// Spins through the context's CommSpin (none: spin forever, as a test without an
/// executor would).
inline bool commSpin(const TaskContext &ctx, uint32_t peer, uint64_t spins) {
  return ctx.comm.spin ? ctx.comm.spin->spin(peer, spins) : true;
}

} // namespace mk::host::tasks
