//===- mkprof.cpp - Where did the time go? Summaries and timelines of traces ===//
//
//   mkprof trace.json [--plan plan.mkp] [--svg timeline.svg] [--from US --to US]
#include "mk/isa/plan_file.h"
#include "mk/runtime/trace_analysis.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>

using namespace mk;

int main(int argc, char **argv) {
  CLI::App app{"mkprof: summarize a trace written by `mkrun --profile`: time per task "
               "kind (run and wait), weight GB/s per weight-streaming kind (all workers "
               "and each), per expert for MoE expert tiles, per-worker "
               "utilization, bubbles, the observed critical path of each launch and its "
               "longest tasks (with --plan), and an SVG timeline (a colour per kind, a "
               "time axis, launch and step marks). A tensor-parallel "
               "trace (mkrun --tp N) is summarized over all ranks, with workers per "
               "rank and, per rank, the all-reduce / all-gather tasks' waits: on their "
               "own producers, and on slower peers."};
  std::string tracePath, planPath, svgPath;
  double fromUs = 0, toUs = 0, bubbleUs = 5.0;
  size_t top = 5;
  app.add_option("trace", tracePath, "Trace JSON from mkrun --profile")->required();
  app.add_option("--plan", planPath,
                 "The plan the trace was run from (for critical paths)");
  app.add_option("--svg", svgPath, "Write a timeline picture (one row per worker)");
  app.add_option("--from", fromUs, "Timeline start, microseconds")->capture_default_str();
  app.add_option("--to", toUs, "Timeline end, microseconds (0 = the end)")
      ->capture_default_str();
  app.add_option("--bubble-us", bubbleUs, "Smallest idle gap reported as a bubble")
      ->capture_default_str();
  app.add_option("--top", top, "Bubbles and critical-path tasks to list")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == 0)
      return app.exit(e);
    fmt::print(stderr, "mkprof: error: {}\n", e.what());
    return 1;
  }
  runtime::Trace trace;
  if (Status s = runtime::readTrace(tracePath, trace); !s) {
    fmt::print(stderr, "mkprof: error: {}\n", s.message());
    return 1;
  }
  runtime::TraceSummary sum = runtime::summarizeTrace(trace, bubbleUs);
  if (trace.ranks > 1)
    fmt::print("trace {}: {} ranks, {} launches each, {} workers per rank, {} task "
               "executions, {:.1f} us in launches (the longest rank)\n",
               tracePath, trace.ranks, trace.launches.size() / trace.ranks, trace.workers,
               trace.executions.size(), sum.spanUs);
  else
    fmt::print(
        "trace {}: {} launches, {} workers, {} task executions, {:.1f} us in launches\n",
        tracePath, trace.launches.size(), trace.workers, trace.executions.size(),
        sum.spanUs);
  fmt::print("\n{:<14}{:>8}{:>12}{:>11}{:>11}{:>12}\n", "kind", "count", "run us",
             "mean us", "max us", "wait us");
  std::vector<std::pair<std::string, runtime::KindSummary>> kinds(sum.kinds.begin(),
                                                                  sum.kinds.end());
  std::sort(kinds.begin(), kinds.end(),
            [](auto &a, auto &b) { return a.second.runUs > b.second.runUs; });
  for (const auto &[kind, k] : kinds)
    fmt::print("{:<14}{:>8}{:>12.1f}{:>11.2f}{:>11.2f}{:>12.1f}\n", kind, k.count,
               k.runUs, k.runUs / std::max<uint64_t>(k.count, 1), k.maxRunUs, k.waitUs);
  // A worker's name: "worker 3", or "r1 worker 3" in a tensor-parallel trace.
  auto workerName = [&](uint32_t rank, uint32_t worker) {
    return trace.ranks > 1 ? fmt::format("r{} worker {}", rank, worker)
                           : fmt::format("worker {}", worker);
  };
  if (!sum.streams.empty()) {
    // Where weight bytes stream slowly: each kind's bytes over its tasks' run time
    // (one worker's rate while it ran them), all workers and each one.
    fmt::print("\n{:<14}{:>8}{:>10}{:>12}{:>9}  {}\n", "weights", "tasks", "MB", "run us",
               "GB/s", "GB/s per worker");
    std::vector<std::pair<std::string, runtime::TraceSummary::KindStreams>> streams(
        sum.streams.begin(), sum.streams.end());
    std::stable_sort(streams.begin(), streams.end(), [](auto &a, auto &b) {
      return a.second.all.runUs > b.second.all.runUs;
    });
    for (const auto &[kind, st] : streams) {
      std::string perWorker;
      for (size_t t = 0; t < st.workers.size(); ++t)
        if (st.workers[t].tasks)
          perWorker +=
              fmt::format("{}{} {:.1f}", perWorker.empty() ? "" : ", ",
                          trace.ranks > 1 ? fmt::format("r{}w{}", t / trace.workers,
                                                        t % trace.workers)
                                          : fmt::format("w{}", t),
                          st.workers[t].gbps());
      fmt::print("{:<14}{:>8}{:>10.2f}{:>12.1f}{:>9.2f}  {}\n", kind, st.all.tasks,
                 double(st.all.bytes) / 1e6, st.all.runUs, st.all.gbps(), perWorker);
    }
    fmt::print("(GB/s: the weight bytes the kind's tasks streamed over their run time, "
               "ready to done)\n");
  }
  if (!sum.experts.empty()) {
    // The MoE expert tiles, by kind and the expert they served (busiest first).
    fmt::print("\n{:<20}{:>8}{:>12}{:>11}{:>11}{:>12}\n", "expert", "tiles", "run us",
               "mean us", "max us", "wait us");
    std::vector<std::pair<std::pair<std::string, int32_t>, runtime::KindSummary>> experts(
        sum.experts.begin(), sum.experts.end());
    std::stable_sort(experts.begin(), experts.end(),
                     [](auto &a, auto &b) { return a.second.runUs > b.second.runUs; });
    for (const auto &[key, k] : experts)
      fmt::print("{:<20}{:>8}{:>12.1f}{:>11.2f}{:>11.2f}{:>12.1f}\n",
                 fmt::format("{} e{}", key.first, key.second), k.count, k.runUs,
                 k.runUs / std::max<uint64_t>(k.count, 1), k.maxRunUs, k.waitUs);
  }
  if (!sum.comm.empty()) {
    // Per rank: the comm tiles' wait on their own producers, their run, and the part
    // of the run spent waiting for the slowest peer to arrive.
    fmt::print("\n{:<6}{:<12}{:>8}{:>12}{:>12}{:>14}{:>8}\n", "rank", "comm", "tiles",
               "wait us", "run us", "peer wait us", "last");
    for (size_t r = 0; r < sum.comm.size(); ++r)
      for (const auto &[kind, c] : sum.comm[r])
        fmt::print("{:<6}{:<12}{:>8}{:>12.1f}{:>12.1f}{:>14.1f}{:>8}\n", r, kind, c.count,
                   c.waitUs, c.runUs, c.peerWaitUs, c.last);
    fmt::print("(peer wait: the run of a tile until the last rank reached it; last: "
               "tiles this rank reached last)\n");
  }
  fmt::print("\n{:<16}{:>8}{:>9}{:>9}{:>9}\n", "worker", "tasks", "run %", "wait %",
             "idle %");
  for (size_t t = 0; t < sum.workers.size(); ++t) {
    const runtime::WorkerSummary &ws = sum.workers[t];
    const uint32_t rank = uint32_t(t / std::max(trace.workers, 1u));
    double total = std::max(sum.rankSpanUs[rank], 1e-9);
    fmt::print("{:<16}{:>8}{:>9.1f}{:>9.1f}{:>9.1f}\n",
               workerName(rank, uint32_t(t % std::max(trace.workers, 1u))), ws.tasks,
               100 * ws.runUs / total, 100 * ws.waitUs / total, 100 * ws.idleUs / total);
  }
  fmt::print("\nbubbles (idle >= {} us): {}, {:.1f} us of idle time in all\n", bubbleUs,
             sum.bubbles.size(), sum.bubbleUs);
  for (size_t i = 0; i < std::min(top, sum.bubbles.size()); ++i)
    fmt::print("  {} idle {:.1f} us at {:.1f} us\n",
               workerName(sum.bubbles[i].rank, sum.bubbles[i].worker),
               sum.bubbles[i].durUs, sum.bubbles[i].startUs);

  if (!planPath.empty()) {
    isa::Plan plan;
    std::vector<runtime::CriticalPath> paths;
    if (Status s = isa::readPlanFile(planPath, plan); !s) {
      fmt::print(stderr, "mkprof: error: {}\n", s.message());
      return 1;
    }
    if (Status s = runtime::criticalPaths(trace, plan, paths); !s) {
      fmt::print(stderr, "mkprof: error: {}: {}\n", planPath, s.message());
      return 1;
    }
    fmt::print("\ncritical paths (observed):\n");
    for (const runtime::CriticalPath &p : paths) {
      const runtime::TraceLaunch &l = trace.launches[p.launch];
      fmt::print("  launch {} ({}{}, {} steps, {:.1f} us): {} tasks, {:.1f} us running, "
                 "{:.1f} us waiting\n",
                 p.launch, l.program,
                 trace.ranks > 1 ? fmt::format(", rank {}", l.rank) : std::string(),
                 l.steps, l.endUs - l.startUs, p.executions.size(), p.runUs, p.waitUs);
      // Its longest-running tasks.
      std::vector<size_t> longest = p.executions;
      auto runUs = [&](size_t i) {
        return trace.executions[i].doneUs - trace.executions[i].readyUs;
      };
      std::stable_sort(longest.begin(), longest.end(),
                       [&](size_t a, size_t b) { return runUs(a) > runUs(b); });
      for (size_t i = 0; i < std::min(top, longest.size()); ++i) {
        const runtime::TaskExecution &x = trace.executions[longest[i]];
        fmt::print("    {} (task {}, step {}): {:.2f} us\n", runtime::executionLabel(x),
                   x.task, x.step, runUs(longest[i]));
      }
    }
  } else {
    fmt::print("\n(critical paths: pass --plan PLAN.mkp)\n");
  }
  if (!svgPath.empty()) {
    if (Status s = runtime::writeTimelineSvg(svgPath, trace, fromUs, toUs); !s) {
      fmt::print(stderr, "mkprof: error: {}\n", s.message());
      return 1;
    }
    fmt::print("\ntimeline: {}\n", svgPath);
  }
  return 0;
}
