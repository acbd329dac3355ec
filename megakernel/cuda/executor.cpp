//===- executor.cpp - The CUDA executor: device memory, launches, token ring ==//
//
// Host code (g++ with the CUDA runtime API); the kernel is in kernel.cu. Memory:
//   weights, KV caches   copied to the device at bind, device-resident after
//   step state           mirrored: uploaded before each launch, downloaded after it;
//                        the argmax tokens of each step also reach the host during the
//                        launch through a token ring in mapped pinned memory
//   activations          one zeroed device arena per program
// Every CUDA call is checked; failures become one-line Status errors naming the call.
//===----------------------------------------------------------------------===//
#include "mk/cuda/executor.h"

#include "config.cuh"
#include "device/moe_router_layout.h"
#include "launch.h"
#include "nccl_window.h"

#include "mk/isa/executor_checks.h"

#include "kernels/attention.h"
#include "kernels/rope.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace mk::cuda {

namespace {

Status cudaError(const char *what, cudaError_t e) {
  return Status::error(std::string("cuda: ") + what + ": " + cudaGetErrorString(e) +
                       " (" + cudaGetErrorName(e) + ")");
}

#define MK_CUDA_TRY(call)                                                                \
  do {                                                                                   \
    if (cudaError_t mkErr_ = (call); mkErr_ != cudaSuccess)                              \
      return cudaError(#call, mkErr_);                                                   \
  } while (0)

/// Device memory freed with cudaFree.
struct DeviceBuffer {
  void *ptr = nullptr;
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() {
    if (ptr)
      cudaFree(ptr);
  }
  Status allocate(size_t bytes, const char *what) {
    if (ptr)
      cudaFree(ptr);
    ptr = nullptr;
    if (cudaError_t e = cudaMalloc(&ptr, std::max<size_t>(bytes, 16)); e != cudaSuccess)
      return Status::error(std::string("cuda: cannot allocate ") + std::to_string(bytes) +
                           " bytes of device memory for " + what + ": " +
                           cudaGetErrorString(e));
    return Status::ok();
  }
  template <typename T> T *as() const { return static_cast<T *>(ptr); }
};

/// Pinned host memory mapped into the device's address space, freed with cudaFreeHost.
struct MappedBuffer {
  void *host = nullptr;
  void *device = nullptr;
  size_t bytes = 0;
  ~MappedBuffer() {
    if (host)
      cudaFreeHost(host);
  }
  Status ensure(size_t n) {
    if (n <= bytes)
      return Status::ok();
    if (host)
      cudaFreeHost(host);
    host = device = nullptr;
    bytes = 0;
    MK_CUDA_TRY(cudaHostAlloc(&host, n, cudaHostAllocMapped));
    MK_CUDA_TRY(cudaHostGetDevicePointer(&device, host, 0));
    bytes = n;
    return Status::ok();
  }
};

class CudaExecutor final : public Executor {
public:
  CudaExecutor(const isa::Plan &plan, const CudaOptions &options)
      : plan_(plan), options_(options) {}
  ~CudaExecutor() override {
    if (stream_)
      cudaStreamDestroy(stream_);
  }

  Status init();
  /// Tensor-parallel plans, after every rank's init agreed: the NCCL window over the
  /// comm tensors and the peer table (collective).
  Status initComm();

  const char *backend() const override { return "cuda"; }
  unsigned workers() const override { return grid_; }
  std::string describe() const override {
    return std::string(props_.name) + " (sm_" + std::to_string(props_.major) +
           std::to_string(props_.minor) + ", " +
           std::to_string(props_.multiProcessorCount) +
           " SMs): " + std::to_string(grid_) + " worker CTAs x " +
           std::to_string(kThreads) + " threads";
  }
  Status bind(uint16_t tensor, void *data) override;
  /// Computes every row of the program, whatever `rows` asks (LaunchRows allows it).
  Status launch(uint32_t program, uint64_t steps, std::vector<ProfileRecord> *profile,
                const StepHook &onStep, const LaunchRows &rows) override;
  const void *read(uint16_t tensor) override;
  bool liveStepHook() const override { return false; }
  /// The kernel counts them: each CTA's leader adds every task's static footprint and
  /// late spans (a MoE expert tile's depend on the step's routes, which only the
  /// device sees) and writes its sum when its loop ends; launch() adds the CTAs' sums.
  std::optional<uint64_t> lastLaunchWeightBytes() const override {
    return lastWeightBytes_;
  }

private:
  struct Binding {
    void *host = nullptr; // step state: the caller's mirror
    DeviceBuffer device;
  };
  struct ProgramBuffers {
    DeviceBuffer tasks, order, arena;
    std::vector<uint16_t> argmaxOut; // tokens_out tensor of each argmax task
    uint32_t argmaxTasks = 0;
    uint32_t commSites = 0; // distinct aux[0] of its comm tasks
    uint64_t commBase = 0;  // epochs its earlier launches used (protocol.h)
  };
  Status checkLaunchable(uint32_t program) const;
  Status checkMoeRouters() const;
  Status waitForKernel(uint64_t steps, const isa::Program &program, ProgramBuffers &pb,
                       const StepHook &onStep, uint64_t &delivered);
  void deliverStep(const ProgramBuffers &pb, const isa::Program &program, uint64_t step);
  Status hangError(const isa::Program &program);

  const isa::Plan &plan_;
  CudaOptions options_;
  cudaDeviceProp props_{};
  uint32_t grid_ = 0;
  cudaStream_t stream_ = nullptr;
  std::vector<DeviceTensor> tensors_; // host copy of the device table
  bool tensorsDirty_ = true;
  std::vector<Binding> binds_;
  std::vector<ProgramBuffers> programs_;
  DeviceBuffer dTensors_, dModel_, dState_, dEvents_, dHang_, dStop_;
  DeviceBuffer dProfile_, dProfileCount_, dWeightBytes_;
  DeviceBuffer dPeers_, dShardIndex_;  // CommParams::peers, shardIndex
  std::unique_ptr<NcclWindow> window_; // tensor-parallel plans only
  bool commBroken_ = false;            // a launch with comm sites failed (see launch)
  std::optional<uint64_t> lastWeightBytes_;
  MappedBuffer ring_, ringCount_;
  std::vector<std::vector<uint8_t>> readBuf_;
};

Status CudaExecutor::init() {
  MK_CUDA_TRY(cudaSetDevice(options_.device));
  MK_CUDA_TRY(cudaGetDeviceProperties(&props_, options_.device));
  const isa::TargetDesc *target = isa::findTarget(plan_.target);
  if (options_.checkTarget) {
    if (!target || target->smVersion == 0)
      return Status::error(std::string("plan: compiled for target '") +
                           (target ? target->name : "?") +
                           "', which the CUDA backend does not run; recompile with "
                           "mkc compile --target a100|h100|h200");
    const int sm = props_.major * 10 + props_.minor;
    if (sm < int(target->smVersion) || (target->smVersion >= 90 && props_.major != 9))
      return Status::error(std::string("plan: compiled for ") + target->name + " (sm_" +
                           std::to_string(target->smVersion) + "), but device " +
                           std::to_string(options_.device) + " is " + props_.name +
                           " (sm_" + std::to_string(sm) + "); recompile with --target " +
                           (props_.major == 9 ? "h100" : "a100"));
  }
  if (props_.major < 8)
    return Status::error(std::string("cuda: device ") + props_.name + " is sm_" +
                         std::to_string(props_.major) + std::to_string(props_.minor) +
                         "; mk's CUDA kernel is built for sm_80 and sm_90a");
  // Consumer Ampere/Ada parts (sm_86, sm_89) have 99 KB of shared memory per block,
  // not the A100's 163 KB: say so instead of failing the attribute call.
  if (size_t(megakernelSmemBytes(props_.major)) > props_.sharedMemPerBlockOptin)
    return Status::error(std::string("cuda: device ") + props_.name + " offers " +
                         std::to_string(props_.sharedMemPerBlockOptin) +
                         " bytes of shared memory per block; the megakernel needs " +
                         std::to_string(megakernelSmemBytes(props_.major)) +
                         " (an A100 or H100/H200 class GPU)");
  int perSm = 0;
  if (int e = megakernelOccupancy(props_.major, &perSm); e != 0)
    return cudaError("megakernel occupancy", cudaError_t(e));
  if (perSm < 1)
    return Status::error("cuda: the megakernel does not fit on one SM of " +
                         std::string(props_.name) + " (" +
                         std::to_string(megakernelSmemBytes(props_.major)) +
                         " bytes of shared memory)");
  grid_ = options_.workers ? options_.workers
                           : uint32_t(perSm) * uint32_t(props_.multiProcessorCount);
  MK_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));

