#!/usr/bin/env python3
"""Rust `tokenizers` side of tools/bench/tokenizer.sh: encodes each text file
with each tokenizer on one thread and prints one line per pair,
  NAME FILE TOKENS BEST_SECONDS MB_PER_S
(best of RUNS timed runs after one warm-up, same as the C++ side)."""
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

RUNS = 5


def main():
    fixtures, files = sys.argv[1], sys.argv[2:]
    for name in ("gpt2", "llama3_1", "qwen2_5", "mistral"):
        tok = Tokenizer.from_file(os.path.join(fixtures, name, "tokenizer.json"))
        for path in files:
            text = open(path, encoding="utf-8").read()
            n = len(tok.encode(text, add_special_tokens=False).ids)
            best = float("inf")
            for _ in range(RUNS):
                t0 = time.perf_counter()
                tok.encode(text, add_special_tokens=False)
                best = min(best, time.perf_counter() - t0)
            mb = len(text.encode("utf-8")) / 1e6
            print(f"{name} {os.path.basename(path)} {n} {best:.4f} {mb / best:.2f}", flush=True)


if __name__ == "__main__":
    main()
