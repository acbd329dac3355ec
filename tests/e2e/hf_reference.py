#!/usr/bin/python3
"""A float64 reference of Hugging Face's decoder-only causal LMs, for mk's end-to-end tests.

Covers what mk compiles from config.json: LlamaForCausalLM, MistralForCausalLM,
Qwen2ForCausalLM, Qwen3ForCausalLM, Qwen3MoeForCausalLM and MixtralForCausalLM. Written
from the semantics of transformers' modeling_llama.py / modeling_qwen2.py /
modeling_qwen3.py / modeling_qwen3_moe.py / modeling_mixtral.py and
modeling_rope_utils.py, without importing transformers:

  h = embed_tokens[ids]
  per layer:
    x = RMSNorm(h; input_layernorm)            x * rsqrt(mean(x^2) + eps) * w
    q, k, v = x Wq^T (+bq), x Wk^T (+bk), x Wv^T (+bv)   (bias: qwen2 / attention_bias)
    qwen3: q, k = RMSNorm_head(q; q_norm), RMSNorm_head(k; k_norm)   (per head, same eps)
    q, k = RoPE(q), RoPE(k)                    rotate-half: pairs (i, i + rot/2)
    attention: GQA (kv head = q head // (heads / kv_heads)), scores * 1/sqrt(head_dim),
               causal (and a sliding window where the layer has one), softmax, @ v
    h = h + attn Wo^T
    x = RMSNorm(h; post_attention_layernorm)
    dense layer:  h = h + (silu(x Wg^T) * (x Wu^T)) Wd^T
    MoE layer:    h = h + MoE(x)               (Qwen3MoeSparseMoeBlock /
                                                MixtralSparseMoeBlock, below)
  logits = RMSNorm(h; norm) lm_head^T          (lm_head = embed_tokens when tied)

MoE layers: qwen3_moe layer i is MoE iff num_experts > 0, (i + 1) % decoder_sparse_step
== 0 and i is not in mlp_only_layers (else a dense MLP of intermediate_size); every
mixtral layer is MoE (num_local_experts experts of intermediate_size). Per row of x:
  logit = x Wrouter^T [E];  p = softmax(logit)          over all E experts
  the k = num_experts_per_tok largest p; equal p: the lower expert id first (a stable
  sort by (-p, id); torch.topk leaves ties unspecified, mk defines them this way)
  w_j = p[e_j], divided by the sum of the k selected p where the model renormalizes
  (qwen3_moe: norm_topk_prob, default false; mixtral: always)
  MoE(x) = sum over j in ascending expert id of w_j * down_e(silu(gate_e(x)) * up_e(x))
(HF casts w to the activation dtype; mk keeps it fp32 and this keeps it float64, as
every activation here.) Model.routes holds each MoE layer's decisions of the last
logits() call (Routing: experts, weights, the logit gap at the k-th place, exact ties).

Everything is computed in float64 from the checkpoint's stored values (BF16 / F16 / F32
read exactly), so the only differences to a faithful mk run are mk's own rounding.
RoPE inverse frequencies follow _compute_default_rope_parameters and, for
rope_scaling.rope_type == "llama3", _compute_llama3_parameters exactly (in float64
where HF uses float32; the difference is far below the tolerances used here).

Model(model_dir, bf16=True) is a second, diagnostic reference: the same float64
computation with activations rounded to bf16 (and RoPE angles to fp32) exactly where
mk's host executor documents its rounding points (megakernel/host/kernels/*.h and
host/tasks/*.cpp headers: rms_norm.h, rope.h, qkv, gate_up, o_proj/down_proj, the
attention output; logits fp32). It separates "mk computes the intended function" (agrees
with this to ~1e-7 unless a bf16 rounding flips) from "bf16 costs this much accuracy"
(the float64 comparison). If mk's rounding points change, change this with them.
MoE layers round as moe-design's semantics section and the host's MoE tasks state:
router logits, softmax and the top-k weights fp32; gate/up, the SiLU product and the
expert outputs bf16; the combine's fp32 fma chain in ascending expert id, then bf16,
then bf16(residual + it).

Weight bytes: Model.weight_bytes() gives each stored tensor's size and
Model.decode_weight_bytes(step_experts) what one decode step streams, by this model's
definition: every weight but the embedding table (the LM head: lm_head, or the table
itself when tied), each once, plus, per MoE layer, the gate/up/down bytes of the
distinct experts selected in that step.

Usage as a library:  Model(model_dir).logits(ids) -> float64 tensor [len(ids), vocab]
Usage as a script:   hf_reference.py MODEL_DIR 1,2,3 [--bf16] [--out logits.npy]
                                                    [--routes]
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

DT = torch.float64


# ----------------------------------------------------------------------------------------
# safetensors
# ----------------------------------------------------------------------------------------

_NP_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64,
              "I32": np.int32, "I64": np.int64}


def read_safetensors(path):
    """{name: float64 torch tensor} of one .safetensors file (8-byte LE header length,
    JSON header, raw little-endian data; offsets count from the end of the header)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[base + begin:base + end]
        shape = [int(s) for s in info["shape"]]
        dtype = info["dtype"]
        if dtype == "BF16":
            u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
            arr = (u16 << 16).view(np.float32)
        elif dtype in _NP_DTYPES:
            arr = np.frombuffer(raw, dtype=np.dtype(_NP_DTYPES[dtype]).newbyteorder("<"))
        else:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        out[name] = torch.from_numpy(arr.astype(np.float64).reshape(shape))
    return out


