#!/usr/bin/env bash
# Regenerates the expected chat-template renderings under
# tests/fixtures/chat_templates/ from transformers' apply_chat_template and
# its Jinja environment (the reference), installed into a throwaway venv.
# Tests never need Python: commit the regenerated files.
#   tools/make-chat-template-fixtures.sh         # venv in /tmp/venv-chat
#   VENV=/path tools/make-chat-template-fixtures.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VENV:-/tmp/venv-chat}"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
# transformers without torch is enough for apply_chat_template(tokenize=False).
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "transformers==${TRANSFORMERS_VERSION:-5.24.0}" "jinja2==${JINJA2_VERSION:-3.1.6}"
"$venv/bin/python" "$here/make-chat-template-fixtures.py"
