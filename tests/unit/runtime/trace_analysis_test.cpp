// mkprof's analysis: a trace written by TraceWriter reads back into the same
// executions, and the summary, bubbles and observed critical path are what a
// hand-made two-worker schedule implies.
#include "mk/runtime/profile_dump.h"
#include "mk/runtime/trace_analysis.h"

#include "safetensors_writer.h"
#include "test_plan.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

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
