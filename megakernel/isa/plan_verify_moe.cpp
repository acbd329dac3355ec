//===- plan_verify_moe.cpp - Rule c for the MoE kinds: shapes, groups, tiles ===//
//
// The MoE tasks index their tensors with numbers read at run time (the routes the
// router writes, expert ids added to a weight operand), so their shapes are checked
// exactly against the model and the program, with R = the program's rows,
// k = numExpertsPerTok, E = numExperts, Smax = min(E, R * k), H = hiddenSize and
// I = moeIntermediateSize / N under N-way tensor parallelism (moe_routes.h):
//   moe_router   x [R, H] bf16, norm_w [H] bf16, w [E, H] bf16, positions [R] i32,
//                xg [Smax, R, H] bf16, routes [1 + 2 Smax + Smax R + 2 R k] i32,
//                route_weights [R, k] f32; range[0] = [0, R), range[1] = [0, E)
//   moe_gate_up  xg, routes as above, w_gate / w_up expert groups of [I, H] bf16,
//                out [Smax, R, I] bf16; range[0] = [0, R), range[2] = [s, s + 1),
//                s < Smax
//   moe_down     act [Smax, R, I] bf16, routes, w an expert group of [H, I] bf16,
//                out [Smax, R, H] bf16; range[0], range[2] as moe_gate_up
//   moe_combine  expert_out [Smax, R, H] bf16, routes, route_weights,
//                residual [R, H] bf16 (absent under tensor parallelism: the
//                all_reduce after it adds it), out [R, H] bf16
// An expert group is E consecutive weight tensors of one dtype and shape starting at
// the operand (expert e is tensor operand + e). range[1] is bounded by rule c's
// generic check (TileAxis).
//===----------------------------------------------------------------------===//
#include "mk/isa/moe_routes.h"

#include "plan_verify_internal.h"
#include "str_format.h"

#include <cinttypes>
#include <initializer_list>
#include <string_view>

namespace mk::isa::detail {

/// "[2, 4, 64] bf16"
std::string shapeText(const TensorDesc &t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.rank && d < kMaxRank; ++d)
    s += strFormat("%s%" PRId64, d ? ", " : "", t.shape[d]);
  return s + "] " + dtypeName(t.dtype);
}

/// "[Smax 2, R 4, H 64] bf16"
std::string expectedText(std::initializer_list<std::pair<const char *, int64_t>> dims,
                         DType dtype) {
  std::string s = "[";
  bool first = true;
  for (auto [name, value] : dims) {
    s += strFormat("%s%s %" PRId64, first ? "" : ", ", name, value);
    first = false;
  }
  return s + "] " + dtypeName(dtype);
}

bool hasShape(const TensorDesc &t,
              std::initializer_list<std::pair<const char *, int64_t>> dims, DType dtype) {
  if (t.dtype != dtype || t.rank != dims.size())
    return false;
  uint32_t d = 0;
  for (auto [name, value] : dims)
    if (t.shape[d++] != value)
      return false;
  return true;
}

namespace {

struct MoeDims {
  uint32_t rows, topK, experts, slots, hidden, inter;
};

class MoeTaskCheck {
public:
  MoeTaskCheck(const Plan &plan, uint32_t pi, uint32_t t, Violations &v)
      : plan_(plan), prog_(plan.programs[pi]), record_(prog_.tasks[t]), v_(v),
        where_(programLabel(plan, pi) + " " + taskLabel(prog_, t)) {}

  /// Operand `role` is a tensor of exactly these dims and dtype.
  void operand(std::string_view role,
               std::initializer_list<std::pair<const char *, int64_t>> dims,
               DType dtype) {
    const uint16_t id = idOf(role);
    const TensorDesc &t = plan_.tensors[id];
    if (!hasShape(t, dims, dtype))
      v_.add(strFormat("%s: operand '%.*s' is %s %s, expected %s", where_.c_str(),
                       int(role.size()), role.data(), tensorLabel(plan_, id).c_str(),
                       shapeText(t).c_str(), expectedText(dims, dtype).c_str()));
  }

  /// Operand `role` names expert 0 of a group: E consecutive weights of these dims.
  void expertGroup(std::string_view role, uint32_t experts,
                   std::initializer_list<std::pair<const char *, int64_t>> dims) {
    const uint16_t first = idOf(role);
    if (uint64_t(first) + experts > plan_.tensors.size()) {
      v_.add(strFormat("%s: operand '%.*s' names the expert group of %u tensors from %s, "
                       "but the plan has %zu tensors",
                       where_.c_str(), int(role.size()), role.data(), experts,
                       tensorLabel(plan_, first).c_str(), plan_.tensors.size()));
      return;
    }
    for (uint32_t e = 0; e < experts && !v_.full(); ++e) {
      const uint32_t id = first + e;
      const TensorDesc &t = plan_.tensors[id];
      if (t.placement != Placement::Weight)
        v_.add(strFormat("%s: expert %u of operand '%.*s' is %s, whose placement is %s, "
                         "expected weight (expert e is tensor %u + e)",
                         where_.c_str(), e, int(role.size()), role.data(),
                         tensorLabel(plan_, id).c_str(), placementName(t.placement),
                         first));
      else if (!hasShape(t, dims, DType::BF16))
        v_.add(strFormat("%s: expert %u of operand '%.*s' is %s %s, expected %s",
                         where_.c_str(), e, int(role.size()), role.data(),
                         tensorLabel(plan_, id).c_str(), shapeText(t).c_str(),
                         expectedText(dims, DType::BF16).c_str()));
    }
  }

