#!/usr/bin/env bash
# Tokenizer throughput, llmbatch vs the Rust `tokenizers` library, side by
# side on the same 1 MB English and 1 MB mixed-script texts, one thread each.
#   tools/bench/tokenizer.sh [BUILD_DIR]     (default build-bench)
# The Rust side runs from a throwaway venv (VENV, default /tmp/venv-llmbatch-tok).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build-bench}"
venv="${VENV:-/tmp/venv-llmbatch-tok}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 "$root/tools/bench/tokenizer_corpus.py" "$work"

# The benchmark is a separate program, built here against the tokenizer
# library (never a test): an optimized build of llmbatch_tokenizer first.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLMBATCH_CUDA=OFF >/dev/null
ninja -C "$build" llmbatch_tokenizer >/dev/null
# shellcheck disable=SC2046
g++ -std=c++20 -O2 -I"$root/src" "$root/tools/bench/tokenizer_bench.cpp" \
  "$build/src/tokenizer/libllmbatch_tokenizer.a" "$build/src/core/libllmbatch_core.a" \
  $(pkg-config --libs libpcre2-8 libutf8proc) -lspdlog -lfmt -pthread -o "$work/tokenizer_bench"

if [[ ! -x "$venv/bin/python" ]]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "tokenizers==${TOKENIZERS_VERSION:-0.23.3}"

echo "== llmbatch (C++)    name file tokens best_s MB/s"
"$work/tokenizer_bench" "$root/tests/fixtures" "$work/english.txt" "$work/mixed.txt" | tee "$work/cpp.txt"
echo "== tokenizers (Rust) name file tokens best_s MB/s"
"$venv/bin/python" "$root/tools/bench/tokenizer_rust.py" "$root/tests/fixtures/tokenizers" \
  "$work/english.txt" "$work/mixed.txt" | tee "$work/rust.txt"
echo "== speedup (C++ MB/s / Rust MB/s; token counts must agree)"
paste -d' ' "$work/cpp.txt" "$work/rust.txt" | awk '{
  flag = ($3 == $8) ? "" : "  TOKEN COUNTS DIFFER";
  printf "%-9s %-12s %6.2fx%s\n", $1, $2, $5 / $10, flag }'