def _weight_files(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            return sorted(set(json.load(f)["weight_map"].values()))
    return ["model.safetensors"]


def read_model_weights(model_dir):
    weights = {}
    for name in _weight_files(model_dir):
        weights.update(read_safetensors(os.path.join(model_dir, name)))
    return weights


def read_stored_bytes(model_dir):
    """{name: bytes stored} of every tensor, from the safetensors headers."""
    out = {}
    for name in _weight_files(model_dir):
        path = os.path.join(model_dir, name)
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n).decode("utf-8"))
        for tname, info in header.items():
            if tname != "__metadata__":
                begin, end = info["data_offsets"]
                out[tname] = end - begin
    return out


# ----------------------------------------------------------------------------------------
# RoPE
# ----------------------------------------------------------------------------------------

def rope_inv_freq(cfg, head_dim):
    """inv_freq as transformers' ROPE_INIT_FUNCTIONS compute it (default and llama3)."""
    base = float(cfg.get("rope_theta", 10000.0))
    dim = int(head_dim * float(cfg.get("partial_rotary_factor", 1.0)))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(DT) / dim))
    scaling = cfg.get("rope_scaling") or cfg.get("rope_parameters")
    rope_type = None
    if scaling:
        rope_type = scaling.get("rope_type", scaling.get("type"))
    if rope_type in (None, "default"):
        return inv_freq
    if rope_type != "llama3":
        raise ValueError(f"rope_scaling type {rope_type!r} is not in this reference")
    factor = float(scaling["factor"])
    low_freq_factor = float(scaling["low_freq_factor"])
    high_freq_factor = float(scaling["high_freq_factor"])
    old_context_len = float(scaling["original_max_position_embeddings"])
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    # wavelen < high_freq_wavelen: unchanged; wavelen > low_freq_wavelen: divided by factor
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    # otherwise: interpolate between the two
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (
        high_freq_factor - low_freq_factor)
    smoothed_inv_freq = ((1 - smooth_factor) * inv_freq_llama / factor
                         + smooth_factor * inv_freq_llama)
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def bf16(x):
    """Round to the nearest bf16 (ties to even), back in float64."""
    return x.to(torch.bfloat16).to(DT)


