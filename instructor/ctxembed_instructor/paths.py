"""Where an instructor's files live: in a clone of the course repository.

The exercise masters (``instructor/masters``) and what the exercise builder writes from them
(``exercises/``, ``solutions/`` and the autograder zips in ``instructor/dist/``) belong to the
repository, not to an installed package. Both commands therefore run against a clone:

- ``CTXEMBED_REPO`` names the clone (default: the one this package was installed from with
  ``pip install -e ./instructor``, as ``make book`` does);
- ``CTXEMBED_MASTERS`` names a masters folder kept elsewhere (private hidden tests); its
  autograder zips go to the ``dist`` folder beside it.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_dir() -> Path:
    """The course repository: ``$CTXEMBED_REPO``, or the clone holding this package.

    Raises ``FileNotFoundError``, saying what to do, when that folder has no ``instructor/``
    (the masters and zips the tools read): the package installed without ``-e``, or a wrong
    ``CTXEMBED_REPO``.
    """
    folder = Path(os.environ.get("CTXEMBED_REPO") or Path(__file__).resolve().parents[2])
    if not (folder / "instructor").is_dir():
        where = "CTXEMBED_REPO" if os.environ.get("CTXEMBED_REPO") else "this package's folder"
        raise FileNotFoundError(
            f"{folder} ({where}) is not a clone of the course repository (it has no "
            "instructor/ folder), and the instructor's tools work on one: set CTXEMBED_REPO to "
            "your clone, or install the tools from it with `pip install -e ./instructor`.")
    return folder


def masters_dir() -> Path:
    """The exercise masters: ``$CTXEMBED_MASTERS``, or the repository's ``instructor/masters``."""
    return Path(os.environ.get("CTXEMBED_MASTERS") or repo_dir() / "instructor" / "masters")


def dist_dir(masters: Path | None = None) -> Path:
    """Where the autograder zips of ``masters`` go: the ``dist`` folder beside it."""
    return Path(masters or masters_dir()).parent / "dist"


def autograder_zip(name: str, masters: Path | None = None) -> Path:
    """Where the exercise builder puts exercise ``name``'s autograder zip."""
    return dist_dir(masters) / f"{name}-autograder.zip"
