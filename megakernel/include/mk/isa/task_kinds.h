//===- task_kinds.h - The task-kind table: the one list of what a task can be ===//
//
// Every task kind is listed here once. Adding a kind touches the ISA (this table, the
// kind's weight footprint in task_footprint.h, kIsaVersion in task_record.h), one host
// implementation, one CUDA implementation and one lowering pattern in mk-tile.
//
// Columns: X(Enum, "name", executors, operand roles...)
// `executors` says which executors implement the kind: HostAndCuda, HostOnly or
// CudaOnly. Both executors' dispatches are generated from this column, so a kind an
// executor is said to implement but does not fails to compile there, and a plan using
// a kind an executor does not implement is refused at launch (isa::checkLaunchable).
// Operand roles are positional: TaskRecord::operand[i] holds the tensor id of role i.
// A role spelled "=name" is written by the task (all others are only read); "name?" is
// optional and may be kNoTensor. roleName() strips the marks. Ranges are documented per
// kind:
//   range[0] = rows of the token/batch dimension, range[1] and range[2] as noted.
//
// This header is shared by host code, CUDA code and the compiler: no STL containers, no
// MLIR (std::string_view is used by constexpr host-side helpers only).
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string_view>

// clang-format off
#define MK_TASK_KINDS(X)                                                          \
  /* Gather token embeddings. range[1]: hidden columns.                        */ \
  X(Embedding,   "embedding",   HostAndCuda, "tokens", "table", "=out")           \
  /* RMSNorm prologue, one of the Q/K/V projections (aux[0] = section 0/1/2),  */ \
  /* bias, per-head QK-norm, RoPE; K/V tiles append to the paged KV cache.     */ \
  /* range[1]: heads of that section. block_table: decode steps > 0 derive the */ \
  /* KV slot from it (step_state.h).                                          */ \
  X(Qkv,         "qkv",         HostAndCuda, "x", "norm_w", "w", "bias?",         \
                                "head_norm_w?", "=out", "positions", "kv_slots",  \
                                "block_table")                                    \
  /* Flash-decoding partial over KV positions range[2] for KV head range[1].   */ \
  X(AttnDecode,  "attn_decode", HostAndCuda, "q", "k_cache", "v_cache",           \
                                "block_table", "seq_lens", "=partial_o",          \
                                "=partial_lse")                                   \
  /* Fixed-order merge of the KV-split partials of KV head range[1].           */ \
  X(AttnMerge,   "attn_merge",  HostAndCuda, "partial_o", "partial_lse", "=out")  \
  /* Causal attention of a prefill chunk for KV head range[1].                 */ \
  X(AttnPrefill, "attn_prefill",HostAndCuda, "q", "k_cache", "v_cache",           \
                                "block_table", "positions", "=out")               \
  /* O projection + residual add (none under tensor parallelism: all_reduce  */ \
  /* adds it after the sum). range[1]: output columns.                         */ \
  X(OProj,       "o_proj",      HostAndCuda, "x", "w", "residual?", "=out")       \
  /* RMSNorm prologue, gate and up projections, SiLU(gate) * up.               */ \
  /* range[1]: intermediate columns.                                           */ \
  X(GateUp,      "gate_up",     HostAndCuda, "x", "norm_w", "w_gate", "w_up",     \
                                "=out")                                           \
  /* Down projection + residual add (optional, as o_proj's).                  */ \
  /* range[1]: output columns.                                                 */ \
  X(DownProj,    "down_proj",   HostAndCuda, "x", "w", "residual?", "=out")       \
  /* Final RMSNorm prologue, LM-head logits for vocab range[1], and the tile's */ \
  /* partial argmax. Under tensor parallelism w is the rank's vocabulary slice */ \
  /* and partial_max holds global ids (+ the slice's first id).                */ \
  X(LmHead,      "lm_head",     HostAndCuda, "x", "norm_w", "w", "=logits",       \
                                "=partial_max")                                   \
  /* Fixed-order reduction of the partial argmaxes into the next token.        */ \
  X(Argmax,      "argmax",      HostAndCuda, "partial_max", "=tokens_out")        \
  /* Mixture of experts (one layer: router, expert tiles, combine). Shapes and */ \
  /* the routes layout: moe_routes.h. The router (one task: range[0] = all R   */ \
  /* rows, range[1] = all E experts) norms the active rows (positions >= 0),   */ \
  /* picks each row's top-k experts and writes the compact routes, the rows'   */ \
  /* weights and each selected expert's rows gathered into xg [Smax, R, H].    */ \
  X(MoeRouter,   "moe_router",  HostAndCuda, "x", "norm_w", "w", "positions",     \
                                "=xg", "=routes", "=route_weights")               \
  /* Expert slot range[2] = [s, s+1): SiLU(gate) * up of the slot's rows for   */ \
  /* intermediate columns range[1]. w_gate / w_up name expert 0's tensor;      */ \
  /* expert e's is tensor id + e. A slot past the count does nothing.          */ \
  X(MoeGateUp,   "moe_gate_up", HostAndCuda, "xg", "routes", "w_gate", "w_up",    \
                                "=out")                                           \
  /* Expert slot range[2]: down projection of the slot's rows for hidden       */ \
  /* columns range[1]; w names expert 0's tensor.                              */ \
  X(MoeDown,     "moe_down",    HostAndCuda, "act", "routes", "w", "=out")        \
  /* Weighted sum of each row's experts in a fixed order, + residual          */ \
  /* (optional, as o_proj's). range[1]: hidden columns.                        */ \
  X(MoeCombine,  "moe_combine", HostAndCuda, "expert_out", "routes",              \
                                "route_weights", "residual?", "=out")             \
  /* Tensor parallelism (protocol.h, "Cross-rank communication"). Sum of every */ \
  /* rank's partial [R, H] in rank order, + residual: columns range[1] of comm */ \
  /* site aux[0], tile aux[1] of the site. comm [2, N, R, H] and flags         */ \
  /* [2, F, N] are symmetric buffers (Placement::Comm).                        */ \
  X(AllReduce,   "all_reduce",  HostAndCuda, "partial", "residual?", "comm",      \
                                "flags", "=out")                                  \
  /* Every rank's LM-head partial argmaxes local [R, T, 2] gathered in rank    */ \
  /* order into out [R, N T, 2] (comm [2, N, R, 2 T]); site aux[0].            */ \
  X(AllGather,   "all_gather",  HostAndCuda, "local", "comm", "flags", "=out")