  // The tensor table; activations point into their program's arena.
  const size_t n = plan_.tensors.size();
  tensors_.resize(n);
  binds_ = std::vector<Binding>(n);
  readBuf_.resize(n);
  programs_ = std::vector<ProgramBuffers>(plan_.programs.size());
  for (size_t i = 0; i < n; ++i) {
    const isa::TensorDesc &t = plan_.tensors[i];
    DeviceTensor &d = tensors_[i];
    d.data = nullptr;
    d.rank = t.rank;
    d.dtype = t.dtype;
    std::copy(t.shape, t.shape + isa::kMaxRank, d.shape);
  }
  size_t maxEvents = 1;
  for (size_t p = 0; p < plan_.programs.size(); ++p) {
    const isa::Program &program = plan_.programs[p];
    ProgramBuffers &pb = programs_[p];
    const std::string name = "program '" + program.name + "'";
    if (Status s = pb.tasks.allocate(program.tasks.size() * sizeof(isa::TaskRecord),
                                     name.c_str());
        !s)
      return s;
    if (Status s =
            pb.order.allocate(program.order.size() * sizeof(uint32_t), name.c_str());
        !s)
      return s;
    if (Status s = pb.arena.allocate(program.arenaBytes, (name + " activations").c_str());
        !s)
      return s;
    MK_CUDA_TRY(cudaMemcpy(pb.tasks.ptr, program.tasks.data(),
                           program.tasks.size() * sizeof(isa::TaskRecord),
                           cudaMemcpyHostToDevice));
    MK_CUDA_TRY(cudaMemcpy(pb.order.ptr, program.order.data(),
                           program.order.size() * sizeof(uint32_t),
                           cudaMemcpyHostToDevice));
    // Zeroed, like the host executor's arenas.
    MK_CUDA_TRY(cudaMemset(pb.arena.ptr, 0, std::max<uint64_t>(program.arenaBytes, 16)));
    for (const isa::TaskRecord &r : program.tasks) {
      if (r.kind == uint16_t(isa::TaskKind::Argmax)) {
        ++pb.argmaxTasks;
        pb.argmaxOut.push_back(
            r.operand[isa::roleIndex(isa::TaskKind::Argmax, "tokens_out")]);
      }
      // The verifier checked that the sites are 0..sites-1.
      if (isa::isCommKind(r.kind))
        pb.commSites = std::max(pb.commSites, r.aux[0] + 1);
    }
    maxEvents = std::max(maxEvents, program.events.size());
  }
  for (size_t i = 0; i < n; ++i) {
    const isa::TensorDesc &t = plan_.tensors[i];
    if (t.placement == isa::Placement::Activation && t.program < programs_.size())
      tensors_[i].data = programs_[t.program].arena.as<uint8_t>() + t.offset;
  }

