//===- nccl_window.cu - NCCL symmetric memory for the comm tensors ----------===//
//
// See nccl_window.h. Built only with NCCL >= 2.28 (MK_HAVE_NCCL): its device API
// (nccl_device.h) is what maps the peers' windows into this GPU's address space.
//===----------------------------------------------------------------------===//
#include "nccl_window.h"

#include <cuda.h>
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

/// mc[0] = the window's multicast address (null without one).
__global__ void lsaMultimemPointer(ncclWindow_t window, ncclDevComm comm, void **mc) {
  mc[0] = ncclGetLsaMultimemPointer(window, 0, comm);
}

/// Whether `device` supports multicast objects (NVLink SHARP), through the driver
/// entry point: the runtime names no attribute for it, and mk links no libcuda.
Status multicastSupported(int device, bool &out) {
  void *fn = nullptr;
  cudaDriverEntryPointQueryResult found{};
  MK_CUDA_TRY(cudaGetDriverEntryPointByVersion("cuDeviceGetAttribute", &fn, 12000,
                                               cudaEnableDefault, &found));
  if (found != cudaDriverEntryPointSuccess || !fn)
    return Status::error("cuda: the driver has no cuDeviceGetAttribute");
  int value = 0;
  auto get = reinterpret_cast<CUresult (*)(int *, CUdevice_attribute, CUdevice)>(fn);
  if (CUresult r = get(&value, CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED, device);
      r != CUDA_SUCCESS)
    return Status::error("cuda: cuDeviceGetAttribute(MULTICAST_SUPPORTED) failed with " +
                         std::to_string(int(r)));
  out = value != 0;
  return Status::ok();
}

/// Collective: whether every rank asks for multimem (`mine`): the minimum over the
/// ranks, so every rank passes the same requirements to ncclDevCommCreate.
Status everyRank(ncclComm_t comm, bool mine, bool &all) {
  int *flag = nullptr;
  MK_CUDA_TRY(cudaMalloc(&flag, sizeof(int)));
  const int value = mine ? 1 : 0;
  int result = 0;
  cudaError_t e = cudaMemcpy(flag, &value, sizeof value, cudaMemcpyHostToDevice);
  ncclResult_t n = ncclSuccess;
  if (e == cudaSuccess)
    n = ncclAllReduce(flag, flag, 1, ncclInt32, ncclMin, comm, cudaStreamLegacy);
  if (e == cudaSuccess && n == ncclSuccess)
    e = cudaMemcpy(&result, flag, sizeof result, cudaMemcpyDeviceToHost);
  cudaFree(flag);
  if (n != ncclSuccess)
    return ncclError("ncclAllReduce (do all ranks support multimem)", n, comm);
  if (e != cudaSuccess)
    return Status::error(std::string("cuda: agreeing on multimem: ") +
                         cudaGetErrorString(e));
  all = result != 0;
  return Status::ok();
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
                          size_t bytes, CommPath path, std::unique_ptr<NcclWindow> &out) {
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

  // Multimem only where every rank can: the requirements must be the same on every
  // rank (ncclDevCommCreate is collective), and a device without multicast would make
  // NCCL fail it rather than give no multicast address.
  bool multimem = false;
  if (path != CommPath::Lsa) {
    int device = 0;
    MK_CUDA_TRY(cudaGetDevice(&device));
    bool mine = false;
    if (Status s = multicastSupported(device, mine); !s)
      return s;
    if (Status s = everyRank(h.comm, mine, multimem); !s)
      return s;
    if (path == CommPath::Multimem && !multimem)
      return Status::error(
          std::string("nccl: multimem was asked for (MK_CUDA_COMM=multimem or "
                      "CommPath::Multimem) but ") +
          (mine ? "another rank's device" : "device " + std::to_string(device)) +
          " does not support multicast (NVLink SHARP)");
  }

  // Zero-initialized: fields NCCL adds in later versions keep their defaults.
  ncclDevCommRequirements requirements;
  std::memset(&requirements, 0, sizeof requirements);
  requirements.lsaMultimem = multimem;
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
  // table[0, ranks): the peers' LSA addresses; table[ranks]: the multicast address.
  // NCCL reports a window without one by a null multicast base in the devcomm.
  const bool multicast = multimem && h.devComm.lsaMultimem.mcBasePtr != nullptr;
  void **table = nullptr;
  MK_CUDA_TRY(cudaMalloc(&table, (ranks + 1) * sizeof(void *)));
  lsaPointers<<<1, 32>>>(h.window, lsa, table);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess && multicast) {
    lsaMultimemPointer<<<1, 1>>>(h.window, h.devComm, table + ranks);
    e = cudaGetLastError();
  }
  std::vector<void *> pointers(ranks + 1, nullptr);
  if (e == cudaSuccess)
    e = cudaMemcpy(pointers.data(), table,
                   (multicast ? ranks + 1 : ranks) * sizeof(void *),
                   cudaMemcpyDeviceToHost);
  cudaFree(table);
  if (e != cudaSuccess)
    return Status::error(std::string("cuda: reading the peers' window addresses: ") +
                         cudaGetErrorString(e));
  for (uint32_t q = 0; q < ranks; ++q)
    w->peers_.push_back(static_cast<uint8_t *>(pointers[q]));
  w->multicast_ = static_cast<uint8_t *>(pointers[ranks]);
  if (path == CommPath::Multimem && !w->multicast_)
    return Status::error("nccl: multimem was asked for but NCCL gave the window no "
                         "multicast address");
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
