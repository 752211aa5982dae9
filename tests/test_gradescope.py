"""An exported Gradescope autograder grades on Gradescope: built from the zip's own files.

What an instructor relies on: uploading ``ctxembed-grade gradescope``'s zip gives an image
in which every submission is graded, the reference solution with full marks and the blank
exercise with zero. tools/gradescope_check.py imitates Gradescope offline (see its
docstring): an image built from the zip's ``environment.yml`` pip list and its data step
in a fresh venv and HOME, the course library from a clean clone of this commit, and each
submission run by the zip's ``run_otter.py`` in a bubblewrap sandbox laid out as
``/autograder/{source,submission,results}``.

Every exercise's zip asks for the same pip list (one ``requirements.txt``), so one image
serves all five; a test checks that. About 10 minutes on 2 cores with pip's cache warm.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import gradescope_check

EXERCISES = sorted(p.stem for p in (ROOT / "instructor" / "masters").glob("*.md"))
DIST = ROOT / "instructor" / "dist"

pytestmark = [pytest.mark.slow, pytest.mark.launch]


def _zip(name: str) -> Path:
    path = DIST / f"{name}-autograder.zip"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "ctxembed_instructor.exercises", name],
                       check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return path


def test_every_exercise_asks_for_the_same_image():
    envs = {name: zipfile.ZipFile(_zip(name)).read("environment.yml") for name in EXERCISES}
    assert len(set(envs.values())) == 1, envs


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    work = tmp_path_factory.mktemp("gradescope")
    exported = gradescope_check.export_gradescope(_zip(EXERCISES[0]), work / "export.zip")
    built = gradescope_check.GradescopeImage(work, exported)
    built.build()
    print(f"\nGradescope image built in {built.build_seconds:.0f} s")
    return built


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("name", EXERCISES)
def test_reference_gets_full_marks_and_blank_gets_zero(image, name, tmp_path):
    exported = gradescope_check.export_gradescope(_zip(name), tmp_path / f"{name}.zip")
    image.use(exported)
    reference = image.grade(ROOT / "solutions" / f"{name}.ipynb")
    print(reference.line())
    assert reference.possible > 0, reference.results
    assert reference.score == reference.possible, reference.results
    blank = image.grade(ROOT / "exercises" / f"{name}.ipynb")
    print(blank.line())
    assert blank.possible == reference.possible, blank.results
    assert blank.score == 0, blank.results
