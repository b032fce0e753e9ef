#!/usr/bin/env bash
# Forward-pass benchmark on random-weight models of real shapes (bf16):
# decode at batch 1/16/64 at a 512-token context and a 512-token prefill,
# each beside plain oneDNN GEMMs of the same shapes, measured in the same run.
#   tools/bench/forward.sh [PRESETS...]     (default: smollm135m llama1b)
# Models are written once to out/bench-models/. Figures: docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
ninja -C "$build" bench_forward >/dev/null
presets=("$@")
[[ ${#presets[@]} -gt 0 ]] || presets=(smollm135m llama1b)
for preset in "${presets[@]}"; do
  OMP_PROC_BIND=${OMP_PROC_BIND:-true} "$build/tools/bench/bench_forward" --preset "$preset" --threads "${THREADS:-2}"
done
