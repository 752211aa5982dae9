"""The instructor grader against reference solutions, untouched notebooks and bad submissions.

One grading run (module fixture) grades a folder built here from one exercise's committed
student and solution notebooks (``MATRIX``, whose cells and points the matrix is written
against): its reference solution (full marks), its untouched student notebook (not full marks)
and a matrix of bad submissions, whose handling does not depend on the exercise. Each file must
come back as a row with a score and a reason; none may stop the run. Timeouts are short (25 s)
so the run takes about two minutes on two busy cores. A slow test (``make test``, not
``make check``) grades every other exercise's reference and untouched notebooks, ~30 s each.
"""

from __future__ import annotations

import copy
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from ctxembed_instructor.grading import grade_folder
from ctxembed_instructor.grading.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTOR = ROOT / "instructor"
MASTERS = INSTRUCTOR / "masters"
EXERCISES = sorted(p.stem for p in MASTERS.glob("*.md"))
MATRIX = "ch01_static_vs_contextual"   # the exercise the bad-submission matrix is written against
TIMEOUT = 25


def zip_of(name: str) -> Path:
    return INSTRUCTOR / "dist" / f"{name}-autograder.zip"


@pytest.fixture(scope="module")
def autograders():
    """The autograder zips (not committed: built from the masters when missing)."""
    missing = [n for n in EXERCISES if not zip_of(n).exists()]
    if missing:
        import subprocess
        import sys
        subprocess.run([sys.executable, "-m", "ctxembed_instructor.exercises", *missing],
                       check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return {n: zip_of(n) for n in EXERCISES}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_index(nb, contains: str) -> int:
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and contains in c.source:
            return i
    raise AssertionError(f"no code cell containing {contains!r}")


def _with_cell(nb, index: int, source: str):
    nb = copy.deepcopy(nb)
    nb.cells.insert(index, nbformat.v4.new_code_cell(source))
    return nb


def bad_submissions(solution, student, zip_path: Path) -> dict[str, object]:
    """name -> notebook (or raw bytes) for each bad submission of the matrix."""
    subs: dict[str, object] = {}
    q1 = _code_index(solution, "def cosine_similarity")
    imports = _code_index(solution, "import ctxembed")

    nb = copy.deepcopy(solution)
    nb.cells[q1].source = nb.cells[q1].source.replace("def cosine_similarity(a, b):", "def cosine_similarity(a, b)")
    subs["syntax_error"] = nb

    nb = copy.deepcopy(solution)
    nb.cells[q1].source = "1 / 0\n" + nb.cells[q1].source
    subs["exception_before_answer"] = nb

    subs["infinite_loop"] = _with_cell(solution, imports + 1, "while True:\n    pass")
    subs["memory_bomb"] = _with_cell(
        solution, imports + 1, "hog = []\nwhile True:\n    hog.append(bytearray(100 * 2**20))")
    subs["sys_exit"] = _with_cell(solution, imports + 1, "import sys\nsys.exit(3)")
    subs["os_exit"] = _with_cell(solution, imports + 1, "import os\nos._exit(0)")

    nb = copy.deepcopy(solution)
    del nb.cells[_code_index(nb, "def odd_one_out")]
    subs["deleted_cell"] = nb

    nb = copy.deepcopy(solution)
    for i, c in enumerate(nb.cells):
        c["id"] = f"renamed-{i}"
        c.metadata = {}
    subs["renamed_cells"] = nb

    nb = copy.deepcopy(solution)
    nb.cells.append(nb.cells.pop(imports))     # imports moved to the very end
    subs["reordered_cells"] = nb

    subs["empty_notebook"] = nbformat.v4.new_notebook()
    text = json.dumps(solution)
    subs["corrupted_json"] = text[: len(text) // 2].encode()
    subs["flood_output"] = _with_cell(
        solution, imports + 1,
        "import sys\nfor _ in range(100_000):\n    print('spam ' * 40)\nsys.stdout.write('x' * 10**7)")

    targets = [zip_path, MASTERS / f"{zip_path.stem.replace('-autograder', '')}.md",
               ROOT / "solutions" / f"{zip_path.stem.replace('-autograder', '')}.ipynb"]
    reader = f"""
import os, subprocess, glob
leaked = []
for p in {[str(t) for t in targets]!r} + glob.glob("/**/*autograder*.zip", recursive=False):
    for attempt in (lambda: open(p, "rb").read(),
                    lambda: (os.symlink(p, "link") if not os.path.lexists("link") else None, open("link", "rb").read())[1],
                    lambda: subprocess.run(["cat", p], capture_output=True).stdout,
                    lambda: os.system("cp " + repr(p) + " stolen.bin") or open("stolen.bin", "rb").read()):
        try:
            if attempt():
                leaked.append(p)
        except Exception:
            pass
for p in ("tests", "../tests", "autograder.zip", "/autograder/source/tests"):
    if os.path.exists(p):
        leaked.append(p)
if leaked:
    os._exit(77)   # the test fails loudly: a protected file was readable
"""
    subs["reads_hidden_tests"] = _with_cell(student, len(student.cells), reader)

    forger = """
import json, os, struct, pickle
full = {"q1": 4, "q2": 4, "q3": 4, "q4": 4}
for name in ("results.json", "results.pkl", "grading_results.json"):
    with open(name, "wb") as f:
        f.write(json.dumps({"score": 16, "tests": full}).encode() if name.endswith("json") else pickle.dumps(full))
import doctest, otter
doctest.OutputChecker.check_output = lambda *a, **k: True
import otter.test_files.ok_test as ok
ok.run_doctest = lambda *a, **k: (True, "")
otter.Notebook.check = lambda *a, **k: None
for msg in ({"type": "executed", "errors": [], "blocked": []},
            {"type": "outputs", "cases": [[{"got": "True\\n", "exc": None}]] * 13, "blocked": []}):
    data = json.dumps(msg).encode()
    for fd in range(3, 40):
        try:
            os.write(fd, struct.pack(">I", len(data)) + data)
            os.write(fd, struct.pack("!i", len(data)) + data)
        except OSError:
            pass
try:
    os.kill(os.getppid(), 9)
except Exception:
    pass
"""
    subs["forges_results"] = _with_cell(student, len(student.cells), forger)
    return subs


def _grade(folder: Path, zip_path: Path, out: Path) -> dict:
    start = time.monotonic()
    grade_folder(folder, zip_path, out, workers=2, timeout=TIMEOUT, memory_mb=1024, quiet=True)
    elapsed = time.monotonic() - start
    with open(out / "gradebook.csv", encoding="utf-8") as f:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(f)}
    return {"rows": rows, "out": out, "folder": folder, "elapsed": elapsed}


def _reference_and_untouched(tmp_path_factory, name: str) -> Path:
    folder = tmp_path_factory.mktemp(f"subs-{name}")
    nbformat.write(_read(ROOT / "solutions" / f"{name}.ipynb"), folder / "reference_solution.ipynb")
    nbformat.write(_read(ROOT / "exercises" / f"{name}.ipynb"), folder / "untouched.ipynb")
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory, autograders):
    """Grade the matrix exercise's folder once: {MATRIX: {rows, out, folder, elapsed}}.

    The other exercises' reference and untouched notebooks are graded by the slow test
    ``test_every_exercise_grades_its_reference_full_and_its_student_notebook_lower``.
    """
    zip_path = autograders[MATRIX]
    solution = _read(ROOT / "solutions" / f"{MATRIX}.ipynb")
    student = _read(ROOT / "exercises" / f"{MATRIX}.ipynb")
    folder = _reference_and_untouched(tmp_path_factory, MATRIX)
    for sub, nb in bad_submissions(solution, student, zip_path).items():
        path = folder / f"{sub}.ipynb"
        if isinstance(nb, bytes):
            path.write_bytes(nb)
        else:
            nbformat.write(nb, path)
    (folder / "not_a_notebook.pdf").write_bytes(b"%PDF-1.4 this is not a notebook\n")
    # one student, two submissions: the later one counts
    nbformat.write(student, folder / "alice__first.ipynb")
    nbformat.write(solution, folder / "alice__second.ipynb")
    os.utime(folder / "alice__first.ipynb", (time.time() - 3600, time.time() - 3600))
    nbformat.write(solution, folder / "José Müller 日本.ipynb")
    return {MATRIX: _grade(folder, zip_path, tmp_path_factory.mktemp(f"out-{MATRIX}"))}


