//===- Embedding.cpp - mk-tile: mkg.embedding -> embedding tasks ------------===//
//
// Tiles: columns of the hidden dimension, all rows. A gather reads one table row per
// token, so a tile is sized by the bytes it moves, not by the table.
//===----------------------------------------------------------------------===//
#include "TileLowering.h"

using namespace mlir;
using namespace mk;
using namespace mk::tile;
namespace mkg = mk::graph;

namespace {

constexpr isa::TaskKind kEmbedding = isa::TaskKind::Embedding;

struct EmbeddingLowering : OpTileLowering<mkg::EmbeddingOp> {
  LogicalResult lower(mkg::EmbeddingOp op, ProgramLowering &p) const override {
    FailureOr<FlatSymbolRefAttr> table = p.tensorOf(op, op.getTable());
    if (failed(table))
      return failure();
    int64_t rows = p.rows();
    int64_t vocab = dimOf(op.getTable(), 0), hidden = dimOf(op.getTable(), 1);
    FlatSymbolRefAttr tokens = p.step().tokens;
    FlatSymbolRefAttr out = p.activation(op.getResult(), "h0");
    int64_t cols = p.sizer().columnsPerTile(hidden, rows, rows, 1);
    for (int64_t c0 = 0, t = 0; c0 < hidden; c0 += cols, ++t) {
      int64_t c1 = std::min(hidden, c0 + cols);
      TaskSpec s(kEmbedding, "embedding." + std::to_string(t));
      s.tile = {0, rows, c0, c1, 0, 0};
      s.set(role(kEmbedding, "tokens"), tokens);
      s.set(role(kEmbedding, "table"), *table);
      s.set(role(kEmbedding, "out"), out);
      s.reads = {p.box(tokens, {0}, {rows}), p.box(*table, {0, c0}, {vocab, c1})};
      s.writes = {p.box(out, {0, c0}, {rows, c1})};
      s.bytes = 2 * rows * (c1 - c0) * 2;
      if (failed(p.emit(op, s)))
        return failure();
    }
    return success();
  }
};

} // namespace

void mk::tile::populateEmbeddingLowerings(TileLoweringSet &set) {
  set.add<EmbeddingLowering>();
}
