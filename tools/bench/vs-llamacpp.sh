#!/usr/bin/env bash
# llmbatch vs llama.cpp on the same model and shape: smollm135m random preset
# in bf16, 128-token prompts, 128 generated tokens, at 1 and 64 parallel
# sequences, 2 threads. llama.cpp is the one vendored in PyPI's
# llama-cpp-python sdist, built in a throwaway dir (never in the repo) with
# GGML_NATIVE=ON; the model goes to a BF16 GGUF via tools/bench/to_gguf.py
# (gguf + numpy in a throwaway venv).
#   tools/bench/vs-llamacpp.sh
# Env: WORK (/tmp/llbench), BUILD_DIR (build-bench2), THREADS (2),
# NPL (1,64), NPP (128), NTG (128). Figures: docs/PERFORMANCE.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$repo/${BUILD_DIR:-build-bench2}
work=${WORK:-/tmp/llbench}
threads=${THREADS:-2}
npl=${NPL:-1,64}
npp=${NPP:-128}
ntg=${NTG:-128}
mkdir -p "$work"
cd "$work"
load() { echo "load before $1: $(cut -d' ' -f1-3 /proc/loadavg)"; }

if ! ls llama_cpp_python-*.tar.gz >/dev/null 2>&1; then
  # --no-build-isolation with scikit-build-core present: pip only reads the
  # sdist's metadata instead of installing its whole build toolchain.
  python3 -m venv "$work/venv-sdist"
  "$work/venv-sdist/bin/pip" install -q scikit-build-core
  "$work/venv-sdist/bin/pip" download --no-deps --no-binary :all: --no-build-isolation llama-cpp-python -d .
fi
sdist=$(ls llama_cpp_python-*.tar.gz | sort -V | tail -n1)
src=$work/${sdist%.tar.gz}/vendor/llama.cpp
[[ -d $src ]] || tar xzf "$sdist"
bench=$src/build/bin/llama-batched-bench
if [[ ! -x $bench ]]; then
  cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_CUDA=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
  ninja -C "$src/build" llama-batched-bench
fi

if [[ ! -x $work/venv-gguf/bin/python ]]; then
  python3 -m venv "$work/venv-gguf"
  "$work/venv-gguf/bin/pip" install -q gguf numpy
fi
# LLMBATCH=path/to/llmbatch runs that binary instead of building one.
llmbatch=${LLMBATCH:-}
if [[ -z $llmbatch ]]; then ninja -C "$build" llmbatch >/dev/null; llmbatch=$build/src/cli/llmbatch; fi
rm -rf "$work/model"
"$llmbatch" model random --preset smollm135m --dtype bf16 --out "$work/model" >/dev/null
"$work/venv-gguf/bin/python" "$repo/tools/bench/to_gguf.py" "$work/model" "$work/model.gguf"

echo "== llama.cpp $(basename "${sdist%.tar.gz}") llama-batched-bench"
load llama.cpp
max_pl=${npl##*,}
"$bench" -m "$work/model.gguf" -npp "$npp" -ntg "$ntg" -npl "$npl" -t "$threads" -tb "$threads" \
  -c $((max_pl * (npp + ntg))) --output-format jsonl 2>"$work/llamacpp.log" | grep '^{' | tee "$work/llamacpp.jsonl"
grep -E "system_info|CPU :" "$work/llamacpp.log" | head -n2 || true

echo "== llmbatch bench, same shape"
: >"$work/llmbatch.jsonl"
for pl in ${npl//,/ }; do
  load "llmbatch $pl"
  OMP_PROC_BIND=${OMP_PROC_BIND:-true} "$llmbatch" bench --model "$work/model" --threads "$threads" \
    --input-len "$npp" --output-len "$ntg" --num-prompts "$pl" --max-num-seqs "$pl" --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); d["pl"]='"$pl"'; print(json.dumps(d))' >>"$work/llmbatch.jsonl"
done

# Generated tok/s end to end (prefill included: pl*tg / total time) for both;
# llama.cpp also reports its decode-only rate (S_TG), set beside ours
# (batch / median step time, the steps being decodes once prefill is done).
python3 - "$work/llamacpp.jsonl" "$work/llmbatch.jsonl" "$work/llamacpp.log" <<'PY'
import json, sys
ll = {r["pl"]: r for r in map(json.loads, open(sys.argv[1]))}
us = {d["pl"]: d for d in map(json.loads, open(sys.argv[2]))}
print(f"{'seqs':>5} {'llama.cpp gen/s':>16} {'llmbatch gen/s':>15} {'ratio':>6} {'llama.cpp S_TG':>15} {'llmbatch decode':>16} {'ratio':>6}")
for pl in sorted(us):
    if pl not in ll:
        print(f"{pl:>5} llama.cpp printed no result for this batch: see {sys.argv[3]}")
        continue
    l, r = ll[pl], us[pl]["runs"][0]
    l_gen = pl * l["tg"] / l["t"]
    u_gen = r["generated_tokens_per_second"]
    u_dec = pl * 1000.0 / r["step_p50_ms"]
    print(f"{pl:>5} {l_gen:>16.1f} {u_gen:>15.1f} {u_gen / l_gen:>6.2f} {l['speed_tg']:>15.1f} {u_dec:>16.1f} {u_dec / l['speed_tg']:>6.2f}")
PY
