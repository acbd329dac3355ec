//===- compile.cpp - mkc compile: config -> graph -> passes -> plan ---------===//
#include "compile.h"

#include "mk/Transforms/Passes.h"
#include "mk/models/config.h"
#include "mk/models/graph_builder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <vector>

using namespace mlir;

namespace {

/// Collects diagnostics as one line per error, for the CLI to print.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext &ctx)
      : handler_(&ctx, [this](Diagnostic &diag) {
          if (diag.getSeverity() == DiagnosticSeverity::Error && message_.empty()) {
            llvm::raw_string_ostream os(message_);
            os << diag;
            os.flush();
            // A message that prints a type or an attribute may span lines; the CLI
            // promises one line per error.
            std::replace(message_.begin(), message_.end(), '\n', ' ');
          }
          return success();
        }) {}
  std::string take(const std::string &fallback) {
    return message_.empty() ? fallback : message_;
  }

private:
  std::string message_;
  ScopedDiagnosticHandler handler_;
};

mk::Status writeModule(ModuleOp module, const std::string &output) {
  std::string path = output.empty() ? "-" : output;
  std::string error;
  auto file = mlir::openOutputFile(path, &error);
  if (!file)
    return mk::Status::error(path + ": " + error);
  module.print(file->os());
  file->os().flush();
  if (std::error_code ec = file->os().error()) {
    // Cleared, or the stream's destructor aborts with "LLVM ERROR"; not kept, so a
    // partial file is removed.
    file->os().clear_error();
    return mk::Status::error((path == "-" ? std::string("<stdout>") : path) +
                             ": cannot write: " + ec.message());
  }
  file->keep();
  return mk::Status::ok();
}

/// `-o /dev/null` compiles and verifies the plan and writes nothing (as LLVM's
/// writeToOutput does).
constexpr const char *kNullDevice = "/dev/null";

/// A plan is written to a temporary file that is then renamed over the output, which
/// would replace a device or a FIFO (as root, even /dev/full or /dev/stdout) instead
/// of writing to it; and a directory would fail only after the whole compile.
mk::Status checkOutputPath(const mk::mkc::CompileRequest &req) {
  if (!req.emit.empty() || req.output.empty() || req.output == kNullDevice)
    return mk::Status::ok();
  llvm::sys::fs::file_status st;
  if (llvm::sys::fs::status(req.output, st, /*follow=*/true))
    return mk::Status::ok(); // does not exist yet (other errors surface on write)
  if (llvm::sys::fs::is_directory(st))
    return mk::Status::error(req.output + ": is a directory, expected a plan file path");
  if (!llvm::sys::fs::is_regular_file(st))
    return mk::Status::error(req.output + ": not a regular file; a plan replaces its "
                                          "output whole, give a file path");
  return mk::Status::ok();
}

/// Tensor parallelism splits heads, the MLP's and experts' intermediate columns and
/// the vocabulary evenly over the ranks, and reduces hidden-wide partial sums; KV
/// heads are split when there are at least as many as ranks, else replicated.
mk::Status checkTensorParallel(const mk::models::ModelConfig &c, int64_t tp) {
  if (tp == 1)
    return mk::Status::ok();
  const std::string ranks = std::to_string(tp);
  struct Key {
    const char *name;
    uint32_t value;
  };
  std::vector<Key> keys = {{"hidden_size", c.hiddenSize},
                           {"num_attention_heads", c.numHeads},
                           {"intermediate_size", c.intermediateSize},
                           {"vocab_size", c.vocabSize}};
  if (c.numExperts && c.moeIntermediateSize != c.intermediateSize)
    keys.push_back({"moe_intermediate_size", c.moeIntermediateSize});
  for (const Key &k : keys)
    if (k.value % tp != 0)
      return mk::Status::error(c.sourceName + ": --tp " + ranks + ": " + k.name + " (" +
                               std::to_string(k.value) + ") is not divisible by " +
                               ranks);
  if (c.numKvHeads % tp != 0 && tp % c.numKvHeads != 0)
    return mk::Status::error(c.sourceName + ": --tp " + ranks +
                             ": num_key_value_heads (" + std::to_string(c.numKvHeads) +
                             ") is neither a multiple nor a divisor of " + ranks);
  return mk::Status::ok();
}

} // namespace

