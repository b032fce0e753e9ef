#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#   tools/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
# Seeds come from the committed fixtures; crashes are written to
# build-fuzz/artifacts/ and make the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
build=build-fuzz
mkdir -p "$build"
log="$build/build.log"
if ! { cmake -S . -B "$build" -G Ninja -DLLMBATCH_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ && ninja -C "$build" -j"$(nproc)"; } >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "fuzz: the clang build failed (full log: $log)"
  exit 1
fi

seed_dir() {  # seed_dir NAME FILES...: a fresh corpus dir holding copies of FILES
  local dir="$build/corpus/$1"; shift
  rm -rf "$dir" && mkdir -p "$dir"
  local i=0
  for f in "$@"; do [[ -f $f ]] && cp "$f" "$dir/seed$((i++))"; done
  echo "$dir"
}

run() {  # run TARGET CORPUS_DIR
  local target=$1 corpus=$2
  mkdir -p "$build/artifacts"
  echo "fuzz: $target for ${seconds}s"
  # The fuzzer's status is the pipeline's (pipefail; grep may match nothing):
  # a `|| true` after the whole pipeline would hide a crash.
  local status=0
  "$build/tests/fuzz/$target" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=4096 -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 2>&1 |
    { grep -E "^(stat::number_of_executed_units|Done|==[0-9]+==ERROR|SUMMARY)" || true; } || status=$?
  if [[ $status != 0 ]]; then
    echo "fuzz: $target failed (status $status); the input is in $build/artifacts/"
  fi
  return "$status"
}

run fuzz_safetensors_header "$(seed_dir safetensors tests/fixtures/malformed_models/*/model.safetensors)"
run fuzz_model_config "$(seed_dir config tests/fixtures/malformed_models/*/config.json)"
# Seeds: the chat-template fixtures hold text in many scripts and shapes.
run fuzz_tokenizer_encode "$(seed_dir tokenizer tests/fixtures/chat_templates/models/*/* tests/fixtures/chat_templates/*.json)"
echo "fuzz: no crash"
