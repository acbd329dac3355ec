//===- lane_order.h - A program's queue order, dealt into one lane per worker ---===//
//
// The plan's queue order lists a phase's tiles in memory order (gate/up tile 0, 1, 2,
// ...), and the host's workers claim tickets one after the other, so with W workers
// each one runs every W-th tile: W streams interleaved through one region, each
// restarting at every task. Streams that go on where the worker's last task ended run
// faster: two threads reading alternate 352 KiB tiles of one buffer measured ~45-50
// GB/s on the 2-core VM where each reading its own half, tile after tile, measured
// ~55-60 (bench/NOTES.md).
//
// laneOrder deals each phase into W contiguous lanes and interleaves them: ticket
// i * W + l of the phase is lane l's i-th tile, so while the workers claim in turn,
// worker l walks lane l front to back. (They do not always claim in turn; a worker
// that claims twice running swaps lanes with another, and both lanes stay contiguous.)
//
// A phase is a maximal run of consecutive tasks of the order with the same kind and
// the same waits, none of which signals an event the run waits on in the same step.
// Its members then wait only on tasks before the run, so any order of them keeps the
// queue topological, and the protocol's deadlock-freedom argument (protocol.h) holds
// for the dealt order. Results do not depend on the order: each task writes its own
// tile, and no reduction crosses tasks. Comm phases (all-reduce, all-gather) keep the
// plan's order: their tasks wait on the same task of every peer rank, and the ranks
// must agree on the order whatever their worker counts.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include <cstdint>
#include <vector>

namespace mk::host {

/// `program.order` with every phase of at least two tasks per lane dealt into `lanes`
/// lanes; unchanged for one lane.
std::vector<uint32_t> laneOrder(const isa::Program &program, unsigned lanes);

} // namespace mk::host
