#!/usr/bin/env bash
# The test command: set up, build the book (student and instructor builds), run the library
# tests and check the site (links, page weight, profiles; headless Chromium with axe-core).
# CI (.ci/run) runs exactly this.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --browser || exit 1
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ruff check . || { echo "[test] ruff found problems (ruff check --fix . mends many)"; exit 1; }
# Both build profiles (one switch, CTXEMBED_SOLUTIONS): the student build first, kept in
# _build/student/html for its checks, then the instructor build in _build/html, which the site
# checks load. They share the execution cache: the second executes nothing.
CTXEMBED_SOLUTIONS=0 bash tools/build.sh || exit 1
rm -rf _build/student && mkdir -p _build/student && cp -a _build/html _build/student/html
CTXEMBED_SOLUTIONS=1 bash tools/build.sh || exit 1
# pytest's own exit status, 5 ("no tests collected") included: a run that tested nothing fails.
python -m pytest "$@"
