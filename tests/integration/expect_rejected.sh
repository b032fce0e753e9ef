#!/usr/bin/env bash
# expect_rejected.sh LLMBATCH CASE_DIR
# `llmbatch inspect CASE_DIR` must exit 2 (a user-facing error, not a crash
# or an internal error) with a message containing CASE_DIR/expect.txt.
set -u
llmbatch=$1 case_dir=$2
expected=$(head -n1 "$case_dir/expect.txt")
output=$("$llmbatch" inspect "$case_dir" 2>&1)
rc=$?
if [[ $rc -ne 2 ]]; then
  echo "FAIL: exit code $rc, expected 2. Output:"; echo "$output"; exit 1
fi
if ! grep -qF -- "$expected" <<<"$output"; then
  echo "FAIL: message does not contain '$expected'. Output:"; echo "$output"; exit 1
fi
echo "ok: $output"
