#!/usr/bin/env bash
# Put the widget JavaScript the site serves itself into site_extra/_static/widgets/, so
# that embedded ipywidgets render on the static site with no network (no CDN at all).
#
#   require.js          requirejs (npm "requirejs")
#   offline-config.js   copy of tools/widgets-offline.js: requirejs baseUrl = this folder
#   lazy.js             copy of tools/widgets-lazy.js: loads the three above when a widget
#                       comes near the viewport (the only script the pages name)
#   embed-amd.js        @jupyter-widgets/html-manager (base, controls, output bundled)
#   @jupyter-widgets/{,html-manager/dist/}*.woff2|woff   Font Awesome 5 fonts of the widget CSS
#   LICENSES/           the packages' licences
#
# html_extra_path: ["site_extra"] copies this into _build/html/_static/widgets/, where
# Sphinx expects the relative paths of nb_ipywidgets_js ("widgets/require.js" ->
# "_static/widgets/require.js"; myst-nb adds them only to pages with widgets). It is kept
# out of html_static_path on purpose: jupyter-book adds every .js found under the static
# paths to every page once the book has a _static/ folder.
# Tarballs are cached in .cache/npm-widgets/. Idempotent: with everything in place it
# only checks (well under a second). FORCE=1 refetches.
set -euo pipefail
cd "$(dirname "$0")/.."

HTML_MANAGER_VERSION=1.0.6   # the version myst-nb's default CDN URL names
REQUIREJS_VERSION=2.3.8
DEST=site_extra/_static/widgets
CACHE=.cache/npm-widgets
STAMP="$CACHE/installed"
WANT="v2 html-manager@$HTML_MANAGER_VERSION requirejs@$REQUIREJS_VERSION $(cat tools/widgets-offline.js tools/widgets-lazy.js | sha256sum | cut -c1-12)"
log() { printf '[widget-js] %s\n' "$*"; }

if [ "${FORCE:-0}" != 1 ] && [ "$(cat "$STAMP" 2>/dev/null || true)" = "$WANT" ] \
   && [ -s "$DEST/embed-amd.js" ] && [ -s "$DEST/require.js" ] && [ -s "$DEST/offline-config.js" ] \
   && [ -s "$DEST/lazy.js" ]; then
  log "present in $DEST"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  cat >&2 <<'EOF'
[widget-js] ERROR: npm is not installed, so the widget JavaScript cannot be fetched.
  Without it the widgets on the built site are blank (the book builds, but -W fails on
  the missing html_extra_path folder). Install Node.js/npm, e.g. on Debian/Ubuntu:
      sudo apt-get install -y npm
  then run: bash tools/fetch_widget_js.sh
EOF
  exit 1
fi

mkdir -p "$CACHE"
hm_tgz="$CACHE/jupyter-widgets-html-manager-$HTML_MANAGER_VERSION.tgz"
rq_tgz="$CACHE/requirejs-$REQUIREJS_VERSION.tgz"
for spec in "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION:$hm_tgz" "requirejs@$REQUIREJS_VERSION:$rq_tgz"; do
  pkg=${spec%%:*} tgz=${spec#*:}
  if [ ! -s "$tgz" ]; then
    log "npm pack $pkg"
    # npm pack downloads the published tarball only: no dependencies, no install scripts.
    if ! npm pack "$pkg" --pack-destination "$CACHE" --silent --loglevel=error >/dev/null; then
      echo "[widget-js] ERROR: 'npm pack $pkg' failed: is the npm registry reachable (npm config get registry)?" >&2
      exit 1
    fi
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/hm" "$tmp/rq"
tar -xzf "$hm_tgz" -C "$tmp/hm"
tar -xzf "$rq_tgz" -C "$tmp/rq"
dist="$tmp/hm/package/dist"
[ -s "$dist/embed-amd.js" ] && [ -s "$tmp/rq/package/require.js" ] \
  || { echo "[widget-js] ERROR: unexpected package layout (no dist/embed-amd.js or require.js)" >&2; exit 1; }

# Build the new folder beside the old one and swap, so a failure never leaves half a folder.
new="$CACHE/widgets.partial"
rm -rf "$new"
fonts="$new/@jupyter-widgets/html-manager/dist"
mkdir -p "$fonts" "$new/LICENSES"
cp "$dist/embed-amd.js" "$new/embed-amd.js"
cp "$tmp/rq/package/require.js" "$new/require.js"
cp tools/widgets-offline.js "$new/offline-config.js"
cp tools/widgets-lazy.js "$new/lazy.js"
# The Font Awesome 5 fonts (webpack-hashed names) that the CSS in embed-amd.js refers to
# relative to the URL of the AMD module holding it (see tools/widgets-offline.js): the
# html-manager's CSS looks in @jupyter-widgets/html-manager/dist/, the controls' CSS in
# @jupyter-widgets/. Browsers take the first format they support (woff2, else woff); the
# .eot/.ttf/.svg copies serve only very old browsers and are left out.
mkdir -p "$new/@jupyter-widgets"
cp "$dist"/*.woff2 "$dist"/*.woff "$fonts/"
cp "$dist"/*.woff2 "$dist"/*.woff "$new/@jupyter-widgets/"
cp "$tmp/hm/package/LICENSE" "$new/LICENSES/jupyter-widgets-html-manager.LICENSE"
[ -f "$dist/embed.js.LICENSE.txt" ] && cp "$dist/embed.js.LICENSE.txt" "$new/LICENSES/embed-amd.bundled-licenses.txt"
cat > "$new/LICENSES/README.txt" <<EOF
@jupyter-widgets/html-manager $HTML_MANAGER_VERSION (BSD-3-Clause, Project Jupyter), which bundles
Font Awesome Free 5 (fonts SIL OFL 1.1, icons CC BY 4.0, code MIT) and the other licences listed
in embed-amd.bundled-licenses.txt; requirejs $REQUIREJS_VERSION (MIT, James Burke / the Dojo Foundation).
Fetched from the npm registry by tools/fetch_widget_js.sh.
EOF
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$new" "$DEST"
echo "$WANT" > "$STAMP"
log "wrote $DEST ($(du -sh "$DEST" | cut -f1))"
