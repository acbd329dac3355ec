//===- all_reduce.h - Tensor parallelism: the sum of every rank's partial ---===//
//
//   partial [R, H] bf16, residual [R, H] bf16 (optional), comm [2, N, R, H] bf16,
//   flags [2, F, N] i32 -> out [R, H] bf16
//   tile: rows range[0], columns range[1]; site aux[0], tile aux[1].
// Pushes the tile of partial into every rank's comm[b][rank], waits for every rank's
// (kernels/comm_exchange.h), then
//   out[r, c] = bf16(residual[r, c] + bf16(sum))   (out = bf16(sum) without residual)
//   sum = 0; sum += float(comm[b][q][r, c]) for q = 0, 1, ..., N - 1 (fp32, rank order)
// so every rank computes the same bits. If the wait gives up (the launch is stopping),
// out is not written.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/comm_task.h"

#include <cstring>
#include <vector>

namespace mk::host::tasks {

namespace all_reduce {
constexpr isa::TaskKind kKind = isa::TaskKind::AllReduce;
constexpr uint32_t kPartial = role(kKind, "partial");
constexpr uint32_t kResidual = role(kKind, "residual");
constexpr uint32_t kComm = role(kKind, "comm");
constexpr uint32_t kFlags = role(kKind, "flags");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace all_reduce

template <> struct HostTask<isa::TaskKind::AllReduce> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::AllReduce>::run(const TaskContext &ctx,
                                                    const isa::TaskRecord &task) {
  using namespace all_reduce;
  CommPeerTables tables;
  const kernels::CommPeers peers = commPeers(ctx, task, kComm, kFlags, tables);
  const int64_t hidden = ctx.tensor(task, kOut).shape[1];
  const bf16 *partial = ctx.data<const bf16>(task, kPartial);         // [R, H]
  const bf16 *residual = ctx.dataOrNull<const bf16>(task, kResidual); // [R, H]
  bf16 *out = ctx.data<bf16>(task, kOut);                             // [R, H]
  const isa::Range rows = task.range[0], cols = task.range[1];
  const size_t width = cols.end - cols.begin;
  const uint32_t epoch = commEpoch(ctx, task);
  auto write = [&](uint8_t *region) { // region: [R, H] bf16
    bf16 *dst = reinterpret_cast<bf16 *>(region);
    for (uint32_t r = rows.begin; r < rows.end; ++r)
      std::memcpy(dst + r * hidden + cols.begin, partial + r * hidden + cols.begin,
                  width * sizeof(bf16));
  };
  auto spin = [&](uint32_t peer, uint64_t spins) { return commSpin(ctx, peer, spins); };
  if (!kernels::exchangeTile(peers, epoch, task.aux[1], write, spin))
    return;

  std::vector<float> sum(width);
  const uint32_t b = protocol::commBuffer(epoch);
  for (uint32_t r = rows.begin; r < rows.end; ++r) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (uint32_t q = 0; q < peers.ranks; ++q) {
      const bf16 *src =
          reinterpret_cast<const bf16 *>(peers.region(peers.rank, b, q)) + r * hidden;
      for (size_t c = 0; c < width; ++c)
        sum[c] += bf16ToFloat(src[cols.begin + c]);
    }
    bf16 *o = out + r * hidden + cols.begin;
    if (residual) {
      const bf16 *res = residual + r * hidden + cols.begin;
      for (size_t c = 0; c < width; ++c)
        o[c] = floatToBf16(bf16ToFloat(res[c]) + roundToBf16(sum[c]));
    } else {
      for (size_t c = 0; c < width; ++c)
        o[c] = floatToBf16(sum[c]);
    }
  }
}

} // namespace mk::host::tasks
