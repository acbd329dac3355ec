#!/usr/bin/python3
"""Train and export mk's embedded demo model: a tiny byte-level Llama trained on the KJV Bible.

Run with Debian's interpreter (python3-torch, python3-numpy; the text comes from the
`bible-kjv` package's `bible` command):

    /usr/bin/python3 models/demo/train.py            # defaults reproduce the committed weights

What it does, start to finish:
  1. Extracts the King James Bible (public domain) with `bible -f Gen1:1-Rev22:21`: one verse
     per line, "Ge1:1 In the beginning ...". The reference is stripped; verses are joined with
     "\n". The last VAL_FRACTION of the verses (the end of the New Testament) is held out.
  2. Trains a Llama-family decoder (GQA, RoPE, RMSNorm, SiLU-gated MLP, tied embeddings) on
     raw bytes, in fp32 on the CPU, single-threaded by default. The forward pass is written
     out here and matches Hugging Face's LlamaForCausalLM exactly (see `forward`).
     Half of every batch starts with <|begin_of_text|> followed by the start of a verse (how a
     prompt looks when the runtime prepends BOS); the other half are windows taken at random
     byte offsets with no BOS (how a prompt looks when it does not).
  3. Casts the weights to bf16 and writes <out>/model.safetensors (own writer, HF tensor
     names), config.json and tokenizer.json (byte-level BPE, no merges: byte b is token b).
  4. Reloads the safetensors file with its own loader, checks that it round-trips bit for bit,
     and greedily decodes 200 bytes from two prompts with the bf16 weights in fp32 math. The
     continuations go to <out>/SAMPLES.md.

Speed note: Debian's torch 1.13 is linked against the reference (netlib) BLAS, which does
~3-5 GFLOP/s on one core. Every matrix product (projections, and attention's QK^T and PV, one
per sequence and KV head) is therefore computed as a 1x1 convolution, which torch routes to
its bundled oneDNN (mkldnn) kernels at ~25-30 GFLOP/s (`--gemm conv`, the default).
`--gemm matmul` uses plain matmuls: the same math up to fp32 rounding, ~5x slower here.

Sizing: on one core the budget is ~2.5M training bytes in 20 minutes. A 4-layer width-192
model (1.6M parameters) reached a clearly lower loss in equal wall time than a width-256 one
(2.9M), and a peak LR of 6e-3 was worse than 3e-3, so those are the defaults.
"""

import argparse
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

# ----------------------------------------------------------------------------- settings
SEED = 1234

# Model (Hugging Face Llama config keys in comments).
VOCAB_SIZE = 272          # vocab_size: 256 bytes + 2 specials, padded to a multiple of 16
BOS_ID = 256              # bos_token_id: <|begin_of_text|>
EOS_ID = 257              # eos_token_id: <|end_of_text|> (never emitted in training data)
HIDDEN = 192              # hidden_size
LAYERS = 4                # num_hidden_layers
HEADS = 6                 # num_attention_heads
KV_HEADS = 2              # num_key_value_heads (GQA: 3 query heads share each KV head)
HEAD_DIM = 32             # head_dim
FFN = 512                 # intermediate_size
CONTEXT = 256             # max_position_embeddings = training sequence length
ROPE_THETA = 10000.0      # rope_theta (no rope_scaling)
RMS_EPS = 1e-5            # rms_norm_eps
INIT_STD = 0.02           # initializer_range; o_proj/down_proj use INIT_STD/sqrt(2*LAYERS)

# Optimisation.
BATCH = 8                 # sequences per step (BATCH * CONTEXT bytes per step)
STEPS = 1100              # --steps
PEAK_LR = 3e-3            # AdamW, linear warmup then cosine decay to MIN_LR
MIN_LR = 3e-4
WARMUP = 50
BETAS = (0.9, 0.95)
WEIGHT_DECAY = 0.1        # on 2-D weights only (norm gains are not decayed)
GRAD_CLIP = 1.0
BOS_FRACTION = 0.5        # share of each batch that starts with BOS at a verse start

# Data / evaluation.
VAL_FRACTION = 0.02       # last 2% of verses held out
LOG_EVERY = 25            # progress line every N steps
EVAL_EVERY = 200          # quick validation loss (EVAL_WINDOWS windows) every N steps
EVAL_WINDOWS = 16
SAMPLE_PROMPTS = ["In the beginning God created", "And the LORD said unto Moses"]
SAMPLE_BYTES = 200

