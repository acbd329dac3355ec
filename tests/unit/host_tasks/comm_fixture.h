//===- comm_fixture.h - N ranks' comm tasks on threads, for kernel tests ----===//
//
// One TaskBench per rank with the same tensors in the same order (so the same ids),
// contexts that see every rank's table as peers, and a run that executes each rank's
// tasks on its own thread (the exchange blocks until every rank pushed).
//===----------------------------------------------------------------------===//
#pragma once

#include "task_bench.h"

#include <memory>
#include <thread>
#include <vector>

namespace mk::host::test {

/// The comm and flags tensors of an all_reduce over [rows, hidden] and an all_gather
/// of `tiles` LM-head partials, and the tensors the tasks read and write.
struct CommRanks {
  uint32_t ranks, rows, hidden, tiles, tileSlots;
  std::vector<std::unique_ptr<TaskBench>> bench;
  std::vector<const TensorRef *> tables;
  uint16_t partial, residual, out, reduceComm, local, gathered, gatherComm, flags;

  CommRanks(uint32_t ranks, uint32_t rows, uint32_t hidden, uint32_t tiles,
            uint32_t tileSlots)
      : ranks(ranks), rows(rows), hidden(hidden), tiles(tiles), tileSlots(tileSlots) {
    for (uint32_t r = 0; r < ranks; ++r) {
      isa::ModelMeta m = testModel(4, 4, 16, hidden);
      bench.push_back(std::make_unique<TaskBench>(m, isa::ProgramKind::Decode, 77 + r));
      TaskBench &b = *bench.back();
      partial = b.randomBf16({rows, hidden}, 3.0f);
      residual = b.randomBf16({rows, hidden}, 3.0f);
      out = b.add(isa::DType::BF16, {rows, hidden});
      reduceComm = b.add(isa::DType::BF16, {2, ranks, rows, hidden});
      local = b.add(isa::DType::F32, {rows, tiles, 2});
      gathered = b.add(isa::DType::F32, {rows, ranks * tiles, 2});
      gatherComm = b.add(isa::DType::F32, {2, ranks, rows, 2 * tiles});
      flags = b.add(isa::DType::I32, {2, tileSlots, ranks});
      tables.push_back(&b.ref(0));
    }
  }

  TaskContext context(uint32_t rank, uint64_t step, uint64_t commBase,
                      uint32_t sites) const {
    TaskContext ctx = bench[rank]->context(step);
    ctx.comm.rank = rank;
    ctx.comm.ranks = ranks;
    ctx.comm.peers = tables.data();
    ctx.comm.commBase = commBase;
    ctx.comm.commSites = sites;
    return ctx;
  }

  isa::TaskRecord reduceTask(isa::Range cols, uint32_t site, uint32_t tile,
                             bool withResidual = true) const {
    return makeTask(
        isa::TaskKind::AllReduce,
        {partial, withResidual ? residual : isa::kNoTensor, reduceComm, flags, out},
        {0, rows}, cols, {0, 0}, site, tile);
  }
  isa::TaskRecord gatherTask(uint32_t site) const {
    return makeTask(isa::TaskKind::AllGather, {local, gatherComm, flags, gathered},
                    {0, rows}, {0, tiles}, {0, 0}, site, 0);
  }

  /// Runs `tasks` on every rank, rank r's on its own thread, at `step`.
  void run(const std::vector<isa::TaskRecord> &tasks, uint64_t step, uint64_t commBase,
           uint32_t sites) const {
    std::vector<std::thread> threads;
    for (uint32_t r = 0; r < ranks; ++r)
      threads.emplace_back([&, r] {
        const TaskContext ctx = context(r, step, commBase, sites);
        for (const isa::TaskRecord &t : tasks)
          runTask(ctx, t);
      });
    for (std::thread &t : threads)
      t.join();
  }
};

} // namespace mk::host::test
