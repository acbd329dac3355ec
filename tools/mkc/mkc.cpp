//===- mkc.cpp - The mk compiler driver ---------------------------------------===//
//
//   mkc compile --model DIR|config.json|preset --target host|a100|h100|h200 -o plan.mkp
//   mkc inspect plan.mkp
//   mkc verify plan.mkp
//   mkc presets
#include "compile.h"
#include "inspect.h"

#include "mk/models/presets.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  CLI::App app{
      "mkc: compile Hugging Face transformer configs into mk plans "
      "(a DAG of tile tasks, scoreboard events, a queue order and a memory layout) "
      "and inspect them."};
  app.require_subcommand(1);

  mk::mkc::CompileRequest req;
  std::string rope = "rotate-half";
  CLI::App *compile = app.add_subcommand(
      "compile", "Compile a model into a plan: mk-fuse, mk-shard, mk-tile, "
                 "mk-scoreboard, mk-schedule, mk-plan-memory, mk-emit-plan; the plan is "
                 "verified before it is written");
  compile
      ->add_option("--model,-m", req.model,
                   "Model directory (with config.json), a config.json file, or a preset "
                   "name (see `mkc presets`)")
      ->required();
  compile
      ->add_option("--target,-t", req.target,
                   "Target to tile and schedule for: host, a100, h100, h200")
      ->capture_default_str();
  compile->add_option("--batch,-b", req.batch, "Rows (sequences) of the decode program")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  compile
      ->add_option(
          "--prefill-chunk", req.prefillChunk,
          "Tokens per prefill chunk (rows of the prefill program); 0 = no prefill "
          "program")
      ->capture_default_str()
      ->check(CLI::Range(0, 16384));
  compile
      ->add_option("--max-seq-len", req.maxSeqLen,
                   "Longest sequence the KV cache holds; 0 = min(4096, "
                   "max_position_embeddings)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  compile->add_option("--kv-block-size", req.kvBlockSize, "Tokens per KV-cache block")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  compile
      ->add_option("--tp", req.tensorParallel,
                   "Tensor-parallel ranks: one plan that every rank runs on its slice "
                   "of the weights (mk-shard), with all-reduces inside the kernel. Must "
                   "divide hidden_size, num_attention_heads, intermediate_size, "
                   "moe_intermediate_size and vocab_size; num_key_value_heads must be "
                   "a multiple or a divisor of it")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(256)));
  compile
      ->add_option("--rope", rope,
                   "RoPE pairing: rotate-half (HF checkpoints) or interleaved")
      ->capture_default_str()
      ->check(CLI::IsMember({"rotate-half", "interleaved"}));
  compile
      ->add_option(
          "--emit", req.emit,
          "Write IR instead of a plan: graph (the unfused graph dialect, input to "
          "mk-opt) or tasks (the task dialect after mk-plan-memory); to -o or "
          "stdout")
      ->check(CLI::IsMember({"graph", "tasks"}));
  compile->add_option("--output,-o", req.output,
                      "Output file (plan, or IR with --emit); a plan replaces it whole, "
                      "and /dev/null compiles and verifies without writing");
  compile->add_flag("--timing", req.timing, "Print the time each pass takes");
  compile->add_flag("--verify-each", req.verifyEach,
                    "Verify the IR after every pass (default: after mk-tile and before "
                    "mk-emit-plan; the plan verifier checks the plan either way)");

  std::string planPath;
  bool listPath = false;
  CLI::App *inspect = app.add_subcommand(
      "inspect",
      "Print a plan: per program the task counts by kind, events and waits, the "
      "critical path (tasks, bytes, time on the target), the arena size, and "
      "whether it verifies");
  inspect->add_option("plan", planPath, "Plan file (.mkp)")->required();
  inspect->add_flag("--critical-path", listPath, "List the tasks on each critical path");
  CLI::App *verify =
      app.add_subcommand("verify", "Check every plan invariant; print each violation");
  verify->add_option("plan", planPath, "Plan file (.mkp)")->required();
  CLI::App *presets = app.add_subcommand("presets", "List the bundled model presets");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    // --help and friends "fail" with exit code 0 and print the manual.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
      return app.exit(e);
    // Usage errors: one line and exit 1, like every other mkc error (CLI11's default is
    // two lines and an exit code per error kind).
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    std::vector<CLI::App *> used = app.get_subcommands();
    fmt::print(stderr, "mkc: error: {} (see `mkc {}--help`)\n", what,
               used.empty() ? std::string() : used.front()->get_name() + " ");
    return 1;
  }

  if (compile->parsed()) {
    if (req.emit.empty() && req.output.empty()) {
      fmt::print(stderr,
                 "mkc: error: compile needs -o PLAN.mkp (or --emit graph|tasks)\n");
      return 1;
    }
    req.interleavedRope = rope == "interleaved";
    std::string summary;
    if (mk::Status s = mk::mkc::runCompile(req, summary); !s) {
      fmt::print(stderr, "mkc: error: {}\n", s.message());
      return 1;
    }
    if (!summary.empty())
      fmt::print(stderr, "mkc: {}\n", summary);
    return 0;
  }
  if (inspect->parsed())
    return mk::mkc::runInspect(planPath, listPath);
  if (verify->parsed())
    return mk::mkc::runVerify(planPath);
  if (presets->parsed()) {
    for (const std::string &name : mk::models::listPresets())
      fmt::print("{}\n", name);
    return 0;
  }
  return 0;
}
