//===- nccl_window.cu - NCCL symmetric memory for the comm tensors ----------===//
//
// See nccl_window.h. Built only with NCCL >= 2.28 (MK_HAVE_NCCL): its device API
// (nccl_device.h) is what maps the peers' windows into this GPU's address space.
//===----------------------------------------------------------------------===//
#include "nccl_window.h"

#include <cuda_runtime.h>
#include <nccl.h>
#include <nccl_device.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace mk::cuda {

static_assert(sizeof(CommId::bytes) == NCCL_UNIQUE_ID_BYTES);

namespace {

/// NCCL's last error may span lines; a Status is one.
std::string oneLine(const char *text) {
  std::string s = text ? text : "";
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

Status ncclError(const char *call, ncclResult_t r, ncclComm_t comm) {
  std::string detail = oneLine(ncclGetLastError(comm));
  return Status::error(std::string("nccl: ") + call + ": " + ncclGetErrorString(r) +
                       (detail.empty() ? "" : " (" + detail + ")"));
}

#define MK_NCCL_TRY(call, comm)                                                          \
  do {                                                                                   \
    if (ncclResult_t mkNcclErr_ = (call); mkNcclErr_ != ncclSuccess)                     \
      return ncclError(#call, mkNcclErr_, comm);                                         \
  } while (0)

#define MK_CUDA_TRY(call)                                                                \
  do {                                                                                   \
    if (cudaError_t mkErr_ = (call); mkErr_ != cudaSuccess)                              \
      return Status::error(std::string("cuda: ") + #call + ": " +                        \
                           cudaGetErrorString(mkErr_));                                  \
  } while (0)

constexpr uint32_t kMaxPeers = 64; // isa::kMaxTensorParallel

struct LsaRanks {
  int of[kMaxPeers]; // world rank q -> its index in the LSA team
  uint32_t count;
};

/// out[q] = rank q's copy of the window, through NCCL's LSA (load/store) mapping.
__global__ void lsaPointers(ncclWindow_t window, LsaRanks ranks, void **out) {
  for (uint32_t q = threadIdx.x; q < ranks.count; q += blockDim.x)
    out[q] = ncclGetLsaPointer(window, 0, ranks.of[q]);
}

} // namespace

struct NcclWindow::Handles {
  ncclComm_t comm = nullptr;
  void *memory = nullptr;
  ncclWindow_t window = nullptr;
  ncclDevComm devComm{};
  bool devCommCreated = false;
};

Status newCommId(CommId &out) {
  ncclUniqueId id;
  MK_NCCL_TRY(ncclGetUniqueId(&id), nullptr);
  std::memcpy(out.bytes, id.internal, sizeof out.bytes);
  return Status::ok();
}

bool tensorParallelBuilt() { return true; }

Status NcclWindow::create(const CommId &commId, uint32_t rank, uint32_t ranks,
                          size_t bytes, std::unique_ptr<NcclWindow> &out) {
  if (ranks > kMaxPeers)
    return Status::error("nccl: " + std::to_string(ranks) + " ranks; at most " +
                         std::to_string(kMaxPeers) + " are supported");
  std::unique_ptr<NcclWindow> w(new NcclWindow());
  w->h_ = std::make_unique<Handles>();
  Handles &h = *w->h_;
  ncclUniqueId id;
  std::memcpy(id.internal, commId.bytes, sizeof id.internal);
  MK_NCCL_TRY(ncclCommInitRank(&h.comm, int(ranks), id, int(rank)), nullptr);

  // Zeroed before registration: the registration is collective (no rank leaves it
  // before every rank entered it), so no peer can store into this memory, and no
  // stale flag can satisfy a wait, before the zeros landed.
  bytes = std::max<size_t>(bytes, 16);
  MK_NCCL_TRY(ncclMemAlloc(&h.memory, bytes), h.comm);
  MK_CUDA_TRY(cudaMemset(h.memory, 0, bytes));
  MK_CUDA_TRY(cudaDeviceSynchronize());
  MK_NCCL_TRY(
      ncclCommWindowRegister(h.comm, h.memory, bytes, &h.window, NCCL_WIN_COLL_SYMMETRIC),
      h.comm);

  // Zero-initialized: fields NCCL adds in later versions keep their defaults.
  ncclDevCommRequirements requirements;
  std::memset(&requirements, 0, sizeof requirements);
  MK_NCCL_TRY(ncclDevCommCreate(h.comm, &requirements, &h.devComm), h.comm);
  h.devCommCreated = true;
  if (uint32_t(h.devComm.lsaSize) != ranks)
    return Status::error(
        "nccl: only " + std::to_string(h.devComm.lsaSize) + " of the " +
        std::to_string(ranks) + " ranks share load/store access with rank " +
        std::to_string(rank) +
        " (NVLink or PCIe P2P); mk's in-kernel all-reduce needs every rank's GPU in "
        "one node with peer access");

  LsaRanks lsa{};
  lsa.count = ranks;
  for (uint32_t q = 0; q < ranks; ++q)
    lsa.of[q] = ncclTeamRankToLsa(h.devComm, ncclTeamWorld(h.devComm), int(q));
  void **table = nullptr;
  MK_CUDA_TRY(cudaMalloc(&table, ranks * sizeof(void *)));
  lsaPointers<<<1, 32>>>(h.window, lsa, table);
  std::vector<void *> peers(ranks);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess)
    e = cudaMemcpy(peers.data(), table, ranks * sizeof(void *), cudaMemcpyDeviceToHost);
  cudaFree(table);
  if (e != cudaSuccess)
    return Status::error(std::string("cuda: reading the peers' window addresses: ") +
                         cudaGetErrorString(e));
  for (void *p : peers)
    w->peers_.push_back(static_cast<uint8_t *>(p));
  out = std::move(w);
  return Status::ok();
}

NcclWindow::~NcclWindow() {
  if (!h_)
    return;
  Handles &h = *h_;
  // Reverse order of creation; errors here have no one left to report to.
  if (h.devCommCreated)
    ncclDevCommDestroy(h.comm, &h.devComm);
  if (h.window)
    ncclCommWindowDeregister(h.comm, h.window);
  if (h.memory)
    ncclMemFree(h.memory);
  if (h.comm)
    ncclCommDestroy(h.comm);
}

} // namespace mk::cuda
