#!/usr/bin/env bash
# Runs the job crash test with more trials than CI does:
#   tools/crash-trials.sh [TRIALS] [SEED]     (default 20 trials)
# Builds llmbatch in ./build first if needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
trials=${1:-20}
cmake -S "$root" -B "$root/build" -G Ninja >/dev/null
ninja -C "$root/build" llmbatch >/dev/null
exec "$root/tests/integration/job_crash_test.sh" "$root/build/src/cli/llmbatch" /tmp/llmbatch-crash-trials "$trials" "${2:-$RANDOM}"