  // Model constants: RoPE frequencies from the host executor's own function.
  DeviceModel model{};
  const isa::ModelMeta &m = plan_.model;
  if (m.headDim == 0 || m.headDim > kMaxHeadDim)
    return Status::error("plan: head_dim " + std::to_string(m.headDim) +
                         " is outside the CUDA kernel's range 1.." +
                         std::to_string(kMaxHeadDim));
  model.headDim = m.headDim;
  // One rank's heads: the kernels take the query heads per KV head from their ratio,
  // which differs from the model's when KV heads are replicated over the ranks.
  const isa::RankDims rank = isa::rankDims(m, plan_.tensorParallel);
  model.numHeads = rank.heads;
  model.numKvHeads = rank.kvHeads;
  model.rmsNormEps = m.rmsNormEps;
  model.attnScale = host::kernels::attentionScale(m.headDim);
  model.numExpertsPerTok = m.numExpertsPerTok;
  model.normTopkProb = m.normTopkProb ? 1 : 0;
  if (m.headDim >= 2) {
    host::kernels::ropeInvFreq(m, false, m.headDim, model.invFreq[0]);
    if (m.ropeLlama3)
      host::kernels::ropeInvFreq(m, true, m.headDim, model.invFreq[1]);
  }
  if (Status s = dModel_.allocate(sizeof(DeviceModel), "model constants"); !s)
    return s;
  MK_CUDA_TRY(cudaMemcpy(dModel_.ptr, &model, sizeof model, cudaMemcpyHostToDevice));

