"""Exercises and solutions: generated from their masters, safe to publish, and they run.

What a reader relies on: the student notebook works in Jupyter/Binder/Colab with public checks,
says that public checks are not the final score, holds no hidden test; the solution passes its
checks; and neither is out of date with the master it is generated from.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from ctxembed_instructor import exercises

ROOT = Path(__file__).resolve().parent.parent
MASTERS = ROOT / "instructor" / "masters"
NAMES = sorted(p.stem for p in MASTERS.glob("*.md"))
sys.path.insert(0, str(ROOT / "tools"))
import colab_cells


def _nb(folder: str, name: str):
    return nbformat.read(ROOT / folder / f"{name}.ipynb", as_version=4)


def _text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


def test_every_master_has_its_generated_notebooks():
    assert NAMES, "no exercise masters found"
    for name in NAMES:
        assert (ROOT / "exercises" / f"{name}.ipynb").exists()
        assert (ROOT / "solutions" / f"{name}.ipynb").exists()


@pytest.mark.slow
def test_generated_notebooks_are_up_to_date_with_their_masters():
    # Rebuilds each master in a temporary folder (executes it: ~40 s) and compares.
    assert exercises.main(["--check"]) == 0, "run: HF_HUB_OFFLINE=1 .venv/bin/ctxembed-exercises"


def test_normalise_ignores_volatile_metadata():
    nb = _nb("exercises", NAMES[0])
    noisy = nbformat.from_dict(json.loads(json.dumps(nb)))
    noisy.metadata["widgets"] = {"state": {}}
    noisy.metadata["language_info"] = {"version": "3.99"}
    for i, c in enumerate(noisy.cells):
        c["id"] = f"random{i}"
        c.metadata["execution"] = {"iopub.execute_input": "2026-01-01"}
    assert exercises.dumps(exercises.normalise(noisy, "ex")) == \
        (ROOT / "exercises" / f"{NAMES[0]}.ipynb").read_text(encoding="utf-8")


@pytest.mark.parametrize("folder", ["exercises", "solutions"])
def test_no_hidden_test_in_anything_published(folder):
    for name in NAMES:
        nb = _nb(folder, name)
        tests = nb.metadata["otter"]["tests"]
        cases = [c for t in tests.values() for s in t["suites"] for c in s["cases"]]
        assert cases and not any(c.get("hidden") for c in cases)
        raw = (ROOT / folder / f"{name}.ipynb").read_text(encoding="utf-8")
        assert "BEGIN TEST CONFIG" not in raw and "hidden: true" not in raw


def test_masters_are_outside_the_book_and_the_student_folders():
    for toc in ROOT.glob("_toc*.yml"):
        assert "instructor/" not in toc.read_text()   # the instructors.md page is fine; masters are not
    for folder in ("exercises", "solutions", "chapters"):
        assert not list((ROOT / folder).rglob("*master*"))


# Answers read off each exercise's widget: a blank in the student notebook, filled in the solution.
WIDGET_ANSWERS = {
    "ch01_static_vs_contextual": ["closest_choice", "separated"],
    "ch02_elmo": ["layer0_cosine", "closest_to_A_layer2", "senses_separated_layer2"],
    "ch03_bert": ["identical_layers", "most_changed_layer_B"],
    "ch04_finetuning": ["predicted_answer_q1", "exactly_right"],
    "ch05_wsd": ["spring_clusters", "best_ari_word"],
}
# A line that is only a blank: `...`, or `name = ...`, possibly with a comment.
BLANK = re.compile(r"^\s*(?:[\w.]+\s*=\s*)?\.\.\.\s*(?:#.*)?$", re.MULTILINE)


def _code(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_student_notebook_setup_and_messages():
    for name in NAMES:
        nb = _nb("exercises", name)
        text = _text(nb)
        setup = nb.cells[0]     # first: before otter's init cell, which needs what it installs
        assert 'if "google.colab" in sys.modules:' in setup.source
        url, branch = colab_cells.repository()
        assert f'REPO, BRANCH = "{url}", "{branch}"' in setup.source
        assert "ctxembed-course @ git+{REPO}@{BRANCH}" in setup.source
        assert "import otter" in nb.cells[1].source
        # after the introduction: how to keep the work on Colab and Binder, and hand it in
        markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
        assert markdown[0].startswith("# Exercise") and markdown[1] == exercises.KEEP_YOUR_WORK
        for words in ("Save a copy in Drive", "Binder session is temporary", "deleted",
                      "Download", "Restart kernel and run all cells", ".ipynb"):
            assert words in markdown[1], words
        # every task has a hint, folded away until the student opens it
        tasks = [m for m in markdown if m.startswith("## Task ")]
        hints = [m for m in markdown if "<details>\n<summary>Hint</summary>" in m]
        assert tasks and len(hints) == len(tasks), (name, len(tasks), len(hints))
        assert "otter-grader" in setup.source
        assert f'here = "{name}.ipynb"' in setup.source                # fetches its own file
        assert 'f"{RAW}/exercises/{here}"' in setup.source
        assert "otter_ignore" in setup.metadata.get("tags", [])      # never run when grading
        assert "grader = otter.Notebook(" in text
        for question in nb.metadata["otter"]["tests"]:
            assert f'grader.check("{question}")' in text, (name, question)
        assert "grader.check_all()" in text
        assert "does not" in text and "hidden" in text.lower() and "not your final score" in text
        # the answers are blanks in the student version and filled in the solution
        sol = _nb("solutions", name)
        assert BLANK.search(_code(nb)), name
        assert not BLANK.search(_code(sol)), (name, BLANK.search(_code(sol)))
        assert name in WIDGET_ANSWERS, f"list the widget answers of {name} in WIDGET_ANSWERS"
        for answer in WIDGET_ANSWERS[name]:
            assert f"{answer} = ..." in text, (name, answer)
            assert re.search(rf"^{answer} = \S", _code(sol), re.MULTILINE), (name, answer)
            assert not re.search(rf"^{answer} = \.\.\.", _code(sol), re.MULTILINE), (name, answer)


# Inserted after otter's init cell: records otter's own verdict on every public test case of each
# question, at the grader.check call that the notebook itself makes (check_all comes later).
RECORD_CHECKS = """\
_public_verdicts = {}
_otter_check = grader.check
def _recording_check(question, global_env=None):
    result = _otter_check(question, globals() if global_env is None else global_env)
    _public_verdicts.setdefault(question, [bool(r.passed) for r in result.test_case_results])
    return result
