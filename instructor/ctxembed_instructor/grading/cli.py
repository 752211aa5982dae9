"""``ctxembed-grade``: grade a folder of submissions, or export a Gradescope autograder.

Examples
--------
Grade every file in ``submissions/`` against chapter 1's autograder::

    ctxembed-grade grade submissions/ --assignment ch01_static_vs_contextual --out grading-output/ch01

writes ``grading-output/ch01/gradebook.csv`` (one row per submitted file) and
``grading-output/ch01/feedback/<student>.md`` (one per student). Export for Gradescope::

    ctxembed-grade gradescope ch01_static_vs_contextual --out ch01-gradescope.zip
"""

from __future__ import annotations

import argparse
import csv
import difflib
import os
import re
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

from ..paths import autograder_zip, dist_dir, masters_dir, repo_dir
from .runner import STATUS_DOC, Grader, Result, SandboxUnavailable, load_assignment


def exercises() -> list[str]:
    """The exercise names: one per master in the masters folder."""
    return sorted(p.stem for p in masters_dir().glob("*.md") if p.stem.lower() != "readme")


def unknown_exercise(name: str) -> SystemExit:
    known = exercises()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return SystemExit(f"ctxembed-grade: no exercise {name!r} ({hint}exercises: "
                      f"{', '.join(known) or 'none'}, from the masters in {masters_dir()}); "
                      f"or pass the path of an autograder .zip")


