#!/usr/bin/env python3
"""Writes tests/fixtures/forward: log-probabilities that Hugging Face
transformers computes on random-weight llmbatch models, against which the
float64 reference forward (tests/reference) is checked.

Weights are not committed: each model is a recipe (an `llmbatch model random`
command plus an optional config.json edit) that the C++ test replays through
random_model_write, bit for bit; a checksum of the tensor bytes proves it.

Run through tools/make-forward-fixtures.sh, which makes the venv.

bf16 models: transformers loads the bf16 weights and upcasts them to float32
(exact), then computes in float32, like it does for the f32 models. So the
fixture isolates the arithmetic of the forward pass from weight rounding:
the reference reads the same bf16 values (as float64) and must agree to
float32 accuracy, not merely to a bf16 tolerance.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

VOCAB = 512  # the tiny preset's vocabulary
INIT_STD = 0.1  # far from uniform attention, so convention bugs move logprobs a lot
TOKEN_SEED = 20240604
LENGTHS = [1, 3, 9, 17, 40, 64, 101, 150, 233, 300]  # spread over 1..300
POSITION_STRIDE = 5  # store every 5th position, plus the last

LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 64}
LINEAR_SCALING = {"rope_type": "linear", "factor": 4.0}

# name, dtype, seed, extra `model random` flags, config.json edit
MODELS = [
    ("llama_gqa_f32", "f32", 11, {}, None),
    ("llama_gqa_bf16", "bf16", 12, {}, None),
    ("qwen2_bias_f32", "f32", 13, {"arch": "qwen2"}, None),
    ("qwen2_bias_bf16", "bf16", 14, {"arch": "qwen2"}, None),
    ("llama3_rope_f32", "f32", 15, {}, {"rope_scaling": LLAMA3_SCALING}),
    ("linear_rope_f32", "f32", 16, {}, {"rope_scaling": LINEAR_SCALING}),
    ("mqa_f32", "f32", 17, {"num_kv_heads": 1}, None),
]


def fnv1a64_update(h, data):
    # The same hash the C++ test computes (plain Python is fast enough for
    # the tiny model's few hundred KB).
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def weights_checksum(model_dir):
    """FNV-1a 64 over (name, data bytes) of every tensor, by name."""
    path = os.path.join(model_dir, "model.safetensors")
    with open(path, "rb") as f:
        raw = f.read()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_len])
    start = 8 + header_len
    h = 0xCBF29CE484222325
    for name in sorted(k for k in header if k != "__metadata__"):
        begin, end = header[name]["data_offsets"]
        h = fnv1a64_update(h, name.encode())
        h = fnv1a64_update(h, raw[start + begin:start + end])
    return f"{h:016x}"


def random_command(dtype, seed, flags):
    cmd = ["model", "random", "--preset", "tiny", "--dtype", dtype, "--seed", str(seed), "--init-std", str(INIT_STD)]
    if "arch" in flags:
        cmd += ["--arch", flags["arch"]]
    if "num_kv_heads" in flags:
        cmd += ["--num-kv-heads", str(flags["num_kv_heads"])]
    return cmd


def make_sequences():
    rng = np.random.default_rng(TOKEN_SEED)
    return [rng.integers(0, VOCAB, size=n).tolist() for n in LENGTHS]


def stored_positions(length):
    positions = list(range(0, length, POSITION_STRIDE))
    if positions[-1] != length - 1:
        positions.append(length - 1)
    return positions


def load_hf(model_dir):
    # float32 compute for f32 and bf16 weights alike (see the module doc);
    # eager attention: the textbook softmax(QK^T / sqrt(d)) V.
    kwargs = {"attn_implementation": "eager"}
    major = int(transformers.__version__.split(".")[0])
    kwargs["dtype" if major >= 5 else "torch_dtype"] = torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    model.eval()
    return model


def check_hf_model(name, model, config_edit):
    """Fails loudly if transformers did not build what the recipe means."""
    for p in model.parameters():
        assert p.dtype == torch.float32, (name, p.dtype)
    rotary = model.model.rotary_emb
    want = (config_edit or {}).get("rope_scaling", {}).get("rope_type", "default")
    assert rotary.rope_type == want, (name, rotary.rope_type, want)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--llmbatch", required=True, help="path of the llmbatch binary")
    parser.add_argument("--out", required=True, help="fixture directory (tests/fixtures/forward)")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    sequences = make_sequences()
    os.makedirs(args.out, exist_ok=True)
    index = {
        "about": "log_softmax of Hugging Face transformers logits on llmbatch random models; "
                 "written by tools/make-forward-fixtures.sh",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "compute_dtype": "float32 (bf16 weights upcast exactly), log_softmax in float64, stored as float32",
        "vocab_size": VOCAB,
        "token_seed": TOKEN_SEED,
        "sequences": sequences,
        "models": [],
    }
    work = tempfile.mkdtemp(prefix="llmbatch-fwd-fixtures-")
    try:
        for name, dtype, seed, flags, config_edit in MODELS:
            model_dir = os.path.join(work, name)
            cmd = random_command(dtype, seed, flags)
            subprocess.run([args.llmbatch] + cmd + ["--out", model_dir], check=True, stdout=subprocess.DEVNULL)
            if config_edit:
                config_path = os.path.join(model_dir, "config.json")
                with open(config_path) as f:
                    config = json.load(f)
                config.update(config_edit)
                with open(config_path, "w") as f:
                    json.dump(config, f, indent=2)
            model = load_hf(model_dir)
            check_hf_model(name, model, config_edit)

            rows = []
            blob = []
            with torch.no_grad():
                for s, ids in enumerate(sequences):
                    logits = model(torch.tensor([ids], dtype=torch.long)).logits[0]  # [len, vocab]
                    logprobs = torch.log_softmax(logits.double(), dim=-1)
                    positions = stored_positions(len(ids))
                    blob.append(logprobs[positions].to(torch.float32).numpy())
                    rows.append({"sequence": s, "positions": positions})
            data = np.concatenate(blob).astype("<f4")
            file = name + ".f32"
            data.tofile(os.path.join(args.out, file))
            index["models"].append({
                "name": name,
                "file": file,
                "weights_dtype": dtype,
                "recipe": {"preset": "tiny", "dtype": dtype, "seed": seed, "init_std": INIT_STD,
                           "arch": flags.get("arch", "llama"), "num_kv_heads": flags.get("num_kv_heads", 0),
                           "config_edit": config_edit},
                "command": "llmbatch " + " ".join(cmd) + " --out DIR",
                "weights_fnv1a64": weights_checksum(model_dir),
                "rows": rows,
            })
            print(f"{name}: {data.shape[0]} rows", file=sys.stderr)
    finally:
        shutil.rmtree(work)
    text = json.dumps(index, indent=1)
    # One line per list of numbers: sequences and positions stay readable.
    text = re.sub(r"\[[-0-9.,\s]+\]", lambda m: re.sub(r"\s+", "", m.group(0)).replace(",", ", "), text)
    with open(os.path.join(args.out, "forward.json"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
