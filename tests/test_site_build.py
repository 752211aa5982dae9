"""Checks of the built site's files (no browser): links, page weight, the landing page,
the execution record, the reading path, and the two build profiles.

- **Links**: LinkChecker (PyPI ``linkchecker``) crawls the site from ``index.html`` over HTTP,
  from a server on 127.0.0.1 that this process runs, offline: every internal link and image
  must resolve. HTTP rather than ``file://`` URLs because LinkChecker run as root drops its
  privileges to ``nobody``, who cannot read a private folder (a ``mktemp -d`` clone); the server
  reads the files as the user running the tests. Every ``page#anchor`` link of every page must
  name an existing id (:func:`check_anchors`, one parse per page; LinkChecker's AnchorCheck
  plugin fetches and parses the target page again for each anchor, over a minute on this site).
  External links are not fetched; they are written to ``_build/external-links.txt`` for a check
  where the internet exists (``linkchecker --check-extern``).
- **Page weight**: each page's own bytes (its HTML, with the explorers' embedded views, plus the
  images it shows) at most 1.5 MB. The site-wide JavaScript and CSS that every page shares and
  a browser caches are reported by ``benchmarks/bench_site.py``, not counted here.
- **Profiles**: the instructor build (``_build/html``, ``CTXEMBED_SOLUTIONS=1``, the default) has
  the solutions and the grading page; the student build (``CTXEMBED_SOLUTIONS=0``; ``tools/test.sh``
  builds it into ``_build/student/html``) has neither, and no build has the hidden tests.

Tests marked ``book`` need the built site and fail, saying how to build it, when it is missing;
the others check the site's tools on small inputs and run in ``make check``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from ctxembed_site import BOOK_PDF, PDF_FOLDER, VIEW_REF, pdf_file_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import site_server
from site_server import QuietHandler

REPO = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("CTXEMBED_SITE", REPO / "_build" / "html"))
STUDENT_SITE = Path(os.environ.get("CTXEMBED_STUDENT_SITE", REPO / "_build" / "student" / "html"))
MAX_PAGE_BYTES = 1_500_000
EXTERNAL_LIST = REPO / "_build" / "external-links.txt"
LINKCHECK_TIMEOUT_S = 600


def _need(site: Path = SITE) -> None:
    if not (site / "index.html").is_file():
        how = ("`CTXEMBED_SOLUTIONS=0 bash tools/build.sh`, then copy _build/html to "
               "_build/student/html (tools/test.sh does both)" if site == STUDENT_SITE
               else "`bash tools/build.sh`")
        pytest.fail(f"no built site at {site}: build it first with {how}")


def content_pages(site: Path = SITE) -> list[Path]:
    skip = {"genindex.html", "search.html", "py-modindex.html"}
    pages = [p for p in site.glob("*.html") if p.name not in skip]
    for folder in ("chapters", "exercises", "solutions"):
        pages += sorted((site / folder).glob("*.html"))
    return sorted(pages)


# --------------------------------------------------------------------------- #
# Links (LinkChecker over HTTP from 127.0.0.1, offline)
# --------------------------------------------------------------------------- #
class _LinkCheckerHandler(QuietHandler):
    def end_headers(self):
        # LinkChecker paces its requests to a server (0.1 to 0.6 s apart) unless the server
        # answers with this header; then maxrequestspersecond applies (LINKCHECKER_RC).
        self.send_header("LinkChecker", "local test server")
        super().end_headers()


def serve_folder(folder: Path):
    """Serve ``folder`` over HTTP on 127.0.0.1 for LinkChecker (tools/site_server.py)."""
    return site_server.serve_folder(folder, _LinkCheckerHandler)


# LinkChecker's settings: nothing outside the local server fetched, and no pause between
# requests to the local server (its pacing is politeness towards real servers).
LINKCHECKER_RC = """[checking]
maxrequestspersecond=1000