# ----------------------------------------------------------------------------- data

VERSE_RE = re.compile(r"^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ (.*)$")


def extract_kjv():
    """Returns the KJV as a list of verse strings, in canonical order (Genesis 1:1 first)."""
    exe = shutil.which("bible")
    if exe is None:
        sys.exit("train.py: the `bible` command is missing; install it with "
                 "`apt-get install bible-kjv` (the text itself is in bible-kjv-text)")
    # -f switches pretty-printing off: one verse per line, prefixed with its reference.
    out = subprocess.run([exe, "-f", "Gen1:1-Rev22:21"], check=True, stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL).stdout.decode("ascii")
    verses = []
    for line in out.splitlines():
        m = VERSE_RE.match(line)
        if not m:
            sys.exit(f"train.py: unexpected line from `bible`: {line!r}")
        verses.append(m.group(1).strip())
    if len(verses) != 31102:
        sys.exit(f"train.py: expected 31102 verses, got {len(verses)}")
    return verses


def to_bytes(verses):
    return np.frombuffer(("\n".join(verses) + "\n").encode("ascii"), dtype=np.uint8)


class Batcher:
    """Deterministic batches of CONTEXT+1 token ids (inputs are [:-1], targets [1:])."""

    def __init__(self, data, seed):
        self.data = data.astype(np.int64)
        # Verse starts: offset 0 and every byte after a newline.
        starts = np.concatenate([[0], np.nonzero(data == ord("\n"))[0] + 1])
        self.starts = starts[starts + CONTEXT <= len(data)]
        self.rng = np.random.default_rng(seed)

    def batch(self):
        n_bos = int(round(BATCH * BOS_FRACTION))
        seqs = np.empty((BATCH, CONTEXT + 1), dtype=np.int64)
        for i in range(BATCH):
            if i < n_bos:
                s = self.starts[self.rng.integers(len(self.starts))]
                seqs[i, 0] = BOS_ID
                seqs[i, 1:] = self.data[s:s + CONTEXT]
            else:
                p = self.rng.integers(len(self.data) - CONTEXT - 1)
                seqs[i] = self.data[p:p + CONTEXT + 1]
        return torch.from_numpy(seqs)


def eval_windows(data, count=None):
    """Non-overlapping windows over `data`, each led by BOS (as a fresh prompt would be)."""
    data = data.astype(np.int64)
    n = (len(data)) // CONTEXT
    if count is not None:
        n = min(n, count)
    seqs = np.empty((n, CONTEXT + 1), dtype=np.int64)
    for i in range(n):
        seqs[i, 0] = BOS_ID
        seqs[i, 1:] = data[i * CONTEXT:(i + 1) * CONTEXT]
    return torch.from_numpy(seqs)

# ----------------------------------------------------------------------------- model


def tensor_names():
    """HF Llama tensor names and shapes, in file order."""
    q, kv = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
    shapes = [("model.embed_tokens.weight", (VOCAB_SIZE, HIDDEN))]
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        shapes += [
            (p + "input_layernorm.weight", (HIDDEN,)),
            (p + "self_attn.q_proj.weight", (q, HIDDEN)),
            (p + "self_attn.k_proj.weight", (kv, HIDDEN)),
            (p + "self_attn.v_proj.weight", (kv, HIDDEN)),
            (p + "self_attn.o_proj.weight", (HIDDEN, q)),
            (p + "post_attention_layernorm.weight", (HIDDEN,)),
            (p + "mlp.gate_proj.weight", (FFN, HIDDEN)),
            (p + "mlp.up_proj.weight", (FFN, HIDDEN)),
            (p + "mlp.down_proj.weight", (HIDDEN, FFN)),
        ]
    shapes.append(("model.norm.weight", (HIDDEN,)))
    return shapes


def init_params(gen):
    params = {}
    for name, shape in tensor_names():
        if name.endswith("norm.weight"):
            t = torch.ones(shape)
        else:
            std = INIT_STD
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                std = INIT_STD / math.sqrt(2 * LAYERS)
            t = torch.randn(shape, generator=gen) * std
        params[name] = t.requires_grad_(True)
    return params


