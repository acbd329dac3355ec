//===- trace_analysis.cpp - What mkprof reads from a trace ----------------------===//
#include "mk/runtime/trace_analysis.h"

#include "atomic_file.h"

#include "mk/isa/task_kinds.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
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
      slot.weightBytes = args.value("weight_bytes", uint64_t(0));
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
    TraceSummary::KindStreams &st = s.streams[x.kind];
    st.workers.resize(tracks);
    for (StreamSummary *ss : {&st.all, &st.workers[trace.track(x)]}) {
      ++ss->tasks;
      ss->bytes += x.weightBytes;
      ss->runUs += x.doneUs - x.readyUs;
    }
    WorkerSummary &w = s.workers[trace.track(x)];
    w.runUs += x.doneUs - x.readyUs;
    w.waitUs += x.readyUs - x.claimUs;
    ++w.tasks;
    byTrack[trace.track(x)].push_back(&x);
  }
  std::erase_if(s.streams, [](const auto &kv) { return kv.second.all.bytes == 0; });
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

namespace {

/// One fill per ISA kind, in MK_TASK_KINDS order: distinct hues first, then their
/// darker and lighter variants, so no two kinds share one.
constexpr const char *kKindPalette[] = {
    "#4e79a7", // embedding
    "#f28e2b", // qkv
    "#e15759", // attn_decode
    "#76b7b2", // attn_merge
    "#59a14f", // attn_prefill
    "#edc948", // o_proj
    "#b07aa1", // gate_up
    "#ff9da7", // down_proj
    "#9c755f", // lm_head
    "#17becf", // argmax
    "#1f3a93", // moe_router
    "#8c564b", // moe_gate_up
    "#bcbd22", // moe_down
    "#2ca02c", // moe_combine
    "#d62728", // all_reduce
    "#9467bd", // all_gather
    "#7f3c8d", "#11a579", "#3969ac", "#f2b701", "#e73f74", "#80ba5a",
};
static_assert(std::size(kKindPalette) >= isa::kNumTaskKinds,
              "a task kind without its own timeline colour");

/// A tick step of 1, 2 or 5 x 10^k giving about `target` ticks over `span`.
double niceStep(double span, double target) {
  const double raw = span / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * p >= raw)
      return m * p;
  return 10 * p;
}

/// A tick's label: microseconds below 10 ms, else milliseconds.
std::string tickLabel(double us, double step) {
  char buf[64];
  if (step >= 1000)
    std::snprintf(buf, sizeof buf, "%g ms", std::round(us / step) * step / 1000);
  else
    std::snprintf(buf, sizeof buf, "%g us", std::round(us / step) * step);
  return buf;
}

/// Escapes text for an SVG text node or attribute.
std::string xmlEscape(const std::string &s) {
  std::string out;
  for (char c : s)
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  return out;
}

} // namespace

const char *timelineColor(const std::string &kind) {
  for (uint32_t k = 0; k < isa::kNumTaskKinds; ++k)
    if (kind == isa::taskKindName(static_cast<isa::TaskKind>(k)))
      return kKindPalette[k];
  return "#000000";
}

