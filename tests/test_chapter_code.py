"""The code a chapter shows is code a student can read on the page: no line wider than the
page's code column (88 characters, the width the book's code blocks show without a
horizontal scroll bar). Hidden cells (checks, glue) are not shown and are not held to it."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("*.md"))
WIDTH = 88
HIDDEN = {"remove-cell", "remove-input", "hide-input", "hide-cell"}


def shown_code_lines(md: Path) -> list[tuple[int, str]]:
    """(cell number, line) of every line of every code cell the page shows."""
    nb = jupytext.read(md)
    return [(k, line) for k, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and not HIDDEN & set(cell.metadata.get("tags", []))
            for line in cell.source.splitlines()]


@pytest.mark.parametrize("md", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_shown_code_fits_the_page(md):
    wide = [(k, len(line), line) for k, line in shown_code_lines(md) if len(line) > WIDTH]
    assert not wide, (f"{md.name}: shown code wider than {WIDTH} characters (wrap it): "
                      + "; ".join(f"cell {k} ({n}): {line.strip()[:60]}" for k, n, line in wide))


def test_the_check_sees_a_wide_line(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("# Page\n\n```{code-cell} ipython3\nx = '" + "a" * 100 + "'\n```\n\n"
                  "```{code-cell} ipython3\n:tags: [remove-cell]\ny = '" + "b" * 100 + "'\n```\n")
    lines = shown_code_lines(md)
    assert [len(line) for _, line in lines] == [106]