  if (Status s = dTensors_.allocate(n * sizeof(DeviceTensor), "the tensor table"); !s)
    return s;
  if (Status s = dState_.allocate(sizeof(protocol::LaunchState), "launch state"); !s)
    return s;
  if (Status s = dEvents_.allocate(maxEvents * sizeof(uint64_t), "events"); !s)
    return s;
  if (Status s = dHang_.allocate(sizeof(HangReport), "the hang report"); !s)
    return s;
  if (Status s = dStop_.allocate(sizeof(uint32_t), "the stop flag"); !s)
    return s;
  if (Status s = dProfileCount_.allocate(sizeof(unsigned long long), "profile count"); !s)
    return s;
  if (Status s = dWeightBytes_.allocate(grid_ * sizeof(uint64_t), "weight byte counts");
      !s)
    return s;
  if (Status s = checkMoeRouters(); !s)
    return s;
  // Each tensor's slice under tensor parallelism (lm_head's vocabulary offset); all
  // zeros on one rank.
  std::vector<uint32_t> shardIndex(n);
  for (size_t i = 0; i < n; ++i)
    shardIndex[i] = plan_.tensors[i].shardIndex(options_.rank);
  if (Status s = dShardIndex_.allocate(n * sizeof(uint32_t), "shard indices"); !s)
    return s;
  MK_CUDA_TRY(cudaMemcpy(dShardIndex_.ptr, shardIndex.data(), n * sizeof(uint32_t),
                         cudaMemcpyHostToDevice));
  if (options_.profile) {
    if (Status s = dProfile_.allocate(
            options_.profileCapacity * sizeof(DeviceProfileRecord), "profile records");
        !s)
      return s;
  }
  if (Status s = ringCount_.ensure(sizeof(uint32_t)); !s)
    return s;
  // The copies above were synchronous on the legacy stream, which stream_ (non-blocking)
  // does not wait for; a pageable cudaMemcpy may return before its DMA lands.
  MK_CUDA_TRY(cudaDeviceSynchronize());
  return Status::ok();
}

Status CudaExecutor::bind(uint16_t id, void *data) {
  if (Status s = isa::checkBindable(plan_, id, data); !s)
    return s;
  MK_CUDA_TRY(cudaSetDevice(options_.device)); // this may be another host thread
  const isa::TensorDesc &t = plan_.tensors[id];
  Binding &b = binds_[id];
  if (Status s = b.device.allocate(t.bytes(), ("tensor '" + t.name + "'").c_str()); !s)
    return s;
  MK_CUDA_TRY(cudaMemcpy(b.device.ptr, data, t.bytes(), cudaMemcpyHostToDevice));
  // A pageable copy may return before its DMA lands, and the kernel's stream does not
  // wait for the legacy stream.
  MK_CUDA_TRY(cudaDeviceSynchronize());
  b.host = t.placement == isa::Placement::StepState ? data : nullptr;
  tensors_[id].data = b.device.ptr;
  tensorsDirty_ = true;
  return Status::ok();
}

/// The comm tensors of every program in one symmetric window (the same layout on every
/// rank: the plan is the same), each at a 256-byte aligned offset; the kernel's peer
/// table holds every rank's address of each.
Status CudaExecutor::initComm() {
  const size_t n = plan_.tensors.size();
  std::vector<uint64_t> offset(n, 0);
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; ++i)
    if (plan_.tensors[i].placement == isa::Placement::Comm) {
      offset[i] = bytes;
      bytes += (plan_.tensors[i].bytes() + 255) & ~uint64_t(255);
    }
  if (Status s = NcclWindow::create(options_.commId, options_.rank, options_.ranks,
                                    size_t(bytes), options_.commPath, window_);
      !s)
    return s;
  // table: [ranks][n] the peers' addresses, then [n] the multicast addresses (null
  // without multimem: the comm tasks then push through the peers').
  const std::vector<uint8_t *> &peers = window_->peers();
  std::vector<void *> table(size_t(options_.ranks + 1) * n, nullptr);
  for (size_t i = 0; i < n; ++i)
    if (plan_.tensors[i].placement == isa::Placement::Comm) {
      for (uint32_t q = 0; q < options_.ranks; ++q)
        table[q * n + i] = peers[q] + offset[i];
      if (window_->multicast())
        table[size_t(options_.ranks) * n + i] = window_->multicast() + offset[i];
      tensors_[i].data = peers[options_.rank] + offset[i];
    }
  tensorsDirty_ = true;
  if (Status s = dPeers_.allocate(table.size() * sizeof(void *), "the peer table"); !s)
    return s;
  MK_CUDA_TRY(cudaMemcpy(dPeers_.ptr, table.data(), table.size() * sizeof(void *),
                         cudaMemcpyHostToDevice));
  return Status::ok();
}