mk::Status mk::mkc::runCompile(const CompileRequest &req, std::string &summary) {
  auto start = std::chrono::steady_clock::now();
  models::ModelConfig config;
  if (Status s = models::loadHfConfig(req.model, config); !s)
    return s;
  if (!isa::findTarget(req.target))
    return Status::error("--target '" + req.target +
                         "': unknown target (known: host, a100, h100, h200)");
  if (Status s = checkOutputPath(req); !s)
    return s;
  if (Status s = checkTensorParallel(config, req.tensorParallel); !s)
    return s;
  const std::string maxPos = std::to_string(config.maxPositionEmbeddings);
  const std::string block = std::to_string(req.kvBlockSize);
  int64_t maxSeq = req.maxSeqLen;
  if (maxSeq == 0) {
    if (req.kvBlockSize > config.maxPositionEmbeddings)
      return Status::error(config.sourceName + ": --kv-block-size " + block +
                           " exceeds max_position_embeddings (" + maxPos + ")");
    maxSeq = std::min<int64_t>(4096, config.maxPositionEmbeddings);
    maxSeq = maxSeq / req.kvBlockSize * req.kvBlockSize;
  } else {
    if (maxSeq > config.maxPositionEmbeddings)
      return Status::error(config.sourceName + ": --max-seq-len " +
                           std::to_string(maxSeq) + " exceeds max_position_embeddings (" +
                           maxPos + ")");
    if (maxSeq % req.kvBlockSize != 0)
      return Status::error("--max-seq-len " + std::to_string(maxSeq) +
                           " is not a multiple of --kv-block-size " + block);
  }
  // No sequence is longer than the KV cache, so a longer chunk could never be full: its
  // extra rows would be computed on every call and thrown away.
  if (req.prefillChunk > maxSeq)
    return Status::error("--prefill-chunk " + std::to_string(req.prefillChunk) +
                         " exceeds the KV cache's max sequence length " +
                         std::to_string(maxSeq) +
                         (req.maxSeqLen == 0 ? " (the default; see --max-seq-len)" : ""));
  models::GraphOptions options;
  options.decodeBatch = req.batch;
  options.prefillChunk = req.prefillChunk;
  options.kvBlockSize = static_cast<uint32_t>(req.kvBlockSize);
  options.maxSeqLen = static_cast<uint32_t>(maxSeq);
  options.interleavedRope = req.interleavedRope;

  DialectRegistry registry;
  registerMkDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Threads would only add overhead: passes walk a handful of large programs.
  context.disableMultithreading();
  DiagnosticCollector diagnostics(context);

  OwningOpRef<ModuleOp> module = models::buildModelGraph(context, config, options);
  if (!module)
    return Status::error(
        diagnostics.take(config.sourceName + ": cannot build the graph"));
  if (req.emit == "graph")
    return writeModule(*module, req.output);

  PassManager pm(&context);
  PipelineOptions pipeline;
  pipeline.verifyEachPass = req.verifyEach;
  pm.enableVerifier(pipeline.verifyEachPass);
  pipeline.target = req.target;
  pipeline.maxSeqLen = maxSeq;
  pipeline.kvBlockSize = req.kvBlockSize;
  pipeline.tensorParallel = req.tensorParallel;
  pipeline.output = req.emit.empty() && req.output != kNullDevice ? req.output : "";
  buildCompilePipeline(pm, pipeline);
  if (req.timing)
    pm.enableTiming();
  if (failed(pm.run(*module)))
    return Status::error(diagnostics.take("compilation failed"));
  if (req.emit == "tasks")
    return writeModule(*module, req.output);

  size_t tasks = 0, events = 0;
  std::string programs;
  for (auto program : module->getOps<task::ProgramOp>()) {
    size_t t = 0, e = 0;
    for (Operation &op : program.getBody().front())
      (llvm::isa<task::TaskOp>(op) ? t : e) += 1;
    tasks += t;
    events += e;
    programs += (programs.empty() ? "" : ", ") + program.getSymName().str() + " " +
                std::to_string(t) + " tasks";
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
          .count();
  char time[32];
  std::snprintf(time, sizeof(time), "%.0f ms", ms);
  std::string ranks =
      req.tensorParallel > 1 ? ", " + std::to_string(req.tensorParallel) + " ranks" : "";
  summary = "wrote " + req.output + " for " + req.target + ranks + " (" + programs +
            "; " + std::to_string(events) + " events) in " + time;
  return Status::ok();
}
