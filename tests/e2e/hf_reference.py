#!/usr/bin/python3
"""A float64 reference of Hugging Face's decoder-only causal LMs, for mk's end-to-end tests.

Covers what mk compiles from config.json: LlamaForCausalLM, MistralForCausalLM,
Qwen2ForCausalLM and Qwen3ForCausalLM (dense). Written from the semantics of
transformers' modeling_llama.py / modeling_qwen2.py / modeling_qwen3.py and
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
    h = h + (silu(x Wg^T) * (x Wu^T)) Wd^T
  logits = RMSNorm(h; norm) lm_head^T          (lm_head = embed_tokens when tied)

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

Usage as a library:  Model(model_dir).logits(ids) -> float64 tensor [len(ids), vocab]
Usage as a script:   hf_reference.py MODEL_DIR 1,2,3 [--bf16] [--out logits.npy]
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


def read_model_weights(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for name in files:
        weights.update(read_safetensors(os.path.join(model_dir, name)))
    return weights


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

def rms_norm(x, w, eps, R=lambda t: t):
    """HF's RMSNorm; R rounds where bf16 HF/mk round: R(w * R(x * rsqrt(...)))."""
    return R(w * R(x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)))


class Model:
    FAMILIES = ("llama", "mistral", "qwen2", "qwen3")

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
        self.qk_norm = self.family == "qwen3"
        self.inv_freq = rope_inv_freq(cfg, self.head_dim)
        self.windows = self._sliding_windows()

    def _sliding_windows(self):
        """Per layer: the sliding window (tokens attended, itself included) or None."""
        cfg = self.cfg
        window = cfg.get("sliding_window")
        if self.family in ("qwen2", "qwen3") and not cfg.get("use_sliding_window", False):
            window = None
        types = cfg.get("layer_types")
        if types is None:
            if self.family in ("qwen2", "qwen3"):
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

    def logits(self, ids):
        """float64 logits [len(ids), vocab] for every position (teacher forcing)."""
        ids = torch.as_tensor(list(ids), dtype=torch.int64)
        T = ids.shape[0]
        # R: rounding of activations (identity in float64), A: of RoPE angles.
        R = bf16 if self.bf16 else (lambda t: t)
        A = fp32 if self.bf16 else (lambda t: t)
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
    args = ap.parse_args(argv)
    ids = [int(t) for t in args.ids.split(",")]
    logits = Model(args.model_dir, bf16=args.bf16).logits(ids)
    if args.out:
        np.save(args.out, logits.numpy())
    print("argmax per position:", " ".join(str(int(t)) for t in logits.argmax(-1)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
