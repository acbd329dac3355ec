//===- decoder_builder.h - The decoder skeleton every family shares --------===//
#pragma once

#include "mk/Dialect/Graph/GraphDialect.h"
#include "mk/models/graph_builder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <string>

namespace mk::models {

/// Emits one program function of a pre-norm decoder: embedding, per layer
/// RMSNorm -> Q/K/V -> [QK-norm] -> RoPE -> KV append -> attention -> O + residual ->
/// RMSNorm -> gate/up -> SiLU * up -> down + residual (or, in a mixture-of-experts
/// layer, RMSNorm -> mkg.moe + residual), then the final norm, the LM head and
/// argmax. Where families differ it reads ModelConfig's features (attentionBias,
/// qkNorm, slidingWindow, the experts) and the family row's tensor names.
class DecoderBuilder {
public:
  DecoderBuilder(const ModelConfig &config, const GraphOptions &options)
      : config_(config), options_(options), names_(familyInfo(config.family).tensors) {}

  /// Refuses configs the skeleton cannot express; the message names the key.
  mlir::LogicalResult checkSupported(mlir::Location loc) const;

  /// Emits `func.func @name` with `mkg.program = kind` and `rows` rows.
  void buildProgram(mlir::OpBuilder &builder, mlir::Location loc, llvm::StringRef name,
                    task::ProgramKind kind, int64_t rows);

private:
  mlir::Value weight(const std::string &name, llvm::ArrayRef<int64_t> shape);
  mlir::Value linear(mlir::Value x, const std::string &prefix, int64_t outFeatures,
                     bool bias, mlir::IntegerAttr layer);
  mlir::Value rope(mlir::Value x, mlir::IntegerAttr layer);
  mlir::Value denseMlp(mlir::Value normed, uint32_t layer, mlir::IntegerAttr layerAttr);
  mlir::Value moe(mlir::Value normed, uint32_t layer, mlir::IntegerAttr layerAttr);
  mlir::Value layer(mlir::Value h, int64_t index);

  const ModelConfig &config_;
  const GraphOptions &options_;
  const TensorNames &names_;
  mlir::OpBuilder *b_ = nullptr;
  mlir::LocationAttr loc_; // set by buildProgram (Location has no null state)
  int64_t rows_ = 0;
  mlir::Value positions_;
};

} // namespace mk::models