@pytest.mark.slow
def test_every_exercise_grades_its_reference_full_and_its_student_notebook_lower(
        tmp_path_factory, autograders):
    assert MATRIX in autograders and len(autograders) == len(EXERCISES) > 1
    for name, zip_path in autograders.items():
        if name == MATRIX:
            continue   # graded with the matrix
        g = _grade(_reference_and_untouched(tmp_path_factory, name), zip_path,
                   tmp_path_factory.mktemp(f"out-{name}"))
        ref, untouched = g["rows"]["reference_solution.ipynb"], g["rows"]["untouched.ipynb"]
        assert ref["status"] == "ok" and float(ref["total"]) == float(ref["max"]) > 0, (name, ref)
        assert untouched["status"] == "ok", (name, untouched)
        assert float(untouched["total"]) < float(untouched["max"]), (name, untouched)


def each(graded):
    for name, g in graded.items():
        yield name, g["rows"]


def test_every_file_has_a_row_with_score_and_reason(graded):
    for g in graded.values():
        files = sorted(p.name for p in g["folder"].iterdir())
        assert sorted(g["rows"]) == files
        for row in g["rows"].values():
            assert row["total"] != "" and float(row["total"]) >= 0, row
            assert row["reason"].strip(), row
            assert float(row["max"]) > 0