  /// range[k] is exactly [begin, end).
  void rangeIs(int k, const char *what, uint32_t begin, uint32_t end) {
    const Range r = record_.range[k];
    if (r.begin != begin || r.end != end)
      v_.add(strFormat("%s: range[%d] is [%u, %u), expected [%u, %u) (%s)",
                       where_.c_str(), k, r.begin, r.end, begin, end, what));
  }

  /// range[2] is one slot [s, s + 1) with s < slots.
  void oneSlot(uint32_t slots) {
    const Range r = record_.range[2];
    if (r.end != r.begin + 1 || r.begin >= slots)
      v_.add(strFormat("%s: range[2] (expert slot) is [%u, %u), expected one slot "
                       "[s, s + 1) with s < Smax %u",
                       where_.c_str(), r.begin, r.end, slots));
  }

  const std::string &where() const { return where_; }

private:
  uint16_t idOf(std::string_view role) const {
    return record_.operand[roleIndex(static_cast<TaskKind>(record_.kind), role)];
  }

  const Plan &plan_;
  const Program &prog_;
  const TaskRecord &record_;
  Violations &v_;
  std::string where_;
};

} // namespace

bool isMoeKind(TaskKind kind) {
  return kind == TaskKind::MoeRouter || kind == TaskKind::MoeGateUp ||
         kind == TaskKind::MoeDown || kind == TaskKind::MoeCombine;
}

void checkMoeTask(const Plan &plan, uint32_t pi, uint32_t t, Violations &v) {
  const Program &prog = plan.programs[pi];
  const TaskRecord &r = prog.tasks[t];
  const auto kind = static_cast<TaskKind>(r.kind);
  const TaskKindInfo &info = taskKindInfo(kind);
  // Operands that are absent or out of range were reported by checkOperands.
  if (r.numOperands != info.numOperands)
    return;
  for (uint32_t i = 0; i < info.numOperands; ++i)
    if (r.operand[i] >= plan.tensors.size() &&
        !(r.operand[i] == kNoTensor && roleIsOptional(info.operandRoles[i])))
      return;
  MoeTaskCheck c(plan, pi, t, v);
  const ModelMeta &m = plan.model;
  if (m.numExperts == 0 || m.numExpertsPerTok == 0 || m.numExpertsPerTok > m.numExperts) {
    v.add(strFormat("%s: a %s task, but the model has numExperts %u and "
                    "numExpertsPerTok %u (a MoE model has 1 <= k <= E)",
                    c.where().c_str(), info.name, m.numExperts, m.numExpertsPerTok));
    return;
  }
  // Under tensor parallelism each rank holds I / N of every expert's columns.
  const MoeDims d{prog.rows,    m.numExpertsPerTok,
                  m.numExperts, moeSlots(m.numExperts, prog.rows, m.numExpertsPerTok),
                  m.hiddenSize, rankDims(m, plan.tensorParallel).moeIntermediate};
  const int64_t R = d.rows, K = d.topK, E = d.experts, S = d.slots, H = d.hidden,
                I = d.inter;
  const int64_t routes = int64_t(moeRoutesLength(d.rows, d.topK, d.slots));
  const DType bf = DType::BF16;
  auto common = [&](const char *routesRole) {
    c.operand(routesRole, {{"1 + 2 Smax + Smax R + 2 R k", routes}}, DType::I32);
  };
  switch (kind) {
  case TaskKind::MoeRouter:
    c.operand("x", {{"R", R}, {"H", H}}, bf);
    c.operand("norm_w", {{"H", H}}, bf);
    c.operand("w", {{"E", E}, {"H", H}}, bf);
    c.operand("positions", {{"R", R}}, DType::I32);
    c.operand("xg", {{"Smax", S}, {"R", R}, {"H", H}}, bf);
    common("routes");
    c.operand("route_weights", {{"R", R}, {"k", K}}, DType::F32);
    c.rangeIs(0, "the router takes every row", 0, d.rows);
    c.rangeIs(1, "the router takes every expert", 0, d.experts);
    break;
  case TaskKind::MoeGateUp:
    c.operand("xg", {{"Smax", S}, {"R", R}, {"H", H}}, bf);
    common("routes");
    c.expertGroup("w_gate", d.experts, {{"I", I}, {"H", H}});
    c.expertGroup("w_up", d.experts, {{"I", I}, {"H", H}});
    c.operand("out", {{"Smax", S}, {"R", R}, {"I", I}}, bf);
    c.rangeIs(0, "a slot's tile takes every row it may hold", 0, d.rows);
    c.oneSlot(d.slots);
    break;
  case TaskKind::MoeDown:
    c.operand("act", {{"Smax", S}, {"R", R}, {"I", I}}, bf);
    common("routes");
    c.expertGroup("w", d.experts, {{"H", H}, {"I", I}});
    c.operand("out", {{"Smax", S}, {"R", R}, {"H", H}}, bf);
    c.rangeIs(0, "a slot's tile takes every row it may hold", 0, d.rows);
    c.oneSlot(d.slots);
    break;
  case TaskKind::MoeCombine:
    c.operand("expert_out", {{"Smax", S}, {"R", R}, {"H", H}}, bf);
    common("routes");
    c.operand("route_weights", {{"R", R}, {"k", K}}, DType::F32);
    if (r.operand[roleIndex(kind, "residual")] != kNoTensor)
      c.operand("residual", {{"R", R}, {"H", H}}, bf);
    c.operand("out", {{"R", R}, {"H", H}}, bf);
    break;
  default:
    break; // not a MoE kind: the caller checks isMoeKind
  }
}

} // namespace mk::isa::detail