/// Every moe_router task's shared-memory layout fits the task scratch of the device's
/// architecture (device/moe_router_layout.h): a scale per row, the weight rings and at
/// least one row's logits and normalized input.
Status CudaExecutor::checkMoeRouters() const {
  const uint32_t scratch = (props_.major >= 9 ? kSm90 : kSm80).scratchBytes;
  constexpr isa::TaskKind kRouter = isa::TaskKind::MoeRouter;
  for (const isa::Program &program : plan_.programs)
    for (size_t t = 0; t < program.tasks.size(); ++t) {
      const isa::TaskRecord &r = program.tasks[t];
      if (r.kind != uint16_t(kRouter))
        continue;
      const isa::TensorDesc &w = plan_.tensors[r.operand[isa::roleIndex(kRouter, "w")]];
      const isa::TensorDesc &weights =
          plan_.tensors[r.operand[isa::roleIndex(kRouter, "route_weights")]];
      const uint32_t rows = uint32_t(weights.shape[0]), topK = uint32_t(weights.shape[1]);
      const uint32_t experts = uint32_t(w.shape[0]), hidden = uint32_t(w.shape[1]);
      const router::RouterLayout l =
          router::routerLayout(rows, experts, topK, hidden, scratch);
      if (l.blockRows == 0)
        return Status::error(
            "plan: program '" + program.name + "' task " + std::to_string(t) +
            " (moe_router, " + std::to_string(rows) + " rows, " +
            std::to_string(experts) + " experts, hidden " + std::to_string(hidden) +
            ") needs " + std::to_string(l.bytes) +
            " bytes of shared memory; the CUDA kernel's task scratch holds " +
            std::to_string(scratch));
    }
  return Status::ok();
}

Status CudaExecutor::checkLaunchable(uint32_t program) const {
  return isa::checkLaunchable(plan_, program, isa::Executor::Cuda,
                              [&](uint16_t id) { return tensors_[id].data != nullptr; });
}

/// Copies step `step`'s tokens from the ring into the host mirrors of the argmax
/// outputs.
void CudaExecutor::deliverStep(const ProgramBuffers &pb, const isa::Program &program,
                               uint64_t step) {
  const volatile int32_t *ring = static_cast<const volatile int32_t *>(ring_.host);
  for (uint16_t id : pb.argmaxOut) {
    auto *mirror = static_cast<int32_t *>(binds_[id].host);
    if (!mirror)
      continue;
    const int64_t rows = std::min<int64_t>(plan_.tensors[id].shape[0], program.rows);
    for (int64_t r = 0; r < rows; ++r)
      mirror[r] = ring[step * program.rows + r];
  }
}

Status CudaExecutor::hangError(const isa::Program &program) {
  HangReport hang{};
  MK_CUDA_TRY(cudaMemcpy(&hang, dHang_.ptr, sizeof hang, cudaMemcpyDeviceToHost));
  if (!hang.hung)
    return Status::ok();
  if (hang.peer != kNoPeer) {
    const isa::TaskRecord &task = program.tasks[hang.task];
    return Status::error(
        "watchdog: rank " + std::to_string(options_.rank) + ", program '" + program.name +
        "': task " + std::to_string(hang.task) + " (" +
        isa::taskKindName(isa::TaskKind(task.kind)) + ", site " +
        std::to_string(task.aux[0]) + " tile " + std::to_string(task.aux[1]) +
        ") of step " + std::to_string(hang.step) + " waited over " +
        std::to_string(options_.watchdogMs) + " ms for rank " +
        std::to_string(hang.peer) + ": its flag " + std::to_string(hang.flag) +
        " holds epoch " + std::to_string(hang.counter) + ", expected " +
        std::to_string(hang.target));
  }
  // The first wait to outlive the watchdog records itself and stops the launch.
  isa::StuckWorker stuck{hang.worker, hang.task,    hang.step,
                         hang.wait,   hang.counter, hang.target};
  return Status::error(isa::watchdogMessage(
      program, "a wait lasted over " + std::to_string(options_.watchdogMs) + " ms",
      {&stuck, 1}));
}

