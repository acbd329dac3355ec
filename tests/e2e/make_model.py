#!/usr/bin/python3
"""Writes a small random-weight model directory in Hugging Face format, for mk's tests.

  make_model.py OUT_DIR --config NAME [--seed S] [--router random|zero|tied]
                                      [--truncate BYTES] [--drop TENSOR] [--no-weights]

OUT_DIR gets config.json (real HF keys for the model_type) and model.safetensors
(BF16, HF tensor names; no tokenizer.json). The weights are random, never zero:

  q/k/v/gate/up projections             N(0, 0.1^2)  (biases, where the family has
                                                     them: N(0, 0.05^2))
  o/down projections (into the residual) N(0, 0.2^2)
  RMSNorm weights (all, incl. QK-norm)   1 + N(0, 0.1^2)
  embed_tokens, lm_head                  N(0, 0.3^2)
  MoE router (mlp.gate /                 N(0, 0.1^2) (--router changes it, below)
    block_sparse_moe.gate)
  experts' gate/up (w1/w3)               N(0, 0.1^2)
  experts' down (w2)                     N(0, 0.2^2)

With RMS-normalized hidden states of norm ~sqrt(hidden), the logits then have a standard
deviation of a few units, so the top-2 margin of greedy decoding is clear at ~3 of 4
steps (2% of the logit range). The larger residual writes keep a tied-embedding model
from predicting its input token again and again (greedy output stays varied), without
the larger activations that would push bf16 noise toward the e2e tolerance (q/k/v/gate/
up at 0.15 do: seen up to 3.8e-2 against float64).

Configurations (NAME):
  llama-gqa     Llama, 8 heads / 2 KV heads (GQA), tied embeddings, rope_scaling llama3
                with original_max_position_embeddings 32 and rope_theta 10000, so the
                three llama3 bands (unchanged, smoothed, divided by factor) all occur
                and positions past 32 are reached
  llama-mha     Llama, 4 heads == 4 KV heads (MHA), untied lm_head, vocab 384
  qwen3-qknorm  Qwen3, per-head q_norm / k_norm, head_dim 32 != hidden 64 / 4 heads
  llama-wide    llama-gqa with hidden 192 and intermediate 320, and
  llama-mlp128  llama-gqa with intermediate 128 (same embedding): models whose tensors
                do not fit a plan compiled for llama-gqa, for the mkrun tests

  qwen3-moe     Qwen3-MoE shaped like the tiny-qwen3-moe preset: 3 layers, hidden 64,
                4 heads / 2 KV heads x head_dim 32 (!= 64 / 4), QK-norm, 8 experts, top
                2, moe_intermediate 32, layer 1 dense through mlp_only_layers (its MLP
                of intermediate_size 128), norm_topk_prob true
  qwen3-moe-nonorm
                Qwen3-MoE, norm_topk_prob false (the top-k softmax weights are used as
                they are), top 3 of 8, decoder_sparse_step 2 (layers 1 and 3 MoE, 0
                and 2 dense), tied embeddings
  mixtral-gqa   Mixtral, 2 layers, 4 heads / 2 KV heads (GQA), 4 experts, top 2,
                experts of intermediate_size 96
  mixtral-mqa   Mixtral shaped like the tiny-mixtral preset: 4 heads / 1 KV head (MQA)
                x 16, 4 experts, top 2, intermediate 128

--router picks the MoE router weights: random (above); zero: all zero, so every
router logit is 0, the softmax is uniform and every row selects experts 0..k-1 (ties
go to the lower id): the forced choice; tied: expert 0's row is 2v and experts 1 and
2 share the row v (v random, the others random), so the logits of 1 and 2 are equal
bit for bit and sit at the k-th place for most rows (2v first and v second when
x.v > 0; one random expert first and v second when x.v < 0): only the lower-id rule
decides between them.

For the bad-input tests: --truncate BYTES cuts model.safetensors to its first BYTES
bytes (negative: drops that many from the end); --drop TENSOR leaves that tensor out
(repeatable); --no-weights writes config.json only.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

CONFIGS = {
    "llama-gqa": {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": 128,
        "initializer_range": 0.02,
        "intermediate_size": 256,
        "max_position_embeddings": 256,
        "mlp_bias": False,
        "num_attention_heads": 8,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {
            "factor": 8.0,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": 32,
            "rope_type": "llama3",
        },
        "rope_theta": 10000.0,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "vocab_size": 256,
    },
    "llama-mha": {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": 64,
        "initializer_range": 0.02,
        "intermediate_size": 192,
        "max_position_embeddings": 256,
        "mlp_bias": False,
        "num_attention_heads": 4,
        "num_hidden_layers": 3,
        "num_key_value_heads": 4,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "vocab_size": 384,
    },
    "qwen3-qknorm": {
        "architectures": ["Qwen3ForCausalLM"],
        "model_type": "qwen3",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": [2, 3],
        "head_dim": 32,
        "hidden_act": "silu",
        "hidden_size": 64,
        "initializer_range": 0.02,
        "intermediate_size": 160,
        "max_position_embeddings": 512,
        "max_window_layers": 2,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 1000000.0,
        "sliding_window": None,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": 512,
    },
}
CONFIGS["qwen3-moe"] = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 1,
    "decoder_sparse_step": 1,
    "eos_token_id": 2,
    "head_dim": 32,
    "hidden_act": "silu",
    "hidden_size": 64,
    "initializer_range": 0.02,
    "intermediate_size": 128,
    "max_position_embeddings": 512,
    "max_window_layers": 3,
    "mlp_only_layers": [1],
    "moe_intermediate_size": 32,
    "norm_topk_prob": True,
    "num_attention_heads": 4,
    "num_experts": 8,
    "num_experts_per_tok": 2,
    "num_hidden_layers": 3,
    "num_key_value_heads": 2,
    "output_router_logits": False,
    "rms_norm_eps": 1e-06,
    "rope_scaling": None,
    "rope_theta": 1000000.0,
    "router_aux_loss_coef": 0.001,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 256,
}
CONFIGS["qwen3-moe-nonorm"] = dict(
    CONFIGS["qwen3-moe"], num_hidden_layers=4, max_window_layers=4, mlp_only_layers=[],
    decoder_sparse_step=2, norm_topk_prob=False, num_experts_per_tok=3,
    tie_word_embeddings=True, vocab_size=320)
CONFIGS["mixtral-gqa"] = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "attention_dropout": 0.0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "hidden_act": "silu",
    "hidden_size": 64,
    "initializer_range": 0.02,
    "intermediate_size": 96,
    "max_position_embeddings": 1024,
    "num_attention_heads": 4,
    "num_experts_per_tok": 2,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "num_local_experts": 4,
    "output_router_logits": False,
    "rms_norm_eps": 1e-05,
    "rope_theta": 1000000.0,
    "router_aux_loss_coef": 0.02,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": 256,
}
CONFIGS["mixtral-mqa"] = dict(CONFIGS["mixtral-gqa"], num_key_value_heads=1,
                              intermediate_size=128)
CONFIGS["llama-wide"] = dict(CONFIGS["llama-gqa"], hidden_size=192, intermediate_size=320)
CONFIGS["llama-mlp128"] = dict(CONFIGS["llama-gqa"], intermediate_size=128)

PROJ_STD, OUT_STD, BIAS_STD, NORM_STD, EMBED_STD = 0.1, 0.2, 0.05, 0.1, 0.3
ROUTER_MODES = ("random", "zero", "tied")


def moe_shape(cfg):
    """(experts E, experts per token k, expert intermediate I, [is layer l MoE]) of a
    config; E = 0 for dense families. Layer rules of transformers' Qwen3MoeDecoderLayer
    and MixtralDecoderLayer."""
    family, layers = cfg["model_type"], cfg["num_hidden_layers"]
    if family == "qwen3_moe":
        experts = int(cfg.get("num_experts", 0))
        step = int(cfg.get("decoder_sparse_step", 1))
        dense = set(cfg.get("mlp_only_layers", []))
        moe = [experts > 0 and (l + 1) % step == 0 and l not in dense
               for l in range(layers)]
        return experts, int(cfg["num_experts_per_tok"]), \
            int(cfg["moe_intermediate_size"]), moe
    if family == "mixtral":
        return int(cfg["num_local_experts"]), int(cfg["num_experts_per_tok"]), \
            int(cfg["intermediate_size"]), [True] * layers
    return 0, 0, 0, [False] * layers


def moe_names(family, layer):
    """(router, [(gate, up, down) name format with {e}]) of an MoE layer: HF names."""
    if family == "qwen3_moe":
        p = f"model.layers.{layer}.mlp."
        return p + "gate.weight", (p + "experts.{e}.gate_proj.weight",
                                   p + "experts.{e}.up_proj.weight",
                                   p + "experts.{e}.down_proj.weight")
    p = f"model.layers.{layer}.block_sparse_moe."
    return p + "gate.weight", (p + "experts.{e}.w1.weight", p + "experts.{e}.w3.weight",
                               p + "experts.{e}.w2.weight")


def tensor_specs(cfg):
    """[(HF name, shape, kind)] in HF's order; kind picks the initialization."""
    hidden, inter = cfg["hidden_size"], cfg["intermediate_size"]
    heads = cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads") or heads
    hd = cfg.get("head_dim") or hidden // heads
    family = cfg["model_type"]
    experts, _, moe_inter, moe_layers = moe_shape(cfg)
    qkv_bias = family == "qwen2" or cfg.get("attention_bias", False)
    o_bias = family != "qwen2" and cfg.get("attention_bias", False)
    specs = [("model.embed_tokens.weight", (cfg["vocab_size"], hidden), "embed")]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        specs.append((p + "input_layernorm.weight", (hidden,), "norm"))
        for name, rows in (("q_proj", heads * hd), ("k_proj", kv * hd), ("v_proj", kv * hd)):
            specs.append((p + f"self_attn.{name}.weight", (rows, hidden), "proj"))
            if qkv_bias:
                specs.append((p + f"self_attn.{name}.bias", (rows,), "bias"))
        specs.append((p + "self_attn.o_proj.weight", (hidden, heads * hd), "out"))
        if o_bias:
            specs.append((p + "self_attn.o_proj.bias", (hidden,), "bias"))
        if family in ("qwen3", "qwen3_moe"):
            specs.append((p + "self_attn.q_norm.weight", (hd,), "norm"))
            specs.append((p + "self_attn.k_norm.weight", (hd,), "norm"))
        specs.append((p + "post_attention_layernorm.weight", (hidden,), "norm"))
        if moe_layers[l]:
            router, (gate, up, down) = moe_names(family, l)
            specs.append((router, (experts, hidden), "router"))
            for e in range(experts):
                # HF's module order: Qwen3MoeMLP gate, up, down; Mixtral w1, w2, w3.
                parts = [(gate, (moe_inter, hidden), "proj"),
                         (up, (moe_inter, hidden), "proj"),
                         (down, (hidden, moe_inter), "out")]
                if family == "mixtral":
                    parts = [parts[0], parts[2], parts[1]]
                specs.extend((n.format(e=e), shape, kind) for n, shape, kind in parts)
            continue
        specs.append((p + "mlp.gate_proj.weight", (inter, hidden), "proj"))
        specs.append((p + "mlp.up_proj.weight", (inter, hidden), "proj"))
        specs.append((p + "mlp.down_proj.weight", (hidden, inter), "out"))
    specs.append(("model.norm.weight", (hidden,), "norm"))
    if not cfg.get("tie_word_embeddings", False):
        specs.append(("lm_head.weight", (cfg["vocab_size"], hidden), "embed"))
    return specs


