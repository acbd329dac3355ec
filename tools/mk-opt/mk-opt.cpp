//===- mk-opt.cpp - Run mk passes on textual IR (for lit tests) -------------===//
#include "mk/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mk::registerMkDialects(registry);
  mk::registerMKPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mk optimizer driver\n", registry));
}
