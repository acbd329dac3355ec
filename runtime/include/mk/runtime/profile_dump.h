//===- profile_dump.h - Chrome-trace / Perfetto JSON of executed tasks ----===//
//
// Output (JSON object form, loads in ui.perfetto.dev and chrome://tracing):
//   {"displayTimeUnit": "ns", "traceEvents": [
//     {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "workers"}},
//     {"ph": "M", "name": "thread_name", "pid": 1, "tid": 3, "args": {"name": "worker
//     3"}},
//     {"ph": "X", "name": "wait qkv", "cat": "wait", "pid": 1, "tid": 3,
//      "ts": 12.345, "dur": 0.5, "args": {...}},          // claim -> ready
//     {"ph": "X", "name": "qkv", "cat": "run", ...},       // ready -> done
//     {"ph": "X", "name": "decode", "cat": "launch", "pid": 0, "tid": 0, ...}, ...]}
// One track per worker (pid 1, tid = worker); a "launches" track (pid 0) with one
// slice per launch. ts and dur are microseconds (floats, ns resolution). Slice args:
//   task (index in the program), kind, layer (null when not per-layer), expert (the
//   expert a moe_gate_up / moe_down tile served, else null), step, program, rank,
//   rows / range1 / range2 ([begin, end) tile ranges, meaning per kind: task_kinds.h);
//   wait slices also list the task's waits ({event, count, step_back}); run slices
//   give weight_bytes, the weight bytes the task streamed (0 where the executor does
//   not count them per task: cuda).
// Tensor parallelism: one track group (process) per rank, pid 1 + rank, named
// "rank R" ("workers" when the trace has one rank), its workers' tracks inside; the
// launches track has one thread per rank (tid = rank), and launch slices name the
// rank too. Every rank runs the same launches, in the same order.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/executor.h"
#include "mk/isa/plan.h"
#include "mk/isa/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mk::runtime {

/// Accumulates the profile records of several launches into one trace.
class TraceWriter {
public:
  /// Appends one launch of `program` on tensor-parallel rank `rank` whose records'
  /// times (ns since the launch started) are placed at `offsetUs` on the trace's
  /// timeline; pass endUs() to put it after everything added so far. `plan` must
  /// outlive the writer (write() reads its task records). Fails, adding nothing, on a
  /// record whose task is not in the program or whose times are not
  /// claim <= ready <= done.
  Status add(const isa::Plan &plan, uint32_t program,
             const std::vector<host::ProfileRecord> &records, double offsetUs = 0,
             uint32_t rank = 0);

  /// End (µs) of the last slice added so far; 0 when empty.
  double endUs() const { return endUs_; }
  /// Number of records added.
  size_t numRecords() const;

  /// Writes the trace atomically (temporary file, then rename).
  Status write(const std::string &path) const;

private:
  struct Launch {
    const isa::Plan *plan;
    uint32_t program;
    uint32_t rank;
    double offsetUs;
    std::vector<host::ProfileRecord> records;
  };
  std::vector<Launch> launches_;
  double endUs_ = 0;
};

/// One launch's trace, as TraceWriter::add + write.
Status writeChromeTrace(const std::string &path, const isa::Plan &plan, uint32_t program,
                        const std::vector<host::ProfileRecord> &records,
                        double launchOffsetUs = 0);

} // namespace mk::runtime
