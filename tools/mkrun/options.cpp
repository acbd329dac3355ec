//===- options.cpp - mkrun's flags (CLI11) and their defaults --------------===//
#include "options.h"

#include "mk/cuda/executor.h"
#include "mk/host/simd.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace mk::mkrun {
namespace {

/// The demo model and its plan, next to the executable (build/share/mk/demo).
std::optional<fs::path> demoDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path().parent_path() / "share" / "mk" / "demo";
    if (fs::exists(dir / "demo-host.mkp") && fs::exists(dir / "config.json"))
      return dir;
  }
  return std::nullopt;
}

} // namespace

std::optional<int> parseOptions(int argc, char **argv, RunOptions &o) {
  CLI::App app{"mkrun: run an mk plan with a model's safetensors weights and generate "
               "text. With no arguments, runs the bundled demo model (a small Llama "
               "trained on the King James Bible) on the default prompt, sampling with "
               "temperature 0.6, top-p 0.9 and the --seed (pass --greedy for greedy)."};
  o.gen.maxNewTokens = 0; // 0 until resolved (demo default differs)
  app.add_option("plan", o.planPath,
                 "Plan file from `mkc compile` (default: the demo's)");
  app.add_option("--weights,-w", o.weightsDir,
                 "Model directory with *.safetensors (and tokenizer.json for --prompt)");
  auto *prompt =
      app.add_option("--prompt,-p", o.promptText, "Prompt text (needs tokenizer.json)");
  auto *ids = app.add_option("--prompt-ids", o.promptIds, "Prompt as token ids: 1,2,3");
  auto *file = app.add_option("--prompts-file", o.promptsFile,
                              "File with one prompt per line, decoded together in the "
                              "decode batch (continuous batching)");
  prompt->excludes(ids)->excludes(file);
  ids->excludes(file);
  auto *maxNew = app.add_option("--max-new-tokens,-n", o.gen.maxNewTokens,
                                "Tokens to generate per prompt (default 64; demo 200)");
  app.add_flag("--ignore-eos", o.gen.ignoreEos,
               "Keep generating after an end-of-sequence token");
  auto *g = app.add_flag("--greedy", o.greedy, "Greedy decoding (the default)");
  auto *t = app.add_option("--temperature", o.temperature, "Sampling temperature (> 0)");
  auto *k = app.add_option("--top-k", o.topK,
                           "Sample among the K most likely tokens (0 = all)");
  auto *pp =
      app.add_option("--top-p", o.topP, "Sample from the smallest set with this mass");
  app.add_option("--seed", o.seed, "Sampling seed (same seed, same tokens)")
      ->capture_default_str();
  g->excludes(t)->excludes(k)->excludes(pp);
  app.add_flag("--no-bos", o.noBos,
               "Do not prepend the tokenizer's BOS token to --prompt");
  app.add_option("--workers", o.workers,
                 "Workers: host threads (default: hardware threads; with several "
                 "ranks, per rank: the hardware threads shared among them) or CUDA CTAs "
                 "(default: one per SM)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--tp", o.tp,
                 "Tensor-parallel ranks. The plan knows them (`mkc compile --tp N`): "
                 "given, it must equal the plan's (default: the plan's). On --backend "
                 "host the ranks are thread groups of this process, each with its "
                 "--workers, its weight slices and its KV cache; rank 0 prints")
      ->check(CLI::Range(1u, isa::kMaxTensorParallel));
  app.add_option("--steps-per-launch", o.gen.stepsPerLaunch,
                 "Decode steps per executor launch")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--backend", o.backend,
                 "Executor: host (CPU threads) or cuda (the persistent GPU megakernel; "
                 "needs a plan compiled for --target a100, h100 or h200)")
      ->capture_default_str()
      ->check(CLI::IsMember({"host", "cuda"}));
  app.add_option("--device", o.device,
                 "CUDA device index for --backend cuda (under mpirun: the first of the "
                 "node's ranks, which take consecutive devices)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--no-lookahead", o.noLookahead,
               "--backend cuda: a worker CTA claims its next task only when the current "
               "one is done, instead of claiming it early and staging its weights while "
               "the current task waits and runs");
  app.add_option("--simd-target", o.simdTarget,
                 "--backend host: run the host kernels on this SIMD target (" +
                     host::simd::compiledTargetNames() +
                     "; default: the best this CPU supports). Results are bitwise the "
                     "same on every target; speed is not");
  app.add_flag("--map-weights", o.mapWeights,
               "--backend host: read the weights in place from the safetensors files' "
               "read-only mapping (no copy: no memory beyond the page cache, which "
               "processes share) instead of copying them into 2 MiB transparent huge "
               "pages, which the kernels stream faster (the default where the system "
               "enables them)");
  app.add_option("--profile", o.profilePath,
                 "Write a Chrome-trace / Perfetto JSON of every task");
  app.add_option("--stats-json", o.statsPath,
                 "Write timings: prefill_ms, decode_ms_per_token, tokens, weights_bytes, "
                 "weights_huge_page_bytes (of those, copied into 2 MiB pages), "
                 "decode_weight_bytes_per_step (weight bytes a decode step read; with "
                 "several ranks, rank 0's), tensor_parallel, ...");
  app.add_option("--dump-logits", o.logitsPath,
                 "Write a float32 .npy [generated tokens, vocab]: row i holds the logits "
                 "generated token i was chosen from (one prompt only)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
      return app.exit(e); // --help
    // Usage errors: one line and exit 1, like every other mkrun error.
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    fmt::print(stderr, "mkrun: error: {} (see `mkrun --help`)\n", what);
    return 1;
  }
  o.samplingGiven = t->count() || k->count() || pp->count();
  o.maxNewTokensGiven = maxNew->count() > 0;
  return std::nullopt;
}

