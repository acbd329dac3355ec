//===- plan_verify_comm.cpp - Rule c for tensor parallelism: comm tasks ----===//
//
// A tensor-parallel plan is SPMD: every rank runs the same programs, so rank p's comm
// task (site s, tile j) corresponds to rank q's (site s, tile j) by construction and
// the ranks' flags are the same slots of the same symmetric tensors. What a single
// plan can get wrong is checked here, with N = tensorParallel, R = the program's rows,
// H = hiddenSize:
//   all_reduce  partial [R, H] bf16, residual [R, H] bf16 (optional), out [R, H] bf16,
//               comm [2, N, R, H] bf16, flags [2, F, N] i32; range[0] = [0, R),
//               range[1] a non-empty column range; aux[0] = site, aux[1] = tile < F
//   all_gather  local [R, T, 2] f32, comm [2, N, R, 2 T] f32, out [R, N T, 2] f32,
//               flags as above; range[0] = [0, R), range[1] = [0, T), aux[1] = 0
// comm and flags are Placement::Comm tensors of the program. Sites are numbered 0..S-1
// (the epoch of a site is computed from its number, protocol.h); a site is all_reduce
// tiles 0..n-1 over one partial/out pair whose column ranges cover [0, H) once, or one
// all_gather. Every comm task of a program uses the same flags tensor.
//
// Site order (checkCommOrder; what lets two buffers suffice, protocol.h): every tile of
// site k + 1 descends, within its step, from every tile of site k, and every tile of
// site 0 descends from the previous step's site S-1 in full (through a previous-step
// wait). Checked by propagating, in topological order, the highest site M a node
// descends from in full: an event whose producers include all tiles of site k covers
// site k; a node descends from what its producers (and their events) descend from.
//===----------------------------------------------------------------------===//
#include "plan_verify_internal.h"
#include "str_format.h"

#include <algorithm>
#include <cinttypes>
#include <map>
#include <string_view>
#include <vector>

namespace mk::isa::detail {

namespace {

class CommTaskCheck {
public:
  CommTaskCheck(const Plan &plan, uint32_t pi, uint32_t t, Violations &v)
      : plan_(plan), pi_(pi), record_(plan.programs[pi].tasks[t]), v_(v),
        where_(programLabel(plan, pi) + " " + taskLabel(plan.programs[pi], t)) {}

  bool present(std::string_view role) const { return idOf(role) != kNoTensor; }
  uint16_t idOf(std::string_view role) const {
    return record_.operand[roleIndex(static_cast<TaskKind>(record_.kind), role)];
  }
  const TensorDesc &tensor(std::string_view role) const {
    return plan_.tensors[idOf(role)];
  }

  void operand(std::string_view role,
               std::initializer_list<std::pair<const char *, int64_t>> dims, DType dtype,
               Placement placement) {
    const uint16_t id = idOf(role);
    const TensorDesc &t = plan_.tensors[id];
    if (!hasShape(t, dims, dtype))
      v_.add(strFormat("%s: operand '%.*s' is %s %s, expected %s", where_.c_str(),
                       int(role.size()), role.data(), tensorLabel(plan_, id).c_str(),
                       shapeText(t).c_str(), expectedText(dims, dtype).c_str()));
    if (t.placement != placement)
      v_.add(strFormat("%s: operand '%.*s' is %s, whose placement is %s, expected %s",
                       where_.c_str(), int(role.size()), role.data(),
                       tensorLabel(plan_, id).c_str(), placementName(t.placement),
                       placementName(placement)));
    else if (placement == Placement::Comm && t.program != pi_)
      v_.add(strFormat("%s: operand '%.*s' is %s, a comm buffer of program %u, not of "
                       "this program",
                       where_.c_str(), int(role.size()), role.data(),
                       tensorLabel(plan_, id).c_str(), t.program));
  }

  void rangeIs(int k, const char *what, uint32_t begin, uint32_t end) {
    const Range r = record_.range[k];
    if (r.begin != begin || r.end != end)
      v_.add(strFormat("%s: range[%d] is [%u, %u), expected [%u, %u) (%s)",
                       where_.c_str(), k, r.begin, r.end, begin, end, what));
  }

