//===- graph_builder.h - HF config -> mk graph dialect ----------------------===//
//
// One decoder skeleton (builders/decoder_builder.cpp) for every family; what a
// family changes comes from ModelConfig and its row in families.h. The module
// holds one function per program:
//   @decode  (tokens: tensor<Bxi32>, positions: tensor<Bxi32>) -> tensor<Bxi32>
//   @prefill (tokens: tensor<Cxi32>, positions: tensor<Cxi32>) -> tensor<Cxi32>
// written with plain graph ops (mk-fuse does the fusing), plus the `mk.model`
// metadata attribute.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/models/config.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>

namespace mk::models {

struct GraphOptions {
  int64_t decodeBatch = 1;   // rows of the decode program
  int64_t prefillChunk = 64; // rows of the prefill program; 0 = no prefill program
  uint32_t maxSeqLen = 4096; // longest sequence the KV cache holds
  uint32_t kvBlockSize = 16;
  bool interleavedRope = false; // pairs (2i, 2i+1) instead of HF's rotate-half
};

/// Builds the graph module of `config`. Errors (unsupported features, bad options)
/// are reported through the context's diagnostic handler and return nullptr.
mlir::OwningOpRef<mlir::ModuleOp> buildModelGraph(mlir::MLIRContext &context,
                                                  const ModelConfig &config,
                                                  const GraphOptions &options);

} // namespace mk::models
