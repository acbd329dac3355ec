//===- mkrun.cpp - Run a plan: generate text from a model ----------------------===//
//
//   mkrun                                   the bundled demo model, default prompt
//   mkrun PLAN --weights DIR --prompt "text" [--max-new-tokens N] ...
//
// options.cpp: the flags and their defaults; prompts.cpp: what to generate from;
// run.cpp: plan, backend, session and generation; outputs.cpp: files and summary.
#include "options.h"
#include "outputs.h"
#include "prompts.h"
#include "run.h"

#include <fmt/format.h>

using namespace mk;

namespace {

Status run(mkrun::RunOptions &options) {
  if (Status s = mkrun::resolveOptions(options); !s)
    return s;
  isa::Plan plan;
  if (Status s = mkrun::readPlan(options.planPath, plan); !s)
    return s;
  mkrun::Prompts prompts;
  if (Status s = mkrun::readPrompts(options, prompts); !s)
    return s;
  mkrun::RunResult result;
  if (Status s = mkrun::runPlan(options, plan, prompts, result); !s)
    return s;
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
  if (Status s = run(options); !s) {
    fmt::print(stderr, "mkrun: error: {}\n", s.message());
    return 1;
  }
  return 0;
}
