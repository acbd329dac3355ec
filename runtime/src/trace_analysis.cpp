//===- trace_analysis.cpp - What mkprof reads from a trace ----------------------===//
#include "mk/runtime/trace_analysis.h"

#include "atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <tuple>
#include <unordered_map>

namespace mk::runtime {

namespace {

using Json = nlohmann::json;

/// Key of one execution's wait/run slice pair.
struct SliceKey {
  uint32_t launch, task;
  uint64_t step;
  bool operator==(const SliceKey &) const = default;
};
struct SliceKeyHash {
  size_t operator()(const SliceKey &k) const {
    return std::hash<uint64_t>()((uint64_t(k.launch) << 48) ^ (uint64_t(k.task) << 24) ^
                                 k.step);
  }
};

} // namespace

Status readTrace(const std::string &path, Trace &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open the trace");
  std::stringstream buffer;
  buffer << in.rdbuf();
  Json j = Json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("traceEvents") ||
      !j["traceEvents"].is_array())
    return Status::error(path + ": not a Chrome-trace JSON object with traceEvents "
                                "(write one with mkrun --profile)");
  Trace t;
  // Launch slices (pid 0) give program names and the launch index of each time range.
  std::unordered_map<SliceKey, size_t, SliceKeyHash> index;
  auto number = [](const Json &v, double fallback) {
    return v.is_number() ? v.get<double>() : fallback;
  };
  for (const Json &e : j["traceEvents"]) {
    if (!e.is_object() || e.value("ph", "") != "X")
      continue;
    std::string cat = e.value("cat", "");
    const Json &args = e.contains("args") && e["args"].is_object() ? e["args"] : Json();
    double ts = number(e.value("ts", Json()), -1),
           dur = number(e.value("dur", Json()), -1);
    if (ts < 0 || dur < 0)
      return Status::error(path + ": a slice without ts/dur");
    if (cat == "launch") {
      TraceLaunch l;
      l.program = args.value("program", "");
      l.rank = args.value("rank", 0u);
      l.steps = args.value("steps", uint64_t(0));
      l.startUs = ts;
      l.endUs = ts + dur;
      t.launches.push_back(l);
      continue;
    }
    if (cat != "wait" && cat != "run")
      continue;
    if (!args.is_object() || !args.contains("task") || !args.contains("step"))
      return Status::error(path + ": a task slice without task/step args");
    TaskExecution x;
    x.task = args.value("task", 0u);
    x.step = args.value("step", uint64_t(0));
    x.kind = args.value("kind", "");
    x.program = args.value("program", "");
    x.layer = args["layer"].is_number() ? args["layer"].get<int32_t>() : -1;
    x.expert = args.contains("expert") && args["expert"].is_number()
                   ? args["expert"].get<int32_t>()
                   : -1;
    x.worker = e.value("tid", 0u);
    x.rank = args.value("rank", 0u);
    // The launch is the one of the slice's rank whose time range holds the slice.
    uint32_t launch = 0;
    for (uint32_t l = 0; l < t.launches.size(); ++l)
      if (t.launches[l].rank == x.rank && ts >= t.launches[l].startUs - 1e-3 &&
          ts <= t.launches[l].endUs + 1e-3)
        launch = l;
    x.launch = launch;
    SliceKey key{launch, x.task, x.step};
    auto [it, inserted] = index.try_emplace(key, t.executions.size());
    if (inserted)
      t.executions.push_back(x);
    TaskExecution &slot = t.executions[it->second];
    if (cat == "wait") {
      slot.claimUs = ts;
      if (slot.readyUs == 0)
        slot.readyUs = ts + dur;
    } else {
      slot.readyUs = ts;
      slot.doneUs = ts + dur;
      if (slot.claimUs == 0)
        slot.claimUs = ts;
    }
    t.workers = std::max(t.workers, x.worker + 1);
    t.ranks = std::max(t.ranks, x.rank + 1);
  }
  if (t.executions.empty())
    return Status::error(path + ": the trace holds no task slices");
  std::sort(t.executions.begin(), t.executions.end(),
            [](const TaskExecution &a, const TaskExecution &b) {
              return a.claimUs < b.claimUs;
            });
  out = std::move(t);
  return Status::ok();
}

