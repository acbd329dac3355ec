//===- embedding.h - Gather token embeddings ----------------------------===//
//
//   tokens [R] i32, table [vocab, hidden] bf16 -> out [R, hidden] bf16
//   tile: rows range[0], hidden columns range[1]. out[r, c] = table[tokens[r], c].
// Every row is copied, active or not (positions is not an operand; the runtime gives
// inactive rows a valid token). Token ids are validated by the runtime.
//===----------------------------------------------------------------------===//
#pragma once

#include "tasks/task_impls.h"

#include <algorithm>

namespace mk::host::tasks {

namespace embedding {
constexpr isa::TaskKind kKind = isa::TaskKind::Embedding;
constexpr uint32_t kTokens = role(kKind, "tokens");
constexpr uint32_t kTable = role(kKind, "table");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace embedding

template <> struct HostTask<isa::TaskKind::Embedding> {
  static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

inline void HostTask<isa::TaskKind::Embedding>::run(const TaskContext &ctx,
                                                    const isa::TaskRecord &task) {
  using namespace embedding;
  const int32_t *tokens = ctx.data<const int32_t>(task, kTokens); // [R]
  const TensorRef &tableRef = ctx.tensor(task, kTable);
  const bf16 *table = ctx.data<const bf16>(task, kTable); // [vocab, hidden]
  bf16 *out = ctx.data<bf16>(task, kOut);                 // [R, hidden]
  const int64_t vocab = tableRef.shape[0], hidden = tableRef.shape[1];
  const isa::Range rows = task.range[0], cols = task.range[1];
  assert(ctx.tensor(task, kOut).shape[1] == hidden && cols.end <= hidden);
  (void)vocab; // used by assertions only
  for (uint32_t r = rows.begin; r < rows.end; ++r) {
    const int64_t token = tokens[r];
    assert(token >= 0 && token < vocab && "token id out of range");
    std::copy(table + token * hidden + cols.begin, table + token * hidden + cols.end,
              out + int64_t(r) * hidden + cols.begin);
  }
}

} // namespace mk::host::tasks
