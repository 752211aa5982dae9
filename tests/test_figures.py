"""Figures and equations are numbered, captioned and referred to by number.

What a reader relies on: a chapter's figures are "Figure 3.2" with a caption (an HTML
``<figcaption>``) that says what they show, its displayed equations are numbered, and the
text points at each by its number, so that "see Figure 5.4" works on the page and in the PDF.
Source checks run in ``make check``; the built pages are checked by the tests marked ``book``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))


def figure_cells(md: Path) -> list[dict]:
    """The ``mystnb.figure`` options of the chapter's code cells."""
    found = []
    for header in re.findall(r"```\{code-cell\} ipython3\n---\n(.*?)\n---\n", md.read_text(),
                             flags=re.DOTALL):
        figure = (yaml.safe_load(header) or {}).get("mystnb", {}).get("figure")
        if figure:
            found.append(figure)
    return found


def equation_labels(md: Path) -> list[str]:
    return re.findall(r"\$\$ \((eq-[\w-]+)\)$", md.read_text(), flags=re.MULTILINE)


def test_every_chapter_has_numbered_figures_with_captions_and_references():
    names = []
    for md in CHAPTERS:
        figures = figure_cells(md)
        assert figures, f"{md.name}: no captioned figure"
        text = md.read_text()
        for fig in figures:
            assert re.fullmatch(r"fig-[a-z0-9-]+", fig["name"]), fig
            assert len(fig["caption"]) > 40, f"{md.name}: {fig['name']}'s caption is too thin"
            assert f"{{numref}}`{fig['name']}`" in text, \
                f"{md.name}: the text never refers to {fig['name']} by number"
            names.append(fig["name"])
    assert len(names) == len(set(names)), "figure names must be unique across the book"


def test_every_labelled_equation_is_referred_to():
    labels = [(md, label) for md in CHAPTERS for label in equation_labels(md)]
    assert len(labels) >= 2
    for md, label in labels:
        assert f"{{eq}}`{label}`" in md.read_text(), f"{md.name}: {label} is never referred to"


def test_every_displayed_equation_has_a_label():
    for md in CHAPTERS:
        prose = re.sub(r"```.*?```", "", md.read_text(), flags=re.DOTALL)
        for block in re.findall(r"\$\$.*?\$\$[^\n]*", prose, flags=re.DOTALL):
            assert re.search(r"\$\$ \(eq-[\w-]+\)$", block), f"{md.name}: unlabelled {block[:60]}"


@pytest.mark.book
@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_built_figures_are_numbered_by_chapter_with_figcaptions(md):
    page = SITE / "chapters" / f"{md.stem}.html"
    assert page.is_file(), "build the site first: bash tools/build.sh"
    html = page.read_text()
    chapter = int(md.stem[:2])
    captions = re.findall(r"<figcaption>\s*<p>\s*<span class=\"caption-number\">"
                          r"Figure (\d+)\.(\d+) </span>", html)
    assert len(captions) == len(figure_cells(md)), (md.name, captions)
    assert [int(c) for c, _ in captions] == [chapter] * len(captions)
    assert [int(n) for _, n in captions] == list(range(1, len(captions) + 1))
    refs = re.findall(r'<span class="std std-numref">Figure (\d+)\.(\d+)</span>', html)
    assert {(int(c), int(n)) for c, n in refs} == {(chapter, n) for n in range(1, len(captions) + 1)}
    for label in equation_labels(md):
        assert re.search(rf'id="equation-{label}"', html), label
        assert re.search(rf"Equation {chapter}\.\d+", html), label