def conv_linear(x, w):
    """y = x @ w.T computed as a 1x1 convolution over a batch of 1x1 "images" (oneDNN)."""
    lead = x.shape[:-1]
    y = F.conv2d(x.reshape(-1, x.shape[-1], 1, 1), w.reshape(w.shape[0], w.shape[1], 1, 1))
    return y.reshape(*lead, w.shape[0])


def attention_matmul(q, k, v, mask):
    """q [B,H,T,D], k/v [B,KV,T,D] -> [B,H,T,D]; HF eager attention with repeat_kv."""
    rep = HEADS // KV_HEADS
    k = k.repeat_interleave(rep, dim=1)  # HF repeat_kv: query head i reads KV head i // rep
    v = v.repeat_interleave(rep, dim=1)
    s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(HEAD_DIM) + mask
    return torch.matmul(torch.softmax(s.float(), dim=-1), v)


def attention_conv(q, k, v, mask):
    """Same result as attention_matmul; the products run as 1x1 convolutions, one per
    (sequence, KV head), with the `rep` query heads that share a KV head stacked as rows."""
    B, _, T, D = q.shape
    rep = HEADS // KV_HEADS
    # unbind (not indexing) so that backward stacks the pieces instead of scattering each
    # into a zero tensor.
    qs = q.reshape(B * KV_HEADS, rep * T, D).unbind(0)
    ks = k.reshape(B * KV_HEADS, T, D).unbind(0)
    s = torch.stack([conv_linear(a, b) for a, b in zip(qs, ks)])  # [B*KV, rep*T, T]
    s = s.view(B, HEADS, T, T) / math.sqrt(HEAD_DIM) + mask
    ps = torch.softmax(s.float(), dim=-1).view(B * KV_HEADS, rep * T, T).unbind(0)
    vts = v.transpose(2, 3).reshape(B * KV_HEADS, D, T).unbind(0)
    o = torch.stack([conv_linear(a, b) for a, b in zip(ps, vts)])  # [B*KV, rep*T, D]
    return o.view(B, HEADS, T, D)


def make_ops(gemm):
    if gemm == "matmul":
        return lambda x, w: F.linear(x, w), attention_matmul
    return conv_linear, attention_conv


def rms_norm(x, w):
    # HF LlamaRMSNorm: statistics in fp32, normalise, then multiply by the gain.
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + RMS_EPS)
    return w * xf.to(x.dtype)


