//===- run.cpp - mkrun's run: plan, backend, session, generation -----------===//
#include "run.h"

#include "mpi_launch.h"
#include "options.h"
#include "prompts.h"
#include "ranks.h"

#include "mk/cuda/executor.h"
#include "mk/host/executor.h"
#include "mk/host/huge_pages.h"
#include "mk/host/simd.h"
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"
#include "mk/runtime/safetensors.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <optional>

namespace mk::mkrun {
namespace {

Status createExecutor(const RunOptions &o, const isa::Plan &plan,
                      std::unique_ptr<Executor> &out) {
  if (o.backend == "cuda") {
    cuda::CudaOptions options;
    options.device = o.device;
    options.workers = o.workers;
    options.profile = o.gen.profile;
    options.lookahead = !o.noLookahead;
    if (o.mpi) {
      options.rank = o.mpi->rank;
      options.ranks = o.mpi->ranks;
      options.commId = o.mpi->commId;
      options.agree = o.mpi->agree;
    }
    if (Status s = cuda::createExecutor(plan, options, out); !s)
      return Status::error(o.planPath + ": " + s.message());
    fmt::print(stderr, "mkrun: {}\n", out->describe());
  } else {
    out = std::make_unique<host::HostExecutor>(
        plan, host::ExecutorOptions{.workers = o.workers, .profile = o.gen.profile});
  }
  return Status::ok();
}

/// The text of `generated` as it continues `prompt`: decoded alone, a
/// sentencepiece decoder would strip the first word's space.
std::string continuation(const runtime::Tokenizer &tokenizer,
                         const std::vector<int32_t> &prompt,
                         const std::vector<int32_t> &generated) {
  runtime::Tokenizer::StreamDecoder stream(tokenizer);
  stream.consume(prompt);
  std::string text;
  for (int32_t id : generated)
    text += stream.push(id);
  return text + stream.flush();
}

} // namespace

Status readPlan(const std::string &path, isa::Plan &out) {
  if (Status s = isa::readPlanFile(path, out); !s)
    return s;
  if (Status s = isa::verifyPlan(out); !s)
    return Status::error(path + ": the plan does not verify: " + s.message());
  return Status::ok();
}

Status loadWeights(const RunOptions &o, const runtime::SafetensorsSet &weights,
                   runtime::Session &session, uint32_t ranksHere) {
  // The CUDA executor uploads the weights: a host copy would only cost memory.
  runtime::WeightLoadOptions options{.hugePages = o.backend == "host" && !o.mapWeights};
  // Host ranks copy their slices at once: each may use its share of the memory.
  if (options.hugePages && ranksHere > 1)
    options.availableBytes =
        std::max<uint64_t>(host::availableMemoryBytes() / ranksHere, 1);
  return session.load(weights, options);
}

Status runPlan(const RunOptions &o, const isa::Plan &plan, const Prompts &prompts,
               RunResult &out) {
  if (Status s = checkTensorParallel(o, plan); !s)
    return s;
  runtime::SafetensorsSet weights;
  if (Status s = runtime::SafetensorsSet::open(o.weightsDir, weights); !s)
    return s;
  // Host ranks are threads of this process; under mpirun this process is one rank.
  if (plan.tensorParallel > 1 && !o.mpi)
    return runHostRanks(o, plan, weights, prompts, out);
  std::unique_ptr<Executor> executor;
  if (Status s = createExecutor(o, plan, executor); !s)
    return s;
  runtime::Session session(plan, std::move(executor),
                           o.mpi && o.mpi->ranks > 1 ? o.mpi->comm : nullptr);
  if (Status s = loadWeights(o, weights, session); !s)
    return s;
  return generate(o, prompts, session, /*print=*/!o.mpi || o.mpi->rank == 0, out);
}

Status generate(const RunOptions &o, const Prompts &prompts, runtime::Session &session,
                bool print, RunResult &out) {
  // Stream the single prompt's text as it is generated; print batches at the end.
  const bool stream = print && prompts.ids.size() == 1;
  std::optional<runtime::Tokenizer::StreamDecoder> streamer;
  if (stream) {
    if (prompts.tokenizer) {
      streamer.emplace(*prompts.tokenizer);
      streamer->consume(prompts.ids[0]); // printed as given, just below
      fmt::print("{}", o.promptText.empty() ? o.promptIds : o.promptText);
    } else {
      fmt::print("prompt ids: {}\ngenerated ids:", o.promptIds);
    }
    std::fflush(stdout);
  }
  runtime::TokenCallback onToken = [&](size_t, int32_t token) {
    if (!stream)
      return;
    if (streamer)
      fmt::print("{}", streamer->push(token));
    else
      fmt::print(" {}", token);
    std::fflush(stdout);
  };
  Status s = session.generate(prompts.ids, o.gen, onToken, out.outputs, out.stats,
                              o.gen.profile ? &out.profiles : nullptr);
  if (stream) {
    if (streamer)
      fmt::print("{}", streamer->flush());
    fmt::print("\n");
    std::fflush(stdout); // before the summary on stderr
  }
  if (!s)
    return s;
  if (print && !stream)
    for (size_t i = 0; i < out.outputs.size(); ++i)
      fmt::print("[{}] {}{}\n", i, prompts.texts[i],
                 prompts.tokenizer ? continuation(*prompts.tokenizer, prompts.ids[i],
                                                  out.outputs[i].tokens)
                                   : std::string(" ..."));
  out.workers = session.workers();
  if (o.backend == "host")
    out.simdTarget = host::simd::activeTarget();
  out.weightBytes = session.weightBytes();
  out.hugePageBytes = session.weights().hugePageBytes();
  out.hugePagesNote = session.weights().hugePagesNote();
  return Status::ok();
}

} // namespace mk::mkrun