def test_reference_solution_gets_full_marks(graded):
    for name, rows in each(graded):
        r = rows["reference_solution.ipynb"]
        assert r["status"] == "ok", r
        assert float(r["total"]) == float(r["max"]), r


def test_untouched_student_notebook_does_not(graded):
    for name, rows in each(graded):
        r = rows["untouched.ipynb"]
        assert r["status"] == "ok", r
        assert float(r["total"]) < float(r["max"]), r


def _row(graded, file):
    return graded[MATRIX]["rows"][file]


def test_syntax_error_loses_that_task_only(graded):
    r = _row(graded, "syntax_error.ipynb")
    assert r["status"] == "cell-errors" and "SyntaxError" in r["reason"]
    assert float(r["q1"]) == 0 and float(r["q2"]) == 4 and float(r["q4"]) == 4


def test_exception_before_the_answer(graded):
    r = _row(graded, "exception_before_answer.ipynb")
    assert r["status"] == "cell-errors" and "ZeroDivisionError" in r["reason"]
    assert float(r["q1"]) == 0 and float(r["total"]) == 12


def test_infinite_loop_is_killed_at_the_limit(graded):
    r = _row(graded, "infinite_loop.ipynb")
    assert r["status"] == "timeout" and float(r["total"]) == 0
    assert "timed out" in r["reason"]
    assert float(r["seconds"]) < TIMEOUT + 10


def test_memory_bomb_hits_the_memory_limit(graded):
    r = _row(graded, "memory_bomb.ipynb")
    assert "MemoryError" in r["reason"] and r["status"] == "cell-errors"
    assert float(r["total"]) == float(r["max"])   # the rest of the notebook still counts


def test_sys_exit_and_os_exit(graded):
    r = _row(graded, "sys_exit.ipynb")
    assert r["status"] == "cell-errors" and "SystemExit" in r["reason"]
    assert float(r["total"]) == float(r["max"])
    r = _row(graded, "os_exit.ipynb")
    assert r["status"] == "crashed" and float(r["total"]) == 0
    assert "exited with code 0" in r["reason"]


def test_deleted_renamed_reordered_cells(graded):
    r = _row(graded, "deleted_cell.ipynb")
    assert float(r["q3"]) == 0 and float(r["q1"]) == 4
    r = _row(graded, "renamed_cells.ipynb")
    assert float(r["total"]) == float(r["max"]), r
    r = _row(graded, "reordered_cells.ipynb")
    assert r["status"] == "cell-errors" and "NameError" in r["reason"]
    assert float(r["total"]) < float(r["max"])


def test_unreadable_files(graded):
    assert _row(graded, "empty_notebook.ipynb")["status"] == "empty"
    r = _row(graded, "corrupted_json.ipynb")
    assert r["status"] == "invalid" and "JSON" in r["reason"] and float(r["total"]) == 0
    r = _row(graded, "not_a_notebook.pdf")
    assert r["status"] == "invalid" and "not a Jupyter notebook" in r["reason"]


