//===- nccl_window.h - A rank's symmetric memory and its peers' addresses ---===//
//
// One NcclWindow per CUDA executor of a tensor-parallel plan:
//   ncclCommInitRank         the ranks' communicator (every rank, same CommId)
//   ncclMemAlloc             `bytes` of this rank's comm memory, zeroed
//   ncclCommWindowRegister   registered as one NCCL_WIN_COLL_SYMMETRIC window
//   ncclDevCommCreate        the device communicator (requirements zero-initialized:
//                            the struct grows between NCCL versions)
//   ncclGetLsaPointer        every rank's copy of the window as this GPU addresses it
//                            (load/store access over NVLink or PCIe P2P), read once by a
//                            one-thread kernel: the megakernel then takes plain pointers
//                            from a table and needs no NCCL code
//   ncclGetLsaMultimemPointer  with multimem (the requirements' lsaMultimem, asked for
//                            only when every rank's device supports multicast: an
//                            ncclAllReduce(min) of the ranks' answers first), the
//                            window's multicast address: one multimem.st there lands
//                            in every rank's copy
// Every call is checked; a failure is one line naming the call (and NCCL's last error).
// Teardown (window deregistration, devcomm and communicator destruction) may wait for
// the peers: every rank destroys its window, concurrently (one process per rank does;
// ranks that are threads of one process must destroy theirs on their own threads).
// Plain C++ (compiled by g++ in executor.cpp); the NCCL code is in nccl_window.cu.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/cuda/executor.h"
#include "mk/isa/status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mk::cuda {

class NcclWindow {
public:
  /// Collective over the `ranks` ranks (each calls it once with the same id and bytes).
  /// The caller has made `rank`'s device current.
  static Status create(const CommId &id, uint32_t rank, uint32_t ranks, size_t bytes,
                       CommPath path, std::unique_ptr<NcclWindow> &out);
  ~NcclWindow();
  NcclWindow(const NcclWindow &) = delete;
  NcclWindow &operator=(const NcclWindow &) = delete;

  /// [ranks]: rank q's copy (`bytes` long, zeroed before any rank could write it) as
  /// this GPU addresses it. This rank's own entry too is its LSA address: stores and
  /// loads of a rank's copy on this GPU all go through that one alias.
  const std::vector<uint8_t *> &peers() const { return peers_; }
  /// The window's multicast address (a store there reaches every rank's copy at the
  /// same offset), or null: CommPath::Lsa, no multicast on some rank's device, or NCCL
  /// gave none.
  uint8_t *multicast() const { return multicast_; }

private:
  NcclWindow() = default;
  struct Handles; // NCCL types stay in nccl_window.cu
  std::unique_ptr<Handles> h_;
  std::vector<uint8_t *> peers_;
  uint8_t *multicast_ = nullptr;
};

} // namespace mk::cuda