[filtering]
checkextern=0
"""


def run_linkchecker(site: Path) -> dict:
    """Crawl ``site`` from its ``index.html`` with LinkChecker over HTTP (see :func:`serve_folder`).

    Returns the broken internal links and images (paths relative to the site), what was
    checked, and the external URLs, which are listed, not fetched. Anchors: :func:`check_anchors`.
    """
    exe = shutil.which("linkchecker", path=str(Path(sys.executable).parent)) or shutil.which("linkchecker")
    if not exe:
        pytest.fail("linkchecker is missing: pip install -e '.[dev]'")
    # No proxy may stand between LinkChecker and 127.0.0.1.
    env = {k: v for k, v in os.environ.items() if k.lower() not in {"http_proxy", "https_proxy",
                                                                    "all_proxy", "no_proxy"}}
    with tempfile.TemporaryDirectory() as tmp, serve_folder(site) as base:
        rc = Path(tmp) / "linkcheckerrc"   # read by LinkChecker before it drops privileges
        rc.write_text(LINKCHECKER_RC)
        proc = subprocess.run([exe, "-f", str(rc), "--verbose", "--no-status", "-o", "csv",
                               "--threads", "4", f"{base}/index.html"],
                              capture_output=True, text=True, timeout=LINKCHECK_TIMEOUT_S, env=env,
                              check=False)
    rows = list(csv.DictReader(
        io.StringIO("\n".join(ln for ln in proc.stdout.splitlines() if not ln.startswith("#"))),
        delimiter=";"))
    local = f"{base}/"
    internal = [r for r in rows if r.get("url", "").startswith(local)]

    def where(url: str) -> str:
        return url.removeprefix(local) if url.startswith(local) else url

    external = sorted({r["url"] for r in rows
                       if re.match(r"https?://", r.get("url", "")) and not r["url"].startswith(local)})
    broken = [f"{where(r['url'])} (linked from {where(r['parentname'])}): "
              f"{r['result'] or r['warningstring']}" for r in internal if r.get("valid") != "True"]
    images = [r for r in internal
              if re.search(r"\.(png|jpe?g|gif|svg|webp)$", r["url"].split("#")[0], re.IGNORECASE)]
    return {"rows": rows, "internal": internal, "external": external, "broken": broken,
            "images": images, "returncode": proc.returncode, "stderr": proc.stderr[-2000:]}


class _LinksAndIds(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def check_anchors(site: Path) -> tuple[int, list[str]]:
    """Every ``page.html#anchor`` / ``#anchor`` link of the site's pages names an existing id.

    LinkChecker reports each URL once, so this walks every link of every page itself.
    Returns (anchors checked, problems).
    """
    parsed: dict[Path, _LinksAndIds] = {}

    def parse(page: Path) -> _LinksAndIds:
        if page not in parsed:
            parser = _LinksAndIds()
            parser.feed(page.read_text(encoding="utf-8"))
            parsed[page] = parser
        return parsed[page]

    checked, problems = 0, []
    for page in [p for p in site.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts]:
        for href in parse(page).hrefs:
            if "#" not in href or re.match(r"[a-z][a-z0-9+.-]*:", href):
                continue
            target, anchor = href.split("#", 1)
            if not anchor:
                continue
            file = (page.parent / target.split("?")[0]).resolve() if target else page
            if not file.is_file() or file.suffix != ".html":
                continue  # a missing page is LinkChecker's to report
            checked += 1
            if anchor not in parse(file).ids:
                problems.append(f"{page.relative_to(site)}: {href}")
    return checked, problems


@pytest.fixture(scope="module")
def links():
    _need()
    return run_linkchecker(SITE)


@pytest.mark.book
def test_every_internal_link_anchor_and_image_resolves(links):
    assert links["internal"], f"LinkChecker checked nothing: {links['stderr']}"
    assert not links["broken"], f"{len(links['broken'])} broken internal link(s): {links['broken'][:10]}"
    anchors_checked, missing = check_anchors(SITE)
    assert not missing, f"{len(missing)} link(s) to a missing anchor: {missing[:10]}"
    EXTERNAL_LIST.parent.mkdir(parents=True, exist_ok=True)
    EXTERNAL_LIST.write_text("# External links of the built site, not checked offline; check them with\n"
                             "#   linkchecker --check-extern _build/html/index.html\n"
                             + "\n".join(links["external"]) + "\n")
    print(f"\nlinks: {len(links['internal'])} distinct internal URLs checked by LinkChecker "
          f"({len(links['images'])} images), {anchors_checked} anchor links, 0 broken; "
          f"{len(links['external'])} external listed in {EXTERNAL_LIST.relative_to(REPO)}")


@pytest.mark.book
def test_external_links_are_listed(links):
    assert links["external"], "no external link found: the launch buttons and credits have some"
    assert any("colab.research.google.com" in u for u in links["external"])


PLANTED_LINKS = ('<p><a href="no-such-page.html">a planted broken link</a>'
                 '<img src="_images/no-such-figure.png" alt="a planted missing figure">'
                 '<a href="index.html#no-such-anchor">a planted missing anchor</a></p>')


@pytest.mark.book
def test_link_check_works_from_a_private_folder():
    """The link check of a copy of the site in a folder only its owner may enter (mode 0700,
    as ``mktemp -d`` makes it), as root too: it finds the links planted broken and nothing else."""
    _need()
    private = Path(tempfile.mkdtemp(prefix="ctxembed-site-"))
    try:
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        site = private / "html"
        shutil.copytree(SITE, site)
        index = site / "index.html"
        html = index.read_text(encoding="utf-8")
        assert "</main>" in html, "index.html has no <main>: where would the planted links go?"
        index.write_text(html.replace("</main>", PLANTED_LINKS + "</main>", 1), encoding="utf-8")
        links = run_linkchecker(site)
        assert len(links["internal"]) > 50, f"LinkChecker checked too little: {links['stderr']}"
        broken = sorted(b.split(" ")[0] for b in links["broken"])
        assert broken == ["_images/no-such-figure.png", "no-such-page.html"], (
            f"from the private folder {private}, LinkChecker reported {links['broken'][:10]}: "
            f"it should report exactly the two planted links. {links['stderr']}")
        assert check_anchors(site)[1] == ["index.html: index.html#no-such-anchor"]
    finally:
        shutil.rmtree(private)


# --------------------------------------------------------------------------- #
# Page weight
# --------------------------------------------------------------------------- #
class _Sources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            src = dict(attrs).get("src") or ""
            if src and not src.startswith(("data:", "http:", "https:")):
                self.images.append(src.split("#")[0].split("?")[0])


def page_weight(page: Path) -> int:
    """Bytes of the page's HTML plus the images it shows, every view of its explorers included.

    The explorers' views are files of ``_images/views/`` named in the widget state (the site
    moves them out of the page, see ``_ext/ctxembed_site.py``): all of them count, although a
    browser fetches only those shown.
    """
    text = page.read_text(encoding="utf-8")
    parser = _Sources()
    parser.feed(text)
    total = page.stat().st_size
    for src in set(parser.images) | set(VIEW_REF.findall(text)):
        f = (page.parent / src).resolve()
        if f.is_file():
            total += f.stat().st_size
    return total


@pytest.mark.book
def test_explorer_views_are_files_loaded_lazily_not_data_in_the_page():
    _need()
    missing, inline = [], []
    for page in content_pages():
        text = page.read_text(encoding="utf-8")
        inline += [page.name] * len(re.findall(r'<img src=\\"data:image/', text))
        missing += [f"{page.name}: {ref}" for ref in set(VIEW_REF.findall(text))
                    if not (page.parent / ref).is_file()]
    assert not inline, f"{len(inline)} explorer view(s) still embedded as data: {sorted(set(inline))}"
    assert not missing, f"explorer views not found: {missing[:5]}"
    assert any(VIEW_REF.search(p.read_text(encoding="utf-8")) for p in content_pages()), \
        "no page has an explorer view file: is ctxembed_site listed in _config.yml?"


def test_explorer_still_is_the_view_each_stack_selects():
    import json

    from ctxembed_site import add_explorer_stills

    def html(n):
        return f'<img src="v{n}.webp" alt="view {n}">'

    state = {"root": {"model_name": "VBoxModel", "state": {"children": [
                 "IPY_MODEL_head", "IPY_MODEL_dd", "IPY_MODEL_st"]}},
             "head": {"model_name": "HTMLModel", "state": {"value": "<p>Reference</p>"}},
             "dd": {"model_name": "DropdownModel", "state": {
                 "index": 1, "description": "Word:", "_options_labels": ["bank", "key & lock"]}},
             "st": {"model_name": "StackModel", "state": {"selected_index": 1,
                                                          "children": ["IPY_MODEL_a", "IPY_MODEL_b"]}},
             "a": {"model_name": "HTMLModel", "state": {"value": html(0)}},
             "b": {"model_name": "HTMLModel", "state": {"value": "<p>" + html(1) + "</p>"}},
             "bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_a"]}}}
    page = ('<script type="application/vnd.jupyter.widget-state+json">'
            + json.dumps({"state": state}) + "</script>"
            + '<div><script type="application/vnd.jupyter.widget-view+json">{"model_id": "root"}</script></div>'
            + '<div><script type="application/vnd.jupyter.widget-view+json">{"model_id": "bar"}</script></div>')
    out = add_explorer_stills(page)
    still = ('<div class="explorer-still"><p>Reference</p><p>Word: key &amp; lock</p><p>'
             + html(1) + '</p></div><script')
    assert "<div>" + still in out
    assert out.count('class="explorer-still"') == 1          # a progress bar is no explorer
    assert add_explorer_stills(out) == out                   # a rebuilt page is not doubled


def test_figures_load_lazily_but_icons_and_widget_state_are_untouched():
    from ctxembed_site import lazy_figure_images

    page = ('<img src="../_images/a.png" alt="x"><img src="../_static/images/logo_colab.png">'
            '<script>{"v": "<img src=\\"../_images/b.png\\""}</script>'
            '<img loading="eager" src="_images/c.png">')
    assert lazy_figure_images(page) == (
        '<img loading="lazy" decoding="async" src="../_images/a.png" alt="x">'
        '<img src="../_static/images/logo_colab.png">'
        '<script>{"v": "<img src=\\"../_images/b.png\\""}</script>'
        '<img loading="eager" src="_images/c.png">')


@pytest.mark.book
def test_every_page_weighs_at_most_1_5_mb():
    _need()
    weights = {p.relative_to(SITE).as_posix(): page_weight(p) for p in content_pages()}
    heaviest = max(weights, key=weights.get)
    print(f"\nheaviest page: {heaviest} {weights[heaviest] / 1e6:.2f} MB")
    over = {k: f"{v / 1e6:.2f} MB" for k, v in weights.items() if v > MAX_PAGE_BYTES}
    assert not over, f"pages over {MAX_PAGE_BYTES / 1e6} MB: {over}"


# --------------------------------------------------------------------------- #
# Figures: alt text on every image
# --------------------------------------------------------------------------- #
_GENERIC_ALT = re.compile(r"^\s*(figure|image|plot|chart|graph|png|img|output)?\s*\d*\s*$", re.IGNORECASE)


@pytest.mark.book
def test_every_figure_has_a_meaningful_alt_text():
    _need()
    problems = []
    for page in content_pages():
        text = page.read_text(encoding="utf-8")
        article = text[text.find("<main"):] if "<main" in text else text
        article = re.sub(r"<script\b.*?</script>", "", article, flags=re.DOTALL)   # widget state: below
        for tag in re.findall(r"<img\b[^>]*>", article):
            alt = re.search(r'\balt="([^"]*)"', tag)
            src = (re.search(r'\bsrc="([^"]{0,60})', tag) or [None, "?"])[1]
            # Sphinx falls back to the file name ("_images/ab12.png"): that is no alt text either.
            figure = "_images/" in src or src.startswith("data:")   # a notebook's figure
            if (alt is None or _GENERIC_ALT.match(alt.group(1)) or (figure and len(alt.group(1)) < 15)
                    or re.search(r"\.(png|jpe?g|svg|webp|gif)$", alt.group(1), re.IGNORECASE)):
                problems.append(f"{page.relative_to(SITE)}: {src}... alt={alt.group(1) if alt else None!r}")
    # Widget views are <img> inside the embedded widget state (JSON): alt is escaped there.
    for page in content_pages():
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r'<img (?:loading=\\"lazy\\" decoding=\\"async\\" )?src=\\"', text):
            tail = text[m.start(): m.start() + 400_000]
            tag = tail[: tail.find(">") + 1]
            alt = re.search(r'alt=\\"([^"\\]*)', tag)
            if alt is None or len(alt.group(1)) < 15:
                problems.append(f"{page.relative_to(SITE)}: widget view alt={alt.group(1) if alt else None!r}")
    assert not problems, f"{len(problems)} image(s) without a meaningful alt text: {problems[:8]}"


# --------------------------------------------------------------------------- #
# Landing page, execution record, reading path
# --------------------------------------------------------------------------- #
def _toc_chapters() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])
            if str(c.get("file", "")).startswith("chapters/")]


@pytest.mark.book
def test_landing_page_lists_every_chapter_with_summary_and_times():
    _need()
    html = (SITE / "index.html").read_text(encoding="utf-8")
    table = html[html.find('course-chapters'):]
    table = table[: table.find("</table>")]
    assert table, "index.html has no chapter table (the course-chapters directive)"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.DOTALL)[1:]
    chapters = _toc_chapters()
    assert len(rows) == len(chapters), f"{len(rows)} rows for {len(chapters)} chapters in _toc.yml"
    for doc, row in zip(chapters, rows):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        assert f'href="{doc}.html"' in row, f"the row for {doc} does not link to it: {row[:200]}"
        assert len(cells[1]) > 20, f"{doc}: no one-line summary ({cells[1]!r})"
        assert re.match(r"~\d+ min$", cells[2]), f"{doc}: no reading time ({cells[2]!r})"
        assert re.match(r"\d+(\.\d)? (s|min)$", cells[3]), f"{doc}: no execution time ({cells[3]!r})"
        assert f'href="{PDF_FOLDER}/{pdf_file_name(doc)}"' in row, f"{doc}: no link to its PDF"
    assert f'href="{PDF_FOLDER}/{BOOK_PDF}"' in html, "the landing page does not link the book's PDF"


@pytest.mark.book
def test_printed_book_has_every_page_numbered_figures_and_rendered_maths():
    # tools/build_pdf.py, run by tools/build.sh after every build
    _need()
    from pypdf import PdfReader

    sys.path.insert(0, str(REPO / "tools"))
    import build_pdf

    folder = SITE / PDF_FOLDER
    built = [d for d in build_pdf.toc_pages(REPO) if (SITE / f"{d}.html").is_file()]
    missing = [d for d in built if not (folder / pdf_file_name(d)).is_file()]
    assert not missing, f"pages without a PDF: {missing} (run tools/build_pdf.py)"
    book = PdfReader(folder / BOOK_PDF)
    assert len(book.outline) == len(built)       # one bookmark per page
    per_page = {d: PdfReader(folder / pdf_file_name(d)) for d in built}
    assert len(book.pages) == sum(len(r.pages) for r in per_page.values())
    bert = "\n".join(p.extract_text() for p in per_page["chapters/03_bert"].pages)
    assert "Figure 3.1" in bert and "Equation 3.1" in bert
    assert "\\mathrm" not in bert and "$$" not in bert, "maths printed as TeX source"


class _Tables(HTMLParser):
    """The tables of a page: for each, its rows; for each row, its cells' text and links."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[dict]]] = []
        self._cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self._cell = {"text": "", "hrefs": [], "title": ""}
            self.tables[-1][-1].append(self._cell)
        elif self._cell is not None:
            a = dict(attrs)
            if tag == "a" and a.get("href"):
                self._cell["hrefs"].append(a["href"])
            if a.get("title"):  # <abbr title="the error"> on a failed notebook
                self._cell["title"] += a["title"]

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