Status CudaExecutor::waitForKernel(uint64_t steps, const isa::Program &program,
                                   ProgramBuffers &pb, const StepHook &onStep,
                                   uint64_t &delivered) {
  // Poll the ring while the kernel runs: each completed step's tokens go to the host
  // mirrors and to the hook as soon as the device publishes them.
  auto *count = static_cast<uint32_t *>(ringCount_.host);
  for (;;) {
    cudaError_t q = cudaStreamQuery(stream_);
    if (onStep && pb.argmaxTasks) {
      const uint64_t done =
          std::atomic_ref<uint32_t>(*count).load(std::memory_order_acquire) /
          pb.argmaxTasks;
      // The last step is delivered after the download (below), so that a hook sees
      // the same state it would see on the host executor.
      while (delivered < std::min<uint64_t>(done, steps - 1)) {
        deliverStep(pb, program, delivered);
        onStep(delivered++);
      }
    }
    if (q == cudaSuccess)
      return Status::ok();
    if (q != cudaErrorNotReady)
      return cudaError("megakernel", q);
    std::this_thread::sleep_for(std::chrono::microseconds(onStep ? 10 : 50));
  }
}

Status CudaExecutor::launch(uint32_t programIndex, uint64_t steps,
                            std::vector<ProfileRecord> *profile, const StepHook &onStep,
                            const LaunchRows &) {
  if (Status s = checkLaunchable(programIndex); !s)
    return s;
  const isa::Program &program = plan_.programs[programIndex];
  ProgramBuffers &pb = programs_[programIndex];
  const uint32_t numTasks = program.tasks.size();
  const bool recording = options_.profile && profile;
  if (profile && !recording)
    profile->clear(); // no records without CudaOptions::profile
  // Unknown until a launch completes.
  lastWeightBytes_ = std::nullopt;
  if (numTasks == 0 || steps == 0) {
    lastWeightBytes_ = 0;
    return Status::ok();
  }
  MK_CUDA_TRY(cudaSetDevice(options_.device)); // this may be another host thread

  // Step state up, the tensor table if a bind changed it, fresh counters.
  for (size_t i = 0; i < binds_.size(); ++i)
    if (binds_[i].host)
      MK_CUDA_TRY(cudaMemcpyAsync(binds_[i].device.ptr, binds_[i].host,
                                  plan_.tensors[i].bytes(), cudaMemcpyHostToDevice,
                                  stream_));
  if (tensorsDirty_) {
    MK_CUDA_TRY(cudaMemcpyAsync(dTensors_.ptr, tensors_.data(),
                                tensors_.size() * sizeof(DeviceTensor),
                                cudaMemcpyHostToDevice, stream_));
    tensorsDirty_ = false;
  }
  const protocol::LaunchState state{0, dEvents_.as<uint64_t>()};
  MK_CUDA_TRY(cudaMemcpyAsync(dState_.ptr, &state, sizeof state, cudaMemcpyHostToDevice,
                              stream_));
  MK_CUDA_TRY(cudaMemsetAsync(
      dEvents_.ptr, 0, std::max<size_t>(program.events.size(), 1) * sizeof(uint64_t),
      stream_));
  MK_CUDA_TRY(cudaMemsetAsync(dHang_.ptr, 0, sizeof(HangReport), stream_));
  MK_CUDA_TRY(cudaMemsetAsync(dStop_.ptr, 0, sizeof(uint32_t), stream_));
  MK_CUDA_TRY(
      cudaMemsetAsync(dProfileCount_.ptr, 0, sizeof(unsigned long long), stream_));
  const bool ring = onStep && pb.argmaxTasks > 0;
  if (ring) {
    if (Status s = ring_.ensure(steps * program.rows * sizeof(int32_t)); !s)
      return s;
    std::memset(ring_.host, 0, steps * program.rows * sizeof(int32_t));
    *static_cast<uint32_t *>(ringCount_.host) = 0;
  }
  // The copies above are ordered before the kernel on the stream; the memsets of
  // mapped memory are plain host writes, done before the launch call.
  std::atomic_thread_fence(std::memory_order_seq_cst);

  KernelParams params{};
  params.tasks = pb.tasks.as<isa::TaskRecord>();
  params.order = pb.order.as<uint32_t>();
  params.numTasks = numTasks;
  params.numSteps = steps;
  params.state = dState_.as<protocol::LaunchState>();
  params.tensors = dTensors_.as<DeviceTensor>();
  params.model = dModel_.as<DeviceModel>();
  params.isDecode = program.kind == isa::ProgramKind::Decode;
  params.lookahead = options_.lookahead;
  if (recording) {
    params.profile = dProfile_.as<DeviceProfileRecord>();
    params.profileCapacity = options_.profileCapacity;
  }
  params.profileCount = dProfileCount_.as<unsigned long long>();
  if (ring) {
    params.ring = static_cast<int32_t *>(ring_.device);
    params.ringRows = program.rows;
    params.ringCount = static_cast<uint32_t *>(ringCount_.device);
  }
  params.watchdogNs = options_.watchdogMs * 1'000'000ull;
  params.hang = dHang_.as<HangReport>();
  params.stop = dStop_.as<uint32_t>();
  params.weightBytes = dWeightBytes_.as<uint64_t>();
  params.comm.rank = options_.rank;
  params.comm.ranks = options_.ranks;
  params.comm.base = pb.commBase;
  params.comm.sites = pb.commSites;
  params.comm.numTensors = uint32_t(tensors_.size());
  params.comm.peers = dPeers_.as<void *const>();
  params.comm.multicast =
      dPeers_.ptr ? params.comm.peers + size_t(options_.ranks) * tensors_.size()
                  : nullptr;
  params.comm.shardIndex = dShardIndex_.as<const uint32_t>();
  // Every rank runs the same launches, so every rank advances the same way; a failed
  // launch leaves the ranks' epochs apart, and the executor refuses to go on.
  if (commBroken_)
    return Status::error("cuda: an earlier launch of this tensor-parallel rank failed; "
                         "the ranks' comm epochs no longer agree");
  commBroken_ = pb.commSites > 0;
  if (int e = launchMegakernel(params, grid_, props_.major, stream_); e != 0)
    return cudaError("megakernel launch", cudaError_t(e));

  uint64_t delivered = 0;
  if (Status s = waitForKernel(steps, program, pb, onStep, delivered); !s)
    return s;
  if (Status s = hangError(program); !s)
    return s;

  std::vector<uint64_t> ctaBytes(grid_);
  MK_CUDA_TRY(cudaMemcpy(ctaBytes.data(), dWeightBytes_.ptr, grid_ * sizeof(uint64_t),
                         cudaMemcpyDeviceToHost));
  uint64_t weightBytes = 0;
  for (uint64_t b : ctaBytes)
    weightBytes += b;

  // Step state down (tokens, and anything else the program wrote).
  for (size_t i = 0; i < binds_.size(); ++i)
    if (binds_[i].host)
      MK_CUDA_TRY(cudaMemcpy(binds_[i].host, binds_[i].device.ptr,
                             plan_.tensors[i].bytes(), cudaMemcpyDeviceToHost));
  if (onStep) {
    // Steps the poll did not deliver (at least the last one), from the ring (the last
    // step's entry equals the download).
    for (; delivered < steps; ++delivered) {
      if (ring)
        deliverStep(pb, program, delivered);
      onStep(delivered);
    }
  }

  if (recording) {
    unsigned long long count = 0;
    MK_CUDA_TRY(
        cudaMemcpy(&count, dProfileCount_.ptr, sizeof count, cudaMemcpyDeviceToHost));
    count = std::min<unsigned long long>(count, options_.profileCapacity);
    std::vector<DeviceProfileRecord> raw(count);
    MK_CUDA_TRY(cudaMemcpy(raw.data(), dProfile_.ptr, count * sizeof(DeviceProfileRecord),
                           cudaMemcpyDeviceToHost));
    uint64_t base = UINT64_MAX;
    for (const DeviceProfileRecord &r : raw)
      base = std::min(base, r.claimNs);
    profile->clear();
    profile->reserve(count);
    for (const DeviceProfileRecord &r : raw)
      profile->push_back({r.task, r.worker, r.step, r.claimNs - base, r.readyNs - base,
                          r.doneNs - base, r.expert});
    std::sort(profile->begin(), profile->end(),
              [](const ProfileRecord &a, const ProfileRecord &b) {
                return a.claimNs < b.claimNs;
              });
  }
  lastWeightBytes_ = weightBytes;
  pb.commBase += steps * pb.commSites;
  commBroken_ = false;
  return Status::ok();
}