def build_autograder(name: str, quiet: bool = False) -> Path:
    """Build ``name``'s autograder zip from its master with ``ctxembed-exercises`` (~1 min)."""
    masters = masters_dir()
    if not any((masters / f"{name}{ext}").is_file() for ext in (".md", ".ipynb")):
        raise unknown_exercise(name)
    if not quiet:
        print(f"[grade] the autograder for {name} is not built yet: building it now from "
              f"{masters / name}.md (ctxembed-exercises, about a minute)", file=sys.stderr)
    proc = subprocess.run([sys.executable, "-m", "ctxembed_instructor.exercises",
                           "--masters", str(masters), name],
                          env={**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")},
                          capture_output=True, text=True, check=False)
    zip_path = autograder_zip(name, masters)        # where the builder just wrote it
    if proc.returncode != 0 or not zip_path.is_file():
        raise SystemExit(f"ctxembed-grade: building the autograder for {name} failed:\n"
                         f"{(proc.stdout + proc.stderr)[-3000:]}")
    return zip_path


def resolve_assignment(value: str, build: bool = True, quiet: bool = False) -> Path:
    """An autograder zip path, or an exercise name looked up in the instructor dist folder.

    An exercise whose autograder has not been built yet (a fresh clone) is built from its
    master first, unless ``build`` is False.
    """
    p = Path(value)
    if p.suffix == ".zip":
        if not p.is_file():
            raise SystemExit(f"ctxembed-grade: {p} does not exist")
        try:
            load_assignment(p)
        except (ValueError, KeyError, OSError, SyntaxError, zipfile.BadZipFile) as e:
            raise SystemExit(f"ctxembed-grade: {p} is not an otter autograder zip ({e}); build "
                             "one with ctxembed-exercises NAME (it writes instructor/dist/)")
        return p
    candidate = autograder_zip(value)
    has_master = any((masters_dir() / f"{value}{ext}").is_file() for ext in (".md", ".ipynb"))
    if not has_master and not candidate.is_file():
        raise unknown_exercise(value)
    stale = candidate.is_file() and master_is_newer(candidate, value)
    if candidate.is_file() and not stale:
        return candidate
    if not build:
        why = "is older than its master" if stale else "does not exist"
        raise SystemExit(f"ctxembed-grade: the autograder zip {candidate} {why}; "
                         f"drop --no-build to build it, or run ctxembed-exercises {value}")
    if stale and not quiet:
        print(f"[grade] {candidate.name} is older than its master: rebuilding it", flush=True)
    return build_autograder(value, quiet=quiet)


def master_is_newer(zip_path: Path, name: str) -> bool:
    """True when ``name``'s master was edited after ``zip_path`` was built (stale hidden tests)."""
    built = zip_path.stat().st_mtime
    return any(m.is_file() and m.stat().st_mtime > built
               for m in (masters_dir() / f"{name}{ext}" for ext in (".md", ".ipynb")))


def default_protected() -> list[Path]:
    """Folders a submission may never read, where present: the masters (hidden tests and their
    answers), the autograder zips and the solutions. The grader's own code, beside them in
    ``instructor/``, stays readable: the sandboxed server imports it."""
    return [p for p in (masters_dir(), dist_dir(), repo_dir() / "solutions") if p.is_dir()]


def find_submissions(folder: Path) -> list[Path]:
    """Every non-hidden file under ``folder``, at any depth, and every symbolic link (graded as
    invalid, never followed). Hidden files and folders (``.ipynb_checkpoints``) are skipped."""
    files = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_symlink() or p.is_file():
            files.append(p)
    return files


def student_of(path: Path, root: Path) -> str:
    """``root/<student>/[...]/x.ipynb`` -> student; ``root/<student>__anything.ipynb`` -> student."""
    rel = path.relative_to(root)
    if len(rel.parts) >= 2:
        return rel.parts[0]
    return path.stem.split("__")[0] if "__" in path.stem else path.stem


def safe_name(student: str) -> str:
    """A file name for ``student``: keeps letters of any script, replaces path and control characters."""
    s = unicodedata.normalize("NFC", student)
    s = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", s).strip(" .") or "unnamed"
    return s[:120]


def mark_duplicates(results: list[Result], keep: str, mtimes: dict) -> None:
    """Several files from one student: only one counts (the latest, or the best)."""
    by_student: dict[str, list[Result]] = {}
    for r in results:
        by_student.setdefault(r.student, []).append(r)
    for rows in by_student.values():
        if len(rows) < 2:
            continue
        if keep == "best":
            winner = max(rows, key=lambda r: (r.total, mtimes.get(r.file, 0), r.file))
        else:
            winner = max(rows, key=lambda r: (mtimes.get(r.file, 0), r.file))
        for r in rows:
            if r is not winner:
                r.counted = False
                r.reason += f"; not counted: {Path(winner.file).name} is this student's {keep} submission"


def write_gradebook(results: list[Result], questions: list[str], path: Path, root: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "file", *questions, "total", "max", "status", "counted", "public",
                    "seconds", "reason"])
        for r in results:
            w.writerow([r.student, str(Path(r.file).relative_to(root)) if Path(r.file).is_relative_to(root) else r.file,
                        *[f"{r.scores.get(q, 0.0):g}" for q in questions], f"{r.total:g}",
                        f"{r.possible:g}", r.status, "yes" if r.counted else "no", r.public,
                        f"{r.seconds:g}", r.reason])


def write_feedback(results: list[Result], folder: Path, assignment: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Result]] = {}
    for r in results:
        by_student.setdefault(r.student, []).append(r)
    used, written = set(), {}
    for student, rows in sorted(by_student.items()):
        name = safe_name(student)
        while name.lower() in used:
            name += "_"
        used.add(name.lower())
        rows = sorted(rows, key=lambda r: not r.counted)
        lines = [f"# Feedback: {assignment}", "", f"Student: {student}", ""]
        for r in rows:
            lines += [f"# {Path(r.file).name}" + ("" if r.counted else " (not counted)"), "",
                      f"Status: {r.status} ({STATUS_DOC.get(r.status, '')})", f"Notes: {r.reason}", ""]
            lines += r.feedback or [f"Score: {r.total:g} / {r.possible:g}", ""]
        lines += [("Your public-test results in the notebook are not your final score: the hidden "
                   "tests above count too."), ""]
        out = folder / f"{name}.md"
        out.write_text("\n".join(lines), encoding="utf-8")
        written[student] = out
    return written