EXEC_TABLE_HEADER = ["Document", "Modified", "Method", "Run Time (s)", "Status"]
# myst-nb's execution methods (nb_execution_mode) that mean "executed by this build's tools".
EXEC_METHODS = {"cache", "force", "auto", "inline"}


def execution_record(html: str) -> dict[str, dict[str, dict]]:
    """The rows of the execution record (myst-nb's ``nb-exec-table``): {document: {column: cell}}.

    Fails when the page has no table with the record's header.
    """
    parser = _Tables()
    parser.feed(html)
    for rows in parser.tables:
        if rows and [" ".join(c["text"].split()) for c in rows[0]] == EXEC_TABLE_HEADER:
            record = {}
            for row in rows[1:]:
                cells = dict(zip(EXEC_TABLE_HEADER, row))
                record[" ".join(cells["Document"]["text"].split())] = cells
            return record
    pytest.fail(f"the execution record has no table with the columns {EXEC_TABLE_HEADER}")


def execution_record_problems(html: str, documents: list[str]) -> list[str]:
    """What is wrong in the execution record for ``documents`` (docnames such as ``chapters/01_x``):
    each has one row that links to its page, names how it was executed, how long it ran
    (seconds, more than zero) and when, and says it ran without an error."""
    record = execution_record(html)
    problems = []
    for doc in documents:
        row = record.get(doc)
        if row is None:
            problems.append(f"{doc}: no row (rows: {sorted(record)})")
            continue
        text = {k: " ".join(c["text"].split()) for k, c in row.items()}
        if not any(h.split("#")[0] == f"{doc}.html" for h in row["Document"]["hrefs"]):
            problems.append(f"{doc}: its row does not link to {doc}.html ({row['Document']['hrefs']})")
        if text.get("Method") not in EXEC_METHODS:
            problems.append(f"{doc}: execution method {text.get('Method')!r}, not one of {EXEC_METHODS}")
        if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", text.get("Modified", "")):
            problems.append(f"{doc}: no execution date ({text.get('Modified')!r})")
        runtime = text.get("Run Time (s)", "")
        if not re.fullmatch(r"\d+(\.\d+)?", runtime) or float(runtime) <= 0:
            problems.append(f"{doc}: no run time ({runtime!r})")
        if text.get("Status") != "✅":
            error = row["Status"]["title"] if "Status" in row else ""
            problems.append(f"{doc}: status {text.get('Status')!r}, not ✅: {error[:300]}")
    return problems


