#!/usr/bin/env bash
# Build the site into _build/html, executing every chapter (offline).
# Re-executes everything when lib/ changed: jupyter-cache alone cannot notice that.
#
# One switch chooses the build profile (tools/site_profile.py):
#   CTXEMBED_SOLUTIONS=1 (default)  instructor build: chapters, exercises, solutions, grading page
#   CTXEMBED_SOLUTIONS=0            student build: no solutions, no grading page
# (no build has the hidden tests: they live only in instructor/). Both write _build/html and
# share the execution cache, so switching re-reads the pages but executes nothing again.
# CTXEMBED_REPOSITORY=owner/name points the pages' repository and launch buttons at that
# GitHub repository (the publishing workflow passes the repository it runs in).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYDEVD_DISABLE_FILE_VALIDATION=1
mkdir -p _build
libhash=$(find lib \( -name '*.py' -o -name '*.tsv' -o -name '*.pt' -o -name '*.safetensors' \) \
          | sort | xargs cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat _build/.lib-hash 2>/dev/null || true)" != "$libhash" ]; then
  echo "[build] lib/ changed: clearing the execution cache and re-reading every page"
  # Both: Sphinx re-reads only pages whose source changed, so without dropping its
  # environment (.doctrees) the unchanged chapters would keep their old outputs.
  rm -rf _build/.jupyter_cache _build/.doctrees
fi
start=$(date +%s)
case "${CTXEMBED_SOLUTIONS:-1}" in
  0) profile=student
     # Pages of the other profile must not linger in _build/html.
     rm -rf _build/html/solutions _build/html/instructors.html _build/html/_sources/solutions \
            _build/html/_sources/instructors.md ;;
  1) profile=instructor ;;
  *) echo "[build] CTXEMBED_SOLUTIONS must be 0 (student build) or 1 (instructor build)" >&2; exit 2 ;;
esac
# shellcheck disable=SC2046  # the options are words without spaces
options=$(python tools/site_profile.py $([ $profile = student ] && echo --student))
echo "[build] $profile build ($options)"
jupyter-book build . -W -n --keep-going $options
echo "$libhash" > _build/.lib-hash
# the printed book: every page and the whole book as PDFs in _build/html/pdf/
python tools/build_pdf.py --site _build/html
echo "[build] $profile build in $(( $(date +%s) - start )) s: open _build/html/index.html"