def fp32(x):
    return x.to(torch.float32).to(DT)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, positions, inv_freq, angle=lambda a: a):
    """x [T, heads, head_dim]; rotates the first 2*len(inv_freq) dims (rotate-half).
    `angle` rounds inv_freq, the angles and cos/sin (identity in float64)."""
    rot = 2 * inv_freq.shape[0]
    freqs = angle(positions.to(DT)[:, None] * angle(inv_freq)[None, :])  # [T, rot/2]
    emb = torch.cat((freqs, freqs), dim=-1)                      # [T, rot]
    cos, sin = angle(emb.cos())[:, None, :], angle(emb.sin())[:, None, :]
    xr, xp = x[..., :rot], x[..., rot:]
    return torch.cat((xr * cos + rotate_half(xr) * sin, xp), dim=-1)


# ----------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------

def _identity(t):
    return t


def rms_norm(x, w, eps, R=_identity):
    """HF's RMSNorm; R rounds where bf16 HF/mk round: R(w * R(x * rsqrt(...)))."""
    return R(w * R(x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)))


# ----------------------------------------------------------------------------------------
# Mixture of experts
# ----------------------------------------------------------------------------------------

class Routing:
    """One MoE layer's router decisions for T rows.
    experts [T, k] int64: the experts used, ascending id per row (the j order of the
    weights and of the sum); weights [T, k]; logits, probs [T, E];
    own [T, k]: the router's own top-k (== experts unless forced);
    gap [T]: logit of the k-th own choice minus that of the best expert left out (inf
    when k == E; 0 for an exact tie, which the lower id decides); tie [T]: gap == 0;
    swap [T, k]: own with its k-th choice replaced by the best expert left out (the
    choice a perturbation of the logits by more than gap makes);
    excess [T]: how far the forced experts are from the router's own choice: the logit
    of the k-th own choice minus the smallest logit among the forced (0 when equal)."""

    def __init__(self, experts, weights, logits, probs, own, gap, swap):
        self.experts, self.weights = experts, weights
        self.logits, self.probs = logits, probs
        self.own, self.gap, self.swap = own, gap, swap
        self.tie = gap == 0
        kth = logits.gather(1, own).min(-1).values
        self.excess = (kth - logits.gather(1, experts).min(-1).values).clamp(min=0)
        self.forced = (experts != own).any(-1)


def moe_route(x, router_w, top_k, norm_topk_prob, F=_identity, force=None, swap=()):
    """The router of Qwen3MoeSparseMoeBlock / MixtralSparseMoeBlock on rows x [T, H] (the
    post-attention-normed hidden state) with the router weight [E, H]. F rounds where mk
    keeps fp32 (identity in float64). force [T, k] (optional): use these experts instead
    of the top-k (the weights are still their p, renormalized where the model says);
    swap (rows, without force): use Routing.swap instead of the top-k in these rows.

    Each logit is its own elementwise product and sum (not one matmul: a BLAS kernel may
    round two equal router rows differently by where they sit, and the tie rule must see
    equal rows as equal)."""
    logits = F((x[:, None, :] * router_w[None, :, :]).sum(-1))          # [T, E]
    ex = F(torch.exp(logits - logits.max(-1, keepdim=True).values))
    probs = F(ex / F(ex.sum(-1, keepdim=True)))
    T, E = probs.shape
    if not 0 < top_k <= E:
        raise ValueError(f"num_experts_per_tok {top_k} is not in 1..{E}")
    # Descending p, equal p in ascending id: a stable sort of -p keeps ids in order.
    order = torch.sort(-probs, dim=-1, stable=True).indices
    own = order[:, :top_k].sort(dim=-1).values
    if top_k < E:
        gap = logits.gather(1, order[:, top_k - 1:top_k])[:, 0] - \
            logits.gather(1, order[:, top_k:top_k + 1])[:, 0]
        swap_choice = torch.cat((order[:, :top_k - 1], order[:, top_k:top_k + 1]), 1)
        swap_choice = swap_choice.sort(dim=-1).values
    else:
        gap = torch.full((T,), math.inf, dtype=DT)
        swap_choice = own
    experts = own
    if swap:
        experts = own.clone()
        rows = torch.as_tensor(sorted(swap), dtype=torch.int64)
        experts[rows] = swap_choice[rows]
    if force is not None:
        experts = torch.as_tensor(force, dtype=torch.int64).sort(dim=-1).values
        if experts.shape != own.shape or experts.min() < 0 or experts.max() >= E or \
                (experts[:, 1:] == experts[:, :-1]).any():
            raise ValueError(f"forced experts: expected [{T}, {top_k}] distinct ids "
                             f"< {E}")
    weights = probs.gather(1, experts)
    if norm_topk_prob:
        weights = F(weights / F(weights.sum(-1, keepdim=True)))
    return Routing(experts, weights, logits, probs, own, gap, swap_choice)