def rope_tables(T):
    # HF default rotary embedding: inv_freq over even indices, cos/sin of cat(freqs, freqs).
    inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.int64).float() / HEAD_DIM))
    freqs = torch.outer(torch.arange(T).float(), inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x[..., :x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat([-x2, x1], dim=-1)


def forward(params, ids, ops):
    """Logits [B, T, VOCAB_SIZE] for token ids [B, T]; HF LlamaForCausalLM semantics."""
    linear, attention = ops
    B, T = ids.shape
    cos, sin = rope_tables(T)
    mask = torch.full((T, T), float("-inf")).triu(1)
    h = params["model.embed_tokens.weight"][ids]
    for l in range(LAYERS):
        p = f"model.layers.{l}."
        x = rms_norm(h, params[p + "input_layernorm.weight"])
        q = linear(x, params[p + "self_attn.q_proj.weight"]).view(B, T, HEADS, HEAD_DIM).transpose(1, 2)
        k = linear(x, params[p + "self_attn.k_proj.weight"]).view(B, T, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = linear(x, params[p + "self_attn.v_proj.weight"]).view(B, T, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        a = attention(q, k, v, mask)
        a = a.transpose(1, 2).reshape(B, T, HEADS * HEAD_DIM)
        h = h + linear(a, params[p + "self_attn.o_proj.weight"])
        x = rms_norm(h, params[p + "post_attention_layernorm.weight"])
        g = linear(x, params[p + "mlp.gate_proj.weight"])
        u = linear(x, params[p + "mlp.up_proj.weight"])
        h = h + linear(F.silu(g) * u, params[p + "mlp.down_proj.weight"])
    h = rms_norm(h, params["model.norm.weight"])
    lm_head = params.get("lm_head.weight", params["model.embed_tokens.weight"])  # tied
    return linear(h, lm_head)


def loss_of(params, seqs, ops):
    logits = forward(params, seqs[:, :-1], ops)
    return F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), seqs[:, 1:].reshape(-1))


@torch.no_grad()
def mean_loss(params, seqs, ops, chunk=16):
    total, n = 0.0, 0
    for i in range(0, len(seqs), chunk):
        s = seqs[i:i + chunk]
        total += loss_of(params, s, ops).item() * len(s)
        n += len(s)
    return total / n


def lr_at(step, steps):
    if step < WARMUP:
        return PEAK_LR * (step + 1) / WARMUP
    t = (step - WARMUP) / max(1, steps - WARMUP)
    return MIN_LR + 0.5 * (PEAK_LR - MIN_LR) * (1 + math.cos(math.pi * t))


@torch.no_grad()
def greedy(params, prompt, n, ops, bos=True):
    ids = ([BOS_ID] if bos else []) + list(prompt.encode("utf-8"))
    out = []
    for _ in range(n):
        ctx = ids[-CONTEXT:]
        logits = forward(params, torch.tensor([ctx]), ops)[0, -1]
        nxt = int(torch.argmax(logits))
        if nxt == EOS_ID:
            break
        ids.append(nxt)
        out.append(nxt)
    return bytes(b for b in out if b < 256).decode("utf-8", errors="replace")

# ----------------------------------------------------------------------------- export


def write_safetensors(path, tensors):
    """tensors: {name: bf16 torch.Tensor}. Writes the safetensors format by hand."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        assert t.dtype == torch.bfloat16
        raw = t.contiguous().view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": "BF16", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Returns {name: bf16 torch.Tensor}; only BF16 is needed here."""
    with open(path, "rb") as f:
        buf = f.read()
    (hlen,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "BF16":
            raise ValueError(f"{name}: unsupported dtype {meta['dtype']}")
        b, e = meta["data_offsets"]
        arr = np.frombuffer(buf, dtype="<i2", count=(e - b) // 2, offset=base + b).copy()
        out[name] = torch.from_numpy(arr).view(torch.bfloat16).reshape(meta["shape"])
    return out


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character mapping."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def tokenizer_json():
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    vocab["<|begin_of_text|>"] = BOS_ID
    vocab["<|end_of_text|>"] = EOS_ID
    special = lambda i, s: {"id": i, "content": s, "single_word": False, "lstrip": False,
                            "rstrip": False, "normalized": False, "special": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(BOS_ID, "<|begin_of_text|>"), special(EOS_ID, "<|end_of_text|>")],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": []},
    }


def config_json():
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID,
        "head_dim": HEAD_DIM,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": INIT_STD,
        "intermediate_size": FFN,
        "max_position_embeddings": CONTEXT,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": KV_HEADS,
        "pretraining_tp": 1,
        "rms_norm_eps": RMS_EPS,
        "rope_scaling": None,
        "rope_theta": ROPE_THETA,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "vocab_size": VOCAB_SIZE,
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")

# ----------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=STEPS, help=f"optimizer steps (default {STEPS})")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                    help="output directory (default: this script's directory)")
    ap.add_argument("--gemm", choices=["conv", "matmul"], default="conv",
                    help="how matrix products are computed (default conv: oneDNN 1x1 convolutions)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    ops = make_ops(args.gemm)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    verses = extract_kjv()
    n_val = int(round(len(verses) * VAL_FRACTION))
    train_data, val_data = to_bytes(verses[:-n_val]), to_bytes(verses[-n_val:])
    print(f"data: {len(verses)} verses from `bible -f Gen1:1-Rev22:21`; train {len(verses) - n_val} "
          f"verses / {len(train_data)} bytes, val {n_val} verses / {len(val_data)} bytes "
          f"(from {verses[-n_val][:40]!r}...)", flush=True)

    gen = torch.Generator().manual_seed(SEED)
    params = init_params(gen)
    n_params = sum(p.numel() for p in params.values())
    print(f"model: {LAYERS} layers, hidden {HIDDEN}, {HEADS} heads / {KV_HEADS} kv x {HEAD_DIM}, "
          f"ffn {FFN}, vocab {VOCAB_SIZE}, context {CONTEXT}, tied embeddings: "
          f"{n_params} parameters ({2 * n_params / 1e6:.2f} MB bf16)", flush=True)
    decay = [p for n, p in params.items() if p.dim() == 2]
    no_decay = [p for n, p in params.items() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=PEAK_LR, betas=BETAS, eps=1e-8)
    batcher = Batcher(train_data, SEED)
    val_quick = eval_windows(val_data, EVAL_WINDOWS)

    print(f"train: {args.steps} steps x {BATCH} x {CONTEXT} bytes, lr {PEAK_LR} warmup {WARMUP} "
          f"cosine to {MIN_LR}, threads {args.threads}, gemm {args.gemm}", flush=True)
    t_train = time.time()
    t_log, last_logged, ema = time.time(), 0, None
    for step in range(args.steps):
        lr = lr_at(step, args.steps)
        for g in opt.param_groups:
            g["lr"] = lr
        seqs = batcher.batch()
        loss = loss_of(params, seqs, ops)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), GRAD_CLIP)
        opt.step()
        lv = loss.item()
        ema = lv if ema is None else 0.9 * ema + 0.1 * lv
        if (step + 1) % LOG_EVERY == 0 or step == 0 or step + 1 == args.steps:
            now = time.time()
            n_steps, last_logged = step + 1 - last_logged, step + 1
            print(f"step {step + 1:5d}/{args.steps}  loss {lv:.4f} (ema {ema:.4f})  lr {lr:.2e}  "
                  f"{n_steps * BATCH * CONTEXT / (now - t_log):6.0f} tok/s  "
                  f"elapsed {now - t_train:7.1f}s", flush=True)
            t_log = now
        if (step + 1) % EVAL_EVERY == 0 and step + 1 != args.steps:
            print(f"  val loss (quick, {len(val_quick)} windows) "
                  f"{mean_loss(params, val_quick, ops):.4f}", flush=True)
    train_time = time.time() - t_train

    # Final losses with the fp32 weights: full held-out slice, and a fixed train sample.
    val_loss = mean_loss(params, eval_windows(val_data), ops)
    rng = np.random.default_rng(SEED + 1)
    picks = rng.integers(0, len(train_data) - CONTEXT, 64)
    train_eval = torch.from_numpy(np.stack(
        [np.concatenate([[BOS_ID], train_data[p:p + CONTEXT].astype(np.int64)]) for p in picks]))
    train_loss = mean_loss(params, train_eval, ops)
    print(f"final (fp32): train loss {train_loss:.4f}  val loss {val_loss:.4f}  "
          f"({val_loss / math.log(2):.3f} bits/byte)  training time {train_time:.0f}s", flush=True)

    # Export bf16.
    bf16 = {n: p.detach().to(torch.bfloat16) for n, p in params.items()}
    st_path = os.path.join(args.out, "model.safetensors")
    write_safetensors(st_path, bf16)
    write_json(os.path.join(args.out, "config.json"), config_json())
    write_json(os.path.join(args.out, "tokenizer.json"), tokenizer_json())

    # Round trip, then evaluate and sample with the bf16 weights in fp32 math.
    loaded = read_safetensors(st_path)
    assert list(loaded) == list(bf16), "tensor order/names changed in the round trip"
    for n, t in bf16.items():
        assert loaded[n].shape == t.shape and torch.equal(loaded[n].view(torch.int16),
                                                          t.view(torch.int16)), n
    print(f"export: {st_path} ({os.path.getsize(st_path)} bytes) round-trips bit for bit", flush=True)
    p32 = {n: t.float() for n, t in loaded.items()}
    val_loss_bf16 = mean_loss(p32, eval_windows(val_data), ops)
    print(f"bf16 weights: val loss {val_loss_bf16:.4f}", flush=True)

    lines = ["# Demo model samples", "",
             f"Greedy decoding of {SAMPLE_BYTES} bytes with the exported bf16 weights (reloaded from "
             "`model.safetensors`, fp32 math), produced by `train.py` right after training.", ""]
    for bos in (True, False):
        lines += [f"## Prompt {'preceded by `<|begin_of_text|>` (id 256)' if bos else 'without BOS'}", ""]
        for prompt in SAMPLE_PROMPTS:
            cont = greedy(p32, prompt, SAMPLE_BYTES, ops, bos=bos)
            print(f"--- {'BOS + ' if bos else ''}{prompt!r}:\n{prompt}{cont}\n", flush=True)
            lines += [f"Prompt: `{prompt}`", "", "```", prompt + cont, "```", ""]
    lines += [f"Final losses (nats/byte): train {train_loss:.4f}, val {val_loss:.4f} (fp32 weights), "
              f"val {val_loss_bf16:.4f} (bf16 weights).", ""]
    with open(os.path.join(args.out, "SAMPLES.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"done in {time.time() - t0:.0f}s total", flush=True)


if __name__ == "__main__":
    main()
