#!/usr/bin/env bash
# `llmbatch run` / `validate` end to end on a tiny random model: the plan,
# --print-config, job-level errors (exit 2 before any work), a graceful stop
# on SIGTERM that resumes to the same results, a second SIGINT that exits at
# once, and refusing to resume a changed job unless --restart.
#
#   job_cli_test.sh LLMBATCH WORK_DIR
set -uo pipefail
bin=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../fixtures
fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$work" && mkdir -p "$work"
"$bin" model random --preset tiny --tokenizer "$fixtures/tokenizers/gpt2" --out "$work/model" --seed 3 >/dev/null || fail "model"
for i in $(seq 0 399); do printf '{"prompt":"Prompt number %d tells a story about %d birds."}\n' "$i" "$i"; done > "$work/in.jsonl"
common=(--set "model.path=$work/model" --set "input.paths=[$work/in.jsonl]" --set input.records_per_unit=16
        --set sampling.max_tokens=48 --set sampling.seed=3 --set engine.kv_cache_memory=32MiB
        --set engine.threads=1 --set engine.max_num_seqs=8 --set output.checkpoint_records=8)

# validate: the plan, then ok.
"$bin" validate "${common[@]}" --set "output.dir=$work/out" > "$work/plan.txt" || fail "validate exit $?"
grep -q "400 records in 25 units" "$work/plan.txt" || fail "plan: $(cat "$work/plan.txt")"
grep -q "^ok$" "$work/plan.txt" || fail "validate did not say ok"

# --print-config: every section, loads back.
"$bin" run "${common[@]}" --set "output.dir=$work/out" --print-config > "$work/config.yaml" || fail "print-config"
for key in "model:" "input:" "sampling:" "output:" "engine:" "parallel:" "records_per_unit: 16"; do
  grep -q "$key" "$work/config.yaml" || fail "print-config lacks $key"
done
"$bin" validate "$work/config.yaml" >/dev/null || fail "printed config does not load back"

# Job-level errors: exit 2, a message naming the problem, nothing written.
expect_error() {  # expect_error SUBSTRING ARGS...
  local want=$1; shift
  "$bin" run "$@" > /dev/null 2> "$work/err.txt"; local rc=$?
  [[ $rc -eq 2 ]] || fail "exit $rc (want 2) for: $*"
  grep -q -- "$want" "$work/err.txt" || fail "message lacks '$want': $(cat "$work/err.txt")"
}
expect_error "not a directory" "${common[@]}" --set "model.path=$work/nope" --set "output.dir=$work/e1"
expect_error "input.paths" "${common[@]}" --set "input.paths=[$work/missing-*.jsonl]" --set "output.dir=$work/e2"
expect_error "did you mean engine.max_num_seqs" "${common[@]}" --set engine.max_num_seq=3 --set "output.dir=$work/e3"
[[ ! -e $work/e1/segments && ! -e $work/e2/segments ]] || fail "a failed job wrote segments"

# SIGTERM: stops, commits, exits 0 as resumable; the rerun completes.
# Signals go as soon as a job's first segment is committed: a fixed sleep
# let the whole job finish first on a fast machine (400 records in 2.8 s).
wait_first_segment() {  # wait_first_segment OUTPUT_DIR (30 s at most)
  for _ in $(seq 600); do
    compgen -G "$1/segments/seg-*.h5" > /dev/null && return
    sleep 0.05
  done
  fail "no segment in $1 after 30 s"
}
"$bin" run "${common[@]}" --set "output.dir=$work/out" 2> "$work/run1.log" &
pid=$!
wait_first_segment "$work/out"
kill -TERM "$pid"
wait "$pid"; rc=$?
[[ $rc -eq 0 ]] || fail "SIGTERM exit $rc: $(tail -3 "$work/run1.log")"
grep -q "resumable" "$work/run1.log" || fail "no 'resumable' in: $(tail -3 "$work/run1.log")"
grep -q '"state": *"stopped"' "$work/out/status.json" || fail "status.json: $(cat "$work/out/status.json")"
"$bin" run "${common[@]}" --set "output.dir=$work/out" 2> "$work/run2.log" || fail "resume: $(tail -3 "$work/run2.log")"
grep -q "from earlier runs" "$work/run2.log" || fail "resume skipped nothing: $(tail -2 "$work/run2.log")"
grep -q '"state": *"finished"' "$work/out/status.json" || fail "not finished"
"$bin" merge "$work/out" > /dev/null || fail "merge"
"$bin" export "$work/out/results.h5" --format jsonl --output "$work/resumed.jsonl" || fail "export"

# The same job without interruption gives the same rows.
"$bin" run "${common[@]}" --set "output.dir=$work/straight" 2> /dev/null || fail "straight run"
"$bin" merge "$work/straight" > /dev/null && "$bin" export "$work/straight/results.h5" --format jsonl --output "$work/straight.jsonl"
[[ $(wc -l < "$work/straight.jsonl") -eq 400 ]] || fail "expected 400 rows"
cmp -s "$work/resumed.jsonl" "$work/straight.jsonl" || fail "stopped + resumed differs from an uninterrupted run"

# A changed job refuses to resume; --restart discards and reruns.
expect_error "different job (sampling changed)" "${common[@]}" --set "output.dir=$work/out" --set sampling.seed=4
"$bin" run "${common[@]}" --set "output.dir=$work/out" --set sampling.seed=4 --restart 2> /dev/null || fail "--restart"

# Score mode: lm-eval style context/continuation records and a plain text.
cat > "$work/score.jsonl" <<'JSONL'
{"context": "The capital of France is", "continuation": " Paris"}
{"context": "The capital of France is", "continuation": " a large city"}
{"text": "Perplexity of a whole sentence."}
{"context": "No continuation here"}
JSONL
"$bin" run --set "model.path=$work/model" --set "input.paths=[$work/score.jsonl]" --set mode=score \
  --set engine.threads=1 --set engine.kv_cache_memory=32MiB --set "output.dir=$work/score" 2> /dev/null || fail "score run"
"$bin" merge "$work/score" > /dev/null && "$bin" export "$work/score/results.h5" --format jsonl --output "$work/score.out"
[[ $(grep -c '"sum_logprob"' "$work/score.out") -ge 3 ]] || fail "score rows: $(cat "$work/score.out")"
grep -q '"is_greedy"' "$work/score.out" || fail "no is_greedy"
[[ $(grep -c '"status":"error"' "$work/score.out") -eq 1 ]] || fail "the record without continuation is not one error row"

# Two SIGINTs: the second exits at once with 130.
"$bin" run "${common[@]}" --set "output.dir=$work/int" --set sampling.max_tokens=200 2> "$work/int.log" &
pid=$!
wait_first_segment "$work/int"
kill -INT "$pid"; sleep 0.3; kill -INT "$pid"
wait "$pid"; rc=$?
[[ $rc -eq 130 ]] || fail "second SIGINT exit $rc"
"$bin" status "$work/int" > /dev/null || fail "status after a hard stop"
echo PASS
