#!/usr/bin/env bash
# model_cli_test.sh LLMBATCH WORK_DIR
# End-to-end checks of `llmbatch model random` and `llmbatch inspect`.
set -euo pipefail
llmbatch=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$@"; }

# smollm135m: the published parameter count of SmolLM-135M, tied embeddings once.
"$llmbatch" model random --preset smollm135m --dtype bf16 --seed 1 --out "$work/smol" --shard-size 100MB
"$llmbatch" inspect --json "$work/smol" > "$work/smol.json"
[[ $(json_field "$work/smol.json" "['parameters']") == 134515008 ]] || fail "smollm135m parameter count"
[[ $(json_field "$work/smol.json" "['num_files']") == 3 ]] || fail "expected 3 shards of <= 100MB"
[[ $(json_field "$work/smol.json" "['bytes_by_dtype']['BF16']") == 269030016 ]] || fail "BF16 bytes"
[[ -f "$work/smol/model.safetensors.index.json" ]] || fail "sharded model has no index"
"$llmbatch" inspect "$work/smol" | grep -q "134,515,008 (tied embeddings counted once)" || fail "human output"

# Same seed, same bytes; another seed, other bytes.
"$llmbatch" model random --preset tiny --dtype f32 --seed 7 --out "$work/a" >/dev/null
"$llmbatch" model random --preset tiny --dtype f32 --seed 7 --out "$work/b" >/dev/null
"$llmbatch" model random --preset tiny --dtype f32 --seed 8 --out "$work/c" >/dev/null
cmp -s "$work/a/model.safetensors" "$work/b/model.safetensors" || fail "same seed gave different weights"
! cmp -s "$work/a/model.safetensors" "$work/c/model.safetensors" || fail "different seeds gave the same weights"
[[ $(stat -c %s "$work/a/model.safetensors") -lt 1000000 ]] || fail "tiny f32 model is not < 1 MB"

# Variants used by forward-pass tests: Qwen2 biases, MQA.
"$llmbatch" model random --preset tiny --arch qwen2 --num-kv-heads 1 --out "$work/q" >/dev/null
"$llmbatch" inspect --json "$work/q" > "$work/q.json"
[[ $(json_field "$work/q.json" "['architecture']") == Qwen2ForCausalLM ]] || fail "qwen2 arch"
[[ $(json_field "$work/q.json" "['config']['num_key_value_heads']") == 1 ]] || fail "MQA"

# A model that fits a real tokenizer: vocabulary, BOS/EOS and the files.
"$llmbatch" model random --preset tiny --tokenizer "$(dirname "$0")/../fixtures/tokenizers/gpt2" --out "$work/g" >/dev/null
"$llmbatch" inspect --json "$work/g" > "$work/g.json"
[[ $(json_field "$work/g.json" "['config']['vocab_size']") == 50257 ]] || fail "gpt2 vocab size"
[[ -f "$work/g/tokenizer.json" && -f "$work/g/tokenizer_config.json" ]] || fail "tokenizer files not copied"
cmp -s "$work/g/tokenizer.json" "$(dirname "$0")/../fixtures/tokenizers/gpt2/tokenizer.json" || fail "tokenizer.json differs"

# Bad flags are user errors (exit 2), not crashes.
set +e
"$llmbatch" model random --preset huge --out "$work/x" 2>"$work/err"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q "unknown preset 'huge'" "$work/err" || fail "unknown preset: rc=$rc"
set +e
"$llmbatch" model random --preset tiny --out "$work/a" 2>"$work/err"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q "output directory is not empty" "$work/err" || fail "non-empty out dir: rc=$rc"
rm -rf "$work"
echo "ok"