// clang-format on

namespace mk::isa {

enum class TaskKind : uint16_t {
#define MK_X(Enum, ...) Enum,
  MK_TASK_KINDS(MK_X)
#undef MK_X
};

inline constexpr uint32_t kNumTaskKinds = 0
#define MK_X(...) +1
    MK_TASK_KINDS(MK_X)
#undef MK_X
    ;

/// An executor of plans. Values are bits of TaskKindInfo::executors.
enum class Executor : uint8_t { Host = 1, Cuda = 2 };

constexpr const char *executorName(Executor e) {
  return e == Executor::Host ? "host" : "cuda";
}

/// The values of the table's executors column.
namespace executors {
inline constexpr uint8_t HostOnly = uint8_t(Executor::Host);
inline constexpr uint8_t CudaOnly = uint8_t(Executor::Cuda);
inline constexpr uint8_t HostAndCuda = HostOnly | CudaOnly;
} // namespace executors

namespace detail {
template <typename... Roles> constexpr uint32_t countRoles(Roles...) {
  return sizeof...(Roles);
}
} // namespace detail

/// Static facts about one task kind.
struct TaskKindInfo {
  const char *name;
  uint8_t executors; // Executor bits: which executors implement the kind
  uint32_t numOperands;
  const char *const *operandRoles; // numOperands entries
};

namespace detail {
#define MK_X(Enum, Name, Executors, ...)                                                 \
  inline constexpr const char *k##Enum##Roles[] = {__VA_ARGS__};
MK_TASK_KINDS(MK_X)
#undef MK_X
} // namespace detail

inline constexpr TaskKindInfo kTaskKindInfo[] = {
#define MK_X(Enum, Name, Executors, ...)                                                 \
  {Name, executors::Executors, detail::countRoles(__VA_ARGS__), detail::k##Enum##Roles},
    MK_TASK_KINDS(MK_X)
#undef MK_X
};

constexpr const TaskKindInfo &taskKindInfo(TaskKind kind) {
  return kTaskKindInfo[static_cast<uint32_t>(kind)];
}
constexpr const char *taskKindName(TaskKind kind) { return taskKindInfo(kind).name; }

/// Whether `kind` is a tensor-parallel collective (it waits on its peers' pushes).
constexpr bool isCommKind(TaskKind kind) {
  return kind == TaskKind::AllReduce || kind == TaskKind::AllGather;
}
/// The same for a task record's kind field.
constexpr bool isCommKind(uint16_t kind) { return isCommKind(TaskKind(kind)); }

/// Whether `executor` implements `kind` (the table's executors column).
constexpr bool implements(TaskKind kind, Executor executor) {
  return (taskKindInfo(kind).executors & uint8_t(executor)) != 0;
}

constexpr bool roleIsWritten(const char *role) { return role[0] == '='; }
constexpr bool roleIsOptional(const char *role) {
  const char *p = role;
  while (*p)
    ++p;
  return p != role && p[-1] == '?';
}

/// The role's name without its marks: "=out" -> "out", "bias?" -> "bias".
constexpr std::string_view roleName(const char *role) {
  std::string_view s(role);
  if (!s.empty() && s.front() == '=')
    s.remove_prefix(1);
  if (!s.empty() && s.back() == '?')
    s.remove_suffix(1);
  return s;
}

/// Operand index of the role called `name` (marks ignored) in `kind`, or -1.
constexpr int roleIndex(TaskKind kind, std::string_view name) {
  const TaskKindInfo &info = taskKindInfo(kind);
  for (uint32_t i = 0; i < info.numOperands; ++i)
    if (roleName(info.operandRoles[i]) == name)
      return static_cast<int>(i);
  return -1;
}

/// Operand index of role `name` of `kind`, at compile time: a misspelled role fails to
/// compile. (Shared by the host and CUDA task kernels.)
namespace detail {
// Not constexpr, never defined: reaching it in constant evaluation is the compile error
// (no throw: the compiler's code builds without exceptions).
void theKindHasNoOperandRoleOfThatName();
} // namespace detail
consteval uint32_t role(TaskKind kind, std::string_view name) {
  const int index = roleIndex(kind, name);
  if (index < 0)
    detail::theKindHasNoOperandRoleOfThatName();
  return static_cast<uint32_t>(index);
}

/// Section of a Qkv task (TaskRecord::aux[0]).
enum class QkvSection : uint32_t { Q = 0, K = 1, V = 2 };

} // namespace mk::isa
