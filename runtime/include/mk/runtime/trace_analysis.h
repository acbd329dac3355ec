//===- trace_analysis.h - What mkprof reads from a trace ------------------------===//
//
// Reads the Chrome-trace JSON that mkrun --profile writes (TraceWriter) back into task
// executions, and summarizes them: time per kind (run and wait) and per MoE expert,
// per-worker utilization, bubbles (a worker neither waiting nor running), and, given
// the plan, the observed critical path of each launch. Also draws a timeline as SVG.
//
// A tensor-parallel trace holds every rank's launches (the same launches on every
// rank, in the same order): workers are per rank (a track is (rank, worker)), each
// launch belongs to one rank, and the comm tasks (all_reduce, all_gather) get a
// summary per rank: their wait on local events (claim -> ready), their run (push,
// wait on the peers' flags, reduce) and, within it, the time spent waiting on peers,
// read from the timeline: a comm tile's data is complete once every rank's copy of it
// has pushed, so rank p waits on peers for min(run, max over ranks q of ready_q -
// ready_p) (the ranks' timelines share one clock).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"
#include "mk/isa/status.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mk::runtime {

/// One task execution, times in microseconds on the trace's timeline.
struct TaskExecution {
  uint32_t launch = 0;
  std::string program, kind;
  int32_t layer = -1;
  int32_t expert = -1; // the expert a moe_gate_up / moe_down tile served
  uint32_t task = 0, worker = 0;
  uint32_t rank = 0; // tensor-parallel rank; worker is the rank's own
  uint64_t step = 0;
  uint64_t weightBytes = 0; // the run slice's weight_bytes (0: none, or not counted)
  double claimUs = 0, readyUs = 0, doneUs = 0;
};

struct TraceLaunch {
  std::string program;
  uint32_t rank = 0;
  uint64_t steps = 0;
  double startUs = 0, endUs = 0;
};

struct Trace {
  std::vector<TraceLaunch> launches;
  std::vector<TaskExecution> executions; // sorted by claim time
  uint32_t workers = 0;                  // per rank: the most any rank has
  uint32_t ranks = 1;

  /// A worker's row among all ranks' workers: rank * workers + worker.
  uint32_t track(const TaskExecution &x) const { return x.rank * workers + x.worker; }
};

/// Parses a trace file; errors name the file and what is wrong.
Status readTrace(const std::string &path, Trace &out);

struct KindSummary {
  uint64_t count = 0;
  double runUs = 0, waitUs = 0, maxRunUs = 0;
};

/// The weight bytes a kind's tasks streamed and the time they ran: bytes / runUs is the
/// rate one worker streamed them at while it ran them (the prefetch that starts at the
/// claim may have pulled some bytes in before).
struct StreamSummary {
  uint64_t tasks = 0, bytes = 0;
  double runUs = 0;
  double gbps() const { return runUs > 0 ? double(bytes) / runUs / 1e3 : 0.0; }
};

struct WorkerSummary {
  double runUs = 0, waitUs = 0, idleUs = 0; // idle = in a launch, no task held
  uint64_t tasks = 0;
};

struct Bubble {
  uint32_t rank, worker;
  double startUs, durUs;
};

struct CriticalPath {
  uint32_t launch = 0;
  std::vector<size_t> executions; // indices into Trace::executions, first to last
  double runUs = 0;               // time on the path spent running tasks
  double waitUs = 0; // the rest of the span: waiting on events, claiming, signalling
  double spanUs = 0; // first claim to last done
};

/// A rank's comm tasks of one kind (all_reduce or all_gather).
struct CommSummary {
  uint64_t count = 0;
  double waitUs = 0;     // claim -> ready: waiting on this rank's own producers
  double runUs = 0;      // ready -> done: push, wait on the peers, reduce / copy
  double peerWaitUs = 0; // the part of runUs spent waiting on slower peers
  uint64_t last = 0;     // tiles this rank was the last to reach (the others waited)
};

struct TraceSummary {
  double spanUs = 0; // sum of launch durations (with TP: the longest rank's sum)
  std::vector<double> rankSpanUs; // [rank]: sum of the rank's launch durations
  std::map<std::string, KindSummary> kinds;
  /// [rank]: comm kind -> summary; empty without comm tasks.
  std::vector<std::map<std::string, CommSummary>> comm;
  /// The MoE expert tiles by (kind, expert): what each expert cost.
  std::map<std::pair<std::string, int32_t>, KindSummary> experts;
  /// The weight-streaming kinds (those whose tasks streamed weight bytes): kind ->
  /// [Trace::track] what each worker's tasks of the kind streamed, and in `all`, every
  /// worker's together.
  struct KindStreams {
    StreamSummary all;
    std::vector<StreamSummary> workers;
  };
  std::map<std::string, KindStreams> streams;
  std::vector<WorkerSummary> workers; // by Trace::track
  std::vector<Bubble> bubbles;        // gaps longer than the threshold, longest first
  double bubbleUs = 0;                // all idle time inside launches
};

TraceSummary summarizeTrace(const Trace &trace, double bubbleThresholdUs = 5.0);

/// The chain of executions that decided each launch's length: from the last task to
/// finish, step back to the producer (a task signalling an event it waited on, same
/// step or, for cross-step waits, the previous one) that finished last if the task was
/// already waiting when it finished, else to the previous task of the same worker
/// (the worker was busy: the queue, not a dependency, set the start). Needs the plan.
Status criticalPaths(const Trace &trace, const isa::Plan &plan,
                     std::vector<CriticalPath> &out);

/// How listings name an execution: its kind, layer and expert, e.g.
/// "moe_gate_up l3 e17", "qkv l0", "lm_head".
std::string executionLabel(const TaskExecution &x);

/// A timeline picture: one row per worker (of every rank), run slices colored by kind
/// (every ISA kind its own colour: timelineColor), waits grey, a time axis with ticks,
/// a line at each launch's start (named by its program) and a dotted one at each
/// step's end inside a multi-step launch (the step's last task done), drawn over the
/// rows of the launch's rank. Elements carry classes for tools and tests: rect.run
/// (data-kind), rect.wait, line.tick, line.launch, line.step.
Status writeTimelineSvg(const std::string &path, const Trace &trace, double fromUs = 0,
                        double toUs = 0 /* 0 = the end */);

/// The timeline's fill for a kind: one colour per ISA task kind, none shared; a name
/// the ISA does not know gets black.
const char *timelineColor(const std::string &kind);

} // namespace mk::runtime
