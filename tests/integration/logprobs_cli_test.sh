#!/usr/bin/env bash
# logprobs_cli_test.sh LLMBATCH WORK_DIR
# `llmbatch logprobs`: JSON shape, probabilities in range, the top-1
# alternative at least as likely as the given token, per-position values
# independent of the sequence length (causality), bad input -> exit 2.
set -euo pipefail
llmbatch=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$llmbatch" model random --preset tiny --dtype f32 --seed 5 --init-std 0.1 --out "$work/m" >/dev/null
ids=$(python3 -c "print(','.join(str((i * 37) % 512) for i in range(40)))")
"$llmbatch" logprobs --model "$work/m" --ids "$ids" --top 3 --kv-dtype f32 > "$work/long.json"
"$llmbatch" logprobs --model "$work/m" --ids "$(cut -d, -f1-20 <<<"$ids")" --top 3 --kv-dtype f32 > "$work/short.json"
python3 - "$work/long.json" "$work/short.json" <<'PY' || fail "logprobs JSON checks"
import json, math, sys
long, short = (json.load(open(p)) for p in sys.argv[1:3])
assert long["num_tokens"] == 40 and len(long["positions"]) == 39
for p in long["positions"]:
    assert p["logprob"] <= 0 and p["rank"] >= 1 and len(p["top"]) == 3
    assert p["top"][0][1] >= p["logprob"] - 1e-12
    assert p["top"][0][1] >= p["top"][1][1] >= p["top"][2][1]
    assert (p["rank"] == 1) == (p["top"][0][0] == p["next"] or p["top"][0][1] == p["logprob"])
assert abs(long["sum_logprob"] - sum(p["logprob"] for p in long["positions"])) < 1e-9
assert abs(long["perplexity"] - math.exp(-long["mean_logprob"])) < 1e-9
# causal: the first 19 positions do not depend on later tokens (same bits)
for a, b in zip(long["positions"][:19], short["positions"]):
    assert a == b, (a, b)
PY
set +e
"$llmbatch" logprobs --model "$work/m" --ids 1,999999 2>"$work/err"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q "is not a token id of this model" "$work/err" || fail "bad id: rc=$rc"
set +e
"$llmbatch" logprobs --model "$work/m" --ids 1,x 2>"$work/err"; rc=$?
set -e
[[ $rc == 2 ]] || fail "non-numeric id: rc=$rc"
rm -rf "$work"
echo ok
