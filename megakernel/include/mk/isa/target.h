//===- target.h - Target descriptions the compiler tiles for --------------===//
//
// The compiler sizes tiles from these numbers; nothing else in mk hard-codes an SM
// count or a bandwidth. The runtime reads the real limits from the device and checks
// them against the plan's target.
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string_view>

namespace mk::isa {

enum class TargetKind : uint32_t { Host = 0, A100 = 1, H100 = 2, H200 = 3 };

struct TargetDesc {
  TargetKind kind;
  const char *name;
  uint32_t workers;       // persistent workers: SMs, or host threads for planning
  uint32_t smemPerWorker; // bytes of shared memory a worker may use
  double memBandwidthGBs; // DRAM bandwidth, GB/s
  double tflopsBf16;      // dense bf16 tensor-core peak, TFLOP/s
  uint32_t smVersion;     // 80, 90, or 0 for host
};

// Public datasheet numbers (SXM parts). `host` plans for 16 workers; the host executor
// runs any plan with any worker count, this only sets how finely the work is split.
inline constexpr TargetDesc kTargets[] = {
    {TargetKind::Host, "host", 16, 1u << 20, 50.0, 1.0, 0},
    {TargetKind::A100, "a100", 108, 227u * 1024, 2039.0, 312.0, 80},
    {TargetKind::H100, "h100", 132, 227u * 1024, 3350.0, 989.0, 90},
    {TargetKind::H200, "h200", 132, 227u * 1024, 4800.0, 989.0, 90},
};

inline const TargetDesc *findTarget(std::string_view name) {
  for (const TargetDesc &t : kTargets)
    if (name == t.name)
      return &t;
  return nullptr;
}

inline const TargetDesc *findTarget(TargetKind kind) {
  for (const TargetDesc &t : kTargets)
    if (t.kind == kind)
      return &t;
  return nullptr;
}

} // namespace mk::isa
