//===- profile_dump.cpp - Streaming Chrome-trace JSON ---------------------===//
//
// A decode trace can hold millions of slices, so events are formatted straight into
// the output stream instead of being built as a nlohmann::json tree first (which
// costs hundreds of bytes per value). Strings that come from the plan (program and
// event names) are escaped with nlohmann; kind names are the ISA's ASCII literals.
//===----------------------------------------------------------------------===//

#include "mk/runtime/profile_dump.h"

#include "atomic_file.h"

#include "mk/isa/message_text.h"
#include "mk/isa/task_kinds.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <set>

namespace mk::runtime {

namespace {

constexpr int kLaunchesPid = 0;
/// Rank r's workers are process 1 + r.
int workersPid(uint32_t rank) { return 1 + int(rank); }

/// A JSON string literal (quoted, escaped; invalid UTF-8 replaced).
std::string jsonString(const std::string &s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const char *kindName(uint16_t kind) {
  return kind < isa::kNumTaskKinds ? isa::taskKindName(static_cast<isa::TaskKind>(kind))
                                   : "invalid";
}

void appendf(std::string &out, const char *fmt, auto... args) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  out.append(buf, static_cast<size_t>(std::clamp(n, 0, int(sizeof buf) - 1)));
}

/// The args shared by a task's wait and run slices.
void appendTaskArgs(std::string &out, const isa::TaskRecord &r, int32_t expert,
                    uint32_t task, uint64_t step, const std::string &programJson,
                    uint32_t rank) {
  appendf(out, "\"task\":%u,\"kind\":\"%s\",", task, kindName(r.kind));
  if (r.layer == isa::kNoLayer)
    out += "\"layer\":null,";
  else
    appendf(out, "\"layer\":%u,", unsigned(r.layer));
  if (expert < 0)
    out += "\"expert\":null,";
  else
    appendf(out, "\"expert\":%d,", int(expert));
  appendf(out, "\"step\":%" PRIu64 ",\"program\":", step);
  out += programJson;
  appendf(out, ",\"rank\":%u", rank);
  appendf(out, ",\"rows\":[%u,%u],\"range1\":[%u,%u],\"range2\":[%u,%u]",
          r.range[0].begin, r.range[0].end, r.range[1].begin, r.range[1].end,
          r.range[2].begin, r.range[2].end);
}

} // namespace

Status TraceWriter::add(const isa::Plan &plan, uint32_t program,
                        const std::vector<host::ProfileRecord> &records, double offsetUs,
                        uint32_t rank) {
  if (program >= plan.programs.size())
    return Status::error("trace: no program " + std::to_string(program) +
                         " (the plan has " + std::to_string(plan.programs.size()) + ")");
  const isa::Program &p = plan.programs[program];
  double end = endUs_;
  for (size_t i = 0; i < records.size(); ++i) {
    const host::ProfileRecord &r = records[i];
    const std::string where =
        "trace: profile record " + std::to_string(i) + " of program " + quote(p.name);
    if (r.task >= p.tasks.size())
      return Status::error(where + " names task " + std::to_string(r.task) +
                           "; the program has " + std::to_string(p.tasks.size()));
    if (!(r.claimNs <= r.readyNs && r.readyNs <= r.doneNs))
      return Status::error(where + " has times claim " + std::to_string(r.claimNs) +
                           " ready " + std::to_string(r.readyNs) + " done " +
                           std::to_string(r.doneNs) + " ns out of order");
    end = std::max(end, offsetUs + double(r.doneNs) / 1000.0);
  }
  launches_.push_back({&plan, program, rank, offsetUs, records});
  endUs_ = end;
  return Status::ok();
}

size_t TraceWriter::numRecords() const {
  size_t n = 0;
  for (const Launch &l : launches_)
    n += l.records.size();
  return n;
}

Status TraceWriter::write(const std::string &path) const {
  detail::AtomicFileWriter out;
  if (Status s = out.open(path); !s)
    return s;
  std::string line;
  bool first = true;
  auto emit = [&] {
    out.write(first ? "\n" : ",\n");
    out.write(line);
    first = false;
    line.clear();
  };

  out.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
  std::set<std::pair<uint32_t, uint32_t>> workers; // (rank, worker)
  std::set<uint32_t> ranks;
  for (const Launch &l : launches_) {
    ranks.insert(l.rank);
    for (const host::ProfileRecord &r : l.records)
      workers.insert({l.rank, r.worker});
  }
  const bool tp = ranks.size() > 1 || (!ranks.empty() && *ranks.begin() != 0);
  appendf(line,
          "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":"
          "\"launches\"}}",
          kLaunchesPid);
  emit();
  for (uint32_t rank : ranks) {
    if (tp)
      appendf(line,
              "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":"
              "\"rank %u\"}}",
              workersPid(rank), rank);
    else
      appendf(line,
              "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":"
              "\"workers\"}}",
              workersPid(rank));
    emit();
    appendf(line,
            "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":%d,"
            "\"args\":{\"sort_index\":%d}}",
            workersPid(rank), workersPid(rank));
    emit();
    if (tp) {
      appendf(line,
              "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%u,"
              "\"args\":{\"name\":\"rank %u\"}}",
              kLaunchesPid, rank, rank);
      emit();
    }
  }
  for (auto [rank, w] : workers) {
    appendf(line,
            "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%u,"
            "\"args\":{\"name\":\"worker %u\"}}",
            workersPid(rank), w, w);
    emit();
    appendf(line,
            "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,\"tid\":%u,"
            "\"args\":{\"sort_index\":%u}}",
            workersPid(rank), w, w);
    emit();
  }

  for (size_t li = 0; li < launches_.size(); ++li) {
    const Launch &l = launches_[li];
    const isa::Program &p = l.plan->programs[l.program];
    const std::string programJson = jsonString(p.name);
    std::vector<std::string> eventJson(p.events.size());
    for (size_t e = 0; e < p.events.size(); ++e)
      eventJson[e] = jsonString(p.events[e].name);

    if (!l.records.empty()) {
      uint64_t begin = UINT64_MAX, end = 0, steps = 0;
      for (const host::ProfileRecord &r : l.records) {
        begin = std::min(begin, r.claimNs);
        end = std::max(end, r.doneNs);
        steps = std::max(steps, r.step + 1);
      }
      line += "{\"ph\":\"X\",\"name\":" + programJson;
      appendf(line, ",\"cat\":\"launch\",\"pid\":%d,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,",
              kLaunchesPid, l.rank, l.offsetUs + double(begin) / 1000.0,
              double(end - begin) / 1000.0);
      line +=
          "\"args\":{\"launch\":" + std::to_string(li) + ",\"program\":" + programJson;
      appendf(line, ",\"rank\":%u,\"steps\":%" PRIu64 ",\"tasks\":%zu}}", l.rank, steps,
              l.records.size());
      emit();
    }

    for (const host::ProfileRecord &r : l.records) {
      const isa::TaskRecord &t = p.tasks[r.task];
      const char *kind = kindName(t.kind);
      const double claim = l.offsetUs + double(r.claimNs) / 1000.0;
      const double ready = l.offsetUs + double(r.readyNs) / 1000.0;
      appendf(line,
              "{\"ph\":\"X\",\"name\":\"wait %s\",\"cat\":\"wait\",\"pid\":%d,\"tid\":%u,"
              "\"ts\":%.3f,\"dur\":%.3f,\"args\":{",
              kind, workersPid(l.rank), r.worker, claim,
              double(r.readyNs - r.claimNs) / 1000.0);
      appendTaskArgs(line, t, r.expert, r.task, r.step, programJson, l.rank);
      line += ",\"waits\":[";
      for (uint32_t w = 0; w < t.numWaits && w < isa::kMaxWaits; ++w) {
        if (w)
          line += ",";
        const uint32_t e = t.wait[w].event;
        line += "{\"event\":";
        line += e < eventJson.size() ? eventJson[e] : std::to_string(e);
        appendf(line, ",\"count\":%u,\"step_back\":%u}", unsigned(t.wait[w].count),
                unsigned(t.wait[w].stepBack));
      }
      line += "]}}";
      emit();
      appendf(line,
              "{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"run\",\"pid\":%d,\"tid\":%u,"
              "\"ts\":%.3f,\"dur\":%.3f,\"args\":{",
              kind, workersPid(l.rank), r.worker, ready,
              double(r.doneNs - r.readyNs) / 1000.0);
      appendTaskArgs(line, t, r.expert, r.task, r.step, programJson, l.rank);
      appendf(line, ",\"weight_bytes\":%" PRIu64 "}}", r.weightBytes);
      emit();
    }
  }
  out.write("\n]}\n");
  return out.commit();
}

Status writeChromeTrace(const std::string &path, const isa::Plan &plan, uint32_t program,
                        const std::vector<host::ProfileRecord> &records,
                        double launchOffsetUs) {
  TraceWriter w;
  if (Status s = w.add(plan, program, records, launchOffsetUs); !s)
    return s;
  return w.write(path);
}

} // namespace mk::runtime