def grade_folder(submissions, assignment, out, *, workers=2, timeout=120.0, memory_mb=2048,
                 isolation="auto", protect=None, keep="latest", quiet=False) -> list[Result]:
    """Grade every file in ``submissions``; write ``out/gradebook.csv`` and ``out/feedback/``."""
    root, out = Path(submissions), Path(out)
    files = find_submissions(root)
    # instructor/ and solutions/ always; other students' notebooks and earlier feedback neither
    protect = [*default_protected(), *(protect or []), root, out]
    grader = Grader(assignment, timeout=timeout, memory_mb=memory_mb, workers=workers,
                    isolation=isolation, protect=protect)
    if not quiet:
        print(f"[grade] isolation={grader.isolation}: {grader.isolation_summary}", file=sys.stderr)
        print(f"[grade] {len(files)} file(s), {grader.workers} worker(s), "
              f"limits {timeout:g} s / {memory_mb} MB per submission", file=sys.stderr)
    start = time.monotonic()
    try:
        grader.warm_up()
        results = _grade_all(grader, files, quiet)
    finally:
        grader.close()

    mtimes = {}
    for r, f in zip(results, files):
        r.student = student_of(f, root)
        mtimes[r.file] = f.lstat().st_mtime
    mark_duplicates(results, keep, mtimes)
    questions = grader.assignment.questions
    write_gradebook(results, questions, out / "gradebook.csv", root)
    write_feedback(results, out / "feedback", grader.assignment.name)
    (out / "isolation.txt").write_text(f"isolation={grader.isolation}: {grader.isolation_summary}\n",
                                       encoding="utf-8")
    if not quiet:
        print(f"[grade] done in {time.monotonic() - start:.1f} s (isolation={grader.isolation}): "
              f"{out / 'gradebook.csv'}", file=sys.stderr)
    return results


def _grade_all(grader: Grader, files, quiet: bool) -> list[Result]:
    def progress(r):
        if not quiet:
            print(f"[grade] {r.status:12s} {r.total:5g}/{r.possible:g}  {Path(r.file).name}", file=sys.stderr)

    return grader.grade_many(files, progress=progress)


# The course's data, fetched once while Gradescope builds the grading image (its setup.sh runs
# this), so that no submission's container downloads it again: WordNet and the corpora and
# sense data made from it, and the fine-tuning data sets.
GRADESCOPE_PREPARE = "ctxembed_prepare.sh"
GRADESCOPE_PREPARE_SCRIPT = """\
#!/usr/bin/env bash
# Added by ctxembed-grade gradescope: the course's data, fetched into the grading image once.
set -euo pipefail
python -m ctxembed.data
python -m ctxembed.data.finetune_datasets
"""
GRADESCOPE_SETUP_LINE = (f"\n# the course's data, into the image (ctxembed-grade gradescope)\n"
                         f"mamba run -n otter-env bash /autograder/source/{GRADESCOPE_PREPARE}\n")


def gradescope_pip_requirements(environment_yml: str) -> list[str]:
    """The pip list of an autograder's ``environment.yml`` (what Gradescope's image installs)."""
    import yaml

    env = yaml.safe_load(environment_yml) or {}
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            return [str(r) for r in dep["pip"]]
    return []