def moe_experts(x, routing, expert_w, R=_identity, F=_identity):
    """sum_j w_j * down_e(silu(gate_e(x)) * up_e(x)) per row of x [T, H], j in ascending
    expert id. expert_w(e) -> (gate [I, H], up [I, H], down [H, I]). R rounds to bf16
    and F to fp32 where mk does (identity in float64)."""
    T, k = routing.experts.shape
    acc = torch.zeros(x.shape, dtype=DT)
    for j in range(k):
        out = torch.zeros(x.shape, dtype=DT)
        col = routing.experts[:, j]
        for e in sorted(set(col.tolist())):
            rows = (col == e).nonzero()[:, 0]
            gate, up, down = expert_w(e)
            g = R(x[rows] @ gate.T)
            u = R(x[rows] @ up.T)
            out[rows] = R(R(R(torch.nn.functional.silu(g)) * u) @ down.T)
        acc = F(routing.weights[:, j:j + 1] * out + acc)
    return R(acc)


def moe_layers(cfg):
    """(E, k, normalize the top-k weights?, [is layer l MoE]) of a config; E = 0 for a
    dense model."""
    family, layers = cfg["model_type"], int(cfg["num_hidden_layers"])
    if family == "qwen3_moe":
        E = int(cfg.get("num_experts", 0))
        step = int(cfg.get("decoder_sparse_step", 1))
        dense = set(int(l) for l in cfg.get("mlp_only_layers", []))
        moe = [E > 0 and (l + 1) % step == 0 and l not in dense for l in range(layers)]
        return E, int(cfg.get("num_experts_per_tok", 0)), \
            bool(cfg.get("norm_topk_prob", False)), moe
    if family == "mixtral":
        return int(cfg["num_local_experts"]), int(cfg["num_experts_per_tok"]), True, \
            [True] * layers
    return 0, 0, False, [False] * layers


def moe_tensor_names(family, layer):
    """(router, expert e -> (gate, up, down)) HF tensor names of an MoE layer."""
    if family == "qwen3_moe":
        p = f"model.layers.{layer}.mlp."
        return p + "gate.weight", lambda e: tuple(
            f"{p}experts.{e}.{n}.weight" for n in ("gate_proj", "up_proj", "down_proj"))
    p = f"model.layers.{layer}.block_sparse_moe."
    return p + "gate.weight", lambda e: tuple(
        f"{p}experts.{e}.{n}.weight" for n in ("w1", "w3", "w2"))


