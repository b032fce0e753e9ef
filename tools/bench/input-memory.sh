#!/usr/bin/env bash
# Peak RSS of indexing and reading a whole jsonl input (docs/inputs.md):
# ~100 MB and ~1 GB files, plain and zstd, generated under WORK (default
# /tmp/llmbatch-input-memory, removed at the end). The figure must not
# grow with the input size.
#   tools/bench/input-memory.sh [BUILD_DIR]     (default build-bench)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build-bench}"
work="${WORK:-/tmp/llmbatch-input-memory}"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLMBATCH_CUDA=OFF >/dev/null
fi
ninja -C "$build" bench_input_memory >/dev/null
bench="$build/tools/bench/bench_input_memory"

# Records of 20..4000 characters, a third with per-record sampling, one in
# a thousand malformed (an error row, never a stop).
generate() {  # generate FILE BYTES
  python3 - "$1" "$2" <<'PY'
import json, random, sys
path, target = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
words = "the quick brown fox jumps over a lazy dog while llamas batch tokens".split()
pool = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 800))) for _ in range(2000)]
written = 0
with open(path, "w", buffering=1 << 22) as f:
    i = 0
    while written < target:
        if i % 1000 == 999:
            line = '{"prompt": "broken\n'
        else:
            rec = {"id": f"r{i}", "prompt": pool[i % len(pool)]}
            if i % 3 == 0:
                rec["sampling"] = {"temperature": 0.7, "max_tokens": 64}
            line = json.dumps(rec) + "\n"
        f.write(line)
        written += len(line)
        i += 1
PY
}

printf '%-22s %s\n' "input" "result"
for size in 100000000 1000000000; do
  file="$work/in-$size.jsonl"
  generate "$file" "$size"
  rm -rf "$work/cache"
  label="$(du -h "$file" | cut -f1) jsonl"
  printf '%-22s %s\n' "$label" "$("$bench" "$file" jsonl 64 "$work/cache")"
  printf '%-22s %s\n' "$label (cached)" "$("$bench" "$file" jsonl 64 "$work/cache")"
  if [[ $size -eq 100000000 ]]; then
    zstd -q -T2 "$file" -o "$file.zst"
    printf '%-22s %s\n' "$(du -h "$file.zst" | cut -f1) jsonl.zst" "$("$bench" "$file.zst" jsonl 64)"
    rm -f "$file.zst"
  fi
  rm -f "$file"
done