@pytest.mark.book
def test_execution_record_lists_every_chapter_and_is_linked_from_instructors():
    _need()
    page = SITE / "execution.html"
    assert page.is_file(), "no execution record page (execution.md with {nb-exec-table})"
    html = page.read_text(encoding="utf-8")
    problems = execution_record_problems(html, _toc_chapters())
    assert not problems, f"the execution record is wrong for {len(problems)} chapter(s): {problems}"
    failed = [doc for doc, row in execution_record(html).items()
              if " ".join(row["Status"]["text"].split()) != "✅"]
    assert not failed, f"notebooks that did not run without an error: {failed}"
    instructors = SITE / "instructors.html"
    if instructors.is_file():
        assert 'href="execution.html' in instructors.read_text(encoding="utf-8"), \
            "instructors.html does not link to the execution record"


@pytest.mark.book
def test_execution_record_check_finds_a_misrecorded_chapter():
    """The check on the built record, with one chapter's row altered: no run time, a failure,
    or no row at all (while the chapter's name is still on the page, in the navigation)."""
    _need()
    html = (SITE / "execution.html").read_text(encoding="utf-8")
    doc = _toc_chapters()[-1]
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*?href="{re.escape(doc)}\.html".*?</tr>', html,
                    re.DOTALL)
    assert row, f"no row of the execution record links to {doc}.html"
    row = row.group(0)
    cells = re.findall(r"<td[^>]*>.*?</td>", row, re.DOTALL)
    assert len(cells) == len(EXEC_TABLE_HEADER), cells
    no_time = row.replace(cells[3], re.sub(r"\d+(\.\d+)?", "-", cells[3]))
    plants = {"no run time": html.replace(row, no_time),
              "status": html.replace(row, row.replace("✅", "❌")),
              "no row": html.replace(row, "")}
    assert f"{doc}.html" in plants["no row"], "the navigation links to every chapter"
    for what, planted in plants.items():
        assert planted != html
        problems = execution_record_problems(planted, _toc_chapters())
        assert len(problems) == 1 and problems[0].startswith(f"{doc}: {what}"), (what, problems)


