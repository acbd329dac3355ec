//===- bf16.h - bfloat16 storage type and conversions for the host executor ===//
//
// bf16 is the upper half of an IEEE binary32. Conversions from float round to nearest,
// ties to even (what torch's .to(torch.bfloat16) and CUDA's __float2bfloat16_rn do);
// NaN stays NaN (quietened), overflow rounds to +-inf.
//===----------------------------------------------------------------------===//
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace mk::host {

/// One bfloat16 value, by its bits. A struct, not a uint16_t alias, so bf16 data is
/// never mistaken for integers; layout-compatible with uint16_t.
struct bf16 {
  uint16_t bits;
};
static_assert(sizeof(bf16) == 2 && alignof(bf16) == 2);
static_assert(std::is_trivially_copyable_v<bf16> && std::is_standard_layout_v<bf16>);

constexpr float bf16ToFloat(bf16 v) {
  return std::bit_cast<float>(static_cast<uint32_t>(v.bits) << 16);
}

/// Round to nearest even; NaN -> quiet NaN with the same sign and top payload bits.
constexpr bf16 floatToBf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u)
    return bf16{static_cast<uint16_t>((u >> 16) | 0x0040u)};
  u += 0x7FFFu + ((u >> 16) & 1u);
  return bf16{static_cast<uint16_t>(u >> 16)};
}

/// The float nearest to f that a bf16 can hold (round to nearest even).
constexpr float roundToBf16(float f) { return bf16ToFloat(floatToBf16(f)); }

static_assert(floatToBf16(1.0f).bits == 0x3F80);
static_assert(floatToBf16(1.00390625f).bits == 0x3F80); // tie -> even (down)
static_assert(floatToBf16(1.01171875f).bits == 0x3F82); // tie -> even (up)
static_assert(floatToBf16(-0.0f).bits == 0x8000);
static_assert(floatToBf16(3.4028235e38f).bits == 0x7F80); // overflow -> +inf

} // namespace mk::host
