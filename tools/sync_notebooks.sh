#!/usr/bin/env bash
# Regenerate the paired notebook chapters/NN_name.ipynb of every chapters/NN_name.md
# (or only of the .md files given as arguments). The .ipynb files are committed, without
# outputs, for the Binder and Colab launch buttons; the book itself is built from the .md.
# tests/test_notebook_pairs.py fails when a pair drifts.
#   bash tools/sync_notebooks.sh                      # every chapter
#   bash tools/sync_notebooks.sh chapters/02_elmo.md  # one chapter
set -euo pipefail
cd "$(dirname "$0")/.."
JUPYTEXT=${JUPYTEXT:-.venv/bin/jupytext}
if [ ! -x "$JUPYTEXT" ]; then
  echo "[sync] $JUPYTEXT not found: run 'bash tools/setup.sh' first" >&2
  exit 1
fi
if [ $# -gt 0 ]; then files=("$@"); else files=(chapters/*.md); fi
for md in "${files[@]}"; do
  [ -f "$md" ] || { echo "[sync] no such file: $md" >&2; exit 1; }
  # --to ipynb writes the notebook without outputs (what Colab/Binder should open);
  # --update keeps the cell ids of the existing notebook, so a diff shows only what changed.
  if [ -f "${md%.md}.ipynb" ]; then
    "$JUPYTEXT" --quiet --update --to ipynb "$md"
  else
    "$JUPYTEXT" --quiet --to ipynb "$md"
  fi
  echo "[sync] ${md%.md}.ipynb"
done
