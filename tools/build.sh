#!/usr/bin/env bash
# Build the site into _build/html, executing every chapter (offline).
# Re-executes everything when lib/ changed: jupyter-cache alone cannot notice that.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYDEVD_DISABLE_FILE_VALIDATION=1
mkdir -p _build
libhash=$(find lib -name '*.py' -o -name '*.tsv' -o -name '*.pt' -o -name '*.safetensors' | sort | xargs cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat _build/.lib-hash 2>/dev/null || true)" != "$libhash" ]; then
  echo "[build] lib/ changed: clearing the execution cache and re-reading every page"
  # Both: Sphinx re-reads only pages whose source changed, so without dropping its
  # environment (.doctrees) the unchanged chapters would keep their old outputs.
  rm -rf _build/.jupyter_cache _build/.doctrees
fi
start=$(date +%s)
toc=_toc.yml
if [ "${CTXEMBED_SOLUTIONS:-1}" = "0" ]; then   # a term when solutions must stay private
  toc=$(python tools/toc_without_solutions.py)
  rm -rf _build/html/solutions
  echo "[build] leaving the solutions out ($toc)"
fi
jupyter-book build . -W -n --keep-going --toc "$toc"
echo "$libhash" > _build/.lib-hash
echo "[build] built in $(( $(date +%s) - start )) s: open _build/html/index.html"
