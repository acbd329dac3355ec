//===- all_gather.h - Tensor parallelism: every rank's LM-head argmax partials ==//
//
//   local [R, T, 2] f32, comm [2, N, R, 2 T] f32, flags [2, F, N] i32
//   -> out [R, N T, 2] f32
//   one tile: rows range[0], range[1] = [0, T); site aux[0], tile aux[1] = 0.
// Pushes local (this rank's lm_head partials, global vocabulary ids) into every rank's
// comm[b][rank], waits for every rank's, then out[r, q T + t] = rank q's partial t of
// row r: argmax reads out as it reads one rank's partial_max, so ties still go to the
// lowest global id and every rank picks the same token.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/comm_task.h"

#include <cstring>

namespace mk::host::tasks {

namespace all_gather {
constexpr isa::TaskKind kKind = isa::TaskKind::AllGather;
constexpr uint32_t kLocal = role(kKind, "local");
constexpr uint32_t kComm = role(kKind, "comm");
constexpr uint32_t kFlags = role(kKind, "flags");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace all_gather

template <> struct HostTask<isa::TaskKind::AllGather> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::AllGather>::run(const TaskContext &ctx,
                                                    const isa::TaskRecord &task) {
  using namespace all_gather;
  CommPeerTables tables;
  const kernels::CommPeers peers = commPeers(ctx, task, kComm, kFlags, tables);
  const TensorRef &localRef = ctx.tensor(task, kLocal);
  const int64_t tiles = localRef.shape[1];
  assert(ctx.tensor(task, kOut).shape[1] == tiles * peers.ranks);
  const float *local = ctx.data<const float>(task, kLocal); // [R, T, 2]
  float *out = ctx.data<float>(task, kOut);                 // [R, N T, 2]
  const isa::Range rows = task.range[0];
  const size_t rowFloats = size_t(tiles) * 2;
  const uint32_t epoch = commEpoch(ctx, task);
  auto write = [&](uint8_t *region) { // region: [R, 2 T] f32
    float *dst = reinterpret_cast<float *>(region);
    for (uint32_t r = rows.begin; r < rows.end; ++r)
      std::memcpy(dst + r * rowFloats, local + r * rowFloats, rowFloats * sizeof(float));
  };
  auto spin = [&](uint32_t peer, uint64_t spins) { return commSpin(ctx, peer, spins); };
  if (!kernels::exchangeTile(peers, epoch, task.aux[1], write, spin))
    return;
  const uint32_t b = protocol::commBuffer(epoch);
  for (uint32_t r = rows.begin; r < rows.end; ++r)
    for (uint32_t q = 0; q < peers.ranks; ++q)
      std::memcpy(out + (size_t(r) * peers.ranks + q) * rowFloats,
                  reinterpret_cast<const float *>(peers.region(peers.rank, b, q)) +
                      r * rowFloats,
                  rowFloats * sizeof(float));
}

} // namespace mk::host::tasks
