"""Citations: every work a page names is a citation that links to a full reference.

What a reader relies on: an "et al." or an "(Author, 2019)" in the text is a link to the
work's entry at the end of the chapter, and the entry carries a DOI or an address to find it.
So no author-year reference is left as plain text in a page's prose, every cited key is in
``references.bib``, every entry there has a ``doi`` or ``url``, and in the built site every
citation resolves on its own page (tests marked ``book``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
BIB = parse_file(str(ROOT / "references.bib"))
# pages with prose: chapters, the about pages (exercises and solutions are generated notebooks)
PAGES = sorted((ROOT / "chapters").glob("*.md")) + [ROOT / "credits.md", ROOT / "index.md",
                                                     ROOT / "instructors.md"]
CITE = re.compile(r"\{cite:[tp]\}`([^`]+)`")
# "Peters et al. (2018)", "(Jain & Wallace, 2019)", "Ethayarajh (2019", "Kim's (2014)"
PLAIN_REFERENCE = re.compile(
    r"\b[A-Z][\w\-]+(?:'s)?(?: et al\.| (?:&|and) [A-Z][\w\-]+)?,? \(?(?:19|20)\d\d\b")


def prose(md: Path) -> str:
    """The page's Markdown outside code cells, fenced code and inline code."""
    text = re.sub(r"```\{code-cell\}.*?```", "", md.read_text(), flags=re.DOTALL)
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return re.sub(r"(?<!\})`[^`\n]*`", "", text)


def cited_keys(md: Path) -> set[str]:
    keys = set()
    for group in CITE.findall(md.read_text()):
        for key in group.split(","):
            keys.add(re.sub(r"\{[^}]*\}", "", key).strip())   # drop a {table 5} post-note
    return keys


def test_no_reference_is_left_as_plain_text():
    found = {str(md.relative_to(ROOT)): PLAIN_REFERENCE.findall(prose(md)) for md in PAGES}
    found = {k: v for k, v in found.items() if v}
    assert not found, f"write these as {{cite:t}}`key` or {{cite:p}}`key`: {found}"


def test_plain_reference_pattern_catches_the_usual_forms():
    for text in ["Peters et al. (2018) found", "(Jain & Wallace, 2019)", "Ethayarajh (2019, ",
                 "Kim's (2014) CNN", "Pilehvar and Camacho-Collados, 2019"]:
        assert PLAIN_REFERENCE.search(text), text
    assert not PLAIN_REFERENCE.search("{cite:t}`peters2018elmo` found WordNet 3.0 in 2,000")


def test_every_cited_key_is_in_the_bibliography_with_a_doi_or_url():
    cited = set().union(*(cited_keys(md) for md in PAGES))
    assert cited, "no citation found"
    assert cited <= set(BIB.entries), f"not in references.bib: {cited - set(BIB.entries)}"
    for key, entry in BIB.entries.items():
        assert "doi" in entry.fields or "url" in entry.fields, f"{key}: no doi or url"
        assert entry.fields.get("year"), f"{key}: no year"


def test_every_page_that_cites_ends_with_its_references():
    for md in PAGES:
        if cited_keys(md):
            text = md.read_text()
            tail = text[text.rindex("## References"):] if "## References" in text else ""
            assert "```{bibliography}\n:filter: docname in docnames\n```" in tail, md.name


@pytest.mark.book
@pytest.mark.parametrize("md", [p for p in PAGES if cited_keys(p)], ids=lambda p: p.stem)
def test_built_citations_link_to_their_own_pages_references(md):
    page = SITE / md.relative_to(ROOT).with_suffix(".html")
    assert page.is_file(), "build the site first: bash tools/build.sh"
    html = page.read_text()
    links = re.findall(r'<span class="bibtex-citation"[^>]*>.*?</span>', html, flags=re.DOTALL)
    hrefs = [h for span in links for h in re.findall(r'href="([^"]*)"', span)]
    assert len(hrefs) >= len(cited_keys(md)), (md.name, len(hrefs))
    texts = [re.sub(r"<[^>]+>", "", span) for span in links]
    numeric = [t for t in texts if re.fullmatch(r"\[\d+\]", t.strip())]
    assert not numeric, f"{md.name}: citations as numbers, not author and year: {numeric[:3]}"
    assert all(re.search(r"(19|20)\d\d", t) for t in texts), texts[:5]
    ids = set(re.findall(r'<div class="citation" id="([^"]+)"', html))
    for href in hrefs:
        assert href.startswith("#") and href[1:] in ids, (md.name, href)
    listed = len(ids)
    assert listed == len(cited_keys(md)), (md.name, listed, sorted(cited_keys(md)))


@pytest.mark.book
def test_references_page_lists_every_entry():
    html = (SITE / "references.html").read_text()
    assert len(re.findall(r'<div class="citation" id=', html)) == len(BIB.entries)