def to_bf16(x):
    """float32 array -> uint16 bf16 bits, round to nearest even (no NaNs here)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype("<u2")


def write_safetensors(path, tensors):
    """tensors: [(name, shape, bf16 uint16 array)]. HF layout: the header is padded with
    spaces to a multiple of 8 bytes."""
    header, offset = {}, 0
    for name, shape, data in tensors:
        header[name] = {"dtype": "BF16", "shape": list(shape),
                        "data_offsets": [offset, offset + data.nbytes]}
        offset += data.nbytes
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, data in tensors:
            f.write(data.tobytes())


def router_weight(rng, shape, mode):
    """The router [E, H] for --router `mode` (float32)."""
    if mode == "zero":
        return np.zeros(shape, np.float32)
    x = PROJ_STD * rng.standard_normal(shape)
    if mode == "tied":
        v = PROJ_STD * rng.standard_normal(shape[1])
        x[0], x[1], x[2] = 2 * v, v, v
    return x.astype(np.float32)


def make_model(out_dir, name, seed=0, drop=(), router="random"):
    cfg = CONFIGS[name]
    if router not in ROUTER_MODES:
        raise ValueError(f"router mode {router!r} is not one of {ROUTER_MODES}")
    if router == "tied" and moe_shape(cfg)[0] < 3:
        raise ValueError(f"--router tied needs at least 3 experts; {name} has "
                         f"{moe_shape(cfg)[0]}")
    rng = np.random.default_rng(seed)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    std = {"proj": PROJ_STD, "out": OUT_STD, "bias": BIAS_STD, "embed": EMBED_STD}
    tensors = []
    for tname, shape, kind in tensor_specs(cfg):
        if tname in drop:
            continue
        if kind == "norm":
            x = 1.0 + NORM_STD * rng.standard_normal(shape)
        elif kind == "router":
            x = router_weight(rng, shape, router)
        else:
            x = std[kind] * rng.standard_normal(shape)
        tensors.append((tname, shape, to_bf16(x.astype(np.float32))))
    path = os.path.join(out_dir, "model.safetensors")
    write_safetensors(path, tensors)
    return path


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--config", required=True, choices=sorted(CONFIGS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--router", choices=ROUTER_MODES, default="random",
                    help="MoE router weights: random, zero (every row selects experts "
                         "0..k-1) or tied (experts 1 and 2 tie at the k-th place)")
    ap.add_argument("--truncate", type=int,
                    help="cut model.safetensors to this many bytes (negative: drop them)")
    ap.add_argument("--drop", action="append", default=[], metavar="TENSOR",
                    help="leave this tensor out of model.safetensors (repeatable)")
    ap.add_argument("--no-weights", action="store_true", help="write config.json only")
    args = ap.parse_args(argv)
    if args.no_weights:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(os.path.join(args.out_dir, "config.json"), "w") as f:
            json.dump(CONFIGS[args.config], f, indent=2)
            f.write("\n")
        return 0
    names = {n for n, _, _ in tensor_specs(CONFIGS[args.config])}
    for name in args.drop:
        if name not in names:
            ap.error(f"--drop {name}: {args.config} has no such tensor")
    if args.router != "random" and not moe_shape(CONFIGS[args.config])[0]:
        ap.error(f"--router {args.router}: {args.config} has no MoE router")
    try:
        path = make_model(args.out_dir, args.config, args.seed, set(args.drop),
                          args.router)
    except ValueError as e:
        ap.error(str(e))
    if args.truncate is not None:
        size = os.path.getsize(path)
        keep = args.truncate if args.truncate >= 0 else size + args.truncate
        with open(path, "r+b") as f:
            f.truncate(max(0, min(size, keep)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
