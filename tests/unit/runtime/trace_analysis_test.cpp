// mkprof's analysis: a trace written by TraceWriter reads back into the same
// executions, and the summary, bubbles and observed critical path are what a
// hand-made two-worker schedule implies.
#include "mk/isa/task_kinds.h"
#include "mk/runtime/profile_dump.h"
#include "mk/runtime/trace_analysis.h"

#include "safetensors_writer.h"
#include "test_plan.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>

using namespace mk;
using namespace mk::runtime;

namespace {

// Tasks: 0 embedding -> event 0 -> 1, 2 qkv -> event 1 (count 2) -> 3 attn_decode.
// worker 0: task 0 [0, 10], task 1 [10, 20], task 3 claimed 20, ready 30, done 40
// worker 1: task 2 claimed 1, ready 10, done 30
isa::Plan plan() {
  isa::Plan p = test::makeTracePlan();
  isa::Program &d = p.programs.back();
  d.tasks[0].numSignals = 1, d.tasks[0].signal[0] = 0;
  d.tasks[1].numSignals = 1, d.tasks[1].signal[0] = 1;
  d.tasks[2].numSignals = 1, d.tasks[2].signal[0] = 1;
  return p;
}

std::vector<host::ProfileRecord> records() {
  auto us = [](double v) { return uint64_t(v * 1000); };
  return {{0, 0, 0, us(0), us(0), us(10)},
          {2, 1, 0, us(1), us(10), us(30)},
          {1, 0, 0, us(10), us(10), us(20)},
          {3, 0, 0, us(20), us(30), us(40)}};
}

Trace roundTrip(const isa::Plan &p, const std::string &path) {
  TraceWriter w;
  EXPECT_TRUE(w.add(p, uint32_t(p.programs.size() - 1), records(), 100.0));
  EXPECT_TRUE(w.write(path));
  Trace t;
  Status s = readTrace(path, t);
  EXPECT_TRUE(s) << s.message();
  return t;
}

TEST(TraceAnalysis, ReadsBackEveryExecution) {
  test::TempDir dir;
  isa::Plan p = plan();
  Trace t = roundTrip(p, (dir.path() / "t.json").string());
  ASSERT_EQ(t.executions.size(), 4u);
  EXPECT_EQ(t.workers, 2u);
  ASSERT_EQ(t.launches.size(), 1u);
  const TaskExecution &attn = t.executions.back();
  EXPECT_EQ(attn.task, 3u);
  EXPECT_EQ(attn.kind, "attn_decode");
  EXPECT_EQ(attn.layer, 0);
  EXPECT_NEAR(attn.claimUs, 120.0, 1e-6);
  EXPECT_NEAR(attn.readyUs, 130.0, 1e-6);
  EXPECT_NEAR(attn.doneUs, 140.0, 1e-6);
}

TEST(TraceAnalysis, SummaryAndBubbles) {
  test::TempDir dir;
  isa::Plan p = plan();
  Trace t = roundTrip(p, (dir.path() / "t.json").string());
  TraceSummary s = summarizeTrace(t, 5.0);
  EXPECT_EQ(s.kinds["qkv"].count, 2u);
  EXPECT_NEAR(s.kinds["qkv"].runUs, 30.0, 1e-6);
  EXPECT_NEAR(s.kinds["qkv"].waitUs, 9.0, 1e-6);
  EXPECT_NEAR(s.kinds["attn_decode"].waitUs, 10.0, 1e-6);
  ASSERT_EQ(s.workers.size(), 2u);
  EXPECT_NEAR(s.workers[0].runUs, 30.0, 1e-6);
  EXPECT_NEAR(s.workers[1].idleUs, s.spanUs - 29.0, 1e-6)
      << "1 us before, the rest after";
  ASSERT_FALSE(s.bubbles.empty());
  EXPECT_EQ(s.bubbles.front().worker, 1u);
}

TEST(TraceAnalysis, CriticalPathFollowsTheLastProducer) {
  test::TempDir dir;
  isa::Plan p = plan();
  Trace t = roundTrip(p, (dir.path() / "t.json").string());
  std::vector<CriticalPath> paths;
  ASSERT_TRUE(criticalPaths(t, p, paths));
  ASSERT_EQ(paths.size(), 1u);
  std::vector<uint32_t> tasks;
  for (size_t i : paths[0].executions)
    tasks.push_back(t.executions[i].task);
  EXPECT_EQ(tasks, (std::vector<uint32_t>{0, 2, 3}));
  EXPECT_NEAR(paths[0].runUs, 40.0, 1e-6);
  EXPECT_NEAR(paths[0].spanUs, 40.0, 1e-6);
}

// Expert tiles: two moe_gate_up tiles of expert 5 and one of expert 2 (layer 0)
// after the four tasks above. Listings name them by kind, layer and expert, and the
// summary adds them up per expert.
TEST(TraceAnalysis, ExpertTilesAreNamedAndSummedPerExpert) {
  test::TempDir dir;
  isa::Plan p = plan();
  isa::Program &d = p.programs.back();
  isa::TaskRecord moe = d.tasks[1];
  moe.kind = uint16_t(isa::TaskKind::MoeGateUp);
  for (uint32_t s = 0; s < 3; ++s) {
    moe.range[2] = {s, s + 1};
    d.tasks.push_back(moe);
    d.order.push_back(uint32_t(d.tasks.size() - 1));
  }
  auto us = [](double v) { return uint64_t(v * 1000); };
  std::vector<host::ProfileRecord> recs = records();
  recs.push_back({4, 0, 0, us(40), us(41), us(45), 5});
  recs.push_back({5, 1, 0, us(40), us(40), us(43), 2});
  recs.push_back({6, 1, 0, us(43), us(43), us(44), 5});
  TraceWriter w;
  ASSERT_TRUE(w.add(p, 0, recs));
  const std::string path = (dir.path() / "t.json").string();
  ASSERT_TRUE(w.write(path));
  Trace t;
  ASSERT_TRUE(readTrace(path, t));
  ASSERT_EQ(t.executions.size(), 7u);
  std::map<uint32_t, const TaskExecution *> byTask;
  for (const TaskExecution &x : t.executions)
    byTask[x.task] = &x;
  EXPECT_EQ(byTask[4]->expert, 5);
  EXPECT_EQ(byTask[5]->expert, 2);
  EXPECT_EQ(byTask[3]->expert, -1);
  EXPECT_EQ(executionLabel(*byTask[4]), "moe_gate_up l0 e5");
  EXPECT_EQ(executionLabel(*byTask[1]), "qkv l0");
  EXPECT_EQ(executionLabel(*byTask[0]), "embedding");

  TraceSummary s = summarizeTrace(t);
  ASSERT_EQ(s.experts.size(), 2u);
  const KindSummary &five = s.experts.at({"moe_gate_up", 5});
  EXPECT_EQ(five.count, 2u);
  EXPECT_NEAR(five.runUs, 5.0, 1e-6);
  EXPECT_NEAR(five.waitUs, 1.0, 1e-6);
  EXPECT_EQ(s.experts.at({"moe_gate_up", 2}).count, 1u);
  EXPECT_EQ(s.kinds["moe_gate_up"].count, 3u);

  const std::string svg = (dir.path() / "t.svg").string();
  ASSERT_TRUE(writeTimelineSvg(svg, t));
  std::ifstream in(svg);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("moe_gate_up task 4 layer 0 expert 5 step 0"), std::string::npos);
}