def export_gradescope(assignment: Path, out: Path) -> Path:
    """Write a Gradescope autograder zip to ``out``: the otter-built zip, whose
    ``environment.yml`` installs otter-grader and the course library, plus a set-up step
    that fetches the course's data into the image.

    Refuses a zip whose environment lacks either package (an autograder built before the
    masters asked for otter-grader: rebuild it with ``ctxembed-exercises``), because
    Gradescope would build it and then fail every submission at ``import otter``.
    """
    load_assignment(assignment)  # fails clearly if it is not an otter autograder
    with zipfile.ZipFile(assignment) as src:
        names = src.namelist()
        for needed in ("setup.sh", "environment.yml", "run_autograder", "run_otter.py"):
            if needed not in names:
                raise SystemExit(f"ctxembed-grade: {assignment} has no {needed}; it is not an "
                                 f"otter autograder zip (rebuild it: ctxembed-exercises)")
        pip = gradescope_pip_requirements(src.read("environment.yml").decode())
        missing = [pkg for pkg in ("otter-grader", "ctxembed-course")
                   if not any(req.startswith(pkg) for req in pip)]
        if missing:
            raise SystemExit(
                f"ctxembed-grade: {assignment}'s environment.yml does not install "
                f"{' or '.join(missing)} (pip list: {pip}); Gradescope would fail every "
                f"submission. Rebuild it: HF_HUB_OFFLINE=1 ctxembed-exercises")
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "setup.sh":
                    data = data.decode().rstrip("\n").encode() + GRADESCOPE_SETUP_LINE.encode()
                dst.writestr(info, data)
            prepare = zipfile.ZipInfo(GRADESCOPE_PREPARE, date_time=(2026, 1, 1, 0, 0, 0))
            prepare.external_attr = 0o755 << 16
            dst.writestr(prepare, GRADESCOPE_PREPARE_SCRIPT)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="ctxembed-grade", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Statuses:\n" + "\n".join(f"  {k:13s}{v}" for k, v in STATUS_DOC.items()))
    sub = ap.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade a folder of submissions")
    g.add_argument("submissions", type=Path, help="folder of submitted files (or of per-student folders)")
    g.add_argument("--assignment", "-a", required=True,
                   help="exercise name (e.g. ch01_static_vs_contextual) or path to its autograder zip")
    g.add_argument("--out", "-o", type=Path, default=Path("grading-output"),
                   help="where gradebook.csv and feedback/ go (default grading-output/)")
    g.add_argument("--workers", "-j", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    g.add_argument("--timeout", type=float, default=120.0, help="seconds per submission (default 120)")
    g.add_argument("--memory", type=int, default=2048, help="MB of extra memory per submission (default 2048)")
    g.add_argument("--isolation", choices=["auto", "bwrap", "forkserver", "fresh", "docker"], default="auto",
                   help="auto (default): bwrap when bubblewrap works here, else forkserver (the "
                        "in-process guard only); docker: only when asked for (needs an image with "
                        "the course library)")
    g.add_argument("--no-build", action="store_true",
                   help="fail instead of building an assignment's autograder that is missing or older than its master")
    g.add_argument("--protect", type=Path, action="append",
                   help="a further file/folder submissions may not read (repeatable; instructor/ "
                        "and solutions/ are always protected)")
    g.add_argument("--keep", choices=["latest", "best"], default="latest",
                   help="which of a student's several submissions counts (default latest)")
    g.add_argument("--quiet", "-q", action="store_true")
    e = sub.add_parser("gradescope", help="export the Gradescope autograder zip built by otter assign")
    e.add_argument("assignment")
    e.add_argument("--out", "-o", type=Path, required=True)
    args = ap.parse_args(argv)

    if args.command == "gradescope":
        out = export_gradescope(resolve_assignment(args.assignment), args.out)
        print(f"Gradescope autograder: {out} (upload it as the assignment's autograder: its "
              f"image installs otter-grader and ctxembed-course from the course repository, "
              f"then fetches the course's data once)")
        return 0
    if not args.submissions.is_dir():
        raise SystemExit(f"ctxembed-grade: {args.submissions} is not a folder")
    assignment = resolve_assignment(args.assignment, build=not args.no_build, quiet=args.quiet)
    try:
        grade_folder(args.submissions, assignment, args.out, workers=args.workers,
                     timeout=args.timeout, memory_mb=args.memory, isolation=args.isolation,
                     protect=args.protect, keep=args.keep, quiet=args.quiet)
    except SandboxUnavailable as e:
        raise SystemExit(f"ctxembed-grade: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
