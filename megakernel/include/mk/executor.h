//===- executor.h - What the runtime needs of an executor (host or CUDA) -----===//
//
// The runtime drives either executor through this interface. Both run the same plan
// through the same protocol (mk/isa/protocol.h); the host executor is the reference.
//
// Memory: the caller owns host memory for weights, KV caches and step state and binds
// it by tensor id. The host executor computes in that memory. The CUDA executor copies
// weights and KV caches to the device once at bind, and mirrors step state: uploaded
// before every launch, downloaded after it (tokens also while it runs, see StepHook).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/status.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mk {

/// One executed task (times in nanoseconds since the launch started).
struct ProfileRecord {
  uint32_t task;
  uint32_t worker;
  uint64_t step;
  uint64_t claimNs, readyNs, doneNs;
  int32_t expert = -1; // the expert a moe_gate_up / moe_down tile served; -1: none
  /// Weight bytes the task streamed (its footprint and late rows, as the launch's
  /// weight-byte count adds them); 0 where the executor does not count per task (cuda).
  uint64_t weightBytes = 0;
};

/// Called once per step with the step index after the step's argmax wrote its tokens.
/// With a live hook (Executor::liveStepHook) it runs before the argmax signals, so
/// nothing of step s + 1 starts until it returns: the host may read the logits of step
/// s and overwrite the step-state tokens (to sample instead of taking the argmax).
/// Otherwise the step-state tokens of step s are valid when it runs (read from the
/// device's token ring while the launch goes on), and it must only read them.
using StepHook = std::function<void(uint64_t step)>;

/// The rows of a program (its R rows: decode's batch, prefill's chunk) whose results
/// the caller of a launch reads: the outputs of rows [0, end), and the LM head's
/// (logits, partial argmaxes, tokens_out) of rows [logitsBegin, logitsEnd) only. Every
/// row at or past `end` must be inactive (position -1); the logits rows are clipped to
/// [0, end). An executor may compute more rows than asked (the CUDA executor computes
/// all R); a row it computes has the same bits either way: rows meet only through the
/// KV cache (a row attends earlier positions, whose rows lie below it) and the MoE
/// routes (inactive rows take no part). Under tensor parallelism every rank must pass
/// the same rows.
struct LaunchRows {
  static constexpr uint32_t kAll = UINT32_MAX;
  uint32_t end = kAll;
  uint32_t logitsBegin = 0, logitsEnd = kAll;
};

class Executor {
public:
  virtual ~Executor() = default;

  /// "host" or "cuda".
  virtual const char *backend() const = 0;
  /// Workers (threads or CTAs) a launch runs.
  virtual unsigned workers() const = 0;
  /// One line on what runs the plan (CPU threads, or the GPU's name and SMs).
  virtual std::string describe() const = 0;

  /// Binds a weight, KV-cache or step-state tensor to caller-owned host memory of the
  /// tensor's dtype and shape.
  virtual Status bind(uint16_t tensor, void *data) = 0;
  /// Runs `steps` steps of program `program` in one launch, computing at least
  /// `rows` (LaunchRows).
  virtual Status launch(uint32_t program, uint64_t steps,
                        std::vector<ProfileRecord> *profile = nullptr,
                        const StepHook &onStep = nullptr,
                        const LaunchRows &rows = {}) = 0;
  /// Host-readable contents of a tensor as of the end of the last launch (host: the
  /// memory itself; CUDA: a copy made by this call). nullptr for an unknown id.
  virtual const void *read(uint16_t tensor) = 0;
  /// Whether the step hook runs inside the step (may read logits, rewrite tokens).
  virtual bool liveStepHook() const = 0;
  /// Weight bytes the tasks of the last launch streamed, over all its steps: each
  /// task's static footprint and the late spans its events decided (the embedding's
  /// table rows, the selected experts' rows; mk/isa/task_footprint.h). nullopt when
  /// the executor does not count them.
  virtual std::optional<uint64_t> lastLaunchWeightBytes() const = 0;
};

} // namespace mk