namespace {

bool isCommKind(const std::string &kind) {
  return kind == "all_reduce" || kind == "all_gather";
}

/// Per rank, its comm tasks' local waits, runs and waits on peers. Executions match
/// across ranks by (the rank's launch ordinal, task, step): every rank runs the same
/// launches in the same order.
std::vector<std::map<std::string, CommSummary>> summarizeComm(const Trace &trace) {
  std::vector<std::map<std::string, CommSummary>> comm;
  std::vector<uint32_t> ordinal(trace.launches.size());
  std::vector<uint32_t> launchesOf(trace.ranks);
  for (size_t l = 0; l < trace.launches.size(); ++l)
    if (trace.launches[l].rank < trace.ranks)
      ordinal[l] = launchesOf[trace.launches[l].rank]++;
  struct Key {
    uint32_t ordinal, task;
    uint64_t step;
    bool operator<(const Key &o) const {
      return std::tie(ordinal, task, step) < std::tie(o.ordinal, o.task, o.step);
    }
  };
  std::map<Key, std::vector<const TaskExecution *>> tiles; // [rank] copies of a tile
  for (const TaskExecution &x : trace.executions) {
    if (!isCommKind(x.kind))
      continue;
    comm.resize(trace.ranks);
    CommSummary &c = comm[x.rank][x.kind];
    ++c.count;
    c.waitUs += x.readyUs - x.claimUs;
    c.runUs += x.doneUs - x.readyUs;
    const uint32_t o = x.launch < ordinal.size() ? ordinal[x.launch] : 0;
    auto &copies = tiles[{o, x.task, x.step}];
    copies.resize(trace.ranks, nullptr);
    copies[x.rank] = &x;
  }
  for (const auto &[key, copies] : tiles) {
    if (std::find(copies.begin(), copies.end(), nullptr) != copies.end())
      continue; // a rank's copy is missing: nothing to compare with
    double lastReady = copies[0]->readyUs;
    uint32_t lastRank = 0, atLast = 0;
    for (const TaskExecution *x : copies)
      lastReady = std::max(lastReady, x->readyUs);
    for (const TaskExecution *x : copies)
      if (x->readyUs == lastReady) {
        lastRank = x->rank;
        ++atLast;
      }
    for (const TaskExecution *x : copies)
      comm[x->rank][x->kind].peerWaitUs +=
          std::clamp(lastReady - x->readyUs, 0.0, x->doneUs - x->readyUs);
    if (copies.size() > 1 && atLast == 1)
      ++comm[lastRank][copies[lastRank]->kind].last;
  }
  return comm;
}

} // namespace

TraceSummary summarizeTrace(const Trace &trace, double bubbleThresholdUs) {
  TraceSummary s;
  const uint32_t tracks = trace.ranks * trace.workers;
  s.workers.resize(tracks);
  s.rankSpanUs.assign(trace.ranks, 0.0);
  for (const TraceLaunch &l : trace.launches)
    if (l.rank < trace.ranks)
      s.rankSpanUs[l.rank] += l.endUs - l.startUs;
  s.spanUs = *std::max_element(s.rankSpanUs.begin(), s.rankSpanUs.end());
  std::vector<std::vector<const TaskExecution *>> byTrack(tracks);
  for (const TaskExecution &x : trace.executions) {
    KindSummary &k = s.kinds[x.kind];
    ++k.count;
    k.runUs += x.doneUs - x.readyUs;
    k.waitUs += x.readyUs - x.claimUs;
    k.maxRunUs = std::max(k.maxRunUs, x.doneUs - x.readyUs);
    if (x.expert >= 0) {
      KindSummary &e = s.experts[{x.kind, x.expert}];
      ++e.count;
      e.runUs += x.doneUs - x.readyUs;
      e.waitUs += x.readyUs - x.claimUs;
      e.maxRunUs = std::max(e.maxRunUs, x.doneUs - x.readyUs);
    }
    WorkerSummary &w = s.workers[trace.track(x)];
    w.runUs += x.doneUs - x.readyUs;
    w.waitUs += x.readyUs - x.claimUs;
    ++w.tasks;
    byTrack[trace.track(x)].push_back(&x);
  }
  // Idle: inside a launch of the worker's rank, between one task's done and the next
  // claim (and at the launch's edges).
  for (uint32_t track = 0; track < tracks; ++track) {
    const uint32_t rank = track / std::max(trace.workers, 1u),
                   w = track % std::max(trace.workers, 1u);
    for (size_t l = 0; l < trace.launches.size(); ++l) {
      if (trace.launches[l].rank != rank)
        continue;
      double cursor = trace.launches[l].startUs;
      auto gap = [&](double from, double to) {
        double d = to - from;
        if (d <= 0)
          return;
        s.workers[track].idleUs += d;
        s.bubbleUs += d;
        if (d >= bubbleThresholdUs)
          s.bubbles.push_back({rank, w, from, d});
      };
      for (const TaskExecution *x : byTrack[track]) {
        if (x->launch != l)
          continue;
        gap(cursor, x->claimUs);
        cursor = std::max(cursor, x->doneUs);
      }
      gap(cursor, trace.launches[l].endUs);
    }
  }
  std::sort(s.bubbles.begin(), s.bubbles.end(),
            [](const Bubble &a, const Bubble &b) { return a.durUs > b.durUs; });
  s.comm = summarizeComm(trace);
  return s;
}

