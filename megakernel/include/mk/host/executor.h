//===- executor.h - The host megakernel: a plan on CPU threads ----------------===//
//
// Worker threads play the SMs and run mk/isa/protocol.h exactly as the CUDA kernel
// does: claim a ticket, count the task's weight bytes (the prefetch step: the host
// leaves the streaming to the hardware prefetchers, task_context.h), wait on its
// events, count the weights the wait decided (a MoE tile's expert), run it, signal.
// Outputs are bitwise identical for any worker count (every reduction is inside one task,
// in a fixed order; no float atomics).
//
// The caller binds weights, KV caches and step state (TensorRefs by tensor id); the
// executor owns each program's activation arena and its comm buffers. A watchdog turns
// a hang into an error that names the task, the event and the counts (or the peer rank
// a comm task waits for).
//
// Tensor parallelism: one executor per rank, each constructed with the rank and the
// group (mk/host/comm_group.h); the caller binds each rank's weight slices.
//
// Threads: the workers are started by the first launch and live as long as the
// executor; each launch hands them its job. Between launches a worker polls for the
// next one for a few tens of microseconds (back-to-back launches, such as a session's,
// start without a wake-up), then sleeps on a condition variable: an idle executor
// costs no CPU.
//
// Rows: a launch runs each task over the rows LaunchRows asks for, by clipping the
// task's row range (range[0]) when it claims it (the plan is not changed); a task left
// without rows is not run, streams no weights, and still signals. Comm tasks always
// run: their peers wait for their flags.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/executor.h"
#include "mk/host/comm_group.h"
#include "mk/host/task_context.h"
#include "mk/isa/plan.h"
#include "mk/isa/status.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <vector>

namespace mk::host {

struct ExecutorOptions {
  unsigned workers = 0;         // 0: std::thread::hardware_concurrency()
  uint64_t watchdogMs = 10'000; // no event progress for this long = a hang
  bool profile = false;         // record one ProfileRecord per executed task
};

using mk::ProfileRecord;
/// Called once per step with the step index, on the worker that ran the step's argmax,
/// after that task wrote its tokens and before it signals. Nothing of step s + 1 can
/// start until it returns (step s+1's embedding waits on the argmax's signal), so the
/// host may read the tokens and logits of step s and may overwrite the tokens (to
/// sample instead of taking the argmax). It must not touch anything else.
using mk::StepHook;

class HostExecutor final : public Executor {
public:
  /// `plan` must outlive the executor and should have passed isa::verifyPlan. A
  /// tensor-parallel plan's rank `rank` of `group` (both outlive the executor); a plan
  /// of one rank needs neither.
  HostExecutor(const isa::Plan &plan, ExecutorOptions options, uint32_t rank = 0,
               HostCommGroup *group = nullptr);
  ~HostExecutor() override;

  const char *backend() const override { return "host"; }
  unsigned workers() const override { return workers_; }
  std::string describe() const override;
  bool liveStepHook() const override { return true; }
  const void *read(uint16_t tensor) override {
    return tensor < refs_.size() ? refs_[tensor].data : nullptr;
  }
  /// Counted per worker at the protocol's two prefetch steps, summed after the
  /// launch: what the tasks' footprints name, whatever the cache already held.
  std::optional<uint64_t> lastLaunchWeightBytes() const override {
    return lastWeightBytes_;
  }

  /// Binds a weight, KV-cache or step-state tensor to caller-owned memory of the
  /// tensor's dtype and shape. Activations and comm buffers are bound by the executor.
  Status bind(uint16_t tensor, void *data) override;
  /// The memory of a tensor (activations point into the program's arena).
  const TensorRef &tensor(uint16_t id) const { return refs_[id]; }

  /// Runs `steps` steps of program `program` in one launch, over the rows `rows` asks
  /// for. Returns an error instead of hanging (watchdog), when a tensor the program
  /// uses is unbound, and when a row past rows.end is active. Under tensor parallelism
  /// every rank must make the same launches.
  Status launch(uint32_t program, uint64_t steps,
                std::vector<ProfileRecord> *profile = nullptr,
                const StepHook &onStep = nullptr, const LaunchRows &rows = {}) override;

private:
  struct Worker;
  class Pool;
  struct RowLimits;
  Status checkLaunchable(uint32_t program) const;
  Status rowLimits(uint32_t program, const LaunchRows &rows, RowLimits &limits) const;

  const isa::Plan &plan_;
  ExecutorOptions options_;
  unsigned workers_;
  uint32_t rank_ = 0;
  HostCommGroup *group_ = nullptr;
  Status setup_; // an error the constructor found (reported by every launch)
  std::vector<TensorRef> refs_;
  std::vector<uint32_t> commSites_; // per program: comm sites per step
  std::vector<uint64_t> commBase_;  // per program: epochs used by past launches
  std::vector<uint16_t> positions_; // per program: its positions tensor, or kNoTensor
  std::vector<std::vector<uint32_t>> orders_; // per program: laneOrder(workers_)
  std::unique_ptr<Pool> pool_;
  uint64_t lastWeightBytes_ = 0;
  /// Frees what `new (std::align_val_t(64)) uint8_t[n]` allocated (the default
  /// deleter would call the unaligned operator delete[]).
  struct AlignedDelete {
    void operator()(uint8_t *p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::vector<std::unique_ptr<uint8_t[], AlignedDelete>> arenas_; // per program
  std::vector<std::unique_ptr<uint8_t[], AlignedDelete>> commBuffers_;
};

} // namespace mk::host
