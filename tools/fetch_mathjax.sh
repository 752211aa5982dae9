#!/usr/bin/env bash
# Put MathJax 3 (npm "mathjax") into site_extra/_static/mathjax/, so pages with maths render
# with no network (jupyter-book's default loads it from a CDN). _config.yml points
# sphinx's mathjax_path at it. Idempotent; the tarball is cached in .cache/npm-mathjax/.
# Also copies tools/mathjax-lazy.js there as lazy-loader.js: the script the pages load, which
# loads MathJax when a formula comes near the screen (see that file).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=3.2.2
STAMP="$VERSION+ui-lazy"   # the files taken below; a new one re-extracts
DEST=site_extra/_static/mathjax
CACHE=.cache/npm-mathjax
if [ -s "$DEST/tex-chtml.js" ] && [ "$(cat "$DEST/.version" 2>/dev/null || true)" = "$STAMP" ]; then
  cp tools/mathjax-lazy.js "$DEST/lazy-loader.js"
  echo "[mathjax] present in $DEST"; exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "[mathjax] ERROR: npm is needed (sudo apt-get install -y npm)" >&2; exit 1; }
mkdir -p "$CACHE"
tgz="$CACHE/mathjax-$VERSION.tgz"
[ -s "$tgz" ] || npm pack "mathjax@$VERSION" --pack-destination "$CACHE" --silent --loglevel=error >/dev/null
tmp=$(mktemp -d)
tar xzf "$tgz" -C "$tmp" package/es5/tex-chtml.js package/es5/output/chtml/fonts \
  package/es5/input/tex/extensions package/es5/ui/lazy.js package/LICENSE
mkdir -p "$tmp/out"
mv "$tmp/package/es5/"* "$tmp/out/"
mv "$tmp/package/LICENSE" "$tmp/out/LICENSE"
cp tools/mathjax-lazy.js "$tmp/out/lazy-loader.js"
echo "$STAMP" > "$tmp/out/.version"
rm -rf "$DEST"; mkdir -p "$(dirname "$DEST")"; mv "$tmp/out" "$DEST"; rm -rf "$tmp"
echo "[mathjax] MathJax $VERSION in $DEST"
