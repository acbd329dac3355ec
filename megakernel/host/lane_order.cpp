//===- lane_order.cpp - A program's queue order, dealt into worker lanes --===//

#include "mk/host/lane_order.h"

#include "mk/isa/task_kinds.h"

namespace mk::host {

namespace {

bool samePhase(const isa::TaskRecord &a, const isa::TaskRecord &b) {
  if (a.kind != b.kind || a.numWaits != b.numWaits)
    return false;
  for (uint32_t w = 0; w < a.numWaits; ++w)
    if (a.wait[w].event != b.wait[w].event || a.wait[w].count != b.wait[w].count ||
        a.wait[w].stepBack != b.wait[w].stepBack)
      return false;
  return true;
}

/// Whether `t` signals an event that `waiter` waits on in the same step.
bool feeds(const isa::TaskRecord &t, const isa::TaskRecord &waiter) {
  for (uint32_t s = 0; s < t.numSignals; ++s)
    for (uint32_t w = 0; w < waiter.numWaits; ++w)
      if (waiter.wait[w].stepBack == 0 && waiter.wait[w].event == t.signal[s])
        return true;
  return false;
}

} // namespace

std::vector<uint32_t> laneOrder(const isa::Program &program, unsigned lanes) {
  std::vector<uint32_t> order = program.order;
  if (lanes < 2)
    return order;
  const size_t n = order.size();
  std::vector<uint32_t> phase;
  for (size_t begin = 0; begin < n;) {
    // [begin, end): every member has the first one's waits, so checking that no
    // member feeds the first checks that none feeds any.
    const isa::TaskRecord &first = program.tasks[order[begin]];
    size_t end = begin + 1;
    bool independent = !feeds(first, first);
    while (end < n && samePhase(program.tasks[order[end]], first)) {
      independent = independent && !feeds(program.tasks[order[end]], first);
      ++end;
    }
    const size_t len = end - begin;
    // Comm tasks wait on the same task of every peer rank: they keep the plan's
    // order, which all ranks share whatever their worker counts.
    if (independent && !isa::isCommKind(first.kind) && len >= 2 * size_t(lanes)) {
      // Lane l holds members [l * len / lanes, (l + 1) * len / lanes), in order.
      phase.assign(order.begin() + long(begin), order.begin() + long(end));
      size_t at = begin;
      for (size_t i = 0; at < end; ++i)
        for (size_t l = 0; l < lanes; ++l) {
          const size_t lo = l * len / lanes, hi = (l + 1) * len / lanes;
          if (lo + i < hi)
            order[at++] = phase[lo + i];
        }
    }
    begin = end;
  }
  return order;
}

} // namespace mk::host
