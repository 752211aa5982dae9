#!/usr/bin/env bash
# The contributor's quick loop (`make check`): the linter, then every test that needs neither
# the built book nor the Colab/Binder launch environments and is not marked slow (those run in
# `make test`). No book build, no browser. About 8 minutes on 2 cores.
# Extra arguments go to pytest: `bash tools/check.sh -k wsd`, or `-m slow -k grading` for the slow ones.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
start=$(date +%s)
ruff check . || { echo "[check] ruff found problems (ruff check --fix . mends many)"; exit 1; }
python -m pytest -m "not book and not launch and not slow" "$@"
rc=$?
echo "[check] library tests and linter in $(( $(date +%s) - start )) s (pytest exit $rc)"
exit $rc