Status resolveOptions(RunOptions &o) {
  int deviceSm = 0;
  if (o.backend == "cuda")
    if (Status s = cuda::probeDevice(o.device, nullptr, &deviceSm); !s)
      return s;
  runtime::GenerateOptions &gen = o.gen;
  gen.sampling.greedy = !o.samplingGiven;
  gen.sampling.temperature = o.temperature;
  gen.sampling.topK = o.topK;
  gen.sampling.topP = o.topP;
  gen.sampling.seed = o.seed;
  gen.keepLogits = !o.logitsPath.empty();
  gen.profile = !o.profilePath.empty();

  if (o.planPath.empty()) {
    std::optional<fs::path> dir = demoDir();
    if (!dir)
      return Status::error(
          "no plan given and no bundled demo next to this executable "
          "(share/mk/demo/demo-host.mkp); build the default preset, or pass PLAN "
          "--weights DIR");
    // The demo ships a plan per target; a GPU gets the one of its architecture.
    const char *demoPlan = o.backend == "cuda"
                               ? (deviceSm >= 90 ? "demo-h100.mkp" : "demo-a100.mkp")
                               : "demo-host.mkp";
    o.planPath = (*dir / demoPlan).string();
    if (o.weightsDir.empty())
      o.weightsDir = dir->string();
    if (o.promptText.empty() && o.promptIds.empty() && o.promptsFile.empty())
      o.promptText = "In the beginning God created";
    if (gen.maxNewTokens == 0)
      gen.maxNewTokens = 200;
    // The demo model is small: greedy decoding soon loops on a phrase, while seeded
    // sampling reads like the KJV. --greedy or any sampling flag overrides this.
    if (!o.greedy && gen.sampling.greedy) {
      gen.sampling = {
          .greedy = false, .temperature = 0.6f, .topK = 0, .topP = 0.9f, .seed = o.seed};
    }
  }
  if (gen.maxNewTokens == 0 && !o.maxNewTokensGiven)
    gen.maxNewTokens = 64;
  if (o.weightsDir.empty())
    return Status::error("--weights DIR is required with a plan");
  if (o.noLookahead && o.backend != "cuda")
    return Status::error("--no-lookahead applies to --backend cuda only");
  if (o.mapWeights && o.backend != "host")
    return Status::error("--map-weights applies to --backend host only");
  if (!o.simdTarget.empty()) {
    if (o.backend != "host")
      return Status::error("--simd-target applies to --backend host only");
    if (Status s = host::simd::forceTarget(o.simdTarget); !s)
      return Status::error("--simd-target: " + s.message());
  }
  return Status::ok();
}

} // namespace mk::mkrun
