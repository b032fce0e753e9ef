#!/usr/bin/env bash
# Installs every build and test dependency of llmbatch from Debian 12's apt.
# Idempotent: packages already present are skipped, so a second run costs ~1 s.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev            # libFuzzer targets (tools/fuzz.sh)
  libopenmpi-dev openmpi-bin          # MPI
  libhdf5-openmpi-dev hdf5-tools      # parallel HDF5 + h5dump/h5ls
  libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers  # oneDNN; its CMake config wants OpenCL
  nlohmann-json3-dev libcli11-dev
  libpcre2-dev libutf8proc-dev
  zlib1g-dev libzstd-dev              # compressed inputs (.gz, .zst)
  python3 python3-numpy python3-h5py  # test-side checks of output files
  slurm-wlm munge                     # local Slurm cluster for integration tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
