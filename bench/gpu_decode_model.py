#!/usr/bin/env python3
"""Helpers of bench/gpu_decode.sh: random-weight HF models of real size, and the numbers
the script derives from a config.json.

  gpu_decode_model.py write CONFIG OUT_DIR [--seed S]
      OUT_DIR/config.json (a copy of CONFIG) + OUT_DIR/model.safetensors: BF16, HF
      tensor names (tests/e2e/make_model.py's tensor_specs), random values. A directory
      that already holds the same config and a complete model.safetensors is reused.
  gpu_decode_model.py flags CONFIG
      decode_baseline's shape flags for the model (Llama and Qwen3 families).
  gpu_decode_model.py bytes CONFIG CONTEXT BATCH
      weight_bytes=  step_weight_bytes=  kv_bytes=  floor_bytes= (key=value, one line)
  gpu_decode_model.py prompt CONFIG LENGTH
      LENGTH token ids, comma-separated, for mkrun --prompt-ids.
  gpu_decode_model.py json FILE KEY
      the value of KEY in a JSON object file.

Values: projections and embeddings N(0, 0.02^2) (HF's initializer_range), norm weights
1 + N(0, 0.02^2): activations stay finite through 36 layers. A full 8B checkpoint is
16 GB, so the big tensors are not drawn one value at a time: each is a run of slices of
one random pool of 32M bf16 values (64 MiB), starting at an offset hashed from the
tensor's name, written straight from the pool (disk speed). Rows of a tensor larger
than the pool repeat with that period; nothing in a GPU's memory path cares (plain
cudaMalloc memory is not compressed), and no tensor is zero.
"""
import hashlib
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

STD = 0.02
POOL = 32 << 20  # elements


def load_config(path):
    with open(path) as f:
        return json.load(f)


def specs(cfg):
    from make_model import tensor_specs  # numpy is needed from here on only

    return tensor_specs(cfg)


def nelem(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def shape_of(cfg):
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    return {
        "hidden": hidden,
        "inter": cfg["intermediate_size"],
        "layers": cfg["num_hidden_layers"],
        "heads": heads,
        "kv": cfg.get("num_key_value_heads") or heads,
        "hd": cfg.get("head_dim") or hidden // heads,
        "vocab": cfg["vocab_size"],
        "tied": bool(cfg.get("tie_word_embeddings", False)),
    }


def header_bytes(tensors):
    header, offset = {}, 0
    for name, shape, _ in tensors:
        n = nelem(shape) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return text, offset


def cmd_write(config, out_dir, seed=0):
    import numpy as np
    from make_model import to_bf16

    cfg = load_config(config)
    with open(config, "rb") as f:
        cfg_bytes = f.read()
    tensors = specs(cfg)
    text, data_bytes = header_bytes(tensors)
    total = 8 + len(text) + data_bytes
    path = os.path.join(out_dir, "model.safetensors")
    cfg_out = os.path.join(out_dir, "config.json")
    if (os.path.exists(path) and os.path.getsize(path) == total
            and os.path.exists(cfg_out) and open(cfg_out, "rb").read() == cfg_bytes):
        print(f"gpu_decode_model: reusing {path} ({total / 1e9:.2f} GB)", file=sys.stderr)
        return 0
    os.makedirs(out_dir, exist_ok=True)
    free = os.statvfs(out_dir)
    if free.f_bavail * free.f_frsize < total + (1 << 30):
        sys.exit(f"gpu_decode_model: {out_dir}: {total / 1e9:.1f} GB needed, "
                 f"{free.f_bavail * free.f_frsize / 1e9:.1f} GB free")
    rng = np.random.default_rng(seed)
    pool = to_bf16(STD * rng.standard_normal(POOL, dtype=np.float32))
    t0 = time.time()
    tmp = path + ".tmp"
    written, next_report = 0, 1 << 30
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for name, shape, kind in tensors:
            n = nelem(shape)
            if kind == "norm":
                f.write(to_bf16(1.0 + STD * rng.standard_normal(n).astype(np.float32))
                        .tobytes())
            else:
                start = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8],
                                       "little") % POOL
                left = n
                while left:
                    take = min(left, POOL - start)
                    f.write(memoryview(pool[start:start + take]))
                    left -= take
                    start = 0
            written += n * 2
            if written >= next_report:
                rate = written / max(time.time() - t0, 1e-9) / 1e9
                print(f"gpu_decode_model: {written / 1e9:.1f} / {data_bytes / 1e9:.1f} GB "
                      f"({rate:.1f} GB/s)", file=sys.stderr, flush=True)
                next_report += 1 << 30
    if os.path.getsize(tmp) != total:
        sys.exit(f"gpu_decode_model: {tmp}: wrote {os.path.getsize(tmp)} bytes, "
                 f"expected {total}")
    with open(cfg_out, "wb") as f:
        f.write(cfg_bytes)
    os.replace(tmp, path)
    print(f"gpu_decode_model: wrote {path} ({total / 1e9:.2f} GB, "
          f"{len(tensors)} tensors) in {time.time() - t0:.1f} s", file=sys.stderr)
    return 0


