#!/usr/bin/env bash
# Regenerates tests/fixtures/tokenizers/expected/ from the Rust `tokenizers`
# library (the reference), installed into a throwaway venv. Tests never need
# Python: commit the regenerated files.
#   tools/make-tokenizer-fixtures.sh            # venv in /tmp/venv-llmbatch-tok
#   VENV=/path tools/make-tokenizer-fixtures.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VENV:-/tmp/venv-llmbatch-tok}"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "tokenizers==${TOKENIZERS_VERSION:-0.23.3}"
"$venv/bin/python" "$here/make-tokenizer-fixtures.py"