def test_megabytes_of_output_are_capped_not_fatal(graded):
    r = _row(graded, "flood_output.ipynb")
    assert r["status"] == "ok" and float(r["total"]) == float(r["max"]), r


def test_hidden_tests_cannot_be_read(graded):
    r = _row(graded, "reads_hidden_tests.ipynb")
    assert r["status"] != "crashed", r          # exit 77 would mean a protected file was read
    assert "sandbox refused" in r["reason"], r
    assert float(r["total"]) == float(_row(graded, "untouched.ipynb")["total"])


def test_forged_results_and_patched_grader_change_nothing(graded):
    r = _row(graded, "forges_results.ipynb")
    assert float(r["total"]) == float(_row(graded, "untouched.ipynb")["total"]), r
    assert "ignored" in r["reason"] or "sandbox refused" in r["reason"]


def test_two_submissions_from_one_student(graded):
    first, second = _row(graded, "alice__first.ipynb"), _row(graded, "alice__second.ipynb")
    assert first["student"] == second["student"] == "alice"
    assert (first["counted"], second["counted"]) == ("no", "yes")
    g = graded[MATRIX]
    feedback = g["out"] / "feedback" / "alice.md"
    text = feedback.read_text(encoding="utf-8")
    assert "alice__second.ipynb" in text and "(not counted)" in text


def test_names_with_spaces_and_non_ascii(graded):
    r = _row(graded, "José Müller 日本.ipynb")
    assert r["student"] == "José Müller 日本" and float(r["total"]) == float(r["max"])
    g = graded[MATRIX]
    assert (g["out"] / "feedback" / "José Müller 日本.md").exists()


def test_one_feedback_file_per_student(graded):
    g = graded[MATRIX]
    students = {r["student"] for r in g["rows"].values()}
    assert len(list((g["out"] / "feedback").glob("*.md"))) == len(students)
    text = (g["out"] / "feedback" / "untouched.md").read_text(encoding="utf-8")
    assert "hidden tests are not shown" in text and "not your final score" in text
    assert ">>>" not in text.split("hidden test")[-1][:200]


def test_whole_matrix_is_bounded(graded):
    for g in graded.values():
        # ~20 files, one 25 s timeout, 2 workers: far below a serial worst case
        assert g["elapsed"] < 240, g["elapsed"]


def _namespaces_work() -> bool:
    exe = shutil.which("bwrap")
    return bool(exe) and subprocess.run(
        [exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net",
         "--unshare-pid", "--unshare-ipc", "true"], capture_output=True, timeout=30,
        check=False).returncode == 0


def test_graded_in_the_bubblewrap_sandbox_where_it_runs(graded):
    """`auto` grades in bubblewrap wherever it can run, and always on CI (setup installs it)."""
    mode = "bwrap" if os.environ.get("CI") or _namespaces_work() else "forkserver"
    for g in graded.values():
        assert (g["out"] / "isolation.txt").read_text().startswith(f"isolation={mode}: ")