def cmd_flags(config):
    cfg = load_config(config)
    family = cfg.get("model_type")
    if family not in ("llama", "qwen3"):
        sys.exit(f"gpu_decode_model: {config}: model_type {family!r}: the baseline "
                 "builds llama and qwen3 decoders only")
    if cfg.get("attention_bias") or cfg.get("mlp_bias"):
        sys.exit(f"gpu_decode_model: {config}: biases: the baseline has none")
    s = shape_of(cfg)
    flags = [f"--hidden={s['hidden']}", f"--intermediate={s['inter']}",
             f"--layers={s['layers']}", f"--heads={s['heads']}", f"--kv-heads={s['kv']}",
             f"--head-dim={s['hd']}", f"--vocab={s['vocab']}",
             f"--qk-norm={int(family == 'qwen3')}", f"--tied={int(s['tied'])}",
             f"--eps={cfg.get('rms_norm_eps', 1e-6)}",
             f"--rope-theta={cfg.get('rope_theta', 10000.0)}"]
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type", rs.get("type")) == "llama3":
        flags.append("--rope-llama3={},{},{},{}".format(
            rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"],
            rs["original_max_position_embeddings"]))
    print(" ".join(flags))
    return 0


def cmd_bytes(config, context, batch):
    """The floor's bytes, as decode_baseline counts them: every weight tensor once,
    except an untied input embedding (a step reads one row of it); plus K and V of
    every layer at the context length."""
    cfg = load_config(config)
    s = shape_of(cfg)
    weight = sum(nelem(shape) * 2 for _, shape, _ in specs(cfg))
    step = weight - (0 if s["tied"] else s["vocab"] * s["hidden"] * 2)
    kv = batch * s["layers"] * 2 * s["kv"] * s["hd"] * context * 2
    print(f"weight_bytes={weight} step_weight_bytes={step} kv_bytes={kv} "
          f"floor_bytes={step + kv}")
    return 0


def cmd_prompt(config, length):
    vocab = load_config(config)["vocab_size"]
    # Spread over the vocabulary, clear of id 0 and the special ids at the top.
    span = max(1, min(vocab - 1, 100000))
    print(",".join(str(1 + (7919 * i + 13) % span) for i in range(length)))
    return 0


def cmd_json(path, key):
    with open(path) as f:
        value = json.load(f)[key]
    print(value)
    return 0


def main(argv):
    usage = __doc__.split("\n\n")[1]
    try:
        cmd = argv[0]
        if cmd == "write":
            seed = 0
            if len(argv) == 5 and argv[3] == "--seed":
                seed = int(argv[4])
            elif len(argv) != 3:
                raise ValueError
            return cmd_write(argv[1], argv[2], seed)
        if cmd == "flags" and len(argv) == 2:
            return cmd_flags(argv[1])
        if cmd == "bytes" and len(argv) == 4:
            return cmd_bytes(argv[1], int(argv[2]), int(argv[3]))
        if cmd == "prompt" and len(argv) == 3:
            return cmd_prompt(argv[1], int(argv[2]))
        if cmd == "json" and len(argv) == 3:
            return cmd_json(argv[1], argv[2])
    except (IndexError, ValueError):
        pass
    sys.exit("usage:\n" + usage)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
