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
  file->keep();
  return mk::Status::ok();
}

} // namespace

mk::Status mk::mkc::runCompile(const CompileRequest &req, std::string &summary) {
  auto start = std::chrono::steady_clock::now();
  models::ModelConfig config;
  if (Status s = models::loadHfConfig(req.model, config); !s)
    return s;
  if (!isa::findTarget(req.target))
    return Status::error("unknown target '" + req.target +
                         "' (known: host, a100, h100, h200)");
  models::GraphOptions options;
  options.decodeBatch = req.batch;
  options.prefillChunk = req.prefillChunk;
  options.kvBlockSize = static_cast<uint32_t>(req.kvBlockSize);
  int64_t maxSeq = req.maxSeqLen;
  if (maxSeq == 0) {
    maxSeq = std::min<int64_t>(4096, config.maxPositionEmbeddings);
    maxSeq = std::max<int64_t>(req.kvBlockSize, maxSeq / req.kvBlockSize * req.kvBlockSize);
  }
  if (maxSeq > config.maxPositionEmbeddings)
    return Status::error(config.sourceName + ": --max-seq-len " + std::to_string(maxSeq) +
                         " exceeds max_position_embeddings (" +
                         std::to_string(config.maxPositionEmbeddings) + ")");
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
    return Status::error(diagnostics.take(config.sourceName + ": cannot build the graph"));
  if (req.emit == "graph")
    return writeModule(*module, req.output);

  PassManager pm(&context);
  pm.enableVerifier(true);
  PipelineOptions pipeline;
  pipeline.target = req.target;
  pipeline.maxSeqLen = maxSeq;
  pipeline.kvBlockSize = req.kvBlockSize;
  pipeline.output = req.emit.empty() ? req.output : "";
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
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                        start)
                  .count();
  char time[32];
  std::snprintf(time, sizeof(time), "%.0f ms", ms);
  summary = "wrote " + req.output + " for " + req.target + " (" + programs + "; " +
            std::to_string(events) + " events) in " + time;
  return Status::ok();
}
