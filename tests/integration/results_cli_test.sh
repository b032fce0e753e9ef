#!/usr/bin/env bash
# results_cli_test.sh LLMBATCH DRIVER WORK_DIR
# The output side end to end: the driver leaves a crashed two-rank job's
# output dir (journaled segments, an orphan, a torn journal line, a *.tmp);
# `llmbatch status` reports what the journals hold, `llmbatch merge` writes
# results.h5 that h5dump (and h5py, when the system Python has it) reads as
# the documented schema with every row once, `llmbatch export` gives parseable
# jsonl and openai-batch lines; bad input exits 2 with a clear message.
set -euo pipefail
llmbatch=$1 driver=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
out=$work/out
"$driver" "$out"

# --- status while "running": journals + status.json
"$llmbatch" status "$out" --json > "$work/status_cli.json"
python3 - "$work/status_cli.json" <<'PY' || fail "status --json"
import json, sys
s = json.load(open(sys.argv[1]))
c = s["committed"]
assert c["units"] == 3 and c["rows"] == 7 and c["segments"] == 3, c
assert [r["rank"] for r in c["ranks"]] == [0, 1], c
assert c["ranks"][0]["rows"] == 5 and c["ranks"][1]["units"] == 1, c
assert s["status"]["state"] == "running" and s["status"]["records"]["total"] == 10, s
PY
"$llmbatch" status "$out" > "$work/status.txt"
grep -q "committed  3 units, 7 rows in 3 segments" "$work/status.txt" || fail "status text: $(cat "$work/status.txt")"
grep -q "records    6 / 10 (60.0%): 5 ok, 1 error" "$work/status.txt" || fail "status text: $(cat "$work/status.txt")"

# --- merge: the orphan (a duplicate of record 4) and the *.tmp are ignored
"$llmbatch" merge "$out" > "$work/merge.txt"
grep -q "merged 7 rows (6 records) from 3 segments" "$work/merge.txt" || fail "merge: $(cat "$work/merge.txt")"
results=$out/results.h5
[[ -f $results && ! -e $results.tmp ]] || fail "results.h5 missing or its temporary left behind"

# --- h5dump: schema, attributes, order, UTF-8 strings
h5dump -H "$results" > "$work/header.txt" || fail "h5dump -H"
for path in records/index records/sample records/id records/status records/error records/finish_reason \
            records/num_prompt_tokens records/num_output_tokens tokens/prompt_offsets tokens/prompt_ids \
            tokens/output_offsets tokens/output_ids text/output logprobs/offsets logprobs/token \
            logprobs/topk_offsets logprobs/topk_ids logprobs/topk_values scores/prompt_logprob_offsets \
            scores/prompt_logprobs scores/sum_logprob scores/is_greedy; do
  h5dump -H -d "/$path" "$results" > /dev/null 2>&1 || fail "h5dump cannot read /$path"
done
h5dump -H -d /text/output "$results" | grep -q "H5T_CSET_UTF8" || fail "/text/output is not UTF-8"
h5dump -H -d /tokens/output_offsets "$results" | grep -q "H5T_STD_I64LE" || fail "offsets are not int64"
h5dump -A -g / "$results" > "$work/attrs.txt"
for attr in num_rows num_records llmbatch_format job_yaml model_hash llmbatch_version; do
  grep -q "ATTRIBUTE \"$attr\"" "$work/attrs.txt" || fail "attribute $attr missing"
done
h5dump -a /num_rows "$results" | grep -q "(0): 7" || fail "num_rows != 7"
h5dump -a /num_records "$results" | grep -q "(0): 6" || fail "num_records != 6"
index=$(h5dump -d /records/index -y -w 0 "$results" | sed -n '/DATA {/,/}/p' | tr -d ' \n' | sed 's/DATA{//; s/}//')
[[ $index == "0,0,1,2,3,4,5" ]] || fail "records/index is '$index'"
sample=$(h5dump -d /records/sample -y -w 0 "$results" | sed -n '/DATA {/,/}/p' | tr -d ' \n' | sed 's/DATA{//; s/}//')
[[ $sample == "0,1,0,0,0,0,0" ]] || fail "records/sample is '$sample'"
# h5dump 1.10 prints each non-ASCII byte as a sign-extended octal escape
# (\37777777703 for 0xC3): turn those back into bytes and compare the text.
h5dump -d /text/output -w 0 "$results" > "$work/text.txt"
python3 - "$work/text.txt" <<'PY' || fail "UTF-8 text in h5dump output: $(cat "$work/text.txt")"
import re, sys
raw = open(sys.argv[1], "rb").read()
raw = re.sub(rb"\\3777777([0-7]{4})", lambda m: bytes([int(m.group(1), 8) & 0xFF]), raw)
assert '"héllo 世界 🙂"' in raw.decode("utf-8"), raw
PY
h5dump -d /records/status "$results" | grep -q '"error"' || fail "error status missing"

