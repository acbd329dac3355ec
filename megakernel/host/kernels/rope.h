//===- rope.h - Rotary position embedding (HF conventions) -----------------===//
//
// Frequencies: inv_freq[i] = theta^(-2i/hd), i < hd/2, evaluated in double and rounded
// to fp32 (transformers computes it with fp32 pow, within an ulp of this); with
// kFlagRopeLlama3 rescaled as transformers' _compute_llama3_parameters does.
// Angles follow HF exactly: angle = fp32(pos) * inv_freq in fp32 (HF's fp32 matmul of
// inv_freq and position ids), so large positions see the same angle rounding the model
// was run with. cos/sin of that fp32 angle are evaluated in double and rounded to fp32.
// The rotation is computed in fp32 from bf16 inputs and rounded once to bf16 (HF casts
// cos/sin to bf16 and rounds each product; rounding once is more accurate and within
// the executors' tolerance).
//   rotate-half (default): pairs (i, i + hd/2); interleaved: pairs (2i, 2i + 1);
//   (a, b) -> (fma(a, cos, -(b sin)), fma(b, cos, a sin)), each product b sin and
//   a sin rounded to fp32 first.
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/isa/plan.h"

#include <cstdint>
#include <vector>

namespace mk::host::kernels {

/// invFreq: [hd / 2] f32. `llama3` applies the llama3 scaling of `model`.
void ropeInvFreq(const isa::ModelMeta &model, bool llama3, uint32_t hd, float *invFreq);

/// cos and sin of one position's angles, [hd / 2] f32 each.
struct RopeAngles {
  const float *cos;
  const float *sin;
};

/// A thread's RoPE tables for one (model, llama3, hd): the frequencies computed once,
/// the angles of recently used positions kept (direct-mapped by position). Every
/// task of a step rotates its heads at the same positions, so the pow, cos and sin
/// run once per position and thread instead of once per head. Same values as
/// computing them each time.
class RopeTable {
public:
  /// This thread's table for (model, llama3, hd), rebuilt when they change.
  static RopeTable &forThread(const isa::ModelMeta &model, bool llama3, uint32_t hd);

  RopeAngles angles(int64_t pos);

private:
  static constexpr size_t kSlots = 256;
  bool matches(const isa::ModelMeta &model, bool llama3, uint32_t hd) const;
  void reset(const isa::ModelMeta &model, bool llama3, uint32_t hd);

  isa::ModelMeta model_{};
  bool llama3_ = false;
  uint32_t hd_ = 0;
  std::vector<float> invFreq_;
  std::vector<int64_t> slotPos_; // [kSlots]: the position slot s holds, or -1
  std::vector<float> cosSin_;    // [kSlots][2][hd / 2]
};

/// Rotates one head in place. x: [hd] bf16-valued floats -> bf16-valued floats.
void applyRope(float *x, RopeAngles angles, uint32_t hd, bool interleaved);

} // namespace mk::host::kernels