const void *CudaExecutor::read(uint16_t id) {
  if (id >= plan_.tensors.size() || !tensors_[id].data)
    return nullptr;
  if (cudaSetDevice(options_.device) != cudaSuccess)
    return nullptr;
  if (binds_[id].host)
    return binds_[id].host;
  std::vector<uint8_t> &buf = readBuf_[id];
  buf.resize(plan_.tensors[id].bytes());
  if (cudaMemcpy(buf.data(), tensors_[id].data, buf.size(), cudaMemcpyDeviceToHost) !=
      cudaSuccess)
    return nullptr;
  return buf.data();
}

} // namespace

bool built() { return true; }

Status probeDevice(int device, std::string *name, int *smVersion) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorInsufficientDriver) {
    // The runtime says this both when the driver is too old and when there is none.
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!driver)
      return Status::error("cuda: no CUDA driver on this machine (libcuda.so.1 not "
                           "found); use --backend host");
    dlclose(driver);
    return Status::error("cuda: the CUDA driver is older than this build's CUDA " +
                         std::to_string(CUDART_VERSION / 1000) +
                         " runtime; update the driver or use --backend host");
  }
  if (e == cudaErrorNoDevice || e == cudaErrorInitializationError ||
      e == cudaErrorSystemDriverMismatch || e == cudaErrorCompatNotSupportedOnDevice)
    return Status::error(std::string("cuda: no usable CUDA device (") +
                         cudaGetErrorString(e) + "); use --backend host");
  if (e != cudaSuccess)
    return cudaError("cudaGetDeviceCount", e);
  if (count == 0)
    return Status::error("cuda: no CUDA device found; use --backend host");
  if (device < 0 || device >= count)
    return Status::error("cuda: device " + std::to_string(device) + " does not exist (" +
                         std::to_string(count) + " device" + (count == 1 ? "" : "s") +
                         ")");
  cudaDeviceProp props{};
  MK_CUDA_TRY(cudaGetDeviceProperties(&props, device));
  if (name)
    *name = props.name;
  if (smVersion)
    *smVersion = props.major * 10 + props.minor;
  return Status::ok();
}

