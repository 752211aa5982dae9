"""Build every exercise from its otter-grader master (the one source of truth).

For each master ``<masters>/<name>.md`` (MyST notebook, or ``.ipynb``) this

1. converts it to a notebook and executes it (otter takes the expected output of each test
   from the executed test cells),
2. runs ``otter assign`` on it,
3. writes the student notebook to ``exercises/<name>.ipynb``, the reference solution to
   ``solutions/<name>.ipynb`` (public tests only in its metadata: hidden tests never go to a
   published file) and the autograder zip (hidden tests included) to
   ``<masters>/../dist/<name>-autograder.zip``, which nothing published includes.

Generated notebooks are normalised (no outputs, no execution metadata, stable cell ids) so that
they diff cleanly and ``--check`` can tell whether they are out of date with their master.

Usage::

    HF_HUB_OFFLINE=1 ctxembed-exercises                     # build all (~40 s each)
    HF_HUB_OFFLINE=1 ctxembed-exercises --check             # exit 1 if one is stale
    ctxembed-exercises --masters /private/masters           # masters kept elsewhere
    ctxembed-exercises ch01_static_vs_contextual            # one exercise

(``python -m ctxembed_instructor.exercises`` is the same command.) The masters folder defaults
to ``$CTXEMBED_MASTERS`` or the repository's ``instructor/masters``
(:mod:`ctxembed_instructor.paths`).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .paths import autograder_zip, masters_dir, repo_dir

# Cell metadata worth keeping in a generated notebook; everything else is volatile.
KEEP_CELL_META = ("tags", "deletable", "editable", "otter")
KEEP_NB_META = ("kernelspec", "otter")


def masters_in(folder: Path) -> list[Path]:
    found = sorted(p for p in folder.glob("*.md") if p.name.lower() != "readme.md")
    found += sorted(p for p in folder.glob("*.ipynb") if p.with_suffix(".md") not in found)
    return found


def _execute_master(master: Path, workdir: Path) -> Path:
    """Master -> executed .ipynb in ``workdir`` (outputs become the tests' expected output)."""
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(master) if master.suffix == ".md" else nbformat.read(master, as_version=4)
    env_before = os.environ.get("HF_HUB_OFFLINE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
    out = workdir / f"{master.stem}.ipynb"
    nbformat.write(nb, out)
    return out


def normalise(nb: nbformat.NotebookNode, prefix: str) -> nbformat.NotebookNode:
    """Strip outputs and volatile metadata; give cells stable ids."""
    nb = copy.deepcopy(nb)
    nb.metadata = {k: nb.metadata[k] for k in KEEP_NB_META if k in nb.metadata}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{prefix}-{i:03d}"
        cell.metadata = {k: cell.metadata[k] for k in KEEP_CELL_META if k in cell.metadata}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def _tag(cell, tag):
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def colab_cell_first(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Move the Colab install cell before otter's init cell (``import otter``).

    otter assign puts its init cell first; on Colab that cell would fail, since otter is
    what the Colab cell installs. The Colab cell does nothing elsewhere, so first is safe.
    """
    colab = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "google.colab" in c.source]
    if len(colab) != 1:
        raise RuntimeError(f"expected one Colab cell in the exercise, found {len(colab)}")
    nb.cells.insert(0, nb.cells.pop(colab[0]))
    return nb


# Shown in every student notebook, after its introduction (one text for all exercises).
KEEP_YOUR_WORK = """\
**Keep your work, and hand it in.**

- *On Colab:* choose **File → Save a copy in Drive** before you start. The notebook that the
  course's Colab button opens is not saved for you.
- *On Binder:* a Binder session is temporary. After about ten minutes without activity it is
  shut down, and everything in it is deleted, your answers included. Download your notebook
  (**File → Download**) whenever you stop, and upload it again to continue.
- *On your own machine:* the notebook is a file in your copy of the course; save as usual.
- *To hand it in:* first choose **Restart kernel and run all cells** (the grader runs your
  notebook from the top in a fresh kernel, so a cell that only worked out of order will fail
  there). Then submit the `.ipynb` file itself (on Colab: **File → Download → Download
  .ipynb**), the way your instructor asks."""


def with_keep_your_work(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Insert :data:`KEEP_YOUR_WORK` after the notebook's first Markdown cell (its title and
    introduction)."""
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    nb.cells.insert(first + 1, nbformat.v4.new_markdown_cell(KEEP_YOUR_WORK))
    return nb


def dumps(nb) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build_one(master: Path, workdir: Path) -> dict[str, object]:
    """Build one exercise in ``workdir``; return {'student': nb, 'solution': nb, 'zip': path}."""
    name = master.stem
    for extra in master.parent.glob("requirements*.txt"):
        shutil.copy(extra, workdir / extra.name)
    executed = _execute_master(master, workdir)
    dist = workdir / "dist"
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("otter")), "assign", "--no-run-tests",
         executed.name, "dist"], cwd=workdir, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"otter assign failed for {master}:\n{proc.stdout}\n{proc.stderr}")
    student = nbformat.read(dist / "student" / f"{name}.ipynb", as_version=4)
    solution = nbformat.read(dist / "autograder" / f"{name}.ipynb", as_version=4)
    (zip_path,) = (dist / "autograder").glob("*.zip")

    student = normalise(with_keep_your_work(colab_cell_first(student)), "ex")
    for cell in student.cells:
        src = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type == "code" and src.lstrip().startswith("grader.check"):
            # On the site the exercise page shows no failing test output; in Jupyter tags do nothing.
            _tag(cell, "remove-output")

    solution = normalise(colab_cell_first(solution), "sol")
    # The autograder notebook carries hidden tests in its metadata: publish only the public ones.
    solution.metadata["otter"] = copy.deepcopy(student.metadata["otter"])
    hidden = json.dumps(solution.metadata["otter"])
    assert '"hidden": true' not in hidden, "a hidden test leaked into the solution notebook"
    return {"student": student, "solution": solution, "zip": zip_path}


def targets(name: str) -> dict[str, Path]:
    """The published notebooks built from master ``name``: the student's and the solution."""
    return {"student": repo_dir() / "exercises" / f"{name}.ipynb",
            "solution": repo_dir() / "solutions" / f"{name}.ipynb"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--masters", type=Path, default=None,
                    help="the masters folder (default: $CTXEMBED_MASTERS or instructor/masters)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 when a committed generated notebook is out of date")
    ap.add_argument("names", nargs="*", help="only these exercises (master file stems)")
    args = ap.parse_args(argv)
    args.masters = args.masters or masters_dir()

    masters = [m for m in masters_in(args.masters) if not args.names or m.stem in args.names]
    if not masters:
        print(f"no masters found in {args.masters}", file=sys.stderr)
        return 2
    stale = []
    for master in masters:
        with tempfile.TemporaryDirectory(prefix="ctxembed-assign-") as tmp:
            built = build_one(master, Path(tmp))
            for kind, path in targets(master.stem).items():
                text = dumps(built[kind])
                current = path.read_text(encoding="utf-8") if path.exists() else None
                if current != text:
                    stale.append(path)
                    if not args.check:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_text(text, encoding="utf-8")
            if not args.check:
                dest = autograder_zip(master.stem, args.masters)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(built["zip"], dest)
                print(f"[exercises] {master.name}: wrote {', '.join(str(p.relative_to(repo_dir())) for p in targets(master.stem).values())}, {dest}")
    if args.check:
        for p in stale:
            print(f"OUT OF DATE: {p} (run ctxembed-exercises)")
        return 1 if stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
