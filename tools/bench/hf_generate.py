#!/usr/bin/env python3
"""HF Transformers static-batch generation throughput, for
tools/bench/vs-transformers.sh: the sharegpt-like workload of `llmbatch bench
--dataset sharegpt` (same lengths: src/engine/bench_workload.cpp's Philox
draws, redone here), prompts of random token ids, greedy, each batch left-padded
and run to its longest output with min_new_tokens = max_new_tokens. Only each
request's own output length counts as generated tokens (not the padding or
the steps a short request rides along).

    hf_generate.py MODEL_DIR --num-prompts N --batch-size B [--threads 2] [--seed 0]
                   [--dtype bfloat16|float32]

--dtype float32 runs the bf16 checkpoint widened to f32: on CPUs without
AVX512-BF16, torch's f32 GEMMs are its fast path (bf16 ones are emulated).

Prints one JSON line. Needs torch, transformers, numpy (a throwaway venv).
"""
import argparse
import json
import math
import time

import numpy as np
import torch
from transformers import AutoModelForCausalLM

M32 = 0xFFFFFFFF


def philox4x32(ctr, key):
    c, k = list(ctr), list(key)
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k[0]) & M32, p1 & M32, ((p0 >> 32) ^ c[3] ^ k[1]) & M32, p0 & M32]
        k = [(k[0] + 0x9E3779B9) & M32, (k[1] + 0xBB67AE85) & M32]
    return c


def uniform(bits):
    return np.float32((bits >> 8) + 1) * np.float32(1.0 / 16777216.0)


def lognormal_length(mean, normal):
    mu = math.log(mean) - 0.5  # sigma = 1
    return min(max(int(math.floor(math.exp(mu + float(normal)) + 0.5)), 4), 1024)


def sharegpt_lengths(n, seed):
    key = [seed & M32, (seed >> 32) & M32]
    lengths = []
    for i in range(n):
        b = philox4x32([i, 0, 0, 1], key)
        radius = np.sqrt(np.float32(-2.0) * np.log(uniform(b[0])))
        angle = np.float32(6.2831853071795864) * uniform(b[1])
        lengths.append((lognormal_length(166.0, radius * np.cos(angle)), lognormal_length(390.0, radius * np.sin(angle))))
    return lengths


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--num-prompts", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=getattr(torch, a.dtype)).eval()
    vocab = model.config.vocab_size
    rng = np.random.default_rng(a.seed)
    lengths = sharegpt_lengths(a.num_prompts, a.seed)
    prompts = [rng.integers(0, vocab, size=n_in).tolist() for n_in, _ in lengths]

    with torch.inference_mode():
        model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=2, do_sample=False, pad_token_id=0)  # warm-up
        start = time.perf_counter()
        steps = 0
        for b in range(0, a.num_prompts, a.batch_size):
            batch = prompts[b:b + a.batch_size]
            max_in = max(len(t) for t in batch)
            max_out = max(out for _, out in lengths[b:b + a.batch_size])
            ids = torch.zeros((len(batch), max_in), dtype=torch.long)
            mask = torch.zeros((len(batch), max_in), dtype=torch.long)
            for row, toks in enumerate(batch):  # left padding
                ids[row, max_in - len(toks):] = torch.tensor(toks)
                mask[row, max_in - len(toks):] = 1
            model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_out, min_new_tokens=max_out,
                           do_sample=False, pad_token_id=0)
            steps += max_out
        wall = time.perf_counter() - start

    prompt_tokens = sum(n for n, _ in lengths)
    generated = sum(n for _, n in lengths)
    print(json.dumps({"num_prompts": a.num_prompts, "batch_size": a.batch_size, "wall_seconds": wall,
                      "prompt_tokens": prompt_tokens, "generated_tokens": generated, "steps": steps,
                      "generated_tokens_per_second": generated / wall,
                      "total_tokens_per_second": (prompt_tokens + generated) / wall,
                      "dtype": a.dtype, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
