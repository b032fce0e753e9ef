#!/usr/bin/env bash
# The one command that shows llmbatch working on a fresh Debian 12 machine:
# install dependencies → build → run the demo. Today the demo writes a
# random-weight SmolLM-135M-shaped model and inspects it; it grows into a
# real generation job as the engine lands.
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
echo "== llmbatch model random --preset smollm135m --dtype bf16 --seed 0 --out $out/model"
"$llmbatch" model random --preset smollm135m --dtype bf16 --seed 0 --out "$out/model"
echo
echo "== llmbatch inspect $out/model"
"$llmbatch" inspect "$out/model"
