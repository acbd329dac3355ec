//===- nccl_window_disabled.cpp - NcclWindow in a build without NCCL >= 2.28 ==//
//
// Built instead of nccl_window.cu when CMake found no NCCL with the device API, so a
// single-GPU build links, and a tensor-parallel plan is refused with one line.
//===----------------------------------------------------------------------===//
#include "nccl_window.h"

namespace mk::cuda {

namespace {
Status notBuilt() {
  return Status::error("cuda: this mk was built without NCCL >= 2.28 (its device API), "
                       "which tensor-parallel plans need on --backend cuda");
}
} // namespace

struct NcclWindow::Handles {};

Status newCommId(CommId &) { return notBuilt(); }

bool tensorParallelBuilt() { return false; }

Status NcclWindow::create(const CommId &, uint32_t, uint32_t, size_t, CommPath,
                          std::unique_ptr<NcclWindow> &) {
  return notBuilt();
}

NcclWindow::~NcclWindow() = default;

} // namespace mk::cuda
