#!/usr/bin/env python3
"""Put Font Awesome's stylesheet and web fonts into site_extra/_static/fontawesome/.

The theme draws its icons with fontawesome.js, 1.45 MB of JavaScript run on every page;
the site's Sphinx extension (_ext/ctxembed_site.py) replaces that script with this 100 kB
stylesheet of the same Font Awesome version (same icons, same class names). The npm tarball
of ``@fortawesome/fontawesome-free`` is cached in .cache/npm-fontawesome/. Idempotent.

    python3 tools/fetch_fontawesome.py        # tools/setup.sh runs it
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "6.5.2"            # the version pydata-sphinx-theme's fontawesome.js bundles
ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "site_extra" / "_static" / "fontawesome"
CACHE = ROOT / ".cache" / "npm-fontawesome"
WANTED = ("package/css/all.min.css", "package/webfonts/", "package/LICENSE.txt")


def main() -> int:
    version = DEST / ".version"
    if (DEST / "css" / "all.min.css").is_file() and version.is_file() and version.read_text().strip() == VERSION:
        print(f"[fontawesome] present in {DEST.relative_to(ROOT)}")
        return 0
    tgz = CACHE / f"fortawesome-fontawesome-free-{VERSION}.tgz"
    if not tgz.is_file():
        if not shutil.which("npm"):
            print("[fontawesome] ERROR: npm is needed (sudo apt-get install -y npm)", file=sys.stderr)
            return 1
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "pack", f"@fortawesome/fontawesome-free@{VERSION}",
                               "--pack-destination", str(CACHE), "--silent", "--loglevel=error"],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0 or not tgz.is_file():
            print(f"[fontawesome] ERROR: npm pack failed ({done.stderr.strip()[-300:]}): "
                  "is the npm registry reachable?", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fontawesome"
        with tarfile.open(tgz) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.startswith(WANTED):
                    target = out / member.name.removeprefix("package/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(member).read())
        (out / ".version").write_text(VERSION + "\n")
        shutil.rmtree(DEST, ignore_errors=True)
        DEST.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), DEST)
    print(f"[fontawesome] Font Awesome Free {VERSION} stylesheet in {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