  const std::string &where() const { return where_; }

private:
  const Plan &plan_;
  uint32_t pi_;
  const TaskRecord &record_;
  Violations &v_;
  std::string where_;
};

/// Whether every operand id of `r` names a tensor (or is an absent optional one).
bool operandsValid(const Plan &plan, const TaskRecord &r) {
  const TaskKindInfo &info = taskKindInfo(static_cast<TaskKind>(r.kind));
  if (r.numOperands != info.numOperands)
    return false;
  for (uint32_t i = 0; i < info.numOperands; ++i)
    if (r.operand[i] >= plan.tensors.size() &&
        !(r.operand[i] == kNoTensor && roleIsOptional(info.operandRoles[i])))
      return false;
  return true;
}

/// The task's operands and ranges.
void checkCommTask(const Plan &plan, uint32_t pi, uint32_t t, Violations &v) {
  const Program &prog = plan.programs[pi];
  const TaskRecord &r = prog.tasks[t];
  const auto kind = static_cast<TaskKind>(r.kind);
  CommTaskCheck c(plan, pi, t, v);
  const int64_t N = plan.tensorParallel, R = prog.rows, H = plan.model.hiddenSize;
  const DType bf = DType::BF16, f32 = DType::F32;
  const TensorDesc &flags = c.tensor("flags");
  const int64_t F = flags.rank == 3 ? flags.shape[1] : 0;
  c.operand("flags", {{"2", 2}, {"F", std::max<int64_t>(F, 1)}, {"N", N}}, DType::I32,
            Placement::Comm);
  if (F > 0 && r.aux[1] >= F)
    v.add(strFormat("%s: aux[1] (tile of the site) is %u, but the flags %s have %" PRId64
                    " tile slots",
                    c.where().c_str(), r.aux[1], shapeText(flags).c_str(), F));
  c.rangeIs(0, "a comm task takes every row", 0, prog.rows);
  if (kind == TaskKind::AllReduce) {
    c.operand("partial", {{"R", R}, {"H", H}}, bf, Placement::Activation);
    if (c.present("residual"))
      c.operand("residual", {{"R", R}, {"H", H}}, bf, Placement::Activation);
    c.operand("out", {{"R", R}, {"H", H}}, bf, Placement::Activation);
    c.operand("comm", {{"2", 2}, {"N", N}, {"R", R}, {"H", H}}, bf, Placement::Comm);
    if (r.range[1].begin >= r.range[1].end)
      v.add(strFormat("%s: range[1] (columns) [%u, %u) is empty", c.where().c_str(),
                      r.range[1].begin, r.range[1].end));
  } else {
    const TensorDesc &local = c.tensor("local");
    const int64_t T = local.rank == 3 ? local.shape[1] : 0;
    c.operand("local", {{"R", R}, {"T", std::max<int64_t>(T, 1)}, {"2", 2}}, f32,
              Placement::Activation);
    c.operand("comm", {{"2", 2}, {"N", N}, {"R", R}, {"2 T", 2 * T}}, f32,
              Placement::Comm);
    c.operand("out", {{"R", R}, {"N T", N * T}, {"2", 2}}, f32, Placement::Activation);
    c.rangeIs(1, "the gather takes every LM-head tile", 0, uint32_t(T));
    if (r.aux[1] != 0)
      v.add(strFormat("%s: aux[1] is %u, expected 0 (an all_gather is one tile)",
                      c.where().c_str(), r.aux[1]));
  }
}

} // namespace

void checkCommProgram(const Plan &plan, uint32_t pi, Violations &v) {
  const Program &prog = plan.programs[pi];
  // Site -> its tasks, in task order.
  std::map<uint32_t, std::vector<uint32_t>> sites;
  uint16_t flags = kNoTensor;
  for (uint32_t t = 0; t < prog.tasks.size() && !v.full(); ++t) {
    const TaskRecord &r = prog.tasks[t];
    if (r.kind >= kNumTaskKinds || !isCommKind(static_cast<TaskKind>(r.kind)))
      continue;
    const std::string where = programLabel(plan, pi) + " " + taskLabel(prog, t);
    if (plan.tensorParallel < 2) {
      v.add(strFormat("%s: a comm task in a plan with tensorParallel %u (comm tasks "
                      "exchange data between ranks; a plan of one rank has none)",
                      where.c_str(), plan.tensorParallel));
      continue;
    }
    if (!operandsValid(plan, r))
      continue; // checkOperands reported it
    checkCommTask(plan, pi, t, v);
    const uint16_t myFlags = r.operand[roleIndex(static_cast<TaskKind>(r.kind), "flags")];
    if (flags == kNoTensor)
      flags = myFlags;
    else if (myFlags != flags)
      v.add(strFormat("%s: its flags are %s, but another comm task of the program uses "
                      "%s (one flags tensor per program)",
                      where.c_str(), tensorLabel(plan, myFlags).c_str(),
                      tensorLabel(plan, flags).c_str()));
    sites[r.aux[0]].push_back(t);
  }
  if (sites.empty() || v.full())
    return;

  // Sites are 0..S-1: a site's epoch is computed from its number.
  uint32_t expected = 0;
  for (const auto &[site, tasks] : sites) {
    if (site != expected) {
      v.add(strFormat("%s: comm site %u is used but site %u is not (sites must be "
                      "numbered 0..S-1 in program order)",
                      programLabel(plan, pi).c_str(), site, expected));
      return;
    }
    ++expected;
    const TaskRecord &first = prog.tasks[tasks.front()];
    const auto kind = static_cast<TaskKind>(first.kind);
    const std::string siteLabel = strFormat(
        "%s comm site %u (%s)", programLabel(plan, pi).c_str(), site, taskKindName(kind));
    std::vector<uint32_t> tileOwner(tasks.size(), UINT32_MAX);
    std::vector<Range> columns;
    for (uint32_t t : tasks) {
      const TaskRecord &r = prog.tasks[t];
      if (r.kind != first.kind) {
        v.add(strFormat("%s: %s is a %s (a site is one kind)", siteLabel.c_str(),
                        taskLabel(prog, t).c_str(),
                        taskKindName(static_cast<TaskKind>(r.kind))));
        continue;
      }
      if (r.aux[1] >= tasks.size())
        v.add(strFormat("%s: %s is tile %u, but the site has %zu tiles (tiles are "
                        "numbered 0..n-1)",
                        siteLabel.c_str(), taskLabel(prog, t).c_str(), r.aux[1],
                        tasks.size()));
      else if (tileOwner[r.aux[1]] != UINT32_MAX)
        v.add(strFormat("%s: %s and task %u are both tile %u", siteLabel.c_str(),
                        taskLabel(prog, t).c_str(), tileOwner[r.aux[1]], r.aux[1]));
      else
        tileOwner[r.aux[1]] = t;
      for (const char *role : {"partial", "out", "residual"}) {
        if (kind != TaskKind::AllReduce)
          break;
        const int i = roleIndex(kind, role);
        if (r.operand[i] != first.operand[i])
          v.add(strFormat("%s: %s's '%s' is not the site's (tiles of a site reduce "
                          "one tensor)",
                          siteLabel.c_str(), taskLabel(prog, t).c_str(), role));
      }
      columns.push_back(r.range[1]);
    }
    if (kind == TaskKind::AllGather && tasks.size() != 1)
      v.add(strFormat("%s: %zu tasks, expected 1", siteLabel.c_str(), tasks.size()));
    if (kind == TaskKind::AllReduce) {
      std::sort(columns.begin(), columns.end(),
                [](Range a, Range b) { return a.begin < b.begin; });
      uint32_t at = 0;
      bool covered = true;
      for (Range c : columns) {
        if (c.begin != at) {
          v.add(strFormat("%s: columns [%u, %u) are %s (the tiles must cover [0, %u) "
                          "once)",
                          siteLabel.c_str(), std::min(at, c.begin), std::max(at, c.begin),
                          c.begin > at ? "not reduced" : "reduced twice",
                          plan.model.hiddenSize));
          covered = false;
          break;
        }
        at = c.end;
      }
      if (covered && at != plan.model.hiddenSize)
        v.add(strFormat("%s: the tiles end at column %u, expected %u (hiddenSize)",
                        siteLabel.c_str(), at, plan.model.hiddenSize));
    }
  }
}

void checkCommOrder(const Plan &plan, uint32_t pi, Violations &v) {
  const Program &prog = plan.programs[pi];
  const uint32_t T = uint32_t(prog.tasks.size()), E = uint32_t(prog.events.size());
  constexpr uint32_t kNotComm = 0xFFFFFFFFu;
  std::vector<uint32_t> siteOf(T, kNotComm);
  uint32_t sites = 0;
  for (uint32_t t = 0; t < T; ++t) {
    const TaskRecord &r = prog.tasks[t];
    if (r.kind < kNumTaskKinds && isCommKind(static_cast<TaskKind>(r.kind))) {
      siteOf[t] = r.aux[0];
      sites = std::max(sites, r.aux[0] + 1);
    }
  }
  if (sites == 0)
    return;
  std::vector<uint32_t> tilesOf(sites, 0);
  for (uint32_t t = 0; t < T; ++t)
    if (siteOf[t] != kNotComm)
      ++tilesOf[siteOf[t]];

  // Kahn's order over task nodes [0, T) and event nodes [T, T + E), same-step edges.
  std::vector<uint32_t> indegree(T + E, 0);
  std::vector<std::vector<uint32_t>> waiters(E); // same-step consumers of each event
  std::vector<std::vector<uint32_t>> producers(E);
  for (uint32_t t = 0; t < T; ++t) {
    const TaskRecord &r = prog.tasks[t];
    for (uint32_t w = 0; w < r.numWaits; ++w)
      if (r.wait[w].stepBack == 0) {
        waiters[r.wait[w].event].push_back(t);
        ++indegree[t];
      }
    for (uint32_t k = 0; k < r.numSignals; ++k) {
      producers[r.signal[k]].push_back(t);
      ++indegree[T + r.signal[k]];
    }
  }
  // M: the highest site the node descends from in full (-1: none).
  std::vector<int64_t> M(T + E, -1);
  std::vector<uint32_t> queue;
  for (uint32_t n = 0; n < T + E; ++n)
    if (indegree[n] == 0)
      queue.push_back(n);
  std::vector<uint32_t> siteCount(sites, 0);
  for (size_t head = 0; head < queue.size(); ++head) {
    const uint32_t n = queue[head];
    if (n < T) {
      const TaskRecord &r = prog.tasks[n];
      for (uint32_t w = 0; w < r.numWaits; ++w) {
        const uint32_t e = T + r.wait[w].event;
        if (r.wait[w].stepBack == 0) {
          M[n] = std::max(M[n], M[e]);
        }
      }
      if (siteOf[n] != kNotComm && !v.full()) {
        const uint32_t k = siteOf[n];
        if (k > 0 && M[n] < int64_t(k) - 1)
          v.add(strFormat("%s %s: comm site %u is not ordered after every tile of site "
                          "%u (two comm buffers are reused in turn: each site must wait, "
                          "through its inputs, for all of the previous one)",
                          programLabel(plan, pi).c_str(), taskLabel(prog, n).c_str(), k,
                          k - 1));
      }
      for (uint32_t k = 0; k < r.numSignals; ++k)
        if (--indegree[T + r.signal[k]] == 0)
          queue.push_back(T + r.signal[k]);
    } else {
      const uint32_t e = n - T;
      for (uint32_t p : producers[e]) {
        M[n] = std::max(M[n], M[p]);
        if (siteOf[p] != kNotComm)
          ++siteCount[siteOf[p]];
      }
      for (uint32_t p : producers[e])
        if (siteOf[p] != kNotComm) {
          if (siteCount[siteOf[p]] == tilesOf[siteOf[p]])
            M[n] = std::max(M[n], int64_t(siteOf[p]));
        }
      for (uint32_t p : producers[e])
        if (siteOf[p] != kNotComm)
          siteCount[siteOf[p]] = 0;
      for (uint32_t c : waiters[e])
        if (--indegree[c] == 0)
          queue.push_back(c);
    }
  }
  if (queue.size() != T + E)
    return; // a cycle: the graph rules report it
  // X: whether the node descends from the previous step's last site in full (a
  // previous-step wait on an event whose M reaches it). Needs every event's M: a
  // second pass in the same order.
  std::vector<uint8_t> X(T + E, 0);
  for (uint32_t n : queue) {
    if (n < T) {
      const TaskRecord &r = prog.tasks[n];
      for (uint32_t w = 0; w < r.numWaits; ++w) {
        const uint32_t e = T + r.wait[w].event;
        if (r.wait[w].stepBack == 0)
          X[n] = std::max(X[n], X[e]);
        else if (M[e] >= int64_t(sites) - 1)
          X[n] = 1;
      }
      if (siteOf[n] == 0 && !X[n] && !v.full())
        v.add(strFormat("%s %s: comm site 0 does not wait, through its inputs, for all "
                        "of the previous step's last comm site %u",
                        programLabel(plan, pi).c_str(), taskLabel(prog, n).c_str(),
                        sites - 1));
    } else {
      for (uint32_t p : producers[n - T])
        X[n] = std::max(X[n], X[p]);
    }
  }
}

} // namespace mk::isa::detail
