//===- mma.cuh - bf16 tensor-core tile products with 16-byte operand loads -===//
//
// One warp computes d[16 x 8] += a[16 x 16] * b[16 x 8] in fp32 with
//   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// (sm_80 and later; the same instruction on sm_90a). Fragments (PTX ISA; lane =
// 4 * group + quad; a register holds two bf16, the lower k in the low half):
//   a[0]: row group,     k 2 quad + {0, 1}       a[1]: row group + 8, k 2 quad + {0, 1}
//   a[2]: row group,     k 2 quad + 8 + {0, 1}   a[3]: row group + 8, k 2 quad + 8 + {0,
//   1} b[0]: k 2 quad + {0, 1}, column group        b[1]: k 2 quad + 8 + {0, 1}, column
//   group d[0], d[1]: row group, columns 2 quad + {0, 1};   d[2], d[3]: row group + 8,
//   same
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <vector_types.h>

namespace mk::cuda {

/// d += a * b over one m16n8k16 tile (fragments as in the file comment).
__device__ __forceinline__ void mmaM16N8K16(float (&d)[4], uint32_t a0, uint32_t a1,
                                            uint32_t a2, uint32_t a3, uint32_t b0,
                                            uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

/// d += a * b over a 32-wide k step whose operands each lane loads with one 16-byte load
/// per row: a dot product may visit k in any order as long as both operands use the same
/// one, so lane (group, quad) holds the 8 consecutive k [8 quad, 8 quad + 8) of
///   aLo: A row group,   aHi: A row group + 8,   b: B column group (W row group),
/// and k16 half h of the step reads words 2h (as k 2 quad + {0, 1}) and 2h + 1 (as
/// k 2 quad + 8 + {0, 1}) of each. The two halves accumulate in order h = 0, 1.
__device__ __forceinline__ void mmaK32(float (&d)[4], const uint4 &aLo, const uint4 &aHi,
                                       const uint4 &b) {
  mmaM16N8K16(d, aLo.x, aHi.x, aLo.y, aHi.y, b.x, b.y);
  mmaM16N8K16(d, aLo.z, aHi.z, aLo.w, aHi.w, b.z, b.w);
}

} // namespace mk::cuda