Status criticalPaths(const Trace &trace, const isa::Plan &plan,
                     std::vector<CriticalPath> &out) {
  out.clear();
  std::unordered_map<SliceKey, size_t, SliceKeyHash> at;
  for (size_t i = 0; i < trace.executions.size(); ++i) {
    const TaskExecution &x = trace.executions[i];
    at[{x.launch, x.task, x.step}] = i;
  }
  // Executions of each worker in claim order (the trace is sorted by claim time).
  std::vector<std::vector<size_t>> byWorker(trace.ranks * trace.workers);
  for (size_t i = 0; i < trace.executions.size(); ++i)
    byWorker[trace.track(trace.executions[i])].push_back(i);
  for (uint32_t l = 0; l < trace.launches.size(); ++l) {
    const TraceLaunch &launch = trace.launches[l];
    const isa::Program *program = nullptr;
    for (const isa::Program &p : plan.programs)
      if (p.name == launch.program)
        program = &p;
    if (!program)
      return Status::error("the trace's program '" + launch.program +
                           "' is not in the plan");
    std::vector<std::vector<uint32_t>> producers(program->events.size());
    for (uint32_t t = 0; t < program->tasks.size(); ++t)
      for (uint32_t s = 0; s < program->tasks[t].numSignals; ++s)
        if (program->tasks[t].signal[s] < producers.size())
          producers[program->tasks[t].signal[s]].push_back(t);
    // Start from the launch's last execution to finish.
    CriticalPath path;
    path.launch = l;
    std::optional<size_t> cur;
    for (size_t i = 0; i < trace.executions.size(); ++i)
      if (trace.executions[i].launch == l &&
          (!cur || trace.executions[i].doneUs > trace.executions[*cur].doneUs))
        cur = i;
    while (cur) {
      path.executions.push_back(*cur);
      const TaskExecution &x = trace.executions[*cur];
      if (x.task >= program->tasks.size())
        return Status::error("the trace's task " + std::to_string(x.task) +
                             " is not in program '" + program->name + "'");
      const isa::TaskRecord &r = program->tasks[x.task];
      std::optional<size_t> best;
      for (uint32_t w = 0; w < r.numWaits && w < isa::kMaxWaits; ++w) {
        const isa::Wait &wait = r.wait[w];
        if (wait.event >= producers.size() || x.step < wait.stepBack)
          continue;
        for (uint32_t p : producers[wait.event]) {
          auto it = at.find({l, p, x.step - wait.stepBack});
          if (it != at.end() && (!best || trace.executions[it->second].doneUs >
                                              trace.executions[*best].doneUs))
            best = it->second;
        }
      }
      // The producer decided this task's start if the task was already claimed
      // (waiting) when the producer finished; otherwise the worker was busy until the
      // claim, and the task before it on the same worker decided it.
      cur.reset();
      if (best && trace.executions[*best].doneUs >= x.claimUs) {
        cur = best;
      } else {
        const std::vector<size_t> &mine = byWorker[trace.track(x)];
        auto it = std::lower_bound(
            mine.begin(), mine.end(), x.claimUs,
            [&](size_t i, double t) { return trace.executions[i].claimUs < t; });
        if (it != mine.begin() && trace.executions[*std::prev(it)].launch == l)
          cur = *std::prev(it);
      }
    }
    std::reverse(path.executions.begin(), path.executions.end());
    for (size_t i : path.executions)
      path.runUs += trace.executions[i].doneUs - trace.executions[i].readyUs;
    if (!path.executions.empty())
      path.spanUs = trace.executions[path.executions.back()].doneUs -
                    trace.executions[path.executions.front()].claimUs;
    path.waitUs = std::max(0.0, path.spanUs - path.runUs);
    out.push_back(std::move(path));
  }
  return Status::ok();
}

