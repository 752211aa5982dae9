"""An instructor's first run on a fresh clone: the README's one command builds what is missing.

The masters are copied to an empty folder (``CTXEMBED_MASTERS``), so no autograder zip exists
beside them, as on a fresh clone; ``ctxembed-grade grade`` must say in one line that it builds
the autograder, build it, and grade.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAME = "ch01_static_vs_contextual"


@pytest.mark.slow
def test_grade_builds_a_missing_autograder(tmp_path):
    masters = tmp_path / "instructor" / "masters"
    masters.mkdir(parents=True)
    shutil.copy(ROOT / "instructor" / "masters" / f"{NAME}.md", masters)
    for extra in (ROOT / "instructor" / "masters").glob("requirements*.txt"):
        shutil.copy(extra, masters)
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(ROOT / "solutions" / f"{NAME}.ipynb", subs / "alice.ipynb")
    out = tmp_path / "out"
    env = {**os.environ, "CTXEMBED_MASTERS": str(masters), "HF_HUB_OFFLINE": "1"}
    grade = [sys.executable, "-m", "ctxembed_instructor.grading.cli", "grade", str(subs), "--assignment", NAME,
             "--out", str(out), "--workers", "1", "--timeout", "60"]

    refused = subprocess.run([*grade, "--no-build"], env=env, capture_output=True, text=True,
                             check=False)
    assert refused.returncode != 0 and "drop --no-build" in refused.stderr

    proc = subprocess.run(grade, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("[grade]")]
    building = [line for line in lines if "not built yet" in line]
    assert len(building) == 1 and "building it now" in building[0], lines[:5]
    assert lines[0] == building[0] and lines[1].startswith("[grade] isolation="), lines[:3]
    assert (tmp_path / "instructor" / "dist" / f"{NAME}-autograder.zip").is_file()
    with open(out / "gradebook.csv", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert row["status"] == "ok" and float(row["total"]) == float(row["max"]), row


def test_an_autograder_older_than_its_master_is_stale(tmp_path, monkeypatch):
    """Editing a master after its zip was built must not grade with the old hidden tests."""
    import os

    from ctxembed_instructor.grading import cli

    masters = tmp_path / "masters"
    masters.mkdir()
    master = masters / "demo.md"
    master.write_text("# demo")
    zip_path = tmp_path / "demo-autograder.zip"
    zip_path.write_bytes(b"")
    monkeypatch.setenv("CTXEMBED_MASTERS", str(masters))
    os.utime(master, (1_000, 1_000))
    os.utime(zip_path, (2_000, 2_000))
    assert not cli.master_is_newer(zip_path, "demo")
    os.utime(master, (3_000, 3_000))
    assert cli.master_is_newer(zip_path, "demo")


def test_an_exercise_name_finds_the_zip_the_builder_wrote_beside_its_masters(tmp_path, monkeypatch):
    """``ctxembed-grade NAME`` grades with the zip already built for NAME, where the exercise
    builder puts it (``dist/`` beside the masters), and builds nothing when it is up to date."""
    from ctxembed_instructor.grading import cli
    from ctxembed_instructor.paths import autograder_zip

    masters = tmp_path / "masters"
    masters.mkdir()
    (masters / "demo.md").write_text("# demo")
    os.utime(masters / "demo.md", (1_000, 1_000))
    built = tmp_path / "dist" / "demo-autograder.zip"
    built.parent.mkdir()
    built.write_bytes(b"")
    monkeypatch.setenv("CTXEMBED_MASTERS", str(masters))
    monkeypatch.setattr(cli, "build_autograder", lambda *a, **k: pytest.fail("an up-to-date zip was rebuilt"))
    assert autograder_zip("demo") == built
    assert cli.resolve_assignment("demo", build=False) == built
    assert cli.resolve_assignment("demo") == built


def test_the_instructor_tools_say_what_to_do_outside_a_clone_of_the_course(tmp_path, monkeypatch):
    from ctxembed_instructor.paths import repo_dir

    assert (repo_dir() / "_toc.yml").is_file(), "from this clone, the tools find it"
    monkeypatch.setenv("CTXEMBED_REPO", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"not a clone of the course.*CTXEMBED_REPO.*pip install -e \./instructor"):
        repo_dir()
    (tmp_path / "instructor").mkdir()
    assert repo_dir() == tmp_path
