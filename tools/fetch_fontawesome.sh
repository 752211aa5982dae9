#!/usr/bin/env bash
# Put Font Awesome's CSS and web fonts (npm "@fortawesome/fontawesome-free", the version the
# theme bundles) into site_extra/_static/fontawesome/. The theme draws its icons with
# fontawesome.js, 1.45 MB of JavaScript run on every page; ctxembed.viz.site replaces that
# script with this 100 kB stylesheet (same icons, same class names). Idempotent; the tarball
# is cached in .cache/npm-fontawesome/.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=6.5.2
DEST=site_extra/_static/fontawesome
CACHE=.cache/npm-fontawesome
if [ -s "$DEST/css/all.min.css" ] && [ "$(cat "$DEST/.version" 2>/dev/null || true)" = "$VERSION" ]; then
  echo "[fontawesome] present in $DEST"; exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "[fontawesome] ERROR: npm is needed (sudo apt-get install -y npm)" >&2; exit 1; }
mkdir -p "$CACHE"
tgz="$CACHE/fontawesome-free-$VERSION.tgz"
if [ ! -s "$tgz" ]; then
  npm pack "@fortawesome/fontawesome-free@$VERSION" --pack-destination "$CACHE" --silent --loglevel=error >/dev/null \
    || { echo "[fontawesome] ERROR: npm pack failed: is the npm registry reachable?" >&2; exit 1; }
  mv "$CACHE/fortawesome-fontawesome-free-$VERSION.tgz" "$tgz"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$tgz" -C "$tmp" package/css/all.min.css package/webfonts package/LICENSE.txt
mkdir -p "$tmp/out/css"
mv "$tmp/package/css/all.min.css" "$tmp/out/css/"
mv "$tmp/package/webfonts" "$tmp/out/webfonts"
mv "$tmp/package/LICENSE.txt" "$tmp/out/LICENSE.txt"
echo "$VERSION" > "$tmp/out/.version"
rm -rf "$DEST"; mkdir -p "$(dirname "$DEST")"; mv "$tmp/out" "$DEST"
echo "[fontawesome] Font Awesome Free $VERSION CSS in $DEST"
