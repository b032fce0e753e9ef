#!/usr/bin/env bash
# llmbatch vs HF Transformers generate() with static padded batches, on the
# same sharegpt-like workload (same lengths; tools/bench/hf_generate.py) and
# the same random smollm135m model in bf16, 2 threads.
#   tools/bench/vs-transformers.sh
# Env: NUM_PROMPTS (64), BATCH_SIZES ("16 64"), HF_DTYPE (bfloat16; float32
# is torch's fast path on CPUs without AVX512-BF16), THREADS (2), VENV
# (/tmp/venv-hf: torch, transformers, safetensors, numpy from PyPI, made
# here if missing), BUILD_DIR (build-bench2). Figures: docs/PERFORMANCE.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$repo/${BUILD_DIR:-build-bench2}
venv=${VENV:-/tmp/venv-hf}
threads=${THREADS:-2}
n=${NUM_PROMPTS:-64}
load() { echo "load before $1: $(cut -d' ' -f1-3 /proc/loadavg)"; }

if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
  # PyPI's Linux torch wheel is the CUDA build: it will not import without
  # its nvidia-* wheels (libcufile.so.0 ...), so they come along (~3 GB).
  "$venv/bin/pip" install -q torch transformers safetensors numpy
fi
# LLMBATCH=path/to/llmbatch runs that binary instead of building one.
llmbatch=${LLMBATCH:-}
if [[ -z $llmbatch ]]; then ninja -C "$build" llmbatch >/dev/null; llmbatch=$build/src/cli/llmbatch; fi
work=$(mktemp -d /tmp/llmbatch-vs-hf.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$llmbatch" model random --preset smollm135m --dtype bf16 --out "$work/model" >/dev/null

for bs in ${BATCH_SIZES:-16 64}; do
  echo "== transformers generate(), $n prompts, static batches of $bs"
  load "hf $bs"
  "$venv/bin/python" "$repo/tools/bench/hf_generate.py" "$work/model" --num-prompts "$n" --batch-size "$bs" \
    --threads "$threads" --dtype "${HF_DTYPE:-bfloat16}" | tee -a "$work/hf.jsonl"
done

echo "== llmbatch bench, same workload (continuous, max 64 sequences; static baseline beside it)"
load llmbatch
OMP_PROC_BIND=${OMP_PROC_BIND:-true} "$llmbatch" bench --model "$work/model" --threads "$threads" \
  --dataset sharegpt --num-prompts "$n" --max-num-seqs 64 --compare static --json >"$work/ours.json"

python3 - "$work/hf.jsonl" "$work/ours.json" <<'PY'
import json, sys
hf = [json.loads(l) for l in open(sys.argv[1])]
ours = {r["policy"]: r for r in json.load(open(sys.argv[2]))["runs"]}
for r in hf:
    print(f"transformers {r.get('dtype', 'bfloat16')} batch {r['batch_size']:>3}: gen {r['generated_tokens_per_second']:7.1f} tok/s"
          f"  ({r['generated_tokens']} generated in {r['wall_seconds']:.1f} s, torch {r['torch']})")
for policy, r in ours.items():
    print(f"llmbatch {policy:<10}: gen {r['generated_tokens_per_second']:7.1f} tok/s"
          f"  ({r['generated_tokens']} generated in {r['wall_seconds']:.1f} s)")
best = max(r["generated_tokens_per_second"] for r in hf)
print(f"llmbatch continuous / best transformers: x{ours['continuous']['generated_tokens_per_second'] / best:.2f}")
PY