grader.check = _recording_check
"""
REPORT_CHECKS = 'import json\nprint("VERDICTS " + json.dumps(_public_verdicts))'


def _execute_with_verdicts(folder: str, name: str):
    """Run the notebook top to bottom (any cell error fails); return it and otter's verdicts:
    {question: [passed?, one per public test case]}."""
    from nbclient import NotebookClient

    nb = _nb(folder, name)
    init = next(i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and "grader = otter.Notebook(" in c.source)
    nb.cells.insert(init + 1, nbformat.v4.new_code_cell(RECORD_CHECKS))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CHECKS))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(ROOT / folder)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    verdicts = json.loads(printed.split("VERDICTS ", 1)[1])
    questions = sorted(nb.metadata["otter"]["tests"])
    assert sorted(verdicts) == questions, (name, sorted(verdicts), questions)
    for q in questions:
        cases = nb.metadata["otter"]["tests"][q]["suites"][0]["cases"]
        assert len(verdicts[q]) == len(cases) > 0, (name, q, verdicts[q])
    return nb, verdicts


@pytest.mark.slow
def test_student_notebook_executes_without_errors_and_every_public_check_fails():
    for name in NAMES:
        nb, verdicts = _execute_with_verdicts("exercises", name)
        passing = {q: v for q, v in verdicts.items() if any(v)}
        assert not passing, f"{name}: a blank answer passes public test cases: {passing}"
        widget = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert widget, "the explorer widget is displayed"


@pytest.mark.slow
def test_solution_notebook_passes_every_public_check():
    for name in NAMES:
        _, verdicts = _execute_with_verdicts("solutions", name)
        failing = {q: v for q, v in verdicts.items() if not all(v)}
        assert not failing, f"{name}: the solution fails public test cases: {failing}"
