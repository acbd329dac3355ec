//===- mkrun.cpp - Run a plan: generate text from a model ----------------------===//
//
//   mkrun                                   the bundled demo model, default prompt
//   mkrun PLAN --weights DIR --prompt "text" [--max-new-tokens N] ...
//
// options.cpp: the flags and their defaults; prompts.cpp: what to generate from;
// run.cpp: plan, backend, session and generation; outputs.cpp: files and summary;
// mpi_launch.cpp: under mpirun, one tensor-parallel rank per process.
#include "mpi_launch.h"
#include "options.h"
#include "outputs.h"
#include "prompts.h"
#include "run.h"

#include <fmt/format.h>

using namespace mk;

namespace {

/// Flags, plan and prompts: everything checked before a backend exists.
Status prepare(mkrun::RunOptions &options, isa::Plan &plan, mkrun::Prompts &prompts) {
  if (Status s = mkrun::resolveOptions(options); !s)
    return s;
  if (Status s = mkrun::readPlan(options.planPath, plan); !s)
    return s;
  if (Status s = mkrun::checkCudaLaunch(options, plan); !s)
    return s;
  return mkrun::readPrompts(options, prompts);
}

Status execute(mkrun::RunOptions &options, const isa::Plan &plan,
               const mkrun::Prompts &prompts) {
  mkrun::RunResult result;
  if (Status s = mkrun::runPlan(options, plan, prompts, result); !s)
    return s;
  if (options.mpi && options.mpi->rank != 0)
    return Status::ok(); // rank 0 writes the files and the summary
  if (Status s = mkrun::writeOutputs(options, plan, result); !s)
    return s;
  mkrun::printSummary(result);
  return Status::ok();
}

} // namespace

int main(int argc, char **argv) {
  mkrun::RunOptions options;
  if (std::optional<int> exitCode = mkrun::parseOptions(argc, argv, options))
    return *exitCode;
  isa::Plan plan;
  mkrun::Prompts prompts;
  if (mkrun::launchedByMpi())
    return mkrun::runUnderMpi(
        argc, argv, options,
        [&](mkrun::RunOptions &o) { return prepare(o, plan, prompts); },
        [&](mkrun::RunOptions &o) { return execute(o, plan, prompts); });
  Status s = prepare(options, plan, prompts);
  if (s)
    s = execute(options, plan, prompts);
  if (!s) {
    fmt::print(stderr, "mkrun: error: {}\n", s.message());
    return 1;
  }
  return 0;
}
