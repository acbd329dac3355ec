//===- task_impls.h - What a host task kind implements (internal) ----------===//
//
// Each kind Foo that MK_TASK_KINDS says the host implements has one header
// megakernel/host/tasks/<foo>.h, included by task_context.cpp, that specializes
//   template <> struct HostTask<isa::TaskKind::Foo> {
//     static void run(const TaskContext &ctx, const isa::TaskRecord &task);
//   };
// run computes the tile and writes exactly the tile. task_context.cpp builds the kernel
// table from the table's executors column: a kind the column gives the host without
// its specialization does not compile (tests/unit/dispatch_coverage). The
// weights a kind prefetches are its footprint, shared with the CUDA kernel
// (mk/isa/task_footprint.h).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/task_context.h"

namespace mk::host::tasks {

/// The host implementation of kind K. Only declared: each kind's header specializes it.
template <isa::TaskKind K> struct HostTask;

} // namespace mk::host::tasks
