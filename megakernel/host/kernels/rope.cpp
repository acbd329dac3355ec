//===- rope.cpp - Rotary position embedding (HF conventions) ---------------===//
#include "kernels/rope.h"

#include "mk/host/bf16.h"

#include <cmath>
#include <numbers>

namespace mk::host::kernels {

void ropeInvFreq(const isa::ModelMeta &model, bool llama3, uint32_t hd, float *invFreq) {
  const double theta = model.ropeTheta;
  for (uint32_t i = 0; i < hd / 2; ++i) {
    const double exponent = static_cast<double>(2 * i) / static_cast<double>(hd);
    double inv = 1.0 / std::pow(theta, exponent);
    if (llama3) {
      // transformers.modeling_rope_utils._compute_llama3_parameters.
      const double factor = model.ropeFactor, low = model.ropeLowFreqFactor,
                   high = model.ropeHighFreqFactor;
      const double oldContext = model.ropeOriginalMaxPos;
      const double lowFreqWavelen = oldContext / low, highFreqWavelen = oldContext / high;
      const double wavelen = 2.0 * std::numbers::pi / inv;
      if (wavelen > lowFreqWavelen) {
        inv = inv / factor;
      } else if (!(wavelen < highFreqWavelen) && high != low) {
        const double smooth = (oldContext / wavelen - low) / (high - low);
        inv = (1.0 - smooth) * inv / factor + smooth * inv;
      }
    }
    invFreq[i] = static_cast<float>(inv);
  }
}

bool RopeTable::matches(const isa::ModelMeta &model, bool llama3, uint32_t hd) const {
  return hd == hd_ && llama3 == llama3_ && model.ropeTheta == model_.ropeTheta &&
         (!llama3 || (model.ropeFactor == model_.ropeFactor &&
                      model.ropeLowFreqFactor == model_.ropeLowFreqFactor &&
                      model.ropeHighFreqFactor == model_.ropeHighFreqFactor &&
                      model.ropeOriginalMaxPos == model_.ropeOriginalMaxPos));
}

void RopeTable::reset(const isa::ModelMeta &model, bool llama3, uint32_t hd) {
  model_ = model;
  llama3_ = llama3;
  hd_ = hd;
  invFreq_.assign(hd / 2, 0.0f);
  ropeInvFreq(model, llama3, hd, invFreq_.data());
  slotPos_.assign(kSlots, -1);
  cosSin_.assign(kSlots * hd, 0.0f);
}

RopeTable &RopeTable::forThread(const isa::ModelMeta &model, bool llama3, uint32_t hd) {
  thread_local RopeTable table;
  if (table.hd_ == 0 || !table.matches(model, llama3, hd))
    table.reset(model, llama3, hd);
  return table;
}

RopeAngles RopeTable::angles(int64_t pos) {
  const uint32_t half = hd_ / 2;
  const size_t slot = size_t(pos) % kSlots;
  float *c = cosSin_.data() + slot * hd_, *s = c + half;
  if (slotPos_[slot] != pos) {
    const float p = static_cast<float>(pos);
    for (uint32_t i = 0; i < half; ++i) {
      const float angle = p * invFreq_[i];
      c[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      s[i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
    slotPos_[slot] = pos;
  }
  return {c, s};
}

void applyRope(float *x, RopeAngles angles, uint32_t hd, bool interleaved) {
  const uint32_t half = hd / 2;
  for (uint32_t i = 0; i < half; ++i) {
    const float c = angles.cos[i], s = angles.sin[i];
    float &a = interleaved ? x[2 * i] : x[i];
    float &b = interleaved ? x[2 * i + 1] : x[i + half];
    const float ra = std::fma(a, c, -(b * s));
    const float rb = std::fma(b, c, a * s);
    a = roundToBf16(ra);
    b = roundToBf16(rb);
  }
}

} // namespace mk::host::kernels