std::string executionLabel(const TaskExecution &x) {
  std::string s = x.kind;
  if (x.layer >= 0)
    s += " l" + std::to_string(x.layer);
  if (x.expert >= 0)
    s += " e" + std::to_string(x.expert);
  return s;
}

Status writeTimelineSvg(const std::string &path, const Trace &trace, double fromUs,
                        double toUs) {
  double end = toUs;
  if (end <= 0)
    for (const TaskExecution &x : trace.executions)
      end = std::max(end, x.doneUs);
  if (end <= fromUs)
    return Status::error(path + ": empty time range");
  const double width = 1600, left = 90, rowHeight = 18, top = 40;
  const double scale = (width - left - 10) / (end - fromUs);
  // A stable color per kind.
  auto color = [](const std::string &kind) {
    static const char *palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                    "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                    "#9c755f", "#3b6ea5"};
    return palette[std::hash<std::string>()(kind) % 10];
  };
  std::ostringstream svg;
  const uint32_t rows = trace.ranks * trace.workers;
  double height = top + rowHeight * rows + 60;
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"monospace\" font-size=\"11\">\n<rect width=\"100%%\" "
      "height=\"100%%\" fill=\"white\"/>\n",
      width, height);
  svg << buf;
  std::snprintf(
      buf, sizeof buf,
      "<text x=\"%.0f\" y=\"16\">mk timeline: %u rank(s) of %u workers, %.1f us "
      "to %.1f us (grey: waiting on events)</text>\n",
      left, trace.ranks, trace.workers, fromUs, end);
  svg << buf;
  for (uint32_t row = 0; row < rows; ++row) {
    const uint32_t w = row % trace.workers;
    if (trace.ranks > 1)
      std::snprintf(buf, sizeof buf, "<text x=\"4\" y=\"%.1f\">rank %u w %u</text>\n",
                    top + rowHeight * row + 13, row / trace.workers, w);
    else
      std::snprintf(buf, sizeof buf, "<text x=\"4\" y=\"%.1f\">worker %u</text>\n",
                    top + rowHeight * row + 13, w);
    svg << buf;
  }
  std::map<std::string, const char *> legend;
  for (const TaskExecution &x : trace.executions) {
    if (x.doneUs < fromUs || x.claimUs > end)
      continue;
    double y = top + rowHeight * trace.track(x) + 2;
    auto rect = [&](double a, double b, const char *fill, const std::string &title) {
      a = std::max(a, fromUs);
      b = std::min(b, end);
      if (b <= a)
        return;
      std::snprintf(buf, sizeof buf,
                    "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                    "fill=\"%s\"><title>%s</title></rect>\n",
                    left + (a - fromUs) * scale, y, std::max(0.3, (b - a) * scale),
                    rowHeight - 4, fill, title.c_str());
      svg << buf;
    };
    std::string what = (trace.ranks > 1 ? "rank " + std::to_string(x.rank) + " " : "") +
                       x.kind + " task " + std::to_string(x.task) +
                       (x.layer >= 0 ? " layer " + std::to_string(x.layer) : "") +
                       (x.expert >= 0 ? " expert " + std::to_string(x.expert) : "") +
                       " step " + std::to_string(x.step);
    rect(x.claimUs, x.readyUs, "#d0d0d0", "wait " + what);
    rect(x.readyUs, x.doneUs, color(x.kind), what);
    legend[x.kind] = color(x.kind);
  }
  double lx = left, ly = top + rowHeight * rows + 25;
  for (const auto &[kind, fill] : legend) {
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                  "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                  lx, ly, fill, lx + 14, ly + 9, kind.c_str());
    svg << buf;
    lx += 30 + 7.0 * kind.size();
  }
  svg << "</svg>\n";
  std::string text = svg.str();
  return detail::writeFileAtomic(path, {std::string_view(text)});
}

} // namespace mk::runtime
