//===- comm_exchange.h - One comm tile's push and wait (host ranks) ------===//
//
// Steps 1 and 2 of a comm tile (mk/isa/protocol.h, "Cross-rank communication"), over
// raw pointers so the TP protocol stress test runs exactly this code:
//   comm[q]  = rank q's comm tensor [2, N, region], region = `regionBytes` bytes
//   flags[q] = rank q's flags [2, F, N] (uint32 epochs)
// push: for q = 0..N-1, write(rank q's comm[b][rank]) and release-store
//       flags_q[b][tile][rank] = epoch;
// wait: for q = 0..N-1, acquire-poll own flags[b][tile][q] until it reached epoch.
// Afterwards own comm[b][q] (region(comm[rank], b, q)) holds rank q's tile of epoch.
// Header-only, no STL: the host tasks and the stress test include it.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/protocol.h"

#include <cstddef>
#include <cstdint>

namespace mk::host::kernels {

struct CommPeers {
  uint32_t rank = 0;
  uint32_t ranks = 1;
  uint32_t tileSlots = 1;           // F of flags [2, F, N]
  uint64_t regionBytes = 0;         // one rank's region of comm[b]
  uint8_t *const *comm = nullptr;   // [ranks]
  uint32_t *const *flags = nullptr; // [ranks]

  uint8_t *region(uint32_t owner, uint32_t buffer, uint32_t from) const {
    return comm[owner] + (uint64_t(buffer) * ranks + from) * regionBytes;
  }
};

/// Pushes this rank's tile to every rank and waits for every rank's. `write(dst)`
/// writes the tile into a peer's region; `spin(peer, spins)` is called between polls
/// and returns false to give up (then returns false: the exchange did not complete).
template <class Write, class Spin>
bool exchangeTile(const CommPeers &p, uint32_t epoch, uint32_t tile, Write &&write,
                  Spin &&spin) {
  const uint32_t b = protocol::commBuffer(epoch);
  for (uint32_t q = 0; q < p.ranks; ++q) {
    write(p.region(q, b, p.rank));
    protocol::storeFlagRelease(
        p.flags[q] + protocol::commFlagIndex(b, tile, p.rank, p.tileSlots, p.ranks),
        epoch);
  }
  for (uint32_t q = 0; q < p.ranks; ++q) {
    uint32_t *flag =
        p.flags[p.rank] + protocol::commFlagIndex(b, tile, q, p.tileSlots, p.ranks);
    for (uint64_t spins = 0;
         !protocol::epochReached(protocol::loadFlagAcquire(flag), epoch); ++spins)
      if (!spin(q, spins))
        return false;
  }
  return true;
}

} // namespace mk::host::kernels
