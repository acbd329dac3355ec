//===- attention.h - Softmax attention of a query group over cache slots ----===//
//
// Shared by attn_decode (one KV split) and attn_prefill (one causal row). For each
// query head h of the group:
//   s_j = (q_h . k_j) * scale           fp32 dot (dot.h's contract), j in key order
//   m = max_j s_j,  p_j = exp(s_j - m),  l = sum_j p_j     (fp32, in key order)
//   o_h[d] = fma(p_j, v_j[d], o_h[d])   from 0, for j in key order (weightedRowSum)
//   o_h[d] = o_h[d] / l,  lse_h = m + log(l)
// No key: o_h = 0, lse_h = -inf. Probabilities stay fp32 (not rounded to bf16 before
// the P.V product).
//===----------------------------------------------------------------------===//
#pragma once

#include "mk/host/bf16.h"

#include <cstdint>
#include <vector>

namespace mk::host::kernels {

/// One KV head of a paged cache: [blocks, block_size, kv_heads, head_dim] bf16.
struct KvHeadView {
  const bf16 *k;
  const bf16 *v;
  int64_t kvHeads;
  int64_t head; // the KV head g
  uint32_t hd;

  const bf16 *key(int64_t slot) const { return k + (slot * kvHeads + head) * hd; }
  const bf16 *value(int64_t slot) const { return v + (slot * kvHeads + head) * hd; }
};

/// q: [numHeads, hd] bf16 (a group's heads, contiguous); slots: [n] cache slots in key
/// order; o: [numHeads, hd] f32; lse: [numHeads] f32 (may be null). `scratch` holds
/// the scores (resized as needed, reuse it across calls).
void attendSlots(const bf16 *q, uint32_t numHeads, const KvHeadView &cache,
                 const int64_t *slots, int64_t n, float scale, float *o, float *lse,
                 std::vector<float> &scratch);

/// 1 / sqrt(head_dim), the softmax scale of every supported family.
float attentionScale(uint32_t hd);

} // namespace mk::host::kernels