def _prev_next(page: Path) -> tuple[str | None, str | None]:
    html = page.read_text(encoding="utf-8")
    prev = re.search(r'<a class="left-prev"\s+href="([^"]+)"', html)
    nxt = re.search(r'<a class="right-next"\s+href="([^"]+)"', html)
    norm = lambda m: (page.parent / m.group(1)).resolve().relative_to(SITE.resolve()).with_suffix("").as_posix() \
        if m else None
    return norm(prev), norm(nxt)


@pytest.mark.book
def test_previous_next_follow_chapter_then_its_exercise_then_solutions():
    _need()
    from ctxembed_site import reading_path

    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    order = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    path = reading_path(order)
    first_solution = next((i for i, d in enumerate(path) if d.startswith("solutions/")), len(path))
    assert all(not d.startswith("solutions/") for d in path[:first_solution])
    assert not any(d.startswith(("chapters/", "exercises/")) for d in path[first_solution:]), \
        "solutions come after every chapter and exercise"
    number = lambda d: re.match(r"(?:chapters/|exercises/ch)(\d+)", d).group(1)
    for i, doc in enumerate(path):
        if doc.startswith("exercises/ch") and any(c.startswith(f"chapters/{number(doc)}") for c in path):
            assert path[i - 1].startswith(f"chapters/{number(doc)}"), f"{doc} follows its chapter"
    for i, doc in enumerate(path):
        page = SITE / f"{doc}.html"
        if not page.is_file():
            continue
        prev, nxt = _prev_next(page)
        want_prev = path[i - 1] if i > 0 else None
        want_next = path[i + 1] if i + 1 < len(path) else None
        assert (prev, nxt) == (want_prev, want_next), f"{doc}: prev/next {prev, nxt}, want {want_prev, want_next}"