# --- h5py, where the system Python has it (python3-h5py from tools/install-deps.sh)
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  /usr/bin/python3 - "$results" <<'PY' || fail "h5py checks"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert list(f["records/index"][:]) == [0, 0, 1, 2, 3, 4, 5]
    assert f["text/output"].asstr()[5] == "héllo 世界 🙂"
    assert f["records/id"].asstr()[0] == "req-0"
    off = f["tokens/output_offsets"][:]
    assert list(f["tokens/output_ids"][off[1]:off[2]]) == [6324, 727, 2]
    lo = f["logprobs/offsets"][:]
    assert list(f["logprobs/token"][lo[1]:lo[2]]) == [-1.5, -0.75, -0.125]
    assert f.attrs["num_rows"] == 7 and f.attrs["model_hash"] == "sha256:0123"
PY
fi

# --- export
"$llmbatch" export "$results" --format jsonl > "$work/rows.jsonl"
"$llmbatch" export "$results" --format openai-batch --output "$work/batch.jsonl"
"$llmbatch" export "$results" --format jsonl --limit 2 > "$work/two.jsonl"
python3 - "$work/rows.jsonl" "$work/batch.jsonl" "$work/two.jsonl" <<'PY' || fail "export checks"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
batch = [json.loads(l) for l in open(sys.argv[2])]
two = [json.loads(l) for l in open(sys.argv[3])]
assert [(r["index"], r["sample"]) for r in rows] == [(0, 0), (0, 1), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)]
assert rows[0]["text"] == "Hello" and rows[0]["output_ids"] == [15043, 2] and rows[0]["finish_reason"] == "eos"
assert rows[0]["logprobs"]["token_logprobs"] == [-0.5, -0.25]
assert rows[0]["logprobs"]["top_logprobs"][0] == [{"id": 15043, "logprob": -0.5}, {"id": 6324, "logprob": -1.5}]
assert rows[2]["sum_logprob"] == -3.0 and rows[2]["is_greedy"] is True and rows[2]["prompt_logprobs"] == [-2.5, -0.5]
assert rows[3]["status"] == "error" and "max_model_len" in rows[3]["error"]
assert rows[4]["text"] == "" and rows[4]["output_ids"] == []
assert rows[5]["text"] == "héllo 世界 🙂"
assert len(batch) == 6 and [b["custom_id"] for b in batch] == ["req-%d" % i for i in range(6)]
choices = batch[0]["response"]["body"]["choices"]
assert [c["message"]["content"] for c in choices] == ["Hello", "Hi there"]
assert [c["finish_reason"] for c in choices] == ["stop", "stop"]
assert batch[0]["response"]["body"]["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
assert batch[2]["response"]["status_code"] == 400
assert two == rows[:2]
PY

# --- errors: exit 2 and a message that says what is wrong
expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1; shift
  set +e
  "$llmbatch" "$@" > /dev/null 2> "$work/err"
  local rc=$?
  set -e
  [[ $rc == 2 ]] || fail "'$*' exited $rc, expected 2: $(cat "$work/err")"
  grep -q -- "$pattern" "$work/err" || fail "'$*' said: $(cat "$work/err")"
}
expect_error "no such output directory" merge "$work/missing"
expect_error "no journal" merge "$work"
expect_error "not an llmbatch output directory" status "$work"
expect_error "no such file" export "$work/missing.h5"
expect_error "not an HDF5 file" export "$work/rows.jsonl"
expect_error "not an llmbatch results file" export "$out/foreign.h5"
expect_error "unknown export format" export "$results" --format csv
segment=$(ls "$out"/segments/seg-r0-0.h5)
printf 'garbage' | dd of="$segment" bs=1 seek=2048 conv=notrunc status=none
expect_error "CRC-32" merge "$out" --output "$work/again.h5"
[[ ! -e $work/again.h5 && ! -e $work/again.h5.tmp ]] || fail "a failed merge left a file"
rm -rf "$work"
echo ok
