//===- ModelAttr.h - The model metadata the graph builders attach -----------===//
//
// Graph builders put the model's metadata on the module as a dictionary attribute
// `mk.model`; mk-emit-plan turns it into isa::ModelMeta for the plan.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

namespace mk {

inline constexpr llvm::StringLiteral kModelAttrName = "mk.model";

/// The tensor-parallel degree of a sharded module (an i64 that mk-shard sets; absent:
/// 1). `mk.model` keeps the whole model's numbers either way.
inline constexpr llvm::StringLiteral kTensorParallelAttrName = "mk.tensor_parallel";

/// The module's tensor-parallel degree; emits an error and fails if the attribute is
/// not a positive integer.
mlir::FailureOr<int64_t> tensorParallelOf(mlir::ModuleOp module);

/// Encodes `meta` as the `mk.model` dictionary.
mlir::DictionaryAttr modelMetaToAttr(mlir::MLIRContext *ctx, const isa::ModelMeta &meta);

/// Decodes the `mk.model` dictionary of `module`; emits an error naming the missing or
/// mistyped key on failure.
mlir::FailureOr<isa::ModelMeta> modelMetaFromModule(mlir::ModuleOp module);

} // namespace mk
