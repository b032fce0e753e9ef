#!/usr/bin/env bash
# The one command that shows llmbatch working on a fresh Debian 12 machine:
# install dependencies → build → run a real job. The job (jobs/demo.yaml)
# generates completions for jobs/data/demo.jsonl (240 prompts and chats of
# mixed lengths, six deliberately bad records) with a random-weight
# SmolLM-135M-shaped model that uses the real GPT-2 tokenizer, commits HDF5
# segments as it goes, then merges them and shows the first rows.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j"$(nproc)" llmbatch
llmbatch=$build/src/cli/llmbatch

demo=${DEMO_DIR:-/tmp/llmbatch-demo}
rm -rf "$demo"
mkdir -p "$demo"
paths=(--set "model.path=$demo/model" --set "output.dir=$demo/out")
run() { echo; echo "== $*"; "$@"; }

run "$llmbatch" model random --preset smollm135m --dtype bf16 --seed 0 \
  --tokenizer tests/fixtures/tokenizers/gpt2 --out "$demo/model"
run "$llmbatch" validate jobs/demo.yaml "${paths[@]}"
run "$llmbatch" run jobs/demo.yaml "${paths[@]}"
run "$llmbatch" status "$demo/out"
run "$llmbatch" merge "$demo/out"
echo
echo "== llmbatch export $demo/out/results.h5 --format jsonl --limit 3   (random weights: the text is gibberish)"
"$llmbatch" export "$demo/out/results.h5" --format jsonl --limit 3 | cut -c1-400
echo
echo "== the bad records became error rows:"
"$llmbatch" export "$demo/out/results.h5" --format jsonl | grep '"status":"error"' | cut -c1-300 || true
echo
echo "results: $demo/out/results.h5 (h5dump -H shows the layout; docs/output-format.md describes it)"
