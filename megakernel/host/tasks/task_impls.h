//===- task_impls.h - The host kernels of every task kind (internal) -------===//
//
// Each kind `Foo` of MK_TASK_KINDS has one file megakernel/host/tasks/<foo>.cpp that
// defines
//   runFoo(ctx, task)          compute the tile, write exactly the tile
//   spansFoo(ctx, task, out)   the weight ranges the tile streams (prefetch)
// task_context.cpp builds its tables from the same X-macro, so a new kind needs no
// other line on the host side.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/task_context.h"

namespace mk::host::tasks {

#define MK_X(Enum, ...)                                                                  \
  void run##Enum(const TaskContext &ctx, const isa::TaskRecord &task);                   \
  uint32_t spans##Enum(const TaskContext &ctx, const isa::TaskRecord &task,              \
                       WeightSpan *spans);
MK_TASK_KINDS(MK_X)
#undef MK_X

/// Rows [r0, r1) of a tensor (over its first dimension), as a byte span.
inline WeightSpan rowSpan(const TensorRef &t, int64_t r0, int64_t r1) {
  size_t rowBytes = isa::dtypeSize(t.dtype);
  for (uint32_t i = 1; i < t.rank; ++i)
    rowBytes *= static_cast<size_t>(t.shape[i]);
  return {static_cast<const char *>(t.data) + size_t(r0) * rowBytes,
          size_t(r1 - r0) * rowBytes};
}

/// All of a tensor.
inline WeightSpan wholeSpan(const TensorRef &t) {
  return rowSpan(t, 0, t.rank ? t.shape[0] : 0);
}

} // namespace mk::host::tasks
