#!/usr/bin/env bash
# The one command that shows llmbatch working on a fresh Debian 12 machine:
# install dependencies → build → run the demo. Today the demo writes a
# random-weight SmolLM-135M-shaped model that uses the real GPT-2
# tokenizer, inspects it, tokenizes a prompt and scores it with the CPU
# forward pass; it grows into a real generation job as the engine lands.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j"$(nproc)" llmbatch
llmbatch=$build/src/cli/llmbatch

out=${DEMO_DIR:-out/demo}
rm -rf "$out/model"
mkdir -p "$out"
tokenizer=tests/fixtures/tokenizers/gpt2
echo "== llmbatch model random --preset smollm135m --dtype bf16 --seed 0 --tokenizer $tokenizer --out $out/model"
"$llmbatch" model random --preset smollm135m --dtype bf16 --seed 0 --tokenizer "$tokenizer" --out "$out/model"
echo
echo "== llmbatch inspect $out/model"
"$llmbatch" inspect "$out/model"
echo
prompt="Batch inference jobs should survive a node failure at 3 a.m."
echo "== llmbatch tokenize --tokenizer $out/model --text \"$prompt\""
ids=$("$llmbatch" tokenize --tokenizer "$out/model" --text "$prompt")
echo "$ids"
echo
echo "== llmbatch logprobs --model $out/model --ids ... --top 3   (random weights: expect perplexity near the vocabulary size)"
"$llmbatch" logprobs --model "$out/model" --ids "$(tr -d '[] ' <<<"$ids")" --top 3 > "$out/logprobs.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['backend']); print('tokens', d['num_tokens'], 'sum logprob %.3f' % d['sum_logprob'], 'perplexity %.1f' % d['perplexity'])" "$out/logprobs.json"
echo "(per-position details: $out/logprobs.json)"