// Tensor parallelism: the same launch on two ranks, rank 1 three microseconds later.
// Each rank is a track group of its own; summaries keep the ranks' workers apart.
TEST(TraceAnalysis, RanksAreTrackGroupsOfTheirOwn) {
  test::TempDir dir;
  isa::Plan p = plan();
  TraceWriter w;
  ASSERT_TRUE(w.add(p, 0, records(), 100.0, 0));
  ASSERT_TRUE(w.add(p, 0, records(), 103.0, 1));
  const std::string path = (dir.path() / "tp.json").string();
  ASSERT_TRUE(w.write(path));

  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in);
  std::map<int, std::string> processes;
  for (const auto &e : j["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "process_name")
      processes[e["pid"].get<int>()] = e["args"]["name"];
  EXPECT_EQ(processes,
            (std::map<int, std::string>{{0, "launches"}, {1, "rank 0"}, {2, "rank 1"}}));

  Trace t;
  ASSERT_TRUE(readTrace(path, t));
  EXPECT_EQ(t.ranks, 2u);
  EXPECT_EQ(t.workers, 2u);
  ASSERT_EQ(t.launches.size(), 2u);
  EXPECT_EQ(t.launches[1].rank, 1u);
  ASSERT_EQ(t.executions.size(), 8u);
  for (const TaskExecution &x : t.executions)
    EXPECT_EQ(x.launch, x.rank) << "rank " << x.rank << " task " << x.task;

  TraceSummary s = summarizeTrace(t, 5.0);
  EXPECT_EQ(s.kinds["qkv"].count, 4u);
  ASSERT_EQ(s.workers.size(), 4u);
  EXPECT_NEAR(s.workers[2].runUs, 30.0, 1e-6) << "rank 1 worker 0";
  EXPECT_NEAR(s.workers[3].idleUs, s.rankSpanUs[1] - 29.0, 1e-6);
  EXPECT_TRUE(s.comm.empty());
  std::vector<CriticalPath> paths;
  ASSERT_TRUE(criticalPaths(t, p, paths));
  ASSERT_EQ(paths.size(), 2u);
  for (const CriticalPath &path : paths) {
    std::vector<uint32_t> tasks;
    for (size_t i : path.executions)
      tasks.push_back(t.executions[i].task);
    EXPECT_EQ(tasks, (std::vector<uint32_t>{0, 2, 3}));
  }
}

// The comm tiles of a two-rank trace (as mkrun --tp writes it): rank 0 reaches the
// all-reduce at 10 us and rank 1 at 14 us, so rank 0 waits 4 us of its run on its
// peer; at the all-gather rank 1 is first (20 vs 21 us) and waits 1 us.
TEST(TraceAnalysis, CommWaitsOnPeersPerRank) {
  test::TempDir dir;
  const std::string path = (dir.path() / "comm.json").string();
  auto slice = [](const char *cat, const char *kind, int rank, uint32_t task, double ts,
                  double dur) {
    return nlohmann::json{{"ph", "X"},
                          {"name", kind},
                          {"cat", cat},
                          {"pid", 1 + rank},
                          {"tid", 0},
                          {"ts", ts},
                          {"dur", dur},
                          {"args",
                           {{"task", task},
                            {"kind", kind},
                            {"layer", 0},
                            {"step", 0},
                            {"program", "decode"},
                            {"rank", rank}}}};
  };
  nlohmann::json events = nlohmann::json::array();
  for (int rank : {0, 1})
    events.push_back({{"ph", "X"},
                      {"name", "decode"},
                      {"cat", "launch"},
                      {"pid", 0},
                      {"tid", rank},
                      {"ts", 0.0},
                      {"dur", 40.0},
                      {"args", {{"program", "decode"}, {"rank", rank}, {"steps", 1}}}});
  // all_reduce (task 1): rank 0 ready at 10, done at 15; rank 1 ready at 14, done 16.
  events.push_back(slice("wait", "all_reduce", 0, 1, 8.0, 2.0));
  events.push_back(slice("run", "all_reduce", 0, 1, 10.0, 5.0));
  events.push_back(slice("wait", "all_reduce", 1, 1, 9.0, 5.0));
  events.push_back(slice("run", "all_reduce", 1, 1, 14.0, 2.0));
  // all_gather (task 2): rank 0 ready at 21, rank 1 at 20 (its run: 3 us).
  events.push_back(slice("wait", "all_gather", 0, 2, 21.0, 0.0));
  events.push_back(slice("run", "all_gather", 0, 2, 21.0, 1.0));
  events.push_back(slice("wait", "all_gather", 1, 2, 20.0, 0.0));
  events.push_back(slice("run", "all_gather", 1, 2, 20.0, 3.0));
  std::ofstream(path) << nlohmann::json{{"traceEvents", events}}.dump();

  Trace t;
  Status st = readTrace(path, t);
  ASSERT_TRUE(st) << st.message();
  TraceSummary s = summarizeTrace(t);
  ASSERT_EQ(s.comm.size(), 2u);
  const CommSummary &r0 = s.comm[0].at("all_reduce"), &r1 = s.comm[1].at("all_reduce");
  EXPECT_EQ(r0.count, 1u);
  EXPECT_NEAR(r0.waitUs, 2.0, 1e-9);
  EXPECT_NEAR(r0.runUs, 5.0, 1e-9);
  EXPECT_NEAR(r0.peerWaitUs, 4.0, 1e-9);
  EXPECT_NEAR(r1.peerWaitUs, 0.0, 1e-9);
  EXPECT_EQ(r0.last, 0u);
  EXPECT_EQ(r1.last, 1u);
  EXPECT_NEAR(s.comm[1].at("all_gather").peerWaitUs, 1.0, 1e-9);
  EXPECT_NEAR(s.comm[0].at("all_gather").peerWaitUs, 0.0, 1e-9);
  EXPECT_EQ(s.comm[0].at("all_gather").last, 1u);
}

TEST(TraceAnalysis, WeightBytesPerKindAndWorker) {
  test::TempDir dir;
  isa::Plan p = plan();
  // The qkv tiles stream 30 kB in 10 us (worker 0) and 40 kB in 20 us (worker 1); the
  // embedding and attention stream nothing.
  std::vector<host::ProfileRecord> recs = records();
  recs[1].weightBytes = 40000;
  recs[2].weightBytes = 30000;
  TraceWriter w;
  ASSERT_TRUE(w.add(p, uint32_t(p.programs.size() - 1), recs));
  const std::string path = (dir.path() / "t.json").string();
  ASSERT_TRUE(w.write(path));
  std::ifstream in(path);
  std::string json((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(json.find("\"weight_bytes\":40000"), std::string::npos);
  Trace t;
  ASSERT_TRUE(readTrace(path, t));
  TraceSummary s = summarizeTrace(t);
  ASSERT_EQ(s.streams.size(), 1u);
  const TraceSummary::KindStreams &qkv = s.streams.at("qkv");
  EXPECT_EQ(qkv.all.tasks, 2u);
  EXPECT_EQ(qkv.all.bytes, 70000u);
  EXPECT_NEAR(qkv.all.runUs, 30.0, 1e-6);
  EXPECT_NEAR(qkv.all.gbps(), 70000.0 / 30e-6 / 1e9, 1e-9);
  ASSERT_EQ(qkv.workers.size(), 2u);
  EXPECT_NEAR(qkv.workers[0].gbps(), 3.0, 1e-9);
  EXPECT_NEAR(qkv.workers[1].gbps(), 2.0, 1e-9);
}

TEST(TraceAnalysis, TimelineColourPerKind) {
  std::set<std::string> fills;
  for (uint32_t k = 0; k < isa::kNumTaskKinds; ++k) {
    const std::string kind = isa::taskKindName(static_cast<isa::TaskKind>(k));
    const std::string fill = timelineColor(kind);
    EXPECT_NE(fill, "#000000") << kind;
    EXPECT_NE(fill, "#d0d0d0") << kind << " looks like a wait";
    EXPECT_TRUE(fills.insert(fill).second) << kind << " shares " << fill;
  }
  EXPECT_EQ(std::string(timelineColor("no_such_kind")), "#000000");
}

// Every kind runs once on one of two workers, in two launches: a prefill of one step
// over [0, 40) us and a decode of three steps over [50, 100) us, whose steps end at 65,
// 80 and 100 us.
TEST(TraceAnalysis, TimelineSvgHasKindFillsTicksAndMarks) {
  Trace t;
  t.workers = 2;
  t.launches = {{"prefill", 0, 1, 0.0, 40.0}, {"decode", 0, 3, 50.0, 100.0}};
  for (uint32_t k = 0; k < isa::kNumTaskKinds; ++k) {
    TaskExecution x;
    x.kind = isa::taskKindName(static_cast<isa::TaskKind>(k));
    x.task = k;
    x.worker = k % 2;
    const bool prefill = k < 4;
    x.launch = prefill ? 0 : 1;
    x.step = prefill ? 0 : (k - 4) % 3;
    const double at = prefill ? 8.0 * k : 50.0 + 15.0 * double(x.step) + (k % 2);
    x.claimUs = at;
    x.readyUs = at + 1;
    x.doneUs = at + 4;
    t.executions.push_back(x);
  }
  t.executions.push_back(t.executions.back());
  t.executions.back().task = 99;
  t.executions.back().doneUs = 100.0; // the last step's end: the launch's end
  test::TempDir dir;
  const std::string path = (dir.path() / "t.svg").string();
  ASSERT_TRUE(writeTimelineSvg(path, t));
  std::ifstream in(path);
  std::string svg((std::istreambuf_iterator<char>(in)), {});

  // Each kind's run slices have one fill, its own.
  std::map<std::string, std::set<std::string>> fillsOf;
  const std::regex run(
      "<rect class=\"run\" data-kind=\"([a-z_]+)\"[^>]* fill=\"(#[0-9a-f]{6})\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), run);
       it != std::sregex_iterator(); ++it)
    fillsOf[(*it)[1]].insert((*it)[2]);
  EXPECT_EQ(fillsOf.size(), isa::kNumTaskKinds);
  std::set<std::string> all;
  for (const auto &[kind, fills] : fillsOf) {
    EXPECT_EQ(fills.size(), 1u) << kind;
    EXPECT_TRUE(all.insert(*fills.begin()).second) << kind << " shares its fill";
  }
  EXPECT_NE(svg.find("class=\"wait\""), std::string::npos);

  // A time axis over [0, 100] us: ticks every 10 us, left to right, labelled.
  const std::regex tick("<line class=\"tick\" x1=\"([0-9.]+)\"");
  std::vector<double> xs;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tick);
       it != std::sregex_iterator(); ++it)
    xs.push_back(std::stod((*it)[1]));
  ASSERT_EQ(xs.size(), 11u);
  EXPECT_TRUE(std::is_sorted(xs.begin(), xs.end()));
  EXPECT_NE(svg.find(">0 us</text>"), std::string::npos);
  EXPECT_NE(svg.find(">50 us</text>"), std::string::npos);
  EXPECT_NE(svg.find(">100 us</text>"), std::string::npos);

  // A mark per launch start, named; one per step end but the launch's last.
  auto count = [&](const std::string &needle) {
    size_t n = 0;
    for (size_t at = svg.find(needle); at != std::string::npos;
         at = svg.find(needle, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("<line class=\"launch\""), 2u);
  EXPECT_NE(svg.find(">prefill</text>"), std::string::npos);
  EXPECT_NE(svg.find(">decode</text>"), std::string::npos);
  EXPECT_EQ(count("<line class=\"step\""), 2u);
  // The step marks sit at 55 us (step 0's last task done) and 70 us.
  const double scale = (1600.0 - 90 - 10) / 100.0;
  char at55[64], at70[64];
  std::snprintf(at55, sizeof at55, "class=\"step\" x1=\"%.2f\"", 90 + 55 * scale);
  std::snprintf(at70, sizeof at70, "class=\"step\" x1=\"%.2f\"", 90 + 70 * scale);
  EXPECT_NE(svg.find(at55), std::string::npos) << svg;
  EXPECT_NE(svg.find(at70), std::string::npos);
}

TEST(TraceAnalysis, TimelineSvgAndErrors) {
  test::TempDir dir;
  isa::Plan p = plan();
  Trace t = roundTrip(p, (dir.path() / "t.json").string());
  std::string svg = (dir.path() / "t.svg").string();
  ASSERT_TRUE(writeTimelineSvg(svg, t));
  std::ifstream in(svg);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("attn_decode task 3"), std::string::npos);

  Trace bad;
  std::string garbage = (dir.path() / "g.json").string();
  std::ofstream(garbage) << "{\"traceEvents\": 3}";
  Status s = readTrace(garbage, bad);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(garbage), std::string::npos);
  EXPECT_FALSE(readTrace((dir.path() / "missing.json").string(), bad));
  isa::Plan other = p;
  other.programs.back().name = "prefill";
  std::vector<CriticalPath> paths;
  EXPECT_FALSE(criticalPaths(t, other, paths));
}

} // namespace