class Model:
    FAMILIES = ("llama", "mistral", "qwen2", "qwen3", "qwen3_moe", "mixtral")

    def __init__(self, model_dir, bf16=False):
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        self.cfg = cfg
        self.family = cfg["model_type"]
        if self.family not in self.FAMILIES:
            raise ValueError(f"model_type {self.family!r} is not in this reference")
        self.w = read_model_weights(model_dir)
        self.bf16 = bf16
        self.hidden = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.kv_heads = int(cfg.get("num_key_value_heads") or self.heads)
        self.head_dim = int(cfg.get("head_dim") or self.hidden // self.heads)
        self.layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("rms_norm_eps", 1e-6))
        self.vocab = int(cfg["vocab_size"])
        self.tied = bool(cfg.get("tie_word_embeddings", False))
        if self.family == "qwen2":
            self.qkv_bias = True
        else:
            self.qkv_bias = bool(cfg.get("attention_bias", False))
        self.o_bias = bool(cfg.get("attention_bias", False)) and self.family != "qwen2"
        self.mlp_bias = bool(cfg.get("mlp_bias", False))
        self.qk_norm = self.family in ("qwen3", "qwen3_moe")
        self.inv_freq = rope_inv_freq(cfg, self.head_dim)
        self.windows = self._sliding_windows()
        self.num_experts, self.top_k, self.norm_topk_prob, self.moe = moe_layers(cfg)
        self.stored_bytes = read_stored_bytes(model_dir)
        self.routes = {}

    def _sliding_windows(self):
        """Per layer: the sliding window (tokens attended, itself included) or None."""
        cfg = self.cfg
        window = cfg.get("sliding_window")
        qwen = self.family in ("qwen2", "qwen3", "qwen3_moe")
        if qwen and not cfg.get("use_sliding_window", False):
            window = None
        types = cfg.get("layer_types")
        if types is None:
            if qwen:
                mwl = int(cfg.get("max_window_layers", self.layers))
                types = ["sliding_attention" if window is not None and i >= mwl
                         else "full_attention" for i in range(self.layers)]
            else:
                types = ["sliding_attention" if window is not None else "full_attention"
                         ] * self.layers
        return [int(window) if t == "sliding_attention" and window is not None else None
                for t in types]

    def _lin(self, x, name, bias=False):
        y = x @ self.w[name + ".weight"].T
        if bias:
            y = y + self.w[name + ".bias"]
        return y

    def _moe(self, l, x, R, F, force, swap):
        router, expert_names = moe_tensor_names(self.family, l)
        routing = moe_route(x, self.w[router], self.top_k, self.norm_topk_prob, F, force,
                            swap)
        self.routes[l] = routing
        return moe_experts(x, routing,
                           lambda e: tuple(self.w[n] for n in expert_names(e)), R, F)

    def weight_bytes(self):
        """{"dense": bytes, "router": bytes, "expert": {layer: bytes of one expert}}:
        dense = every stored tensor but the embedding table, the routers and the
        experts (the LM head counts: lm_head, or the table when tied)."""
        sizes = dict(self.stored_bytes)
        embed = sizes.pop("model.embed_tokens.weight")
        dense = embed if self.tied or "lm_head.weight" not in sizes else 0
        router_bytes, expert = 0, {}
        for l in range(self.layers):
            if not self.moe[l]:
                continue
            router, expert_names = moe_tensor_names(self.family, l)
            router_bytes += sizes.pop(router)
            per = [sum(sizes.pop(n) for n in expert_names(e))
                   for e in range(self.num_experts)]
            if len(set(per)) != 1:
                raise ValueError(f"layer {l}: experts of different sizes {per}")
            expert[l] = per[0]
        return {"dense": dense + sum(sizes.values()), "router": router_bytes,
                "expert": expert}

    def decode_weight_bytes(self, step_experts):
        """Mean weight bytes per decode step: dense + routers + the selected experts.
        step_experts: one {MoE layer: set of the distinct experts selected by the
        step's active rows} per decode step."""
        wb = self.weight_bytes()
        static = wb["dense"] + wb["router"]
        if not step_experts:
            return float(static)
        experts = sum(len(chosen) * wb["expert"][l]
                      for step in step_experts for l, chosen in step.items())
        return static + experts / len(step_experts)

    def logits(self, ids, force_routes=None, swap_routes=()):
        """float64 logits [len(ids), vocab] for every position (teacher forcing); MoE
        layers' decisions in self.routes. force_routes {layer: [>= len(ids), k] expert
        ids}: use these experts in those layers (rows past len(ids) are ignored).
        swap_routes {(layer, position)}: there, use the router's Routing.swap choice
        instead of its top-k (in layers not forced)."""
        ids = torch.as_tensor(list(ids), dtype=torch.int64)
        T = ids.shape[0]
        # R: rounding of activations (identity in float64), A: of RoPE angles.
        R = bf16 if self.bf16 else _identity
        A = fp32 if self.bf16 else _identity
        self.routes = {}
        pos = torch.arange(T)
        H, KV, D = self.heads, self.kv_heads, self.head_dim
        h = self.w["model.embed_tokens.weight"][ids]
        i = torch.arange(T)[:, None]
        j = torch.arange(T)[None, :]
        for l in range(self.layers):
            p = f"model.layers.{l}."
            x = rms_norm(h, self.w[p + "input_layernorm.weight"], self.eps, R)
            q = R(self._lin(x, p + "self_attn.q_proj", self.qkv_bias)).view(T, H, D)
            k = R(self._lin(x, p + "self_attn.k_proj", self.qkv_bias)).view(T, KV, D)
            v = R(self._lin(x, p + "self_attn.v_proj", self.qkv_bias)).view(T, KV, D)
            if self.qk_norm:
                q = rms_norm(q, self.w[p + "self_attn.q_norm.weight"], self.eps, R)
                k = rms_norm(k, self.w[p + "self_attn.k_norm.weight"], self.eps, R)
            q = R(apply_rope(q, pos, self.inv_freq, A))
            k = R(apply_rope(k, pos, self.inv_freq, A))
            rep = H // KV
            k = k.repeat_interleave(rep, dim=1)                   # [T, H, D]
            v = v.repeat_interleave(rep, dim=1)
            scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(D)
            allowed = j <= i
            if self.windows[l] is not None:
                allowed = allowed & (j > i - self.windows[l])
            scores = scores.masked_fill(~allowed[None], float("-inf"))
            probs = torch.softmax(scores, dim=-1)
            attn = R(torch.einsum("hqk,khd->qhd", probs, v).reshape(T, H * D))
            h = R(h + R(self._lin(attn, p + "self_attn.o_proj", self.o_bias)))
            x = rms_norm(h, self.w[p + "post_attention_layernorm.weight"], self.eps, R)
            if self.moe[l]:
                force = None
                if force_routes is not None and l in force_routes:
                    force = torch.as_tensor(force_routes[l])[:T]
                swap = [t for (layer, t) in swap_routes if layer == l and t < T]
                h = R(h + self._moe(l, x, R, A, force, swap))
                continue
            g = R(self._lin(x, p + "mlp.gate_proj", self.mlp_bias))
            u = R(self._lin(x, p + "mlp.up_proj", self.mlp_bias))
            act = R(R(torch.nn.functional.silu(g)) * u)
            h = R(h + R(self._lin(act, p + "mlp.down_proj", self.mlp_bias)))
        x = rms_norm(h, self.w["model.norm.weight"], self.eps, R)
        head = self.w["model.embed_tokens.weight"] if self.tied or \
            "lm_head.weight" not in self.w else self.w["lm_head.weight"]
        return x @ head.T


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("ids", help="token ids, comma separated")
    ap.add_argument("--bf16", action="store_true",
                    help="round activations where mk's host executor does")
    ap.add_argument("--out", help="write the float64 logits here (.npy)")
    ap.add_argument("--routes", action="store_true",
                    help="print each MoE layer's experts and weights per position")
    args = ap.parse_args(argv)
    ids = [int(t) for t in args.ids.split(",")]
    model = Model(args.model_dir, bf16=args.bf16)
    logits = model.logits(ids)
    if args.out:
        np.save(args.out, logits.numpy())
    print("argmax per position:", " ".join(str(int(t)) for t in logits.argmax(-1)))
    if args.routes:
        for l, r in model.routes.items():
            print(f"layer {l}:")
            for t in range(len(ids)):
                pairs = ", ".join(f"{e} {w:.4f}" for e, w in
                                  zip(r.experts[t].tolist(), r.weights[t].tolist()))
                tie = " (tie at the k-th place)" if r.tie[t] else ""
                print(f"  position {t}: {pairs}; gap {float(r.gap[t]):.3g}{tie}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
