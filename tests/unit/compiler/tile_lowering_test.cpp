// mk-tile's core, with lowerings written for the test: a task is emitted only when
// every required operand role is set (unset optional roles become `unit`), the first
// lowering in registration order whose match() accepts an op lowers it, and an op
// that every lowering declines gets an error listing what they require.
#include "TileLowering.h"

#include "mk/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

// tokens -> embedding -> (returned); weights only.
constexpr const char *kProgram = R"mlir(
func.func @decode(%tokens: tensor<2xi32>, %pos: tensor<2xi32>) -> tensor<2x64xbf16>
    attributes {mkg.program = #mkg.program_kind<decode>} {
  %emb = mkg.weight "emb" : tensor<256x64xbf16>
  %h = mkg.embedding %tokens, %emb : (tensor<2xi32>, tensor<256x64xbf16>) -> tensor<2x64xbf16>
  return %h : tensor<2x64xbf16>
}
)mlir";

constexpr isa::TaskKind kEmbedding = isa::TaskKind::Embedding;
constexpr isa::TaskKind kQkv = isa::TaskKind::Qkv;

/// One embedding task; `table` set only if asked.
struct PartialEmbedding : OpTileLowering<mkg::EmbeddingOp> {
  explicit PartialEmbedding(bool setTable) : setTable(setTable) {}
  LogicalResult lower(mkg::EmbeddingOp op, ProgramLowering &p) const override {
    FlatSymbolRefAttr out = p.activation(op.getResult(), "h0");
    TaskSpec s(kEmbedding, "embedding.0");
    s.tile = {0, p.rows(), 0, 64, 0, 0};
    s.set(isa::role(kEmbedding, "tokens"), p.step().tokens);
    if (setTable)
      s.set(isa::role(kEmbedding, "table"), *p.tensorOf(op, op.getTable()));
    s.set(isa::role(kEmbedding, "out"), out);
    s.writes = {p.whole(out)};
    return p.emit(op, s);
  }
  bool setTable;
};

/// A qkv task with the required roles only: bias and head_norm_w stay unset.
struct RequiredRolesOnlyQkv : OpTileLowering<mkg::EmbeddingOp> {
  LogicalResult lower(mkg::EmbeddingOp op, ProgramLowering &p) const override {
    FlatSymbolRefAttr x = p.activation(op.getResult(), "h0");
    FlatSymbolRefAttr w = *p.tensorOf(op, op.getTable());
    TaskSpec s(kQkv, "qkv.0");
    s.set(isa::role(kQkv, "x"), x);
    s.set(isa::role(kQkv, "norm_w"), w);
    s.set(isa::role(kQkv, "w"), w);
    s.set(isa::role(kQkv, "out"), x);
    s.set(isa::role(kQkv, "positions"), p.step().positions);
    s.set(isa::role(kQkv, "kv_slots"), p.step().kvSlots);
    s.set(isa::role(kQkv, "block_table"), p.step().blockTable);
    s.writes = {p.whole(x)};
    return p.emit(op, s);
  }
};

/// Declines every op, requiring `what`.
struct Declining : OpTileLowering<mkg::EmbeddingOp> {
  explicit Declining(StringRef what) : OpTileLowering(what) {}
  bool match(mkg::EmbeddingOp) const override { return false; }
  LogicalResult lower(mkg::EmbeddingOp, ProgramLowering &) const override {
    return failure();
  }
};

class TileLoweringTest : public ::testing::Test {
protected:
  TileLoweringTest()
      : handler(&context, [this](Diagnostic &d) {
          errors += d.str() + "\n";
          return success();
        }) {
    DialectRegistry registry;
    registerMkDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    module = parseSourceString<ModuleOp>(kProgram, &context);
  }

  /// Lowers @decode with `lowerings`; the program's tasks on success.
  FailureOr<SmallVector<task::TaskOp>> lower(const TileLoweringSet &lowerings) {
    TileSizer sizer(*isa::findTarget("host"));
    ModuleTensors tensors(*module);
    tensors.kvBlocks = 8;
    auto func = *module->getOps<func::FuncOp>().begin();
    ProgramLowering program(tensors, sizer, lowerings, func, task::ProgramKind::Decode,
                            64);
    if (failed(program.run()))
      return failure();
    auto programOp = *module->getOps<task::ProgramOp>().begin();
    return SmallVector<task::TaskOp>(programOp.getBody().front().getOps<task::TaskOp>());
  }