Status writeTimelineSvg(const std::string &path, const Trace &trace, double fromUs,
                        double toUs) {
  double end = toUs;
  if (end <= 0)
    for (const TaskExecution &x : trace.executions)
      end = std::max(end, x.doneUs);
  if (end <= fromUs)
    return Status::error(path + ": empty time range");
  const double width = 1600, left = 90, right = 10, rowHeight = 18, top = 56;
  const double scale = (width - left - right) / (end - fromUs);
  auto xOf = [&](double us) { return left + (us - fromUs) * scale; };
  std::ostringstream svg;
  const uint32_t rows = trace.ranks * trace.workers;
  const double axisY = top + rowHeight * rows + 4;
  const double height = axisY + 70;
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
      "to %.1f us (grey: waiting on events; solid lines: launch starts; "
      "dotted: step ends)</text>\n",
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
  // Each (launch, step)'s end: its last task done.
  std::map<std::pair<uint32_t, uint64_t>, double> stepEnd;
  for (const TaskExecution &x : trace.executions) {
    double &e = stepEnd[{x.launch, x.step}];
    e = std::max(e, x.doneUs);
    if (x.doneUs < fromUs || x.claimUs > end)
      continue;
    double y = top + rowHeight * trace.track(x) + 2;
    auto rect = [&](double a, double b, const char *cls, const char *fill,
                    const std::string &title) {
      a = std::max(a, fromUs);
      b = std::min(b, end);
      if (b <= a)
        return;
      std::snprintf(buf, sizeof buf,
                    "<rect class=\"%s\" data-kind=\"%s\" x=\"%.2f\" y=\"%.1f\" "
                    "width=\"%.2f\" height=\"%.1f\" fill=\"%s\"><title>",
                    cls, xmlEscape(x.kind).c_str(), xOf(a), y,
                    std::max(0.3, (b - a) * scale), rowHeight - 4, fill);
      svg << buf << xmlEscape(title) << "</title></rect>\n";
    };
    std::string what = (trace.ranks > 1 ? "rank " + std::to_string(x.rank) + " " : "") +
                       x.kind + " task " + std::to_string(x.task) +
                       (x.layer >= 0 ? " layer " + std::to_string(x.layer) : "") +
                       (x.expert >= 0 ? " expert " + std::to_string(x.expert) : "") +
                       " step " + std::to_string(x.step);
    rect(x.claimUs, x.readyUs, "wait", "#d0d0d0", "wait " + what);
    rect(x.readyUs, x.doneUs, "run", timelineColor(x.kind), what);
    legend[x.kind] = timelineColor(x.kind);
  }
  // Launch starts and step ends, over the rows of the launch's rank.
  auto mark = [&](const char *cls, double us, uint32_t rank, const char *dash,
                  const std::string &label) {
    if (us < fromUs || us > end)
      return;
    const double y0 = top + rowHeight * rank * trace.workers - (label.empty() ? 0 : 12);
    const double y1 = top + rowHeight * (rank + 1) * trace.workers;
    std::snprintf(buf, sizeof buf,
                  "<line class=\"%s\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" "
                  "stroke=\"#202020\" stroke-width=\"1\"%s/>\n",
                  cls, xOf(us), y0, xOf(us), y1, dash);
    svg << buf;
    if (!label.empty()) {
      std::snprintf(buf, sizeof buf, "<text x=\"%.2f\" y=\"%.1f\">", xOf(us) + 2, y0 + 9);
      svg << buf << xmlEscape(label) << "</text>\n";
    }
  };
  for (uint32_t l = 0; l < trace.launches.size(); ++l) {
    const TraceLaunch &launch = trace.launches[l];
    // Label only the first rank's copy: the ranks run the same launches.
    mark("launch", launch.startUs, launch.rank, "",
         launch.rank == 0 ? launch.program : std::string());
    if (launch.steps < 2)
      continue;
    for (uint64_t s = 0; s + 1 < launch.steps; ++s)
      if (auto it = stepEnd.find({l, s}); it != stepEnd.end())
        mark("step", it->second, launch.rank, " stroke-dasharray=\"2,2\"", "");
  }
  // The time axis: a line with ticks at a 1-2-5 step.
  std::snprintf(buf, sizeof buf,
                "<line class=\"axis\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
                "stroke=\"black\"/>\n",
                left, axisY, width - right, axisY);
  svg << buf;
  const double step = niceStep(end - fromUs, 10);
  for (double t = std::ceil(fromUs / step) * step; t <= end + step * 1e-9; t += step) {
    std::snprintf(buf, sizeof buf,
                  "<line class=\"tick\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" "
                  "stroke=\"black\"/><text x=\"%.2f\" y=\"%.1f\" "
                  "text-anchor=\"middle\">%s</text>\n",
                  xOf(t), axisY, xOf(t), axisY + 5, xOf(t), axisY + 17,
                  tickLabel(t, step).c_str());
    svg << buf;
  }
  double lx = left, ly = axisY + 34;
  for (const auto &[kind, fill] : legend) {
    std::snprintf(buf, sizeof buf,
                  "<rect class=\"legend\" data-kind=\"%s\" x=\"%.0f\" y=\"%.0f\" "
                  "width=\"10\" height=\"10\" fill=\"%s\"/>"
                  "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                  xmlEscape(kind).c_str(), lx, ly, fill, lx + 14, ly + 9,
                  xmlEscape(kind).c_str());
    svg << buf;
    lx += 30 + 7.0 * kind.size();
  }
  svg << "</svg>\n";
  std::string text = svg.str();
  return detail::writeFileAtomic(path, {std::string_view(text)});
}

} // namespace mk::runtime
