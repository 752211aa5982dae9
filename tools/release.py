#!/usr/bin/env python
"""Make a release of the course: a tag whose pages, buttons and install cells all name it.

    .venv/bin/python tools/release.py 1.0.0

An instructor who adopts the course for a term publishes the site from a release tag, so that
what students launch and install does not change under them while ``main`` moves on. This

1. checks that the working tree is clean, that ``v1.0.0`` is not a tag yet and that
   ``CHANGELOG.md`` has entries under ``## Unreleased``;
2. makes the **release commit**: the Unreleased entries become ``## v1.0.0 (date)``, the
   package version becomes 1.0.0, ``_config.yml``'s ``repository.branch`` becomes ``v1.0.0``
   (the launch buttons open the tag) and every install cell is regenerated to install
   ``ctxembed-course @ git+URL@v1.0.0`` (``tools/colab_cells.py``, ``tools/sync_notebooks.sh``,
   ``ctxembed-exercises``); then tags it ``v1.0.0`` (annotated, the CHANGELOG section as
   its message);
3. makes the **back-to-development commit**: ``repository.branch`` and the cells back to the
   branch the release was made from, and an empty ``## Unreleased`` section.

A site built from the tag says "release v1.0.0" in its footer (the site's Sphinx extension,
``_ext/ctxembed_site.py``). Push both commits and the tag (``git push --follow-tags``).
``tests/test_release.py`` makes a release in a clone and checks both commits.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNRELEASED = "## Unreleased"


def _run(cmd, root: Path, env_extra: dict | None = None) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    out = subprocess.run([str(c) for c in cmd], cwd=root, capture_output=True, text=True,
                         env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"release: {' '.join(map(str, cmd))} failed:\n{out.stdout[-2000:]}"
                         f"\n{out.stderr[-2000:]}")
    return out.stdout.strip()


def unreleased_entries(changelog: str) -> str:
    """The text under ``## Unreleased`` up to the next ``## `` heading, stripped."""
    if UNRELEASED not in changelog:
        raise SystemExit(f"release: CHANGELOG.md has no '{UNRELEASED}' section")
    body = changelog.split(UNRELEASED, 1)[1]
    return re.split(r"(?m)^## ", body, maxsplit=1)[0].strip()


def release_changelog(changelog: str, tag: str, date: str) -> str:
    """The Unreleased entries under ``## <tag> (<date>)``, and an empty Unreleased above."""
    return changelog.replace(UNRELEASED, f"{UNRELEASED}\n\n## {tag} ({date})", 1)


def set_version(root: Path, version: str) -> None:
    """The course library's and the instructor package's versions (they are released together)."""
    for path in (root / "pyproject.toml", root / "instructor" / "pyproject.toml"):
        text, n = re.subn(r'(?m)^version = "[^"]*"$', f'version = "{version}"', path.read_text())
        if n != 1:
            raise SystemExit(f"release: no version line in {path.relative_to(root)}")
        path.write_text(text)


def pin(root: Path, branch: str) -> None:
    """Launch buttons and every install cell to ``branch`` (a branch or a tag)."""
    py = sys.executable
    _run([py, "tools/colab_cells.py", "--set-branch", branch], root)
    # the jupytext of the Python running this (the checkout released may have no .venv)
    jupytext = Path(py).parent / "jupytext"
    _run(["bash", "tools/sync_notebooks.sh"], root,
         **({"env_extra": {"JUPYTEXT": str(jupytext)}} if jupytext.exists() else {}))
    # the exercise builder of the checkout being released, writing into that checkout
    _run([py, "-m", "ctxembed_instructor.exercises"], root,
         env_extra={"CTXEMBED_REPO": str(root), "CTXEMBED_MASTERS": "",
                    "PYTHONPATH": str(root / "instructor")})


def release(version: str, root: Path = ROOT, today: str | None = None) -> str:
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise SystemExit(f"release: give a version like 1.0.0, not {version!r}")
    tag = f"v{version}"
    if _run(["git", "status", "--porcelain", "--untracked-files=no"], root):
        raise SystemExit("release: commit or stash your changes first")
    if _run(["git", "tag", "--list", tag], root):
        raise SystemExit(f"release: {tag} already exists")
    changelog_path = root / "CHANGELOG.md"
    changelog = changelog_path.read_text()
    entries = unreleased_entries(changelog)
    if not entries:
        raise SystemExit("release: nothing under '## Unreleased' in CHANGELOG.md: say what "
                         "changed for the people who use the course")
    sys.path.insert(0, str(root / "tools"))
    import colab_cells

    _, development_branch = colab_cells.repository(root)
    date = today or datetime.date.today().isoformat()

    changelog_path.write_text(release_changelog(changelog, tag, date))
    set_version(root, version)
    pin(root, tag)
    _run(["git", "commit", "-q", "-a", "-m", f"Release {tag}"], root)
    # verbatim: the entries' "### Chapters" headings are not comments
    _run(["git", "tag", "-a", tag, "--cleanup=verbatim", "-m", f"{tag} ({date})\n\n{entries}"],
         root)

    pin(root, development_branch)
    message = (f"Back to development on {development_branch} after {tag}: launch buttons "
               f"and install cells follow {development_branch} again")
    _run(["git", "commit", "-q", "-a", "-m", message], root)
    return tag


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("version", help="e.g. 1.0.0 (the tag is v1.0.0)")
    args = ap.parse_args(argv)
    tag = release(args.version)
    print(f"[release] {tag} tagged; push with: git push --follow-tags")
    return 0


if __name__ == "__main__":
    sys.exit(main())
