#!/usr/bin/env bash
# Regenerates tests/fixtures/forward/ (Hugging Face transformers log-probs on
# random llmbatch models) for the float64 reference forward's test. Python,
# torch and transformers live only in a throwaway venv; tests never need
# them: commit the regenerated files.
#   ninja -C build llmbatch
#   tools/make-forward-fixtures.sh build/src/cli/llmbatch     # venv in /tmp/venv-fwd
#   VENV=/path tools/make-forward-fixtures.sh BIN [OUT_DIR]
set -euo pipefail
if (($# < 1)); then
  echo "usage: $0 LLMBATCH_BINARY [OUT_DIR]" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
llmbatch="$(realpath "$1")"
out="${2:-$here/../tests/fixtures/forward}"
venv="${VENV:-/tmp/venv-fwd}"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  # The CPU-only wheel is ~10x smaller; plain PyPI (with CUDA libraries) is
  # the fallback where only PyPI is reachable.
  "${pip[@]}" torch --index-url https://download.pytorch.org/whl/cpu || "${pip[@]}" torch
fi
"${pip[@]}" transformers safetensors numpy
"$venv/bin/python" "$here/make-forward-fixtures.py" --llmbatch "$llmbatch" --out "$out"
