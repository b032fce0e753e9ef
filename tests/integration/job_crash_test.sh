#!/usr/bin/env bash
# Crash test of `llmbatch run`: an uninterrupted job gives the reference
# results; then each trial runs the same job into a fresh output dir,
# killing it with SIGKILL at random moments (mid-step, mid-commit, during
# startup) and rerunning until it finishes by itself. The merged results of
# every trial must equal the reference's, every record exactly once.
#
#   job_crash_test.sh LLMBATCH WORK_DIR [TRIALS] [SEED]
set -euo pipefail
bin=$1 work=$2 trials=${3:-5} seed=${4:-$RANDOM}
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../fixtures
RANDOM=$seed
echo "crash test: $trials trials, seed $seed"

rm -rf "$work" && mkdir -p "$work"
"$bin" model random --preset tiny --tokenizer "$fixtures/tokenizers/gpt2" --out "$work/model" --seed 5 >/dev/null
for i in $(seq 0 119); do
  if (( i % 40 == 7 )); then
    printf '{"id":"bad-%d","prompt":""}\n' "$i"  # an error row must survive crashes too
  else
    printf '{"id":"r%d","prompt":"Record %d says hello to the world %d times and asks about %d more."}\n' "$i" "$i" "$i" $((i * 7))
  fi
done > "$work/in.jsonl"

common=(--set "model.path=$work/model" --set "input.paths=[$work/in.jsonl]" --set input.records_per_unit=8
        --set sampling.max_tokens=16 --set sampling.temperature=0.9 --set sampling.seed=7 --set sampling.n=2
        --set output.checkpoint_records=12 --set engine.kv_cache_memory=32MiB --set engine.threads=1
        --set engine.max_num_seqs=12 --set output.progress_interval_s=1000)

"$bin" run "${common[@]}" --set "output.dir=$work/ref" 2>"$work/ref.log"
"$bin" merge "$work/ref" >/dev/null
"$bin" export "$work/ref/results.h5" --format jsonl --output "$work/ref.jsonl"
rows=$(wc -l < "$work/ref.jsonl")
# n = 2 rows per good record, one per bad one.
[[ $rows -eq $((117 * 2 + 3)) ]] || { echo "FAIL: reference has $rows rows"; exit 1; }

for t in $(seq 1 "$trials"); do
  out=$work/trial-$t
  kills=0
  while :; do
    "$bin" run "${common[@]}" --set "output.dir=$out" 2>>"$work/trial-$t.log" &
    pid=$!
    # 0.05..2.05 s: startup, the middle of a step, or a commit.
    delay=$((RANDOM % 2000 + 50))
    sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
    if kill -0 "$pid" 2>/dev/null && (( kills < 12 )); then
      kill -9 "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      kills=$((kills + 1))
    else
      wait "$pid" || { echo "FAIL: trial $t: run exited with $?"; tail -5 "$work/trial-$t.log"; exit 1; }
      break
    fi
  done
  "$bin" merge "$out" >/dev/null
  "$bin" export "$out/results.h5" --format jsonl --output "$out.jsonl"
  if ! cmp -s "$work/ref.jsonl" "$out.jsonl"; then
    echo "FAIL: trial $t ($kills kills) differs from the uninterrupted run"
    diff <(cut -c1-200 "$work/ref.jsonl") <(cut -c1-200 "$out.jsonl") | head -10
    exit 1
  fi
  echo "trial $t: $kills kills, $(wc -l < "$out.jsonl") rows identical to the uninterrupted run"
done
echo "PASS: $trials/$trials trials"
