#!/usr/bin/env bash
# The one command that tests llmbatch on a fresh Debian 12 machine:
# install dependencies → configure → build → every ctest → the fuzzers.
#   tools/test.sh                 full run (what CI runs)
#   FUZZ_SECONDS=0 tools/test.sh  skip the fuzzers (quick local runs)
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

tools/install-deps.sh

# Open MPI refuses root without these; tests oversubscribe 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export HDF5_USE_FILE_LOCKING=FALSE

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
ninja -C "$build" -j"$(nproc)"
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 600)

if [[ ${FUZZ_SECONDS:-30} != 0 ]]; then tools/fuzz.sh "${FUZZ_SECONDS:-30}"; fi
echo "test.sh: all passed in $(( $(date +%s) - start )) s"
