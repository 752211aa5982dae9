"""Releases: a tag whose site, buttons and install cells all name it; a footer that says which.

What an instructor relies on: a site built from release ``vX`` says so in every page's
footer (with the build's date and commit), and its Colab and Binder buttons and every install
cell open and install ``vX``, not whatever ``main`` has become; after the release, ``main``
follows ``main`` again. ``tools/release.py`` is run in a clone and both commits are checked.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctxembed_site import build_stamp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import launch_paths
import release

GIT_ID = {"GIT_AUTHOR_NAME": "Course Team", "GIT_AUTHOR_EMAIL": "team@example.org",
          "GIT_COMMITTER_NAME": "Course Team", "GIT_COMMITTER_EMAIL": "team@example.org"}
DAY = datetime.date(2027, 1, 11)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True, env={**os.environ, **GIT_ID}).stdout.strip()


def test_build_stamp_names_the_date_commit_release_and_local_changes(tmp_path):
    assert build_stamp(tmp_path, "https://github.com/o/n", DAY) == "<p>Built on 2027-01-11.</p>"
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("a\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-q", "-m", "a")
    full = git(tmp_path, "rev-parse", "HEAD")
    stamp = build_stamp(tmp_path, "https://github.com/o/n", DAY)
    assert stamp == (f'<p>Built on 2027-01-11 from commit <a href="https://github.com/o/n/commit/'
                     f'{full}">{full[:7]}</a>.</p>')
    git(tmp_path, "tag", "-a", "v2.1.0", "-m", "v2.1.0")
    assert "(release v2.1.0)." in build_stamp(tmp_path, "https://github.com/o/n", DAY)
    (tmp_path / "a.txt").write_text("b\n")
    assert build_stamp(tmp_path, "", DAY).endswith(
        f"{full[:7]} (release v2.1.0), with uncommitted changes.</p>")


def test_changelog_release_moves_the_unreleased_entries_under_the_tag():
    text = "# Changelog\n\n## Unreleased\n\n- a fix\n\n## v0.1.0 (2026-01-01)\n\n- first\n"
    assert release.unreleased_entries(text) == "- a fix"
    done = release.release_changelog(text, "v0.2.0", "2027-01-11")
    assert done.startswith("# Changelog\n\n## Unreleased\n\n## v0.2.0 (2027-01-11)\n\n- a fix\n")
    assert release.unreleased_entries(done) == ""
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog") and "## Unreleased" in changelog


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_release_pins_the_tag_then_returns_to_development(tmp_path):
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    url, branch = launch_paths.colab_cells.repository(clone)
    env = {**os.environ, **GIT_ID, "HF_HUB_OFFLINE": "1"}
    # something to release, whatever the repository's Unreleased section holds now
    changelog = clone / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(
        "## Unreleased\n", "## Unreleased\n\n- A correction to chapter 2.\n", 1))
    git(clone, "commit", "-q", "-am", "a change to release")
    run = subprocess.run([sys.executable, "tools/release.py", "9.9.9"], cwd=clone, env=env,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-3000:]

    # the tag: version, CHANGELOG, buttons and every install cell name v9.9.9
    assert 'version = "9.9.9"' in git(clone, "show", "v9.9.9:pyproject.toml")
    assert "  branch: v9.9.9" in git(clone, "show", "v9.9.9:_config.yml")
    assert "## v9.9.9 (" in git(clone, "show", "v9.9.9:CHANGELOG.md")
    assert "v9.9.9" in git(clone, "tag", "--list")
    message = git(clone, "tag", "-l", "--format=%(contents)", "v9.9.9")
    assert "- A correction to chapter 2." in message
    assert all(line in message for line in release.unreleased_entries(
        git(clone, "show", "HEAD~2:CHANGELOG.md")).splitlines() if line.startswith("#"))
    for nb in launch_paths.notebooks(clone):
        text = git(clone, "show", f"v9.9.9:{nb}")
        assert f'REPO, BRANCH = \\"{url}\\", \\"v9.9.9\\"' in text, nb
    assert "@v9.9.9" in git(clone, "show", "v9.9.9:instructor/masters/requirements.txt")

    # main again: development branch, an empty Unreleased section, cells in step
    assert f"  branch: {branch}" in (clone / "_config.yml").read_text()
    changelog = (clone / "CHANGELOG.md").read_text()
    assert release.unreleased_entries(changelog) == ""
    assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""
    check = subprocess.run([sys.executable, "tools/colab_cells.py", "--check"], cwd=clone,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout
    for nb in launch_paths.notebooks(clone):
        assert f'\\"{branch}\\"' in (clone / nb).read_text(), nb

    # a site built at the tag says so
    git(clone, "checkout", "-q", "v9.9.9")
    assert "(release v9.9.9)." in build_stamp(clone, url)

    # refusals: the same version again, an empty Unreleased section
    git(clone, "checkout", "-q", "-")
    again = subprocess.run([sys.executable, "tools/release.py", "9.9.9"], cwd=clone, env=env,
                           capture_output=True, text=True, check=False)
    assert again.returncode != 0 and "v9.9.9 already exists" in again.stderr
    empty = subprocess.run([sys.executable, "tools/release.py", "9.9.10"], cwd=clone, env=env,
                           capture_output=True, text=True, check=False)
    assert empty.returncode != 0 and "nothing under '## Unreleased'" in empty.stderr
