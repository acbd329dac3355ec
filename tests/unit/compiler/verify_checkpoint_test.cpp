// mk-verify, the checkpoint mkc's pipeline verifies the task IR at instead of after
// every pass: it fails the pipeline on IR a pass left invalid (even with the pass
// manager's own verifier off), passes valid IR unchanged, and sits after mk-tile and
// before mk-emit-plan exactly when the pipeline does not verify after every pass.
#include "mk/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <string>

using namespace mlir;
using namespace mk;
using namespace mk::task;

namespace {

// Two o_proj tiles: @b reads what @a writes and waits for @a's event.
constexpr const char *kTasks = R"mlir(
mkt.tensor @w weight tensor<64x64xbf16> {weight_name = "w"}
mkt.tensor @x activation tensor<2x64xbf16> {program = @p}
mkt.tensor @y activation tensor<2x64xbf16> {program = @p}
mkt.program @p prefill rows(2) {
  mkt.event @ev.a count(1)
  mkt.event @done count(1)
  mkt.task @a o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@x, @w, @x, @y], reads = [#mkt.box<@x[0, 0] to[2, 64]>,
      #mkt.box<@w[0, 0] to[64, 64]>], writes = [#mkt.box<@y[0, 0] to[2, 64]>],
      signals = [@ev.a]}
  mkt.task @b o_proj tile [0, 2, 0, 64, 0, 0] {cost_bytes = 0 : i64, cost_flops = 0 : i64,
      operands = [@y, @w, @y, @x], reads = [#mkt.box<@y[0, 0] to[2, 64]>,
      #mkt.box<@w[0, 0] to[64, 64]>], writes = [#mkt.box<@x[0, 0] to[2, 64]>],
      waits = [#mkt.wait<@ev.a, 1>], signals = [@done]}
}
)mlir";

struct VerifyCheckpoint : ::testing::Test {
  VerifyCheckpoint() {
    DialectRegistry registry;
    registerMkDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    module = parseSourceString<ModuleOp>(kTasks, &context);
  }

  /// Runs mk-verify alone, with the pass manager's verifier off; the diagnostics it
  /// reported go to `messages`.
  LogicalResult runVerify(std::string &messages) {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      messages += d.str() + "\n";
      return success();
    });
    PassManager pm(&context);
    pm.enableVerifier(false);
    pm.addPass(createMkVerify());
    return pm.run(*module);
  }

  TaskOp task(StringRef name) {
    for (auto program : module->getOps<ProgramOp>())
      for (auto t : program.getBody().front().getOps<TaskOp>())
        if (t.getSymName() == name)
          return t;
    return {};
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

TEST_F(VerifyCheckpoint, ValidIrPasses) {
  ASSERT_TRUE(module);
  std::string messages;
  EXPECT_TRUE(succeeded(runVerify(messages))) << messages;
  EXPECT_EQ(messages, "");
}

TEST_F(VerifyCheckpoint, AWaitCountThatIsNotTheEventsProducersFails) {
  ASSERT_TRUE(module);
  TaskOp b = task("b");
  ASSERT_TRUE(b);
  // What a scoreboard bug could leave behind: the wait expects 3 signals of a
  // 1-producer event, so the consumer would never run.
  b.setWaitsAttr(ArrayAttr::get(
      &context,
      {WaitAttr::get(&context, FlatSymbolRefAttr::get(&context, "ev.a"), 3, 0)}));
  std::string messages;
  EXPECT_TRUE(failed(runVerify(messages)));
  EXPECT_NE(messages.find("waits for 3 signals of @ev.a, which has 1 producers"),
            std::string::npos)
      << messages;
}

TEST_F(VerifyCheckpoint, AWriteToAWeightFails) {
  ASSERT_TRUE(module);
  TaskOp a = task("a");
  ASSERT_TRUE(a);
  a.setWritesAttr(ArrayAttr::get(
      &context,
      {BoxAttr::get(&context, FlatSymbolRefAttr::get(&context, "w"), {0, 0}, {64, 64})}));
  std::string messages;
  EXPECT_TRUE(failed(runVerify(messages)));
  EXPECT_NE(messages.find("writes weight @w"), std::string::npos) << messages;
}

std::string pipelineText(bool verifyEachPass) {
  MLIRContext context;
  PassManager pm(&context);
  PipelineOptions options;
  options.verifyEachPass = verifyEachPass;
  buildCompilePipeline(pm, options);
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  return os.str();
}

TEST(VerifyCheckpointPipeline, CheckpointsAfterTileAndBeforeEmitWithoutVerifyEach) {
  std::string text = pipelineText(false);
  size_t tile = text.find("mk-tile"), first = text.find("mk-verify");
  ASSERT_NE(tile, std::string::npos) << text;
  ASSERT_NE(first, std::string::npos) << text;
  size_t second = text.find("mk-verify", first + 1), emit = text.find("mk-emit-plan");
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_LT(tile, first) << text;
  EXPECT_LT(first, text.find("mk-scoreboard")) << text;
  EXPECT_LT(text.find("mk-plan-memory"), second) << text;
  EXPECT_LT(second, emit) << text;
  EXPECT_EQ(text.find("mk-verify", second + 1), std::string::npos) << text;
}

TEST(VerifyCheckpointPipeline, NoCheckpointsWhenEveryPassIsVerified) {
  EXPECT_EQ(pipelineText(true).find("mk-verify"), std::string::npos);
}

} // namespace
