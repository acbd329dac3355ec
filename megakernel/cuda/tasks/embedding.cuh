//===- embedding.cuh - Gather token embeddings ----------------------------===//
//
//   tokens [R] i32, table [vocab, hidden] bf16 -> out [R, hidden] bf16
//   tile: rows range[0], hidden columns range[1]. out[r, c] = table[tokens[r], c].
//
// The function of host/tasks/embedding.h: every row is copied, active or not (the
// runtime gives inactive rows a valid token). Each row's columns split into a 16-byte
// aligned body [c1, c2), copied 8 columns per thread, and scalar edges [c0, c1) and
// [c2, c3); the body is empty unless hidden % 8 == 0 and both bases are 16-byte aligned.
//===----------------------------------------------------------------------===//
#pragma once

#include "task_context.cuh"

namespace mk::cuda::tasks {

namespace embedding {
constexpr isa::TaskKind kKind = isa::TaskKind::Embedding;
constexpr uint32_t kTokens = role(kKind, "tokens");
constexpr uint32_t kTable = role(kKind, "table");
constexpr uint32_t kOut = role(kKind, "out");
} // namespace embedding

template <> struct CudaTask<isa::TaskKind::Embedding> {
  static constexpr Engine kEngine = Engine::Own;
  __device__ static void run(const TaskContext &ctx, const isa::TaskRecord &task);
};

__device__ inline void
CudaTask<isa::TaskKind::Embedding>::run(const TaskContext &ctx,
                                        const isa::TaskRecord &task) {
  using namespace embedding;
  const int32_t *tokens = ctx.data<const int32_t>(task, kTokens); // [R]
  const bf16 *table = ctx.data<const bf16>(task, kTable);         // [vocab, hidden]
  bf16 *out = ctx.data<bf16>(task, kOut);                         // [R, hidden]
  const int64_t hidden = ctx.tensor(task, kTable).shape[1];
  const uint32_t r0 = task.range[0].begin, rows = task.range[0].end - r0;
  const uint32_t c0 = task.range[1].begin, c3 = task.range[1].end;

  const bool vector = hidden % 8 == 0 && (reinterpret_cast<uintptr_t>(table) & 15) == 0 &&
                      (reinterpret_cast<uintptr_t>(out) & 15) == 0;
  const uint32_t c1 = vector ? min((c0 + 7) / 8 * 8, c3) : c3;
  const uint32_t c2 = vector ? max(c1, c3 / 8 * 8) : c3;
  const uint32_t chunks = (c2 - c1) / 8, head = c1 - c0, edges = head + (c3 - c2);

  for (uint32_t e = threadIdx.x; e < rows * chunks; e += kThreads) {
    const uint32_t r = r0 + e / chunks, c = c1 + (e % chunks) * 8;
    store8(out + r * hidden + c, load8(table + tokens[r] * hidden + c));
  }
  for (uint32_t e = threadIdx.x; e < rows * edges; e += kThreads) {
    const uint32_t r = r0 + e / edges, k = e % edges;
    const uint32_t c = k < head ? c0 + k : c2 + (k - head);
    out[r * hidden + c] = table[tokens[r] * hidden + c];
  }
}

} // namespace mk::cuda::tasks