# --------------------------------------------------------------------------- #
# Build profiles
# --------------------------------------------------------------------------- #
def _hidden_test_snippets() -> list[str]:
    """The code of each hidden test of the otter masters, whitespace-normalised (never published)."""
    snippets = []
    for master in (REPO / "instructor" / "masters").glob("*.md"):
        text = master.read_text(encoding="utf-8")
        for block in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.DOTALL):
            if not re.search(r"^hidden:\s*true", block, re.MULTILINE):
                continue
            code = block.split("# END TEST CONFIG", 1)[-1]
            code = " ".join(code.split())
            if len(code) >= 40:
                snippets.append(code)
    return snippets


def _site_text(site: Path) -> str:
    """All text of the site as a reader could get it: pages without markup, sources, notebooks."""
    from html import unescape

    parts = []
    for f in site.rglob("*"):
        if not f.is_file() or "_static" in f.parts:
            continue
        if f.suffix == ".html":
            parts.append(unescape(re.sub(r"<[^>]+>", "", f.read_text(encoding="utf-8", errors="replace"))))
        elif f.suffix in {".ipynb", ".md", ".txt", ".py", ".json"}:
            parts.append(f.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


@pytest.mark.book
def test_instructor_build_has_solutions_and_grading_but_no_hidden_tests():
    _need()
    assert list((SITE / "solutions").glob("*.html")), "the instructor build has no solution pages"
    assert (SITE / "instructors.html").is_file(), "the instructor build has no grading page"
    text = " ".join(_site_text(SITE).split())
    leaked = [s for s in _hidden_test_snippets() if s in text]
    assert not leaked, f"hidden tests published in {SITE}: {leaked[:3]}"


@pytest.mark.book
def test_student_build_has_no_solutions_grading_or_hidden_tests():
    _need(STUDENT_SITE)
    assert not (STUDENT_SITE / "solutions").exists(), "the student build publishes solutions/"
    assert not (STUDENT_SITE / "instructors.html").exists(), "the student build has the grading page"
    assert list((STUDENT_SITE / "exercises").glob("*.html")), "the student build has no exercises"
    text = " ".join(_site_text(STUDENT_SITE).split())
    for html in content_pages(STUDENT_SITE):
        body = html.read_text(encoding="utf-8")
        assert not re.search(r'href="[^"]*solutions/[^"]*\.html', body), f"{html.name} links to a solution"
        assert 'href="instructors.html' not in body and 'href="../instructors.html' not in body, \
            f"{html.name} links to the grading page"
    assert _hidden_test_snippets(), "no hidden test found in instructor/masters: is the check blind?"
    leaked = [s for s in _hidden_test_snippets() if s in text]
    assert not leaked, f"hidden tests published in the student build: {leaked[:3]}"


def _site_profile():
    import importlib.util

    spec = importlib.util.spec_from_file_location("site_profile", REPO / "tools" / "site_profile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_student_toc_drops_solutions_and_grading_pages_only():
    sp = _site_profile()
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    student = sp.student_toc(toc)
    files = [c["file"] for part in student["parts"] for c in part["chapters"]]
    every = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert not [f for f in files if f.startswith("solutions/") or f == "instructors"]
    assert files == [f for f in every if not f.startswith("solutions/") and f != "instructors"]
    assert "execution" in files and any(f.startswith("exercises/") for f in files)


def test_repository_setting_comes_from_the_environment(tmp_path, monkeypatch):
    sp = _site_profile()
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert sp.profile_config(config, None) is None, "no override: _config.yml is used as it is"
    forked = sp.profile_config(config, "someone/course-fork")
    assert forked["repository"]["url"] == "https://github.com/someone/course-fork"
    assert forked["repository"]["branch"] == config["repository"]["branch"]
    # the copy is written under _build/: the site's extension folder must still be found
    (folder,) = forked["sphinx"]["local_extensions"].values()
    assert Path(folder).is_absolute() and (Path(folder) / "ctxembed_site.py").is_file()
    with pytest.raises(SystemExit, match="owner/name"):
        sp.profile_config(config, "not a repository")
    monkeypatch.setenv("CTXEMBED_REPOSITORY", "someone/course-fork")
    sp.main(["--student", "--out", str(tmp_path)])
    assert (tmp_path / "_toc_student.yml").is_file() and (tmp_path / "_config.yml").is_file()


def test_anchor_check_finds_a_missing_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1><a href="b.html#here">ok</a>'
                                     '<a href="b.html#gone">bad</a><a href="#top">self</a>'
                                     '<a href="https://example.org/#x">external</a>')
    (tmp_path / "b.html").write_text('<h2 id="here">B</h2>')
    checked, problems = check_anchors(tmp_path)
    assert checked == 3 and problems == ["a.html: b.html#gone"]


def test_icon_script_is_replaced_by_the_stylesheet():
    from ctxembed_site import use_fontawesome_css

    page = ('<link rel="preload" as="script" href="../_static/scripts/fontawesome.js?digest=1" />\n'
            '  <script defer src="../_static/scripts/fontawesome.js?digest=1"></script>\n<p>x</p>')
    new = use_fontawesome_css(page)
    assert "fontawesome.js" not in new
    assert '<link rel="stylesheet" href="../_static/fontawesome/css/all.min.css" />' in new
    assert use_fontawesome_css("<p>no theme script</p>") == "<p>no theme script</p>"


def test_explorer_views_move_to_files_named_by_content(tmp_path):
    """A view embedded in the widget state becomes a lazily loaded file; the state stays JSON."""
    import base64
    import json

    from ctxembed_site import externalise_view_images

    webp = b"RIFF\x00\x00\x00\x00WEBPVP8L-view"
    img = f'<img src="data:image/webp;base64,{base64.b64encode(webp).decode()}" alt="Heat map of 3 rows">'
    state = {"state": {"m1": {"state": {"value": img}}, "m2": {"state": {"value": img}}}}
    page = tmp_path / "chapters" / "ch.html"
    page.parent.mkdir()
    outside = '<p><img src="data:image/png;base64,AAAA" alt="a figure of the page"></p>'
    html = ('<script type="application/vnd.jupyter.widget-state+json">' + json.dumps(state)
            + "</script>" + outside)
    new, moved = externalise_view_images(html, page, tmp_path)
    assert moved == 2 and outside in new                      # only the widget state changes
    files = list((tmp_path / "_images" / "views").iterdir())
    assert len(files) == 1 and files[0].read_bytes() == webp  # identical views share a file
    value = json.loads(new.split('json">')[1].split("</script>")[0])["state"]["m1"]["state"]["value"]
    assert value == (f'<img loading="lazy" decoding="async" src="../_images/views/{files[0].name}" '
                     'alt="Heat map of 3 rows">')


# --------------------------------------------------------------------------- #
# A phone's first screen: no blocking scripts, icons cut to the ones shown
# --------------------------------------------------------------------------- #
def test_head_scripts_wait_for_the_page_except_the_options_inline_scripts_read():
    from ctxembed_site import defer_head_scripts

    page = ('<head><script src="../_static/documentation_options.js?v=1"></script>'
            '<script src="../_static/doctools.js?v=2"></script>'
            '<script data-x="1" src="../searchindex.js"></script>'
            '<script async="async" src="a.js"></script><script defer="defer" src="m.js"></script>'
            '<script type="module" src="t.js"></script><script>var x = 1;</script></head>'
            '<body><script src="late.js"></script></body>')
    new = defer_head_scripts(page)
    assert new == ('<head><script src="../_static/documentation_options.js?v=1"></script>'
                   '<script defer src="../_static/doctools.js?v=2"></script>'
                   '<script defer data-x="1" src="../searchindex.js"></script>'
                   '<script async="async" src="a.js"></script><script defer="defer" src="m.js"></script>'
                   '<script type="module" src="t.js"></script><script>var x = 1;</script></head>'
                   '<body><script src="late.js"></script></body>')
    assert defer_head_scripts(new) == new


def test_widget_state_moves_after_the_content():
    from ctxembed_site import widget_state_after_content

    state = '<script type="application/vnd.jupyter.widget-state+json">{"state": {}}</script>'
    page = f"<head><title>t</title>{state}</head><body><p>text</p></body>"
    new = widget_state_after_content(page)
    assert new == f"<head><title>t</title></head><body><p>text</p>{state}\n</body>"
    assert widget_state_after_content(new) == new


def test_page_rewrites_read_the_html_not_one_spelling_of_it():
    """Attributes in another order or quoting, upper-case tags and markup inside a script's
    text (a string in the search index or a widget state) are read as a browser reads them."""
    from ctxembed_site import (
        PageElements,
        defer_head_scripts,
        lazy_figure_images,
        load_mathjax_near_maths,
        use_fontawesome_css,
    )

    page = ("<HEAD><script>var s = '</head><img src=\"../_images/x.png\">';</script>"
            "<SCRIPT SRC='../_static/doctools.js'></SCRIPT>"
            "<script src='../_static/mathjax/tex-chtml.js?v=3' defer></script>"
            "<script src='../_static/scripts/fontawesome.js?digest=1' defer=\"defer\"></script></HEAD>"
            "<body><IMG ALT='a figure' SRC='../_images/fig.png'><img src='../_images/g.png' loading='eager'>"
            "</body>")
    elements = PageElements(page)
    assert elements.head_end == page.index("</HEAD>")      # not the "</head>" in the script's string
    deferred = defer_head_scripts(page)
    assert "<script defer SRC='../_static/doctools.js'>" in deferred
    lazy = lazy_figure_images(page)
    assert "<img loading=\"lazy\" decoding=\"async\" ALT='a figure' SRC='../_images/fig.png'>" in lazy
    assert lazy.count('loading="lazy"') == 1               # not the script's string, not an eager choice
    maths = load_mathjax_near_maths(page)
    assert ('<script defer src="../_static/mathjax/lazy-loader.js" data-mathjax="tex-chtml.js?v=3">'
            '</script>') in maths
    icons = use_fontawesome_css(page)
    assert "fontawesome.js" not in icons and "_static/fontawesome/css/all.min.css" in icons


def test_icon_stylesheet_keeps_the_shown_icons_and_everything_else():
    from ctxembed_site import css_rules, icon_stylesheet

    css = ('/*! licence */.fa{font-weight:900}.fa-house:before{content:"\\f015"}'
           '.fa-a:before,.fa-b:before{content:"\\e001"}.fa-zero:before{content:"\\30 "}'
           '@keyframes fa-spin{0%{transform:rotate(0)}to{transform:rotate(1turn)}}'
           '.fa-c:before{content:"{"}'
           '@font-face{font-family:"X";src:url(../webfonts/x.woff2) format("woff2"),'
           'url(../webfonts/x.ttf) format("truetype")}')
    assert len(css_rules(css)) == 7
    kept, code_points = icon_stylesheet(css, {"fa-b", "fa-zero", "fa-spin"})
    assert kept == ('.fa{font-weight:900}.fa-b:before{content:"\\e001"}.fa-zero:before{content:"\\30 "}'
                    '@keyframes fa-spin{0%{transform:rotate(0)}to{transform:rotate(1turn)}}'
                    '@font-face{font-family:"X";src:url(../webfonts/x.woff2) format("woff2")}')
    assert code_points == {0xE001, 0x30}


_ICON_USE = re.compile(r'class="(?P<classes>[^"]*\bfa-[^"]*)"')
# Font Awesome classes that style an icon rather than name one
_FA_MODIFIERS = {"fa-solid", "fa-regular", "fa-brands", "fa-lg", "fa-fw", "fa-xs", "fa-sm", "fa-xl",
                 "fa-2x", "fa-spin", "fa-pulse"}


@pytest.mark.book
def test_every_icon_a_page_shows_is_in_the_sites_cut_down_font():
    """The site ships Font Awesome cut down to the icons its pages show: every icon element of
    every page has its rule in the stylesheet and its glyph in the font of its style."""
    from fontTools.ttLib import TTFont

    from ctxembed_site import FONTAWESOME_CSS, _css_characters, css_rules

    _need()
    folder = SITE / Path(FONTAWESOME_CSS).parent.parent
    rules = {}                        # icon name -> the characters its rule draws
    for rule in css_rules((SITE / FONTAWESOME_CSS).read_text(encoding="utf-8")):
        m = re.fullmatch(r'(?P<selectors>[^{]+)\{content:"(?P<content>[^"]*)"\}', rule)
        for name in re.findall(r"\.(fa-[a-z0-9-]+):before", m.group("selectors")) if m else []:
            rules[name] = _css_characters(m.group("content"))
    fonts = {style: set(TTFont(folder / "webfonts" / f"fa-{style}.woff2").getBestCmap())
             for style in ("solid-900", "brands-400", "regular-400")}
    weight = sum((folder / "webfonts" / f).stat().st_size for f in os.listdir(folder / "webfonts"))
    assert weight < 20_000, f"the icon fonts weigh {weight} bytes: were they cut down?"
    missing, shown = [], 0
    for page in content_pages():
        for m in _ICON_USE.finditer(page.read_text(encoding="utf-8")):
            classes = m.group("classes").split()
            style = ("brands-400" if "fa-brands" in classes or "fab" in classes
                     else "regular-400" if "fa-regular" in classes or "far" in classes else "solid-900")
            icons = [name for name in classes if name.startswith("fa-") and name not in _FA_MODIFIERS]
            for name in icons:
                shown += 1
                if name not in rules or not {ord(c) for c in rules[name]} <= fonts[style]:
                    missing.append(f"{page.relative_to(SITE)}: {name} ({style})")
    assert shown > 50
    assert not missing, f"icons without a glyph: {sorted(set(missing))[:10]}"


@pytest.mark.book
def test_no_page_head_waits_for_a_script_or_carries_the_widget_state():
    _need()
    blocking, state_in_head = [], []
    for page in content_pages():
        html = page.read_text(encoding="utf-8")
        head = html[:html.find("</head>")]
        for m in re.finditer(r"<script ([^>]*\bsrc=\"([^\"]*)\"[^>]*)>", head):
            if not re.search(r"\b(?:defer|async|type)\b", m.group(1)) and "documentation_options" not in m.group(2):
                blocking.append(f"{page.relative_to(SITE)}: {m.group(2)}")
        if "widget-state+json" in head:
            state_in_head.append(page.relative_to(SITE).as_posix())
    assert not blocking, f"scripts that block the first screen: {blocking[:8]}"
    assert not state_in_head, f"widget state parsed before the text: {state_in_head}"