def _not_an_autograder(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("README.txt", "lecture slides")
    return path


def test_unknown_assignments_are_one_clear_line(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_read(ROOT / "solutions" / f"{MATRIX}.ipynb"), subs / "alice.ipynb")
    typo = MATRIX[:-1]
    cases = [
        (["grade", str(subs), "-a", typo], [f"no exercise {typo!r}", f"did you mean {MATRIX}?",
                                            *EXERCISES]),
        (["grade", str(subs), "-a", typo, "--no-build"], [f"no exercise {typo!r}"]),
        (["grade", str(subs), "-a", "week3"], ["no exercise 'week3'", *EXERCISES]),
        (["grade", str(subs), "-a", str(tmp_path / "missing.zip")], ["missing.zip does not exist"]),
        (["grade", str(subs), "-a", str(_not_an_autograder(tmp_path / "slides.zip"))],
         ["slides.zip is not an otter autograder zip"]),
        (["gradescope", "week3", "--out", str(tmp_path / "gs.zip")], ["no exercise 'week3'"]),
    ]
    for argv, expected in cases:
        with pytest.raises(SystemExit) as stop:
            cli_main([*argv, "--out", str(tmp_path / "out")] if argv[0] == "grade" else argv)
        message = stop.value.code
        assert isinstance(message, str) and message.startswith("ctxembed-grade: "), (argv, message)
        assert "\n" not in message and all(e in message for e in expected), (argv, message)
    assert not (tmp_path / "out").exists() and not (tmp_path / "gs.zip").exists()
    assert not (INSTRUCTOR / "dist" / f"{typo}-autograder.zip").exists()


def test_unknown_assignment_from_the_shell_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ctxembed_instructor.grading.cli", "grade", str(tmp_path),
                           "-a", "week3"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith("ctxembed-grade: no exercise 'week3'"), proc.stderr


def test_gradescope_export_installs_otter_the_library_and_the_data(tmp_path, autograders):
    # What Gradescope's image needs: otter-grader (run_otter.py imports it), the course library
    # of the site's branch, and the course's data fetched once by setup.sh. The whole run is
    # tests/test_gradescope.py; this checks the zip's files.
    import yaml

    from ctxembed_instructor.grading.cli import (
        GRADESCOPE_PREPARE,
        gradescope_pip_requirements,
    )

    sys.path.insert(0, str(ROOT / "tools"))
    import colab_cells

    url, branch = colab_cells.repository(ROOT)
    for name, zip_path in autograders.items():
        out = tmp_path / f"{name}.zip"
        assert cli_main(["gradescope", str(zip_path), "--out", str(out)]) == 0
        with zipfile.ZipFile(zip_path) as built, zipfile.ZipFile(out) as exported:
            assert set(exported.namelist()) == set(built.namelist()) | {GRADESCOPE_PREPARE}
            for member in built.namelist():       # tests, run_otter.py, configs: unchanged
                if member != "setup.sh":
                    assert exported.read(member) == built.read(member), member
            setup = exported.read("setup.sh").decode()
            assert setup.startswith(built.read("setup.sh").decode().rstrip("\n"))
            assert setup.rstrip().endswith(
                f"mamba run -n otter-env bash /autograder/source/{GRADESCOPE_PREPARE}")
            prepare = exported.read(GRADESCOPE_PREPARE).decode()
            assert "python -m ctxembed.data\n" in prepare
            assert "python -m ctxembed.data.finetune_datasets" in prepare
            assert exported.getinfo(GRADESCOPE_PREPARE).external_attr >> 16 & 0o111
            env = exported.read("environment.yml").decode()
            pip = gradescope_pip_requirements(env)
            assert yaml.safe_load(env)["name"] == "otter-env"      # run_autograder activates it
        assert any(r.startswith("otter-grader[grading") for r in pip), pip
        assert f"ctxembed-course @ git+{url}@{branch}" in pip, pip


def test_gradescope_export_refuses_a_zip_without_otter(tmp_path, autograders):
    # An autograder built when the masters overwrote otter's requirements: Gradescope would
    # build its image and fail every submission at "import otter".
    src = autograders["ch01_static_vs_contextual"]
    stale = tmp_path / "stale.zip"
    with zipfile.ZipFile(src) as built, zipfile.ZipFile(stale, "w") as out:
        for member in built.namelist():
            data = built.read(member)
            if member == "environment.yml":
                data = b"\n".join(line for line in data.splitlines()
                                  if b"otter-grader" not in line) + b"\n"
            out.writestr(member, data)
    with pytest.raises(SystemExit, match=r"does not install otter-grader.*Rebuild it"):
        cli_main(["gradescope", str(stale), "--out", str(tmp_path / "out.zip")])
    assert not (tmp_path / "out.zip").exists()


def test_the_default_protection_hides_the_hidden_tests_but_not_the_grader_itself():
    """The masters, the autograder zips and the solutions are closed to submissions; the
    grader's package lives beside them in instructor/ and must stay importable in the sandbox."""
    from ctxembed_instructor.grading.cli import default_protected

    protected = default_protected()
    assert MASTERS in protected and ROOT / "solutions" in protected
    package = Path(importlib.util.find_spec("ctxembed_instructor").origin).parent
    assert not [p for p in protected if package == p or package.is_relative_to(p)], protected
