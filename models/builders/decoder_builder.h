//===- decoder_builder.h - The decoder skeleton every family shares --------===//
#pragma once

#include "mk/Dialect/Graph/GraphDialect.h"
#include "mk/models/graph_builder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <memory>
#include <optional>
#include <string>

namespace mk::models {

/// Emits one program function of a pre-norm decoder: embedding, per layer
/// RMSNorm -> Q/K/V -> [QK-norm] -> RoPE -> KV append -> attention -> O + residual ->
/// RMSNorm -> gate/up -> SiLU * up -> down + residual, then the final norm, the LM
/// head and argmax. Families override the hooks where they differ.
class DecoderBuilder {
public:
  DecoderBuilder(const ModelConfig &config, const GraphOptions &options)
      : config_(config), options_(options) {}
  virtual ~DecoderBuilder() = default;

  /// Refuses configs this family's builder cannot express; the message names the key.
  virtual mlir::LogicalResult checkSupported(mlir::Location loc) const;

  /// Emits `func.func @name` with `mkg.program = kind` and `rows` rows.
  void buildProgram(mlir::OpBuilder &builder, mlir::Location loc, llvm::StringRef name,
                    llvm::StringRef kind, int64_t rows);

protected:
  /// Qwen2: q/k/v projections carry biases.
  virtual bool hasQkvBias() const { return false; }
  /// Qwen3: per-head RMSNorm of q and k before RoPE.
  virtual bool hasQkNorm() const { return false; }
  /// Mistral (and windowed Qwen): attention limited to the last N keys.
  virtual std::optional<int64_t> slidingWindow() const { return std::nullopt; }

  const ModelConfig &config_;
  const GraphOptions &options_;

private:
  mlir::Value weight(const std::string &name, llvm::ArrayRef<int64_t> shape);
  mlir::Value linear(mlir::Value x, const std::string &prefix, int64_t outFeatures,
                     bool bias);
  mlir::Value rope(mlir::Value x);
  mlir::Value layer(mlir::Value h, int64_t index);

  mlir::OpBuilder *b_ = nullptr;
  mlir::LocationAttr loc_; // set by buildProgram (Location has no null state)
  int64_t rows_ = 0;
  mlir::Value positions_;
};

std::unique_ptr<DecoderBuilder> makeLlamaBuilder(const ModelConfig &,
                                                 const GraphOptions &);
std::unique_ptr<DecoderBuilder> makeQwen2Builder(const ModelConfig &,
                                                 const GraphOptions &);
std::unique_ptr<DecoderBuilder> makeQwen3Builder(const ModelConfig &,
                                                 const GraphOptions &);
std::unique_ptr<DecoderBuilder> makeMistralBuilder(const ModelConfig &,
                                                   const GraphOptions &);

} // namespace mk::models
