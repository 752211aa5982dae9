"""The browser assets the site serves itself: one locked manifest, checked tarballs, whole folders.

``tools/fetch_site_assets.py`` is what puts MathJax, the widget JavaScript and Font Awesome into
``site_extra/_static/``; the built-site tests check the pages use them. These check the fetcher:
that the lock pins every asset, that a tarball which is not the locked one is refused, and that
a folder is built whole from the packages or not at all.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import fetch_site_assets as assets


def _manifest_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "site-assets"
    shutil.copytree(assets.MANIFEST, folder)
    return folder


def test_the_lock_pins_every_asset_package_the_folders_take():
    locked = assets.locked_packages()
    taken = {take.package for takes, _ in assets.FOLDERS.values() for take in takes}
    assert taken == set(locked), "every package a folder takes files from is a locked dependency"
    for version, integrity in locked.values():
        assert version and integrity.startswith("sha512-")


def test_a_manifest_the_lock_does_not_match_is_refused_with_the_command_to_run(tmp_path):
    folder = _manifest_copy(tmp_path)
    manifest = json.loads((folder / "package.json").read_text())
    manifest["dependencies"]["mathjax"] = "3.2.1"
    (folder / "package.json").write_text(json.dumps(manifest))
    with pytest.raises(assets.AssetError, match=r"does not lock mathjax@3\.2\.1.*npm install --package-lock-only"):
        assets.locked_packages(folder)


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_tarball_that_is_not_the_locked_one_is_refused_and_deleted(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    tgz = cache / "requirejs-2.3.8.tgz"
    tgz.write_bytes(_tarball({"require.js": b"alert('not require.js')"}))
    locked = assets.locked_packages()["requirejs"]
    with pytest.raises(assets.AssetError, match="integrity"):
        assets.tarball("requirejs", *locked, cache=cache)
    assert not tgz.exists(), "a tarball that fails the check is deleted, so the next run refetches it"


def test_a_tarball_matching_its_integrity_is_used_as_it_is(tmp_path):
    data = _tarball({"require.js": b"/* require */"})
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "requirejs-9.9.9.tgz").write_bytes(data)
    assert assets.tarball("requirejs", "9.9.9", assets.integrity_of(data), cache=cache).read_bytes() == data


def _fake_widget_packages(cache: Path, *, with_embed: bool = True) -> dict[str, tuple[str, str]]:
    """Tarballs laid out like the real html-manager and requirejs, locked by their own digests."""
    manager = {"dist/a1.woff2": b"w2", "dist/b2.woff": b"w1", "dist/c3.ttf": b"ttf",
               "dist/sub/d4.woff2": b"nested", "LICENSE": b"BSD"}
    if with_embed:
        manager["dist/embed-amd.js"] = b"define()"
    packages = {assets.HTML_MANAGER: manager, "requirejs": {"require.js": b"require"}}
    locked = {}
    cache.mkdir(exist_ok=True)
    for name, files in packages.items():
        data = _tarball(files)
        (cache / f"{name.lstrip('@').replace('/', '-')}-0.0.1.tgz").write_bytes(data)
        locked[name] = ("0.0.1", assets.integrity_of(data))
    return locked


def test_the_widget_folder_holds_what_the_pages_load_and_the_fonts_in_both_places(tmp_path):
    locked = _fake_widget_packages(tmp_path / "cache")
    dest = assets.build_folder("widgets", locked, static=tmp_path / "static", cache=tmp_path / "cache")
    files = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert files == {
        "embed-amd.js", "require.js", "offline-config.js", "lazy.js", assets.STAMP,
        "@jupyter-widgets/html-manager/dist/a1.woff2", "@jupyter-widgets/html-manager/dist/b2.woff",
        "@jupyter-widgets/a1.woff2", "@jupyter-widgets/b2.woff",
        "LICENSES/jupyter-widgets-html-manager.LICENSE", "LICENSES/README.txt",
    }, "only woff/woff2 fonts from dist/ itself, the two scripts and the course's loaders"
    assert (dest / "lazy.js").read_bytes() == (ROOT / "tools" / "widgets-lazy.js").read_bytes()
    assert (dest / "embed-amd.js").read_bytes() == b"define()"


def test_a_changed_package_layout_fails_and_leaves_the_old_folder_in_place(tmp_path):
    static = tmp_path / "static"
    (static / "widgets").mkdir(parents=True)
    (static / "widgets" / "embed-amd.js").write_text("the working one")
    locked = _fake_widget_packages(tmp_path / "cache", with_embed=False)
    with pytest.raises(assets.AssetError, match="html-manager/dist/embed-amd.js"):
        assets.build_folder("widgets", locked, static=static, cache=tmp_path / "cache")
    assert (static / "widgets" / "embed-amd.js").read_text() == "the working one"
    assert [p.name for p in static.iterdir()] == ["widgets"], "no half-built folder is left behind"


def test_the_stamp_changes_with_the_course_s_own_loader_files(tmp_path, monkeypatch):
    locked = _fake_widget_packages(tmp_path / "cache")
    before = assets.folder_digest("widgets", locked)
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "tools", repo / "tools", ignore=shutil.ignore_patterns("node_modules"))
    (repo / "tools" / "widgets-lazy.js").write_text("// edited\n")
    monkeypatch.setattr(assets, "ROOT", repo)
    assert assets.folder_digest("widgets", locked) != before, "an edited lazy.js rebuilds the folder"