bool deviceAvailable(int device) { return bool(probeDevice(device)); }

namespace {
/// The options' ranks against the plan's.
Status checkRanks(const isa::Plan &plan, const CudaOptions &options) {
  if (options.ranks != plan.tensorParallel)
    return Status::error(
        "plan: tensor-parallel over " + std::to_string(plan.tensorParallel) + " rank" +
        (plan.tensorParallel == 1 ? "" : "s") + ", but " + std::to_string(options.ranks) +
        " rank" + (options.ranks == 1 ? " runs" : "s run") + " it");
  if (options.rank >= options.ranks)
    return Status::error("cuda: rank " + std::to_string(options.rank) + " of " +
                         std::to_string(options.ranks) + " does not exist");
  if (plan.tensorParallel > 1 && !tensorParallelBuilt())
    return Status::error("cuda: this mk was built without NCCL >= 2.28 (its device API), "
                         "which tensor-parallel plans need on --backend cuda");
  return Status::ok();
}

/// options.commPath, where MK_CUDA_COMM (auto, lsa, multimem) overrides Auto.
Status resolveCommPath(CudaOptions &options) {
  const char *env = std::getenv("MK_CUDA_COMM");
  if (options.commPath != CommPath::Auto || !env || !*env)
    return Status::ok();
  const std::string value = env;
  if (value == "lsa")
    options.commPath = CommPath::Lsa;
  else if (value == "multimem")
    options.commPath = CommPath::Multimem;
  else if (value != "auto")
    return Status::error("MK_CUDA_COMM: '" + value + "' is not auto, lsa or multimem");
  return Status::ok();
}
} // namespace

Status createExecutor(const isa::Plan &plan, const CudaOptions &options,
                      std::unique_ptr<Executor> &out) {
  // Everything local first; a tensor-parallel plan's ranks then agree before NCCL, so
  // no rank waits in ncclCommInitRank for a peer that already failed.
  std::unique_ptr<CudaExecutor> executor;
  CudaOptions resolved = options;
  Status s = checkRanks(plan, options);
  if (s)
    s = resolveCommPath(resolved);
  if (s)
    s = probeDevice(options.device);
  if (s) {
    executor = std::make_unique<CudaExecutor>(plan, resolved);
    s = executor->init();
  }
  if (plan.tensorParallel > 1 && options.agree)
    s = options.agree(s);
  if (!s)
    return s;
  if (plan.tensorParallel > 1)
    if (Status c = executor->initComm(); !c)
      return c;
  out = std::move(executor);
  return Status::ok();
}

} // namespace mk::cuda
