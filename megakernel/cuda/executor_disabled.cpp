//===- executor_disabled.cpp - The CUDA executor's API in a build without CUDA ==//
//
// Built instead of executor.cpp + kernel.cu when MK_ENABLE_CUDA is OFF or no nvcc was
// found, so the runtime and tools link either way and say why the backend is missing.
//===----------------------------------------------------------------------===//
#include "mk/cuda/executor.h"

namespace mk::cuda {

namespace {
Status notBuilt() {
  return Status::error("cuda: this mk was built without CUDA (configure with "
                       "-DMK_ENABLE_CUDA=ON on a machine with nvcc); use --backend host");
}
} // namespace

bool built() { return false; }

bool tensorParallelBuilt() { return false; }

Status newCommId(CommId &) { return notBuilt(); }

Status probeDevice(int, std::string *, int *) { return notBuilt(); }

bool deviceAvailable(int) { return false; }

Status createExecutor(const isa::Plan &, const CudaOptions &,
                      std::unique_ptr<Executor> &) {
  return notBuilt();
}

} // namespace mk::cuda
