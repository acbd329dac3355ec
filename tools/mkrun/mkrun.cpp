//===- mkrun.cpp - Run a plan: generate text from a model ----------------------===//
//
//   mkrun                                   the bundled demo model, default prompt
//   mkrun PLAN --weights DIR --prompt "text" [--max-new-tokens N] ...
#include "mk/cuda/executor.h"
#include "mk/host/executor.h"
#include "mk/host/simd.h"
#include "mk/isa/plan_file.h"
#include "mk/isa/plan_verify.h"
#include "mk/runtime/npy.h"
#include "mk/runtime/profile_dump.h"
#include "mk/runtime/run_stats.h"
#include "mk/runtime/safetensors.h"
#include "mk/runtime/session.h"
#include "mk/runtime/tokenizer.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace mk;

namespace {

int fail(const std::string &message) {
  fmt::print(stderr, "mkrun: error: {}\n", message);
  return 1;
}

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

bool parseIds(const std::string &text, std::vector<int32_t> &ids, std::string &error) {
  ids.clear();
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char *end = nullptr;
    errno = 0;
    long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno || v < INT32_MIN || v > INT32_MAX) {
      error = "--prompt-ids: '" + item + "' is not a token id (expected e.g. 1,2,3)";
      return false;
    }
    ids.push_back(int32_t(v));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mkrun: run an mk plan with a model's safetensors weights and generate "
               "text. With no arguments, runs the bundled demo model (a small Llama "
               "trained on the King James Bible) on the default prompt, sampling with "
               "temperature 0.6, top-p 0.9 and the --seed (pass --greedy for greedy)."};
  std::string planPath, weightsDir, promptText, promptIds, promptsFile, backend = "host";
  std::string profilePath, statsPath, logitsPath, simdTarget;
  runtime::GenerateOptions gen;
  gen.maxNewTokens = 0; // 0 until resolved (demo default differs)
  unsigned workers = 0;
  int device = 0;
  bool greedy = false, noBos = false, noLookahead = false;
  float temperature = 1.0f, topP = 1.0f;
  int topK = 0;
  uint64_t seed = 0;
  app.add_option("plan", planPath, "Plan file from `mkc compile` (default: the demo's)");
  app.add_option("--weights,-w", weightsDir,
                 "Model directory with *.safetensors (and tokenizer.json for --prompt)");
  auto *prompt =
      app.add_option("--prompt,-p", promptText, "Prompt text (needs tokenizer.json)");
  auto *ids = app.add_option("--prompt-ids", promptIds, "Prompt as token ids: 1,2,3");
  auto *file = app.add_option("--prompts-file", promptsFile,
                              "File with one prompt per line, decoded together in the "
                              "decode batch (continuous batching)");
  prompt->excludes(ids)->excludes(file);
  ids->excludes(file);
  app.add_option("--max-new-tokens,-n", gen.maxNewTokens,
                 "Tokens to generate per prompt (default 64; demo 200)");
  app.add_flag("--ignore-eos", gen.ignoreEos,
               "Keep generating after an end-of-sequence token");
  auto *g = app.add_flag("--greedy", greedy, "Greedy decoding (the default)");
  auto *t = app.add_option("--temperature", temperature, "Sampling temperature (> 0)");
  auto *k =
      app.add_option("--top-k", topK, "Sample among the K most likely tokens (0 = all)");
  auto *pp =
      app.add_option("--top-p", topP, "Sample from the smallest set with this mass");
  app.add_option("--seed", seed, "Sampling seed (same seed, same tokens)")
      ->capture_default_str();
  g->excludes(t)->excludes(k)->excludes(pp);
  app.add_flag("--no-bos", noBos, "Do not prepend the tokenizer's BOS token to --prompt");
  app.add_option("--workers", workers,
                 "Workers: host threads (default: hardware threads) or CUDA CTAs "
                 "(default: one per SM)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--steps-per-launch", gen.stepsPerLaunch,
                 "Decode steps per executor launch")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--backend", backend,
                 "Executor: host (CPU threads) or cuda (the persistent GPU megakernel; "
                 "needs a plan compiled for --target a100, h100 or h200)")
      ->capture_default_str()
      ->check(CLI::IsMember({"host", "cuda"}));
  app.add_option("--device", device, "CUDA device index for --backend cuda")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--no-lookahead", noLookahead,
               "--backend cuda: a worker CTA claims its next task only when the current "
               "one is done, instead of claiming it early and staging its weights while "
               "the current task waits and runs");
  app.add_option("--simd-target", simdTarget,
                 "--backend host: run the host kernels on this SIMD target (" +
                     host::simd::compiledTargetNames() +
                     "; default: the best this CPU supports). Results are bitwise the "
                     "same on every target; speed is not");
  app.add_option("--profile", profilePath,
                 "Write a Chrome-trace / Perfetto JSON of every task");
  app.add_option(
      "--stats-json", statsPath,
      "Write timings: prefill_ms, decode_ms_per_token, tokens, weights_bytes, ...");
  app.add_option("--dump-logits", logitsPath,
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
    return fail(what + " (see `mkrun --help`)");
  }

  // The device is checked first: without a driver or a GPU nothing else matters.
  int deviceSm = 0;
  if (backend == "cuda")
    if (Status s = cuda::probeDevice(device, nullptr, &deviceSm); !s)
      return fail(s.message());
  gen.sampling.greedy = !(t->count() || k->count() || pp->count());
  gen.sampling.temperature = temperature;
  gen.sampling.topK = topK;
  gen.sampling.topP = topP;
  gen.sampling.seed = seed;
  gen.keepLogits = !logitsPath.empty();
  gen.profile = !profilePath.empty();

  bool demo = planPath.empty();
  if (demo) {
    std::optional<fs::path> dir = demoDir();
    if (!dir)
      return fail("no plan given and no bundled demo next to this executable "
                  "(share/mk/demo/demo-host.mkp); build the default preset, or pass PLAN "
                  "--weights DIR");
    // The demo ships a plan per target; a GPU gets the one of its architecture.
    const char *demoPlan = backend == "cuda"
                               ? (deviceSm >= 90 ? "demo-h100.mkp" : "demo-a100.mkp")
                               : "demo-host.mkp";
    planPath = (*dir / demoPlan).string();
    if (weightsDir.empty())
      weightsDir = dir->string();
    if (promptText.empty() && promptIds.empty() && promptsFile.empty())
      promptText = "In the beginning God created";
    if (gen.maxNewTokens == 0)
      gen.maxNewTokens = 200;
    // The demo model is small: greedy decoding soon loops on a phrase, while seeded
    // sampling reads like the KJV. --greedy or any sampling flag overrides this.
    if (!greedy && gen.sampling.greedy) {
      gen.sampling = {
          .greedy = false, .temperature = 0.6f, .topK = 0, .topP = 0.9f, .seed = seed};
    }
  }
  if (gen.maxNewTokens == 0 && !app.get_option("--max-new-tokens")->count())
    gen.maxNewTokens = 64;
  if (weightsDir.empty())
    return fail("--weights DIR is required with a plan");
  if (noLookahead && backend != "cuda")
    return fail("--no-lookahead applies to --backend cuda only");
  if (!simdTarget.empty()) {
    if (backend != "host")
      return fail("--simd-target applies to --backend host only");
    if (Status s = host::simd::forceTarget(simdTarget); !s)
      return fail("--simd-target: " + s.message());
  }

  isa::Plan plan;
  if (Status s = isa::readPlanFile(planPath, plan); !s)
    return fail(s.message());
  if (Status s = isa::verifyPlan(plan); !s)
    return fail(planPath + ": the plan does not verify: " + s.message());

  // Prompts: text (tokenized) or ids.
  std::optional<runtime::Tokenizer> tokenizer;
  {
    runtime::Tokenizer tok;
    fs::path tj = fs::path(weightsDir) / "tokenizer.json";
    if (fs::exists(tj)) {
      if (Status s = runtime::Tokenizer::load(tj.string(), tok); !s)
        return fail(s.message());
      tokenizer = std::move(tok);
    }
  }
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::string> promptTexts;
  auto encode = [&](const std::string &text) -> Status {
    if (!tokenizer)
      return Status::error(weightsDir + ": no tokenizer.json; use --prompt-ids");
    std::vector<int32_t> out;
    if (Status s = tokenizer->encode(text, out, !noBos); !s)
      return s;
    prompts.push_back(std::move(out));
    promptTexts.push_back(text);
    return Status::ok();
  };
  if (!promptIds.empty()) {
    std::vector<int32_t> out;
    std::string error;
    if (!parseIds(promptIds, out, error))
      return fail(error);
    prompts.push_back(std::move(out));
    promptTexts.push_back(promptIds);
  } else if (!promptsFile.empty()) {
    std::ifstream in(promptsFile);
    if (!in)
      return fail(promptsFile + ": cannot open");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty())
        if (Status s = encode(line); !s)
          return fail(promptsFile + ": " + s.message());
    if (prompts.empty())
      return fail(promptsFile + ": no prompts (one per line)");
  } else if (!promptText.empty()) {
    if (Status s = encode(promptText); !s)
      return fail(s.message());
  } else {
    return fail(
        "give a prompt: --prompt TEXT, --prompt-ids 1,2,3 or --prompts-file FILE");
  }
  if (!logitsPath.empty() && prompts.size() != 1)
    return fail("--dump-logits needs exactly one prompt");

  runtime::SafetensorsSet weights;
  if (Status s = runtime::SafetensorsSet::open(weightsDir, weights); !s)
    return fail(s.message());
  std::unique_ptr<Executor> executor;
  if (backend == "cuda") {
    cuda::CudaOptions options;
    options.device = device;
    options.workers = workers;
    options.profile = gen.profile;
    options.lookahead = !noLookahead;
    if (Status s = cuda::createExecutor(plan, options, executor); !s)
      return fail(planPath + ": " + s.message());
    fmt::print(stderr, "mkrun: {}\n", executor->describe());
  } else {
    executor = std::make_unique<host::HostExecutor>(
        plan, host::ExecutorOptions{.workers = workers, .profile = gen.profile});
  }
  runtime::Session session(plan, std::move(executor));
  if (Status s = session.load(weights); !s)
    return fail(s.message());

  // Stream the single prompt's text as it is generated; print batches at the end.
  const bool stream = prompts.size() == 1;
  std::optional<runtime::Tokenizer::StreamDecoder> streamer;
  if (stream) {
    if (tokenizer) {
      streamer.emplace(*tokenizer);
      fmt::print("{}", promptText.empty() ? promptIds : promptText);
    } else {
      fmt::print("prompt ids: {}\ngenerated ids:", promptIds);
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
  std::vector<runtime::SequenceOutput> outputs;
  runtime::GenerateStats stats;
  std::vector<runtime::LaunchProfile> profiles;
  Status s = session.generate(prompts, gen, onToken, outputs, stats,
                              gen.profile ? &profiles : nullptr);
  if (stream) {
    if (streamer)
      fmt::print("{}", streamer->flush());
    fmt::print("\n");
    std::fflush(stdout); // before the summary on stderr
  }
  if (!s)
    return fail(s.message());
  if (!stream)
    for (size_t i = 0; i < outputs.size(); ++i)
      fmt::print("[{}] {}{}\n", i, promptTexts[i],
                 tokenizer ? tokenizer->decode(outputs[i].tokens) : std::string(" ..."));

  uint64_t tokens = 0;
  for (const auto &o : outputs)
    tokens += o.tokens.size();
  const double msPerStep = stats.decodeSteps ? stats.decodeMs / stats.decodeSteps : 0.0;
  const double tokPerSec =
      stats.decodeMs > 0 ? stats.decodeTokens * 1000.0 / stats.decodeMs : 0.0;
  if (!logitsPath.empty()) {
    const uint32_t vocab = plan.model.vocabSize;
    if (Status w = runtime::writeNpyF32(logitsPath, outputs[0].logits,
                                        {outputs[0].tokens.size(), vocab});
        !w)
      return fail(w.message());
  }
  if (!profilePath.empty()) {
    runtime::TraceWriter trace;
    for (const auto &p : profiles)
      if (Status a = trace.add(plan, p.program, p.records, p.startUs); !a)
        return fail(profilePath + ": " + a.message());
    if (Status w = trace.write(profilePath); !w)
      return fail(w.message());
  }
  if (!statsPath.empty()) {
    nlohmann::json j = {{"prefill_ms", stats.prefillMs},
                        {"prefill_tokens", stats.prefillTokens},
                        {"decode_ms", stats.decodeMs},
                        {"decode_steps", stats.decodeSteps},
                        {"decode_ms_per_token", msPerStep},
                        {"decode_tokens_per_s", tokPerSec},
                        {"tokens", tokens},
                        {"sequences", outputs.size()},
                        {"launches", stats.launches},
                        {"workers", session.workers()},
                        {"backend", backend},
                        {"weights_bytes", session.weightBytes()}};
    if (backend == "host")
      j["simd_target"] = host::simd::activeTarget();
    if (Status w = runtime::writeStatsJson(statsPath, j); !w)
      return fail(w.message());
  }
  fmt::print(stderr,
             "mkrun: {} tokens ({} prompt(s)); prefill {:.1f} ms for {} tokens; decode "
             "{:.2f} ms/token over {} steps ({:.1f} tokens/s, {} workers{})\n",
             tokens, outputs.size(), stats.prefillMs, stats.prefillTokens, msPerStep,
             stats.decodeSteps, tokPerSec, session.workers(),
             backend == "host" ? ", SIMD " + std::string(host::simd::activeTarget())
                               : "");
  return 0;
}