  MLIRContext context;
  ScopedDiagnosticHandler handler;
  std::string errors;
  OwningOpRef<ModuleOp> module;
};

TEST_F(TileLoweringTest, EmitsATaskWhoseRolesAreAllSet) {
  ASSERT_TRUE(module);
  TileLoweringSet lowerings;
  lowerings.add<PartialEmbedding>(true);
  FailureOr<SmallVector<task::TaskOp>> tasks = lower(lowerings);
  ASSERT_TRUE(succeeded(tasks)) << errors;
  ASSERT_EQ(tasks->size(), 1u);
  task::TaskOp t = tasks->front();
  EXPECT_EQ(t.getKind(), kEmbedding);
  ASSERT_EQ(t.getOperands().size(), 3u);
  EXPECT_EQ(llvm::cast<FlatSymbolRefAttr>(t.getOperands()[1]).getValue(), "w.emb");
}

TEST_F(TileLoweringTest, RefusesATaskWithARequiredRoleUnset) {
  ASSERT_TRUE(module);
  TileLoweringSet lowerings;
  lowerings.add<PartialEmbedding>(false);
  EXPECT_TRUE(failed(lower(lowerings)));
  EXPECT_NE(errors.find("mk-tile: task 'embedding.0' leaves operand role 'table' of "
                        "'embedding' unset"),
            std::string::npos)
      << errors;
}

TEST_F(TileLoweringTest, UnsetOptionalRolesAreUnit) {
  ASSERT_TRUE(module);
  TileLoweringSet lowerings;
  lowerings.add<RequiredRolesOnlyQkv>();
  FailureOr<SmallVector<task::TaskOp>> tasks = lower(lowerings);
  ASSERT_TRUE(succeeded(tasks)) << errors;
  ArrayAttr operands = tasks->front().getOperands();
  ASSERT_EQ(operands.size(), 9u);
  EXPECT_TRUE(llvm::isa<UnitAttr>(operands[isa::role(kQkv, "bias")]));
  EXPECT_TRUE(llvm::isa<UnitAttr>(operands[isa::role(kQkv, "head_norm_w")]));
  EXPECT_TRUE(llvm::isa<FlatSymbolRefAttr>(operands[isa::role(kQkv, "block_table")]));
}

TEST_F(TileLoweringTest, FirstMatchingLoweringInRegistrationOrderWins) {
  ASSERT_TRUE(module);
  TileLoweringSet lowerings;
  lowerings.add<Declining>("be something else");
  lowerings.add<RequiredRolesOnlyQkv>();
  lowerings.add<PartialEmbedding>(true);
  FailureOr<SmallVector<task::TaskOp>> tasks = lower(lowerings);
  ASSERT_TRUE(succeeded(tasks)) << errors;
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ(tasks->front().getKind(), kQkv);
}

TEST_F(TileLoweringTest, AnOpEveryLoweringDeclinesNamesTheirRequirements) {
  ASSERT_TRUE(module);
  TileLoweringSet lowerings;
  lowerings.add<Declining>("be red");
  lowerings.add<Declining>("be round");
  EXPECT_TRUE(failed(lower(lowerings)));
  EXPECT_NE(errors.find("'mkg.embedding' op mk-tile: no task lowers this op as it is; "
                        "it must be red or be round (run mk-fuse)"),
            std::string::npos)
      << errors;
}

TEST_F(TileLoweringTest, AnOpWithoutLoweringsIsRefused) {
  ASSERT_TRUE(module);
  TileLoweringSet lowerings;
  EXPECT_TRUE(failed(lower(lowerings)));
  EXPECT_NE(errors.find("'mkg.embedding' op mk-tile: no task lowers this op; fused "
                        "graphs only (run mk-fuse first)"),
            std::string::npos)
      << errors;
}

} // namespace
