"""Every chapter's committed ``.ipynb`` is the notebook its ``.md`` source describes.

The Binder and Colab launch buttons open ``chapters/NN_name.ipynb`` (Colab cannot
open MyST Markdown), while the book is built from ``chapters/NN_name.md``. These
tests fail as soon as the two drift apart: a missing or orphaned notebook, or any
cell whose type, source or tags differ from the ``.md`` as jupytext reads it. The
committed notebooks carry no outputs, so a reader starts from a clean notebook.

Fix a failure with ``bash tools/sync_notebooks.sh`` (which runs
``.venv/bin/jupytext --to ipynb chapters/NN_name.md`` for each chapter).
"""

from __future__ import annotations

from pathlib import Path

import jupytext  # a declared dependency (the book extra): missing, these tests must fail
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = REPO / "chapters"
MD_FILES = sorted(CHAPTERS.glob("*.md"))
FIX = "run `bash tools/sync_notebooks.sh` (or `.venv/bin/jupytext --to ipynb {md}`)"


def _cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source.rstrip("\n"), tuple(c.get("metadata", {}).get("tags", [])))
            for c in nb.cells]


def _ids(paths):
    return [p.name for p in paths] or None


def _notebook_of(md: Path) -> Path:
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.is_file(), (
        f"{ipynb.relative_to(REPO)} is missing: the Binder/Colab buttons of "
        f"{md.relative_to(REPO)} would open nothing. Create it: "
        f"{FIX.format(md=md.relative_to(REPO))}")
    return ipynb


def test_there_are_chapters():
    assert MD_FILES, f"no chapters/*.md in {REPO}"


@pytest.mark.parametrize("md", MD_FILES, ids=_ids(MD_FILES))
def test_each_chapter_has_its_notebook(md):
    _notebook_of(md)


@pytest.mark.parametrize("md", MD_FILES, ids=_ids(MD_FILES))
def test_notebook_cells_match_the_markdown(md):
    ipynb = _notebook_of(md)
    rel = md.relative_to(REPO)
    want = _cells(jupytext.read(md))
    got = _cells(nbformat.read(ipynb, as_version=4))
    fix = FIX.format(md=rel)
    for i, (w, g) in enumerate(zip(want, got)):
        assert w == g, (
            f"{ipynb.name} drifted from {md.name} at cell {i}:\n"
            f"  .md    {w[0]} tags={list(w[2])}: {w[1][:120]!r}\n"
            f"  .ipynb {g[0]} tags={list(g[2])}: {g[1][:120]!r}\n{fix}")
    assert len(want) == len(got), (
        f"{md.name} has {len(want)} cells but {ipynb.name} has {len(got)}: {fix}")


@pytest.mark.parametrize("md", MD_FILES, ids=_ids(MD_FILES))
def test_notebook_has_no_outputs_and_a_python_kernel(md):
    ipynb = _notebook_of(md)
    nb = nbformat.read(ipynb, as_version=4)
    with_outputs = [i for i, c in enumerate(nb.cells)
                    if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not with_outputs, (
        f"{ipynb.name} has outputs in cells {with_outputs}: commit it unexecuted "
        f"({FIX.format(md=md.relative_to(REPO))})")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    assert kernel == "python3", f"{ipynb.name} has kernelspec {kernel!r}; Colab and Binder need python3"


def test_no_orphan_notebooks():
    orphans = [p.name for p in sorted(CHAPTERS.glob("*.ipynb")) if not p.with_suffix(".md").is_file()]
    assert not orphans, (f"notebooks without a chapters/*.md source: {orphans}; delete them or "
                         "add their source")
