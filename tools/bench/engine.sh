#!/usr/bin/env bash
# Engine throughput of `llmbatch bench` on the smollm135m random preset (bf16):
#   1. fixed 128 in / 128 out at 64 concurrent sequences;
#   2. the same at 1 sequence, beside the memory-bandwidth bound of decode
#      (bf16 bytes one token reads / measured read bandwidth);
#   3. sharegpt-like lengths, continuous vs static batching at equal KV memory.
#   tools/bench/engine.sh
# Sizes can be shrunk for a quick run: NUM_PROMPTS (256), NUM_PROMPTS_1 (4),
# SHAREGPT_PROMPTS (48), KV_MEMORY (80MiB), THREADS (2). The sharegpt
# defaults are the point docs/PERFORMANCE.md reports: static batching holds
# one sequence's max_model_len reservation there, so the ratio shows what
# paging buys at equal memory (more memory lets static batch more). Needs the Release
# build: BUILD_DIR (build-bench2), targets llmbatch and bench_mem_read_bw. Figures: docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build-bench2}
threads=${THREADS:-2}
# LLMBATCH=path/to/llmbatch runs that binary instead of building one.
llmbatch=${LLMBATCH:-}
if [[ -z $llmbatch ]]; then ninja -C "$build" llmbatch >/dev/null; llmbatch=$build/src/cli/llmbatch; fi
work=$(mktemp -d /tmp/llmbatch-engine-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_PROC_BIND=${OMP_PROC_BIND:-true}

# Other jobs on a shared machine skew every figure: show the load before each run.
load() { echo "load before $1: $(cut -d' ' -f1-3 /proc/loadavg)"; }

# `llmbatch bench --json` -> one line per run.
cat >"$work/summary.py" <<'PY'
import json, sys
d = json.load(sys.stdin)
for r in d["runs"]:
    print(f"  {r['policy']:<10} gen {r['generated_tokens_per_second']:8.1f} tok/s  total {r['total_tokens_per_second']:8.1f} tok/s"
          f"  wall {r['wall_seconds']:7.1f} s  steps {r['steps']}  p50 {r['step_p50_ms']:.1f} ms  p99 {r['step_p99_ms']:.1f} ms"
          f"  batch {r['max_batch_sequences']}  KV waste {100 * r['kv_waste']:.2f}%  preempt {r['preemptions']}")
if len(d["runs"]) == 2:
    a, b = d["runs"]
    print(f"  continuous / static: gen x{a['generated_tokens_per_second'] / b['generated_tokens_per_second']:.2f}"
          f", total x{a['total_tokens_per_second'] / b['total_tokens_per_second']:.2f}")
print(f"  KV blocks {d['kv_blocks']} x {d['block_size']}, peak RSS {d['peak_rss_bytes'] / 2**20:.0f} MiB")
PY
summary() { python3 "$work/summary.py"; }

"$llmbatch" model random --preset smollm135m --dtype bf16 --out "$work/model" >/dev/null
common=(--model "$work/model" --threads "$threads" --json)

echo "== fixed 128/128, ${NUM_PROMPTS:-256} prompts, 64 sequences"
load fixed-64
"$llmbatch" bench "${common[@]}" --input-len 128 --output-len 128 --num-prompts "${NUM_PROMPTS:-256}" \
  --max-num-seqs 64 | summary

echo "== fixed 128/128, ${NUM_PROMPTS_1:-4} prompts, 1 sequence"
load fixed-1
"$llmbatch" bench "${common[@]}" --input-len 128 --output-len 128 --num-prompts "${NUM_PROMPTS_1:-4}" \
  --max-num-seqs 1 | tee "$work/one.json" | summary
ninja -C "$build" bench_mem_read_bw >/dev/null
load bandwidth
bandwidth=$("$build/tools/bench/bench_mem_read_bw" "$threads" 1024)
# Bytes a decode token reads: every weight once (the tied embedding once, as
# lm_head; the embedding row itself is negligible) plus the KV of its context,
# 192 tokens on average over 128 generated after a 128-token prompt.
python3 - "$work/model/config.json" "$bandwidth" "$work/one.json" <<'PY'
import json, os, sys
cfg = json.load(open(sys.argv[1]))
weights = os.path.getsize(os.path.join(os.path.dirname(sys.argv[1]), "model.safetensors"))
kv_per_token = 2 * cfg["num_hidden_layers"] * cfg["num_key_value_heads"] * (cfg["hidden_size"] // cfg["num_attention_heads"]) * 2
per_token = weights + 192 * kv_per_token
bound = float(sys.argv[2]) * 1e9 / per_token
run = json.load(open(sys.argv[3]))["runs"][0]
# Decode rate: generated tokens over the wall time left after prefill is
# not separable here, so the full-run rate (prefill included) is a lower bound.
gen = run["generated_tokens_per_second"]
print(f"  read bandwidth {float(sys.argv[2]):.2f} GB/s, {per_token / 1e6:.1f} MB per decode token"
      f" -> bound {bound:.1f} tok/s; measured gen {gen:.1f} tok/s = {100 * gen / bound:.0f}% of bound"
      f" (decode step p50 {run['step_p50_ms']:.2f} ms = {1000 / run['step_p50_ms']:.1f} tok/s = {100 * 1000 / run['step_p50_ms'] / bound:.0f}%)")
PY

echo "== sharegpt, ${SHAREGPT_PROMPTS:-48} prompts, KV ${KV_MEMORY:-80MiB}, continuous vs static"
load sharegpt
"$llmbatch" bench "${common[@]}" --dataset sharegpt --num-prompts "${SHAREGPT_PROMPTS:-48}" \
  --max-num-seqs 64 --kv-cache-memory "${KV_MEMORY:-80MiB}" --compare static | summary
