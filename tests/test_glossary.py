"""The glossary: the course's terms defined once, linked from where the chapters use them.

What a reader relies on: a linked term leads to its definition, every defined term is used
(linked) in some chapter, and the index lists the terms. The build (``-n -W``) already fails
on a ``{term}`` that names no glossary entry; these tests hold the rest.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
TERM_ROLE = re.compile(r"\{term\}`(?:[^`<]*<([^>`]+)>|([^`]+))`")


def glossary_terms() -> list[str]:
    text = (ROOT / "glossary.md").read_text()
    block = text[text.index("```{glossary}"):]
    block = block[:block.index("\n```", 3)]
    # a term is a line at the left margin; its definition is indented below it
    return [line.strip() for line in block.splitlines()[1:]
            if line and not line.startswith((" ", ":"))]


def linked_terms(md: Path) -> set[str]:
    return {(a or b).strip().lower() for a, b in TERM_ROLE.findall(md.read_text())}


def test_glossary_has_the_course_terms():
    terms = {t.lower() for t in glossary_terms()}
    assert len(terms) >= 25, terms
    for must in ("static embedding", "contextual embedding", "polysemy", "wordpiece",
                 "masked language modelling", "scalar mix", "fine-tuning", "lora",
                 "word-sense disambiguation", "anisotropy"):
        assert must in terms, must


def test_every_term_is_linked_from_a_chapter_and_every_link_is_a_term():
    terms = {t.lower() for t in glossary_terms()}
    linked = set().union(*(linked_terms(md) for md in CHAPTERS))
    assert linked <= terms, f"linked but not defined: {linked - terms}"
    assert terms <= linked, f"defined but linked from no chapter: {terms - linked}"


def test_every_chapter_links_some_terms():
    for md in CHAPTERS:
        assert len(linked_terms(md)) >= 3, md.name


@pytest.mark.book
def test_built_glossary_defines_each_term_and_the_index_lists_them():
    html = (SITE / "glossary.html").read_text()
    defined = re.findall(r'<dt id="term-[^"]+">', html)
    assert len(defined) == len(glossary_terms())
    index = (SITE / "genindex.html").read_text()
    for term in glossary_terms():
        assert f">{term}" in index or f">{term.lower()}" in index, term
    chapter = (SITE / "chapters" / "03_bert.html").read_text()
    assert re.search(r'href="\.\./glossary\.html#term-[^"]+"', chapter)
