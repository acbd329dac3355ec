// Chrome-trace output parses as JSON with one track per worker, a wait and a run
// slice per record, args naming the task, and launches placed at their offsets; the
// stats file round-trips.
#include "safetensors_writer.h"
#include "test_plan.h"

#include "mk/runtime/profile_dump.h"
#include "mk/runtime/run_stats.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <map>

using namespace mk;
using namespace mk::runtime;
using namespace mk::runtime::test;
using nlohmann::json;

namespace {

json readJson(const std::string &path) {
  std::ifstream f(path);
  json j = json::parse(f, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << path;
  return j;
}

std::vector<host::ProfileRecord> records() {
  // task, worker, step, claim, ready, done (ns)
  return {{0, 0, 0, 1000, 1500, 4000},
          {1, 1, 0, 1200, 4100, 6000},
          {2, 0, 0, 4200, 4300, 7000},
          {3, 1, 0, 6100, 7100, 9000},
          {0, 2, 1, 9100, 9100, 9600}};
}

std::vector<json> slices(const json &trace, const std::string &cat) {
  std::vector<json> out;
  for (const json &e : trace["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == cat)
      out.push_back(e);
  return out;
}

} // namespace

TEST(ProfileDump, OneLaunch) {
  TempDir dir;
  isa::Plan plan = makeTracePlan();
  const std::string path = dir.str("trace.json");
  Status s = writeChromeTrace(path, plan, 0, records());
  ASSERT_TRUE(s) << s.message();
  json trace = readJson(path);
  ASSERT_TRUE(trace.is_object());
  EXPECT_EQ(trace["displayTimeUnit"], "ns");

  std::map<int, std::string> threadNames;
  for (const json &e : trace["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name") {
      EXPECT_EQ(e["pid"], 1);
      threadNames[e["tid"].get<int>()] = e["args"]["name"];
    }
  EXPECT_EQ(threadNames, (std::map<int, std::string>{
                             {0, "worker 0"}, {1, "worker 1"}, {2, "worker 2"}}));

  std::vector<json> waits = slices(trace, "wait"), runs = slices(trace, "run");
  ASSERT_EQ(waits.size(), 5u);
  ASSERT_EQ(runs.size(), 5u);
  // Record 1: qkv task 1 of layer 0 on worker 1.
  const json &w = waits[1], &r = runs[1];
  EXPECT_EQ(w["name"], "wait qkv");
  EXPECT_EQ(r["name"], "qkv");
  EXPECT_EQ(w["pid"], 1);
  EXPECT_EQ(w["tid"], 1);
  EXPECT_EQ(r["tid"], 1);
  EXPECT_DOUBLE_EQ(w["ts"].get<double>(), 1.2);
  EXPECT_DOUBLE_EQ(w["dur"].get<double>(), 2.9);
  EXPECT_DOUBLE_EQ(r["ts"].get<double>(), 4.1);
  EXPECT_DOUBLE_EQ(r["dur"].get<double>(), 1.9);
  for (const json *e : {&w, &r}) {
    const json &args = (*e)["args"];
    EXPECT_EQ(args["task"], 1);
    EXPECT_EQ(args["kind"], "qkv");
    EXPECT_EQ(args["layer"], 0);
    EXPECT_EQ(args["step"], 0);
    EXPECT_EQ(args["program"], "decode");
    EXPECT_EQ(args["rows"], json::array({0, 2}));
    EXPECT_EQ(args["range1"], json::array({0, 4}));
    EXPECT_EQ(args["range2"], json::array({0, 0}));
  }
  EXPECT_EQ(w["args"]["waits"],
            json::parse(R"([{"event": "emb", "count": 1, "step_back": 0}])"));
  // The embedding has no layer and no waits.
  EXPECT_TRUE(runs[0]["args"]["layer"].is_null());
  EXPECT_EQ(runs[0]["name"], "embedding");
  EXPECT_EQ(waits[0]["args"]["waits"], json::array());
  EXPECT_EQ(runs[3]["name"], "attn_decode");
  EXPECT_EQ(runs[4]["args"]["step"], 1);
  EXPECT_DOUBLE_EQ(waits[4]["dur"].get<double>(), 0.0);

  std::vector<json> launches = slices(trace, "launch");
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0]["name"], "decode");
  EXPECT_EQ(launches[0]["pid"], 0);
  EXPECT_DOUBLE_EQ(launches[0]["ts"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(launches[0]["dur"].get<double>(), 8.6);
  EXPECT_EQ(launches[0]["args"]["steps"], 2);
  EXPECT_EQ(launches[0]["args"]["tasks"], 5);
}

TEST(ProfileDump, SeveralLaunchesAppend) {
  TempDir dir;
  isa::Plan plan = makeTracePlan();
  TraceWriter writer;
  EXPECT_EQ(writer.endUs(), 0.0);
  ASSERT_TRUE(writer.add(plan, 0, records()));
  EXPECT_DOUBLE_EQ(writer.endUs(), 9.6);
  ASSERT_TRUE(writer.add(plan, 0, records(), writer.endUs() + 100));
  EXPECT_DOUBLE_EQ(writer.endUs(), 9.6 + 100 + 9.6);
  EXPECT_EQ(writer.numRecords(), 10u);
  const std::string path = dir.str("trace.json");
  ASSERT_TRUE(writer.write(path));
  json trace = readJson(path);
  std::vector<json> runs = slices(trace, "run");
  ASSERT_EQ(runs.size(), 10u);
  EXPECT_DOUBLE_EQ(runs[5]["ts"].get<double>(), 109.6 + 1.5);
  std::vector<json> launches = slices(trace, "launch");
  ASSERT_EQ(launches.size(), 2u);
  EXPECT_DOUBLE_EQ(launches[1]["ts"].get<double>(), 109.6 + 1.0);
  EXPECT_EQ(launches[1]["args"]["launch"], 1);
  // An empty trace is still valid JSON.
  ASSERT_TRUE(TraceWriter().write(path));
  EXPECT_TRUE(readJson(path)["traceEvents"].is_array());
}

// A MoE expert tile's slices name the expert it served; every other slice says null.
TEST(ProfileDump, ExpertTilesNameTheirExpert) {
  TempDir dir;
  isa::Plan plan = makeTracePlan();
  isa::TaskRecord moe = plan.programs[0].tasks[1]; // the trace needs no operands
  moe.kind = uint16_t(isa::TaskKind::MoeGateUp);
  moe.range[2] = {1, 2};
  plan.programs[0].tasks.push_back(moe);
  plan.programs[0].order.push_back(4);
  std::vector<host::ProfileRecord> recs = records();
  recs.push_back({4, 1, 0, 9200, 9300, 9900, 17});
  const std::string path = dir.str("trace.json");
  ASSERT_TRUE(writeChromeTrace(path, plan, 0, recs));
  json trace = readJson(path);
  std::vector<json> waits = slices(trace, "wait"), runs = slices(trace, "run");
  ASSERT_EQ(runs.size(), 6u);
  EXPECT_EQ(runs[5]["name"], "moe_gate_up");
  EXPECT_EQ(runs[5]["args"]["expert"], 17);
  EXPECT_EQ(waits[5]["args"]["expert"], 17);
  EXPECT_EQ(runs[5]["args"]["range2"], json::array({1, 2}));
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(runs[i]["args"]["expert"].is_null()) << i;
    EXPECT_TRUE(waits[i]["args"]["expert"].is_null()) << i;
  }
}

TEST(ProfileDump, BadRecordsAreRefused) {
  isa::Plan plan = makeTracePlan();
  TraceWriter writer;
  Status s = writer.add(plan, 3, records());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "trace: no program 3 (the plan has 1)");
  std::vector<host::ProfileRecord> bad = records();
  bad[2].task = 99;
  s = writer.add(plan, 0, bad);
  ASSERT_FALSE(s);
  EXPECT_EQ(
      s.message(),
      "trace: profile record 2 of program 'decode' names task 99; the program has 4");
  bad = records();
  bad[1].readyNs = 100;
  s = writer.add(plan, 0, bad);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "trace: profile record 1 of program 'decode' has times claim "
                         "1200 ready 100 done 6000 ns out of order");
  EXPECT_EQ(writer.numRecords(), 0u);
  TempDir dir;
  s = writer.write(dir.str("missing/trace.json"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message().rfind(dir.str("missing/trace.json") + ": cannot create", 0), 0u);
}

TEST(RunStats, WritesTheFields) {
  TempDir dir;
  RunStats stats;
  stats.prefillMs = 12.5;
  stats.prefillTokens = 5;
  stats.decodeMsPerToken = 4.0;
  stats.tokens = 32;
  stats.weightsBytes = 123456789012ull;
  stats.kvCacheBytes = 4096;
  stats.workers = 16;
  stats.extra["model"] = "tiny-llama";
  const std::string path = dir.str("stats.json");
  ASSERT_TRUE(writeStatsJson(path, stats));
  json j = readJson(path);
  EXPECT_DOUBLE_EQ(j["prefill_ms"].get<double>(), 12.5);
  EXPECT_DOUBLE_EQ(j["prefill_tokens_per_s"].get<double>(), 400.0);
  EXPECT_DOUBLE_EQ(j["decode_ms_per_token"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(j["decode_tokens_per_s"].get<double>(), 250.0);
  EXPECT_EQ(j["tokens"], 32);
  EXPECT_EQ(j["prefill_tokens"], 5);
  EXPECT_EQ(j["weights_bytes"], 123456789012ull);
  EXPECT_EQ(j["kv_cache_bytes"], 4096);
  EXPECT_EQ(j["workers"], 16);
  EXPECT_EQ(j["model"], "tiny-llama");
  // No rates without times.
  ASSERT_TRUE(writeStatsJson(path, RunStats{}));
  j = readJson(path);
  EXPECT_FALSE(j.contains("decode_tokens_per_s"));
  EXPECT_FALSE(j.contains("prefill_tokens_per_s"));
  // Any json works; invalid UTF-8 does not throw.
  ASSERT_TRUE(writeStatsJson(path, json{{"x", std::string("\xff\xfe")}}));
}
