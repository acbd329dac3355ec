//===- trace_analysis.h - What mkprof reads from a trace ------------------------===//
//
// Reads the Chrome-trace JSON that mkrun --profile writes (TraceWriter) back into task
// executions, and summarizes them: time per kind (run and wait) and per MoE expert,
// per-worker utilization, bubbles (a worker neither waiting nor running), and, given
// the plan, the observed critical path of each launch. Also draws a timeline as SVG.
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
  uint64_t step = 0;
  double claimUs = 0, readyUs = 0, doneUs = 0;
};

struct TraceLaunch {
  std::string program;
  uint64_t steps = 0;
  double startUs = 0, endUs = 0;
};

struct Trace {
  std::vector<TraceLaunch> launches;
  std::vector<TaskExecution> executions; // sorted by claim time
  uint32_t workers = 0;
};

/// Parses a trace file; errors name the file and what is wrong.
Status readTrace(const std::string &path, Trace &out);

struct KindSummary {
  uint64_t count = 0;
  double runUs = 0, waitUs = 0, maxRunUs = 0;
};

struct WorkerSummary {
  double runUs = 0, waitUs = 0, idleUs = 0; // idle = in a launch, no task held
  uint64_t tasks = 0;
};

struct Bubble {
  uint32_t worker;
  double startUs, durUs;
};

struct CriticalPath {
  uint32_t launch = 0;
  std::vector<size_t> executions; // indices into Trace::executions, first to last
  double runUs = 0;               // time on the path spent running tasks
  double waitUs = 0; // the rest of the span: waiting on events, claiming, signalling
  double spanUs = 0; // first claim to last done
};

struct TraceSummary {
  double spanUs = 0; // sum of launch durations
  std::map<std::string, KindSummary> kinds;
  /// The MoE expert tiles by (kind, expert): what each expert cost.
  std::map<std::pair<std::string, int32_t>, KindSummary> experts;
  std::vector<WorkerSummary> workers;
  std::vector<Bubble> bubbles; // gaps longer than the threshold, longest first
  double bubbleUs = 0;         // all idle time inside launches
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

/// A timeline picture: one row per worker, run slices colored by kind, waits grey.
Status writeTimelineSvg(const std::string &path, const Trace &trace, double fromUs = 0,
                        double toUs = 0 /* 0 = the end */);

} // namespace mk::runtime
