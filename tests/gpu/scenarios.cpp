//===- scenarios.cpp - Scenarios more than one GPU test file runs ----------===//
#include "scenarios.h"

#include "moe_fixture.h"

#include "kernels/dot.h"
#include "kernels/rms_norm.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

namespace mk::cuda::test {

Scenario projection(isa::TaskKind kind, const Shape &sh) {
  isa::ModelMeta model = testModel(4, 2, 16, uint32_t(sh.k));
  if (kind == isa::TaskKind::LmHead)
    model.vocabSize = uint32_t(sh.n);
  Scenario s(model);
  s.steps = 2; // the second step recomputes every tile in place
  TaskBench &b = s.bench;
  const int64_t rows = sh.rows, k = sh.k, n = sh.n;
  switch (kind) {
  case isa::TaskKind::OProj:
  case isa::TaskKind::DownProj: {
    const uint16_t x = b.randomBf16({rows, k});
    const uint16_t w = b.randomBf16({n, k}, 0.25f);
    const uint16_t residual = b.randomBf16({rows, n}, 2.0f);
    const uint16_t out = b.add(isa::DType::BF16, {rows, n});
    b.poison(out);
    for (const auto &[r, c] : sh.tiles)
      s.add(makeTask(kind, {x, w, residual, out}, r, c));
    break;
  }
  case isa::TaskKind::GateUp: {
    const uint16_t x = b.randomBf16({rows, k}, 3.0f), norm = b.randomBf16({k});
    const uint16_t wg = b.randomBf16({n, k}, 0.3f), wu = b.randomBf16({n, k}, 0.3f);
    const uint16_t out = b.add(isa::DType::BF16, {rows, n});
    b.poison(out);
    for (const auto &[r, c] : sh.tiles)
      s.add(makeTask(kind, {x, norm, wg, wu, out}, r, c));
    break;
  }
  case isa::TaskKind::LmHead: {
    // One partial slot per distinct column range, plus one no tile writes.
    std::map<std::pair<uint32_t, uint32_t>, uint32_t> tileOf;
    for (const auto &[r, c] : sh.tiles)
      tileOf.emplace(std::pair(c.begin, c.end), uint32_t(tileOf.size()));
    const uint16_t x = b.randomBf16({rows, k}, 2.0f), norm = b.randomBf16({k});
    const uint16_t w = b.randomBf16({n, k}, 0.3f);
    const uint16_t logits = b.add(isa::DType::F32, {rows, n});
    const uint16_t partial =
        b.add(isa::DType::F32, {rows, int64_t(tileOf.size()) + 1, 2});
    b.poison(logits);
    b.poison(partial);
    for (const auto &[r, c] : sh.tiles)
      s.add(makeTask(kind, {x, norm, w, logits, partial}, r, c, {0, 0},
                     tileOf.at(std::pair(c.begin, c.end))));
    break;
  }
  default:
    ADD_FAILURE() << "not a projection kind";
  }
  return s;
}

Scenario withoutResidual(Scenario s, isa::TaskKind kind) {
  const int residual = isa::roleIndex(kind, "residual");
  EXPECT_GE(residual, 0) << isa::taskKindName(kind) << " has no residual";
  for (isa::TaskRecord &t : s.tasks)
    if (t.kind == uint16_t(kind) && residual >= 0)
      t.operand[residual] = isa::kNoTensor;
  return s;
}

Scenario lmHeadArgmax(int64_t rows, int64_t hidden, int64_t vocab, int64_t tileCols,
                      uint64_t steps) {
  isa::ModelMeta model = testModel(4, 2, 16, uint32_t(hidden));
  model.vocabSize = uint32_t(vocab);
  Scenario s(model);
  s.steps = steps;
  TaskBench &b = s.bench;
  const uint16_t x = b.randomBf16({rows, hidden}, 2.0f), norm = b.randomBf16({hidden});
  const uint16_t w = b.randomBf16({vocab, hidden}, 0.3f);
  // Rows 17 and vocab - 20 point along row 0's normalized input: its largest logits.
  host::bf16 *wp = b.data<host::bf16>(w);
  for (int64_t i = 0; i < hidden; ++i) {
    const float sign = host::bf16ToFloat(b.data<host::bf16>(x)[i]) *
                                   host::bf16ToFloat(b.data<host::bf16>(norm)[i]) >
                               0
                           ? 1.0f
                           : -1.0f;
    wp[17 * hidden + i] = wp[(vocab - 20) * hidden + i] = host::floatToBf16(sign);
  }
  const int64_t tiles = (vocab + tileCols - 1) / tileCols;
  const uint16_t logits = b.add(isa::DType::F32, {rows, vocab});
  const uint16_t partial = b.add(isa::DType::F32, {rows, tiles, 2});
  const uint16_t tokens = b.add(isa::DType::I32, {rows + 1}); // the last stays poisoned
  for (uint16_t id : {logits, partial, tokens})
    b.poison(id);
  for (int64_t t = 0; t < tiles; ++t)
    s.add(makeTask(
        isa::TaskKind::LmHead, {x, norm, w, logits, partial}, {0, uint32_t(rows)},
        {uint32_t(t * tileCols), uint32_t(std::min(vocab, (t + 1) * tileCols))}, {0, 0},
        uint32_t(t)));
  const uint32_t half = uint32_t(std::max<int64_t>(1, rows / 2));
  s.add(makeTask(isa::TaskKind::Argmax, {partial, tokens}, {0, half}, {0, 0}, {0, 0},
                 uint32_t(tiles)),
        1);
  if (half < rows)
    s.add(makeTask(isa::TaskKind::Argmax, {partial, tokens}, {half, uint32_t(rows)},
                   {0, 0}, {0, 0}, uint32_t(tiles)),
          1);
  return s;
}

void poisonBeyondHistory(TaskBench &b, const PagedCache &cache,
                         const std::vector<int32_t> &history) {
  const int64_t slotElements = cache.kvHeads * cache.hd;
  for (uint16_t id : {cache.k, cache.v}) {
    const std::vector<std::byte> saved = b.bytes(id);
    b.poison(id);
    const auto *from = reinterpret_cast<const host::bf16 *>(saved.data());
    host::bf16 *to = b.data<host::bf16>(id);
    for (int64_t seq = 0; seq < int64_t(history.size()); ++seq)
      for (int64_t p = 0; p < history[seq]; ++p) {
        const int64_t at = cache.slot(seq, p) * slotElements;
        std::copy_n(from + at, slotElements, to + at);
      }
  }
}

/// The tensors of a layer's Qkv tasks (the caches come with the PagedCache).
struct QkvOperands {
  uint16_t x, norm, wq, wk, wv, q, positions, kvSlots;
};

/// Stage 0 of a layer: for each KV head g, the Q tile of its query heads and its K and
/// V tiles (Qkv sections 0, 1, 2) over rows `rows`.
void addQkvTasks(Scenario &s, const PagedCache &cache, const QkvOperands &o,
                 isa::Range rows, uint32_t heads, uint32_t kvHeads) {
  const uint32_t group = heads / kvHeads;
  const uint16_t no = isa::kNoTensor;
  for (uint32_t g = 0; g < kvHeads; ++g) {
    s.add(makeTask(
        isa::TaskKind::Qkv,
        {o.x, o.norm, o.wq, no, no, o.q, o.positions, o.kvSlots, cache.blockTable}, rows,
        {g * group, (g + 1) * group}, {0, 0}, 0));
    s.add(makeTask(
        isa::TaskKind::Qkv,
        {o.x, o.norm, o.wk, no, no, cache.k, o.positions, o.kvSlots, cache.blockTable},
        rows, {g, g + 1}, {0, 0}, 1));
    s.add(makeTask(
        isa::TaskKind::Qkv,
        {o.x, o.norm, o.wv, no, no, cache.v, o.positions, o.kvSlots, cache.blockTable},
        rows, {g, g + 1}, {0, 0}, 2));
  }
}

Scenario decodeLayer(const DecodeLayerCase &c) {
  constexpr int64_t bs = 16;
  const int64_t rows = int64_t(c.history.size()), covered = c.splits * c.span;
  const int64_t blocksPerSeq = (covered + bs - 1) / bs;
  isa::ModelMeta model = testModel(c.heads, c.kvHeads, c.hd, c.hidden);
  model.maxSeqLen = uint32_t(blocksPerSeq * bs);
  Scenario s(model);
  s.steps = c.steps;
  TaskBench &b = s.bench;
  for (int32_t h : c.history)
    EXPECT_LE(h + int64_t(c.steps), covered) << "the splits must cover every key";

  PagedCache cache(b, rows, blocksPerSeq, c.kvHeads, c.hd, bs);
  poisonBeyondHistory(b, cache, c.history);
  // Step state at step 0 (step_state.h): the new token of row r sits at position
  // history[r]; step s appends at history[r] + s and attends history[r] + s + 1 keys.
  std::vector<int32_t> pos(static_cast<size_t>(rows)), lens(static_cast<size_t>(rows)),
      slots(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const bool active = c.history[r] >= 0;
    pos[r] = active ? c.history[r] : -1;
    lens[r] = active ? c.history[r] + 1 : 0;
    slots[r] = active ? int32_t(cache.slot(r, c.history[r])) : -1;
  }
  const uint16_t positions = b.i32({rows}, pos), seqLens = b.i32({rows}, lens);
  const uint16_t kvSlots = b.i32({rows}, slots);
  const int64_t qCols = int64_t(c.heads) * c.hd;
  const uint16_t x = b.randomBf16({rows, c.hidden}, 2.0f),
                 norm = b.randomBf16({c.hidden});
  const uint16_t wq = b.randomBf16({qCols, c.hidden}, 0.25f);
  const uint16_t wk = b.randomBf16({int64_t(c.kvHeads) * c.hd, c.hidden}, 0.25f);
  const uint16_t wv = b.randomBf16({int64_t(c.kvHeads) * c.hd, c.hidden}, 0.25f);
  const uint16_t wo = b.randomBf16({c.hidden, qCols}, 0.25f);
  const uint16_t residual = b.randomBf16({rows, c.hidden}, 2.0f);
  const uint16_t q = b.add(isa::DType::BF16, {rows, qCols});
  const uint16_t po = b.add(isa::DType::F32, {rows, c.heads, c.splits, c.hd});
  const uint16_t plse = b.add(isa::DType::F32, {rows, c.heads, c.splits});
  const uint16_t attn = b.add(isa::DType::BF16, {rows, qCols});
  const uint16_t out = b.add(isa::DType::BF16, {rows, c.hidden});
  for (uint16_t id : {q, po, plse, attn, out})
    b.poison(id);

  const isa::Range all{0, uint32_t(rows)};
  addQkvTasks(s, cache, {x, norm, wq, wk, wv, q, positions, kvSlots}, all, c.heads,
              c.kvHeads);
  const uint32_t flags = c.window ? uint32_t(isa::kFlagSlidingWindow) : 0u;
  for (uint32_t g = 0; g < c.kvHeads; ++g)
    for (int64_t sp = 0; sp < c.splits; ++sp)
      s.add(makeTask(isa::TaskKind::AttnDecode,
                     {q, cache.k, cache.v, cache.blockTable, seqLens, po, plse}, all,
                     {g, g + 1}, {uint32_t(sp * c.span), uint32_t((sp + 1) * c.span)},
                     uint32_t(sp), c.window, flags),
            1);
  for (uint32_t g = 0; g < c.kvHeads; ++g)
    s.add(makeTask(isa::TaskKind::AttnMerge, {po, plse, attn}, all, {g, g + 1},
                   {0, uint32_t(c.splits)}, uint32_t(c.splits)),
          2);
  const uint32_t mid = c.hidden / 2 - 3; // column tiles not multiples of 16
  s.add(makeTask(isa::TaskKind::OProj, {attn, wo, residual, out}, all, {0, mid}), 3);
  s.add(makeTask(isa::TaskKind::OProj, {attn, wo, residual, out}, all, {mid, c.hidden}),
        3);
  return s;
}

Scenario prefillChunk(const PrefillChunkCase &c) {
  constexpr int64_t bs = 16;
  const int64_t valid = c.rows - c.padding;
  const int64_t blocksPerSeq = std::max<int64_t>(1, (c.first + valid + bs - 1) / bs);
  isa::ModelMeta model = testModel(c.heads, c.kvHeads, c.hd, c.hidden);
  model.maxSeqLen = uint32_t(blocksPerSeq * bs);
  Scenario s(model, isa::ProgramKind::Prefill);
  TaskBench &b = s.bench;
  PagedCache cache(b, 1, blocksPerSeq, c.kvHeads, c.hd, bs);
  poisonBeyondHistory(b, cache, {int32_t(c.first)});
  std::vector<int32_t> pos(size_t(c.rows), -1), slots(static_cast<size_t>(c.rows), -1);
  for (int64_t r = 0; r < valid; ++r) {
    pos[r] = int32_t(c.first + r);
    slots[r] = int32_t(cache.slot(0, c.first + r));
  }
  const uint16_t positions = b.i32({c.rows}, pos), kvSlots = b.i32({c.rows}, slots);
  const int64_t qCols = int64_t(c.heads) * c.hd;
  const uint16_t x = b.randomBf16({c.rows, c.hidden}, 2.0f);
  const uint16_t norm = b.randomBf16({c.hidden});
  const uint16_t wq = b.randomBf16({qCols, c.hidden}, 0.25f);
  const uint16_t wk = b.randomBf16({int64_t(c.kvHeads) * c.hd, c.hidden}, 0.25f);
  const uint16_t wv = b.randomBf16({int64_t(c.kvHeads) * c.hd, c.hidden}, 0.25f);
  const uint16_t q = b.add(isa::DType::BF16, {c.rows, qCols});
  const uint16_t out = b.add(isa::DType::BF16, {c.rows, qCols});
  b.poison(q);
  b.poison(out);

  const isa::Range all{0, uint32_t(c.rows)};
  addQkvTasks(s, cache, {x, norm, wq, wk, wv, q, positions, kvSlots}, all, c.heads,
              c.kvHeads);
  const uint32_t flags = c.window ? uint32_t(isa::kFlagSlidingWindow) : 0u;
  const uint32_t half = uint32_t(c.rows / 2);
  for (uint32_t g = 0; g < c.kvHeads; ++g)
    for (isa::Range r : {isa::Range{0, half}, isa::Range{half, uint32_t(c.rows)}})
      if (r.begin < r.end)
        s.add(makeTask(isa::TaskKind::AttnPrefill,
                       {q, cache.k, cache.v, cache.blockTable, positions, out}, r,
                       {g, g + 1}, {0, 0}, 0, c.window, flags),
              1);
  return s;
}

std::vector<int32_t> chunkPositions(int32_t first, int32_t rows, int32_t padding) {
  std::vector<int32_t> pos(size_t(rows), -1);
  for (int32_t r = 0; r + padding < rows; ++r)
    pos[size_t(r)] = first + r;
  return pos;
}

MoeLayerCase moeDecodeRows4() {
  return {.name = "DecodeRows4",
          .positions = {3, -1, 9, 0},
          .steps = 2,
          .experts = 16,
          .topK = 4,
          .normTopkProb = false,
          .hidden = 128,
          .inter = 64,
          .tile = 24};
}

MoeLayerCase moePrefillRows40() {
  return {.name = "PrefillRows40",
          .positions = chunkPositions(20, 40, 3),
          .program = isa::ProgramKind::Prefill,
          .experts = 8,
          .topK = 2,
          .hidden = 256,
          .inter = 96,
          .tile = 40};
}

namespace {

/// The smallest gap, over the active rows, between the k-th and the (k+1)-th largest
/// routing probability relative to the k-th, from the host's own logits (rmsNormRow,
/// dotBf16: the bits both executors compute) in float64.
double routingMargin(const TaskBench &b, const host::test::MoeLayer &l) {
  double margin = INFINITY;
  std::vector<host::bf16> xn(size_t(l.hidden));
  for (uint32_t r = 0; r < l.rows; ++r) {
    if (b.data<int32_t>(l.positions)[r] < 0 || l.topK == l.experts)
      continue;
    host::kernels::rmsNormRow(b.data<host::bf16>(l.x) + r * l.hidden,
                              b.data<host::bf16>(l.normW), l.hidden, b.model.rmsNormEps,
                              xn.data());
    std::vector<double> p(l.experts);
    for (uint32_t e = 0; e < l.experts; ++e)
      p[e] = host::kernels::dotBf16(
          xn.data(), b.data<host::bf16>(l.router) + e * l.hidden, size_t(l.hidden));
    const double m = *std::max_element(p.begin(), p.end());
    for (double &v : p)
      v = std::exp(v - m);
    std::sort(p.begin(), p.end(), std::greater<>());
    margin = std::min(margin, (p[l.topK - 1] - p[l.topK]) / p[l.topK - 1]);
  }
  return margin;
}

} // namespace

Scenario moeLayer(const MoeLayerCase &c) {
  Scenario s(testModel(4, 2, 16, uint32_t(c.hidden)), c.program);
  s.steps = c.steps;
  TaskBench &b = s.bench;
  const host::test::MoeLayer l(b, c.positions, c.experts, c.topK, c.normTopkProb,
                               c.hidden, c.inter);
  if (c.tie) {
    host::bf16 *x = b.data<host::bf16>(l.x), *normW = b.data<host::bf16>(l.normW);
    host::bf16 *w = b.data<host::bf16>(l.router);
    for (int64_t i = 0; i < l.rows * l.hidden; ++i)
      x[i] = host::floatToBf16(std::fabs(host::bf16ToFloat(x[i])));
    for (int64_t i = 0; i < l.hidden; ++i)
      normW[i] = host::floatToBf16(std::fabs(host::bf16ToFloat(normW[i])));
    for (int64_t e : {1, 3, 6})
      std::fill_n(w + e * l.hidden, l.hidden, host::floatToBf16(0.5f));
  } else if (c.first == MoeStage::Router) {
    EXPECT_GT(routingMargin(b, l), 1e-4)
        << "a near tie at the top-k boundary: pick other data";
  }

  const uint32_t rows = l.rows, inter = uint32_t(l.inter), hidden = uint32_t(l.hidden);
  auto tiles = [&](uint32_t n, auto add) {
    for (uint32_t c0 = 0; c0 < n; c0 += c.tile)
      add(isa::Range{c0, std::min(n, c0 + c.tile)});
  };
  // Each stage's tasks in `phase` (the executors), or run now on the host.
  auto stage = [&](MoeStage st, uint32_t phase, bool onHost) {
    auto add = [&](const isa::TaskRecord &t) {
      if (onHost)
        b.run(t);
      else
        s.add(t, phase);
    };
    switch (st) {
    case MoeStage::Router:
      add(l.routerTask());
      break;
    case MoeStage::GateUp:
      for (uint32_t slot = 0; slot < l.slots; ++slot)
        tiles(inter, [&](isa::Range cols) { add(l.gateUpTask(slot, cols)); });
      break;
    case MoeStage::Down:
      for (uint32_t slot = 0; slot < l.slots; ++slot)
        tiles(hidden, [&](isa::Range cols) { add(l.downTask(slot, cols)); });
      break;
    case MoeStage::Combine:
      tiles(hidden, [&](isa::Range cols) { add(l.combineTask({0, rows}, cols)); });
      break;
    }
  };
  for (MoeStage st = MoeStage::Router; st < c.first; st = MoeStage(uint8_t(st) + 1))
    stage(st, 0, true);
  for (auto st = uint8_t(c.first); st <= uint8_t(c.last); ++st)
    switch (MoeStage(st)) { // what the executors write
    case MoeStage::Router:
      for (uint16_t id : {l.xg, l.routes, l.routeWeights})
        b.poison(id);
      break;
    case MoeStage::GateUp:
      b.poison(l.act);
      break;
    case MoeStage::Down:
      b.poison(l.expertOut);
      break;
    case MoeStage::Combine:
      b.poison(l.out);
      break;
    }
  // Bit for bit: xg holds the host's normalized rows (the router's statistics are dot
  // products in the host's order), and the combine does the host's fmas on the host's
  // inputs when it runs alone.
  if (c.first == MoeStage::Router)
    s.exactOutputs.insert(l.xg);
  if (c.first == MoeStage::Combine)
    s.exactOutputs.insert(l.out);
  uint32_t phase = 0;
  for (auto st = uint8_t(c.first); st <= uint8_t(c.last); ++st)
    stage(MoeStage(st), phase++, false);
  return s;
}

} // namespace mk::cuda::test
