"""Sphinx extension for the course site: figures' alt text, page descriptions, chapter list, reading path.

Listed in ``_config.yml`` (``sphinx.local_extensions: {ctxembed_site: _ext}``): it belongs to
the site's build, not to the course library students install. It

- gives every figure of an executed notebook the alt text the figure was drawn with
  (:mod:`ctxembed.viz.alt` writes it into the PNG's ``Description`` chunk; this copies it into
  the ``<img alt>``); a figure without one gets a description of its file instead of nothing,
  and the build warns, so ``-W`` fails on it;
- adds a ``<meta name="description">`` to pages that have none (front matter
  ``html_meta: {description: ...}`` wins), from the page's first paragraph;
- provides the ``course-chapters`` directive: a table of the chapters that the table of
  contents lists (so chapters added later appear by themselves), each with a one-line summary,
  an estimated reading time and the execution time of the last build;
- links each page's "previous" / "next" along a reading path: each chapter, then its
  exercise, then the next chapter; then the solutions; then the remaining pages;
- leaves MathJax (1.1 MB of JavaScript) off pages that have no maths and no widgets;
- replaces the theme's fontawesome.js (1.45 MB of JavaScript on every page) by Font Awesome's
  stylesheet (tools/fetch_site_assets.py), cut down with its fonts to the icons the pages show
  (270 kB of fonts become 5 kB);
- lets a phone draw a page's first screen without waiting for scripts: every script file of
  the head is deferred, the explorers' saved widget state moves after the text, and MathJax
  is loaded when a formula comes near the screen (tools/mathjax-lazy.js);
- gives the entries of each chapter's bibliography the list-item role screen readers expect;
- adds the build's date and commit (and release tag, when the commit has one) to every
  page's footer, so a reader can tell which version of the course a page shows;
- moves the explorers' precomputed views out of the page: each data-URI image inside a
  widget's saved state becomes a file in ``_images/views/`` (named by its content), loaded
  lazily, so a page's HTML carries only the views' addresses and a reader's browser fetches
  the views that are shown.

The directive's body gives the summaries, one ``docname: summary`` per line; a chapter
without one gets the first sentence of its front-matter description or first paragraph::

    ```{course-chapters}
    chapters/01_static_vs_contextual: Why one vector per word fails on "bank", measured.
    ```
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

WORDS_PER_MINUTE = 200        # reading speed for prose
CODE_LINES_PER_MINUTE = 12    # reading speed for code, lines
CHAPTER_PREFIX = "chapters/"
# The printed book (tools/build_pdf.py writes it into the built site)
PDF_FOLDER = "pdf"
BOOK_PDF = "contextual-embeddings.pdf"


def pdf_file_name(docname: str) -> str:
    """The printed page's file in :data:`PDF_FOLDER`: ``chapters/02_elmo`` -> ``chapters-02_elmo.pdf``."""
    return docname.replace("/", "-") + ".pdf"


# --------------------------------------------------------------------------- #
# Alt text of notebook figures
# --------------------------------------------------------------------------- #
def _image_path(app, node, docname: str) -> Path | None:
    cand = node.get("candidates", {}).get("*")
    if cand:
        return Path(app.srcdir) / cand
    uri = node.get("uri", "")
    if not uri or "://" in uri or uri.startswith("data:"):
        return None
    return Path(app.env.relfn2path(uri, docname)[1])


def _fill_alt_text(app, doctree) -> None:
    from sphinx.util import logging

    from ctxembed.viz.alt import png_description

    log = logging.getLogger(__name__)
    docname = app.env.docname
    for node in doctree.findall(nodes.image):
        if node.get("alt"):
            continue
        path = _image_path(app, node, docname)
        if path is None or not path.is_file():
            continue
        alt = png_description(path.read_bytes()) if path.suffix.lower() == ".png" else None
        if alt:
            node["alt"] = alt
        elif "jupyter_execute" in path.as_posix():
            log.warning(f"{docname}: a notebook figure has no alt text ({path.name}); draw it with "
                        "matplotlib after `import ctxembed.viz`, or give the cell "
                        "`mystnb: image: alt: ...` metadata", location=node)


# --------------------------------------------------------------------------- #
# Page text: summaries, descriptions, reading time
# --------------------------------------------------------------------------- #
def _first_paragraph(doctree) -> str:
    for para in doctree.findall(nodes.paragraph):
        if para.next_node(nodes.literal_block) or any(
                isinstance(a, (nodes.admonition, nodes.Admonition, nodes.footnote, nodes.table,
                               nodes.container)) for a in _ancestors(para)):
            continue
        text = " ".join(para.astext().split())
        if len(text) > 40:
            return text
    return ""


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def _first_sentence(text: str, limit: int = 160) -> str:
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = m.group(1) if m else text
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
    return sentence


def _front_matter_description(app, docname: str) -> str:
    meta = app.env.metadata.get(docname, {})
    html_meta = meta.get("html_meta") or {}
    if isinstance(html_meta, dict) and html_meta.get("description"):
        return str(html_meta["description"])
    return str(meta.get("description", "") or "")


def _reading_minutes(doctree) -> int:
    words = code_lines = 0
    for node in doctree.findall(nodes.Text):
        if any(isinstance(a, nodes.literal_block) for a in _ancestors(node)):
            continue
        if any("cell_output" in a.get("classes", []) for a in _ancestors(node) if isinstance(a, nodes.Element)):
            continue
        words += len(node.astext().split())
    for block in doctree.findall(nodes.literal_block):
        if not any("cell_output" in a.get("classes", []) for a in _ancestors(block) if isinstance(a, nodes.Element)):
            code_lines += block.astext().count("\n") + 1
    return max(1, round(words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE))


def _collect_page_facts(app, doctree) -> None:
    env = app.env
    facts = env.__dict__.setdefault("ctxembed_pages", {})
    facts[env.docname] = {"first": _first_paragraph(doctree), "minutes": _reading_minutes(doctree)}


def _purge(app, env, docname) -> None:
    getattr(env, "ctxembed_pages", {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    env.__dict__.setdefault("ctxembed_pages", {}).update(
        {d: v for d, v in getattr(other, "ctxembed_pages", {}).items() if d in docnames})


def _add_description(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or 'name="description"' in context.get("metatags", ""):
        return
    text = _front_matter_description(app, pagename) or \
        app.env.__dict__.get("ctxembed_pages", {}).get(pagename, {}).get("first", "")
    if not text:
        title = context.get("title", "")
        text = f"{title}: part of the course {app.config.project}." if title else ""
    if text:
        from html import escape

        text = _first_sentence(text, 155) if len(text) > 155 else text
        context["metatags"] = context.get("metatags", "") + \
            f'\n<meta name="description" content="{escape(text, quote=True)}" />'


# --------------------------------------------------------------------------- #
# The chapter table of the landing page
# --------------------------------------------------------------------------- #
class course_chapters(nodes.General, nodes.Element):
    """Placeholder, filled once every page has been read (execution times are known then)."""


class CourseChapters(Directive):
    has_content = True

    def run(self):
        summaries = {}
        for line in self.content:
            if ":" in line:
                doc, text = line.split(":", 1)
                summaries[doc.strip()] = text.strip()
        node = course_chapters()
        node["summaries"] = summaries
        return [node]


def toc_order(app) -> list[str]:
    """Every docname in the table of contents, in reading order of the toc."""
    site_map = getattr(app.config, "external_site_map", None)
    if site_map is None:
        return list(app.env.found_docs)
    order: list[str] = []

    def walk(doc):
        if doc in order:
            return
        order.append(doc)
        for sub in site_map[doc].subtrees:
            for item in sub.items:
                if isinstance(item, str) and item in site_map:
                    walk(item)

    walk(site_map.root.docname)
    return order


def _exec_seconds(app, docname: str) -> float | None:
    meta = getattr(app.env, "nb_metadata", {}).get(docname, {})
    data = meta.get("exec_data") or {}
    runtime = data.get("runtime")
    return float(runtime) if isinstance(runtime, (int, float)) else None


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "not executed"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def _fill_chapter_tables(app, doctree, docname) -> None:
    tables = list(doctree.findall(course_chapters))
    if not tables:
        return
    facts = app.env.__dict__.get("ctxembed_pages", {})
    chapters = [d for d in toc_order(app) if d.startswith(CHAPTER_PREFIX)]
    for placeholder in tables:
        summaries = placeholder["summaries"]
        table = nodes.table(classes=["course-chapters"])
        group = nodes.tgroup(cols=5)
        table += group
        for width in (28, 44, 10, 10, 8):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        row = nodes.row()
        to_root = "../" * docname.count("/")
        for label in ("Chapter", "What it is about", "Reading", "Execution", "Print"):
            row += nodes.entry("", nodes.paragraph(text=label))
        head += row
        body = nodes.tbody()
        group += body
        for doc in chapters:
            title = app.env.titles[doc].astext() if doc in app.env.titles else doc
            summary = summaries.get(doc) or _first_sentence(
                _front_matter_description(app, doc) or facts.get(doc, {}).get("first", ""))
            ref = nodes.reference("", title, internal=True,
                                  refuri=app.builder.get_relative_uri(docname, doc))
            row = nodes.row()
            row += nodes.entry("", nodes.paragraph("", "", ref))
            row += nodes.entry("", nodes.paragraph(text=summary))
            row += nodes.entry("", nodes.paragraph(text=f"~{facts.get(doc, {}).get('minutes', '?')} min"))
            row += nodes.entry("", nodes.paragraph(text=_fmt_seconds(_exec_seconds(app, doc))))
            pdf = nodes.reference("", "PDF", refuri=f"{to_root}{PDF_FOLDER}/{pdf_file_name(doc)}")
            pdf["aria-label"] = f"{title} as PDF"
            row += nodes.entry("", nodes.paragraph("", "", pdf))
            body += row
        caption = nodes.paragraph("", (
            f"{len(chapters)} chapters. Reading time is estimated at {WORDS_PER_MINUTE} words and "
            f"{CODE_LINES_PER_MINUTE} lines of code a minute; execution time is how long the "
            "chapter's code ran when this site was built (see the execution record). "
            "The whole book, exercises included, is one PDF: "),
            nodes.reference("", BOOK_PDF, refuri=f"{to_root}{PDF_FOLDER}/{BOOK_PDF}"),
            nodes.Text("."), classes=["course-chapters-note"])
        placeholder.replace_self([table, caption])


# --------------------------------------------------------------------------- #
# Previous / next along the reading path
# --------------------------------------------------------------------------- #
def reading_path(order: list[str]) -> list[str]:
    """Chapters each followed by their exercise, then the solutions, then everything else.

    ``chapters/NN_name`` and ``exercises/chNN_name`` belong together (by their number).
    """
    def number(doc):
        m = re.match(r"(?:chapters/|exercises/ch|solutions/ch)(\d+)", doc)
        return int(m.group(1)) if m else None

    chapters = [d for d in order if d.startswith("chapters/")]
    exercises = [d for d in order if d.startswith("exercises/")]
    solutions = [d for d in order if d.startswith("solutions/")]
    path = list(order[:1])
    for ch in chapters:
        path.append(ch)
        path += [e for e in exercises if number(e) == number(ch)]
    path += [e for e in exercises if e not in path]
    path += solutions
    path += [d for d in order if d not in path]
    seen, result = set(), []
    for d in path:
        if d not in seen:
            seen.add(d)
            result.append(d)
    return result


def _prev_next(app, pagename, templatename, context, doctree) -> None:
    if doctree is None:
        return
    cache = app.env.__dict__.setdefault("_ctxembed_path", {})
    if "path" not in cache:
        cache["path"] = reading_path(toc_order(app))
    path = cache["path"]
    if pagename not in path:
        return
    i = path.index(pagename)

    def link(doc):
        title = app.env.titles[doc].astext() if doc in app.env.titles else doc
        return {"link": app.builder.get_relative_uri(pagename, doc), "title": title}

    context["prev"] = link(path[i - 1]) if i > 0 else None
    context["next"] = link(path[i + 1]) if i + 1 < len(path) else None


def _reset_path(app, env) -> None:
    env.__dict__.pop("_ctxembed_path", None)


# --------------------------------------------------------------------------- #
# Built pages read as HTML: the elements a rewrite looks for, and where they are
# --------------------------------------------------------------------------- #
@dataclass
class Element:
    """One element of a page: its tag, attributes and where it is in the page's text.

    ``start``/``start_end`` bound its start tag; ``end`` is the end of its end tag (of the
    start tag, for an element without one); a script's text is ``text_start:text_end``.
    """

    tag: str
    attrs: dict[str, str | None]
    start: int
    start_end: int
    end: int
    text_start: int = 0
    text_end: int = 0

    def text(self, html: str) -> str:
        return html[self.text_start:self.text_end]


class PageElements(HTMLParser):
    """The elements of a built page, found by Python's HTML parser (a script's text, such as
    a widget state's JSON, is text, not elements), with their places in the page: the
    rewrites below edit the page's own text at those places and leave the rest as it was."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=False)
        self.html = html
        self.elements: list[Element] = []
        self.head_end: int | None = None     # where "</head>" starts
        self.body_end: int | None = None     # where the last "</body>" starts
        self._lines = [0]
        at = html.find("\n")
        while at >= 0:
            self._lines.append(at + 1)
            at = html.find("\n", at + 1)
        self._open_script: Element | None = None
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag, attrs):
        start = self._offset()
        start_end = start + len(self.get_starttag_text())
        element = Element(tag, dict(attrs), start, start_end, start_end)
        self.elements.append(element)
        if tag == "script":
            self._open_script = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._open_script = None

    def handle_endtag(self, tag):
        at = self._offset()
        if tag == "script" and self._open_script is not None:
            script, self._open_script = self._open_script, None
            script.text_start, script.text_end = script.start_end, at
            script.end = self.html.index(">", at) + 1
        elif tag == "head" and self.head_end is None:
            self.head_end = at
        elif tag == "body":
            self.body_end = at

    def named(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def scripts_of_type(self, kind: str) -> list[Element]:
        return [e for e in self.named("script") if e.attrs.get("type") == kind]

    def widget_state(self) -> Element | None:
        """The script that holds the page's saved widget state, if it has one."""
        return next(iter(self.scripts_of_type(WIDGET_STATE_TYPE)), None)

    def space_before(self, at: int) -> int:
        """Where the white space before offset ``at`` starts."""
        while at > 0 and self.html[at - 1].isspace():
            at -= 1
        return at


def apply_edits(text: str, edits) -> str:
    """``text`` with each ``(start, end, replacement)`` of ``edits`` made (places in the
    original text; they must not overlap)."""
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


# --------------------------------------------------------------------------- #
# MathJax only where there are maths
# --------------------------------------------------------------------------- #
def _needs_mathjax(doctree) -> bool:
    if doctree.next_node(nodes.math) or doctree.next_node(nodes.math_block):
        return True
    for raw in doctree.findall(nodes.raw):
        text = raw.astext()
        if "application/vnd.jupyter.widget" in text or "$" in text or "\\(" in text:
            return True
    return False


def _drop_unneeded_mathjax(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or _needs_mathjax(doctree):
        return
    files = context.get("script_files")
    if not isinstance(files, list):
        return

    def is_mathjax(js) -> bool:
        name = str(getattr(js, "filename", js) or "")
        body = str(getattr(js, "attributes", {}).get("body", "") or "")
        return "mathjax" in name.lower() or "window.MathJax" in body

    files[:] = [js for js in files if not is_mathjax(js)]


MATHJAX_LOADER = "lazy-loader.js"     # tools/mathjax-lazy.js, copied by tools/fetch_site_assets.py
_MATHJAX_FOLDER = "_static/mathjax/"


def load_mathjax_near_maths(html: str) -> str:
    """A page's MathJax script replaced by the loader that fetches MathJax when a formula comes
    near the screen: a phone draws and can scroll a chapter's first screen without spending
    half a second of its processor on maths that are three screens down."""
    edits = []
    for script in PageElements(html).named("script"):
        folder, found, file = (script.attrs.get("src") or "").rpartition(_MATHJAX_FOLDER)
        if found and file.startswith("tex-chtml.js") and "defer" in script.attrs:
            loader = (f'<script defer src="{escape(folder + found + MATHJAX_LOADER)}" '
                      f'data-mathjax="{escape(file)}"></script>')
            edits.append((script.start, script.end, loader))
    return apply_edits(html, edits)


# --------------------------------------------------------------------------- #
# Which version of the course a page shows: the footer's build stamp
# --------------------------------------------------------------------------- #
def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                             timeout=20, check=False)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def build_stamp(root: Path, repository_url: str = "", today: datetime.date | None = None) -> str:
    """One footer line (HTML): the build's date, its commit and the release tag on that commit.

    ``Built on 2026-12-04 from commit a2bfd68 (release v1.0.0).`` The commit links to the
    repository; a tree with uncommitted changes says so; outside a git checkout, the date only.
    """
    date = (today or datetime.datetime.now(datetime.timezone.utc).date()).isoformat()
    full = _git(root, "rev-parse", "HEAD")
    if full is None:
        return f"<p>Built on {date}.</p>"
    short = full[:7]
    commit = (f'<a href="{escape(repository_url.rstrip("/"))}/commit/{full}">{short}</a>'
              if repository_url else short)
    tags = _git(root, "tag", "--points-at", "HEAD")
    releases = [t for t in (tags or "").split() if t.startswith("v")]
    extra = f" (release {escape(releases[-1])})" if releases else ""
    if _git(root, "status", "--porcelain", "--untracked-files=no"):
        extra += ", with uncommitted changes"
    return f"<p>Built on {date} from commit {commit}{extra}.</p>"


def _stamp_footer(app, config) -> None:
    # Into the configuration, not each page's context: a new commit or day then changes the
    # configuration, so Sphinx rewrites every page (re-reading, no re-execution) and no
    # unchanged page keeps an old stamp.
    options = config.html_theme_options
    stamp = build_stamp(Path(app.confdir), options.get("repository_url", ""))
    options["extra_footer"] = (options.get("extra_footer") or "") + stamp


def setup(app):
    app.connect("config-inited", _stamp_footer)
    app.add_node(course_chapters)
    app.add_directive("course-chapters", CourseChapters)
    app.connect("doctree-read", _fill_alt_text)
    app.connect("doctree-read", _collect_page_facts)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-updated", _reset_path)
    app.connect("doctree-resolved", _fill_chapter_tables)
    app.connect("html-page-context", _add_description)
    app.connect("html-page-context", _prev_next)
    app.connect("html-page-context", _drop_unneeded_mathjax, priority=900)
    app.connect("build-finished", _rewrite_built_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}


# --------------------------------------------------------------------------- #
# Icons from a stylesheet instead of 1.45 MB of JavaScript
# --------------------------------------------------------------------------- #
FONTAWESOME_CSS = "_static/fontawesome/css/all.min.css"   # tools/fetch_site_assets.py
_FONTAWESOME_JS = "_static/scripts/fontawesome.js"


def use_fontawesome_css(html: str) -> str:
    """``html`` with the theme's fontawesome.js replaced by Font Awesome's stylesheet."""
    elements = PageElements(html)

    def is_fontawesome(url: str | None) -> bool:
        return (url or "").split("?")[0].endswith(_FONTAWESOME_JS)

    script = next((e for e in elements.named("script") if is_fontawesome(e.attrs.get("src"))), None)
    if script is None:
        return html
    rel = script.attrs["src"].split("?")[0][: -len(_FONTAWESOME_JS)]
    edits = [(elements.space_before(script.start), script.end,
              f'\n  <link rel="stylesheet" href="{escape(rel + FONTAWESOME_CSS)}" />')]
    edits += [(elements.space_before(link.start), link.end, "") for link in elements.named("link")
              if link.attrs.get("rel") == "preload" and is_fontawesome(link.attrs.get("href"))]
    return apply_edits(html, edits)


def _extra_file(app, out: Path, rel: str) -> bool:
    """Whether the built site has ``rel``, a file of ``html_extra_path``: Sphinx copies those
    only when it writes pages, so after a build that wrote none, the file's folder is copied
    here."""
    if not (out / rel).is_file():
        for extra in app.config.html_extra_path:
            source = Path(app.confdir) / extra / rel
            if source.is_file():
                shutil.copytree(source.parent, (out / rel).parent, dirs_exist_ok=True)
                break
    return (out / rel).is_file()


def _fontawesome_css_ready(app, out: Path) -> bool:
    """Whether the site has Font Awesome's stylesheet (``tools/fetch_site_assets.py``)."""
    if not _extra_file(app, out, "_static/fontawesome/webfonts/fa-solid-900.woff2") or not _extra_file(
            app, out, FONTAWESOME_CSS):
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            f"{FONTAWESOME_CSS} is missing (run tools/fetch_site_assets.py): pages keep fontawesome.js")
        return False
    return True


def _rewrite_built_pages(app, exception) -> None:
    """One pass over the built pages: icon stylesheet, bibliography roles, explorer views as
    files and their stills, scripts that wait for the page; then the icon fonts cut down to
    the icons those pages show."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    icons = _fontawesome_css_ready(app, out)
    maths_loader = _extra_file(app, out, f"_static/mathjax/{MATHJAX_LOADER}")
    for page in out.rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = use_fontawesome_css(text) if icons else text
        new = lazy_figure_images(new)
        if 'role="doc-biblioentry"' in new:
            new = citation_entries_as_list_items(new)
        if "application/vnd.jupyter.widget-state+json" in new:
            new, _ = externalise_view_images(new, page, out)
            new = add_explorer_stills(new)
            new = widget_state_after_content(new)
        if maths_loader:
            new = load_mathjax_near_maths(new)
        new = defer_head_scripts(new)
        if new != text:
            page.write_text(new, encoding="utf-8")
    if icons:
        _keep_shown_icons(app, out)


# --------------------------------------------------------------------------- #
# A first screen that does not wait for scripts
# --------------------------------------------------------------------------- #
# Inline scripts in the head read DOCUMENTATION_OPTIONS as the page is parsed: it stays blocking.
_KEEP_BLOCKING = ("documentation_options.js",)


def defer_head_scripts(html: str) -> str:
    """Every script file of ``<head>`` that blocks the page gets ``defer``.

    Sphinx, the theme and its extensions put a dozen ``<script src>`` in the head (the search
    index among them); each one stops the browser from drawing anything until it has been
    fetched and run, which on a phone's connection is most of the wait for the first screen.
    Deferred, they still run in the same order, once the page is parsed and before
    ``DOMContentLoaded``, which is when all of them start their work.
    """
    elements = PageElements(html)
    if elements.head_end is None:
        return html
    edits = [(script.start, script.start + len("<script"), "<script defer")
             for script in elements.named("script")
             if script.start < elements.head_end and script.attrs.get("src")
             and not {"defer", "async", "type"} & script.attrs.keys()
             and not script.attrs["src"].split("?")[0].endswith(_KEEP_BLOCKING)]
    return apply_edits(html, edits)


def widget_state_after_content(html: str) -> str:
    """The explorers' saved widget state (hundreds of kB of JSON) moved from ``<head>`` to
    the end of ``<body>``: the browser parses the chapter's text first. The widget JavaScript
    reads the state from wherever it is in the document, once it loads."""
    elements = PageElements(html)
    state = elements.widget_state()
    if (state is None or elements.head_end is None or elements.body_end is None
            or state.start > elements.head_end):
        return html
    return apply_edits(html, [(state.start, state.end, ""),
                              (elements.body_end, elements.body_end, html[state.start:state.end] + "\n")])


# --------------------------------------------------------------------------- #
# Only the icons the site shows
# --------------------------------------------------------------------------- #
_ICON_NAME = re.compile(r"(?<![\w-])fa-[a-z0-9]+(?:-[a-z0-9]+)*")
# an icon's rule: selectors that are all ".fa-NAME:before" (or :after), and its character
_ICON_RULE = re.compile(r'^(?P<selectors>\.fa-[a-z0-9-]+:(?:before|after)(?:,\.fa-[a-z0-9-]+:(?:before|after))*)'
                        r'\{content:"(?P<content>[^"]*)"\}$')
_FONT_URL = re.compile(r'url\((?P<url>[^)]+\.woff2)\) format\("woff2"\)')
_TTF_FALLBACK = re.compile(r',url\([^)]+\.ttf\) format\("truetype"\)')


def css_rules(css: str) -> list[str]:
    """The top-level rules of a (minified) stylesheet, comments dropped; an at-rule with a
    block (``@media``, ``@keyframes``) is one rule."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(css):
        if quote:
            quote = "" if ch == quote and css[i - 1] != "\\" else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                rules.append(css[start:i + 1].strip())
                start = i + 1
    return [r for r in rules if r]


def _css_characters(content: str) -> str:
    """The characters of a CSS string's content: ``\\f015`` escapes and literal characters."""
    return re.sub(r"\\([0-9a-fA-F]{1,6}) ?", lambda m: chr(int(m.group(1), 16)), content)


def icon_stylesheet(css: str, shown: set[str]) -> tuple[str, set[int]]:
    """Font Awesome's stylesheet with only the icon rules of the ``shown`` icon names (and
    every other rule), without the TrueType fallbacks; and the code points those icons draw.

    Font Awesome's ``all.min.css`` is one rule per icon for 2,000 icons; a page shows about
    twenty. The rest (sizes, animations, the font faces) is kept as it is."""
    kept, code_points = [], set()
    for rule in css_rules(css):
        m = _ICON_RULE.match(rule)
        if not m:
            kept.append(_TTF_FALLBACK.sub("", rule) if rule.startswith("@font-face") else rule)
            continue
        selectors = [sel for sel in m.group("selectors").split(",") if sel[1:].split(":")[0] in shown]
        if selectors:
            kept.append(",".join(selectors) + '{content:"' + m.group("content") + '"}')
            code_points |= {ord(ch) for ch in _css_characters(m.group("content"))}
    return "".join(kept), code_points


# files that list every icon rather than show some: Font Awesome's own, and the widgets'
# bundle (it carries Font Awesome's stylesheet for the buttons' icons)
_ICON_CATALOGUES = ("fontawesome", "_static/widgets/embed-amd.js")
_WIDGET_ICON = re.compile(r'"icon": "(?P<name>[a-z0-9-]+)"')


def icons_shown(site: Path) -> set[str]:
    """Every ``fa-*`` name in the built pages and in the scripts that draw icons at run time
    (the theme's banners), and each widget button's ``icon`` (ipywidgets draws it as
    ``fa-NAME``)."""
    names: set[str] = set()
    for path in site.rglob("*"):
        if path.suffix not in (".html", ".js") or not path.is_file():
            continue
        if any(part in path.as_posix() for part in _ICON_CATALOGUES):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        names |= set(_ICON_NAME.findall(text))
        names |= {f"fa-{m.group('name')}" for m in _WIDGET_ICON.finditer(text)}
    return names


def _keep_shown_icons(app, out: Path) -> None:
    """Font Awesome's stylesheet and web fonts in the built site cut down to the icons the site
    shows: its two fonts are 270 kB that a phone fetches before it draws the header's icons."""
    from sphinx.util import logging

    log = logging.getLogger(__name__)
    try:
        from fontTools import subset
    except ImportError:
        log.warning("fontTools is missing (pip install 'fonttools[woff]'): the site keeps every icon")
        return
    folder = out / Path(FONTAWESOME_CSS).parent.parent
    source = None
    for extra in app.config.html_extra_path:     # the full files, not a previous build's cut
        candidate = Path(app.confdir) / extra / Path(FONTAWESOME_CSS).parent.parent
        if (candidate / "css" / "all.min.css").is_file():
            source = candidate
    source = source or folder
    full = (source / "css" / "all.min.css").read_text(encoding="utf-8")
    css, code_points = icon_stylesheet(full, icons_shown(out))
    fonts = {m.group("url") for m in _FONT_URL.finditer(css)}
    for url in sorted(fonts):
        name = Path(url).name
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        try:
            font = subset.load_font(str(source / "webfonts" / name), options)
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=code_points)
            subsetter.subset(font)
            subset.save_font(font, str(folder / "webfonts" / name), options)
        except Exception as exc:  # noqa: BLE001 - a font that cannot be cut stays whole
            log.warning(f"could not cut {name} to the shown icons ({exc}): it stays whole")
            shutil.copy2(source / "webfonts" / name, folder / "webfonts" / name)
    licence = re.match(r"\s*/\*.*?\*/", full, re.DOTALL)     # Font Awesome's licence comment stays
    (folder / "css" / "all.min.css").write_text((licence.group(0).strip() + "\n" if licence else "") + css,
                                                encoding="utf-8")
    for ttf in (folder / "webfonts").glob("*.ttf"):
        ttf.unlink()


def _is_figure(src: str | None) -> bool:
    """Whether an image's address is a figure's: in ``_images/`` (where Sphinx puts a page's
    figures) of the site's root, not one of the theme's own icons."""
    folder, found, _ = (src or "").partition("_images/")
    return bool(found) and not folder.replace("../", "")


def lazy_figure_images(html: str) -> str:
    """Every figure ``<img>`` of the page that says nothing about loading gets ``loading="lazy"``
    and ``decoding="async"``: a figure far down a chapter is fetched when the reader gets near
    it, instead of competing with the page's first screen for a phone's bandwidth. (An image
    in a script's text, a widget state's JSON, is no element of the page.)"""
    edits = [(img.start, img.start + len("<img"), '<img loading="lazy" decoding="async"')
             for img in PageElements(html).named("img")
             if "loading" not in img.attrs and _is_figure(img.attrs.get("src"))]
    return apply_edits(html, edits)


def citation_entries_as_list_items(html: str) -> str:
    """A bibliography's entries as ``role="listitem"``: docutils writes the list as
    ``role="list"`` holding ``role="doc-biblioentry"`` entries, a role ARIA 1.2 deprecated
    and no list item, so screen readers (and axe-core's aria-required-children rule) find a
    list without items."""
    edits = []
    for entry in PageElements(html).elements:
        if entry.attrs.get("role") == "doc-biblioentry":
            tag = html[entry.start:entry.start_end]
            edits.append((entry.start, entry.start_end,
                          tag.replace('role="doc-biblioentry"', 'role="listitem"')))
    return apply_edits(html, edits)


# --------------------------------------------------------------------------- #
# Explorer views as lazily loaded files instead of data URIs in the page
# --------------------------------------------------------------------------- #
VIEWS_DIR = "_images/views"
WIDGET_STATE_TYPE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_TYPE = "application/vnd.jupyter.widget-view+json"
VIEW_REF = re.compile(r'(?:\.\./)*' + re.escape(VIEWS_DIR) + r'/[0-9a-f]{20}\.(?:webp|png|jpeg)')
_VIEW_FORMATS = ("webp", "png", "jpeg")


def _json_in_script(data) -> str:
    """``data`` as the JSON text of a ``<script>``, written the way myst-nb writes a widget
    state (``json.dumps``, with ``</script>`` escaped)."""
    import json

    return json.dumps(data).replace("</script>", r"<\/script>")


def _strings(value):
    """Each string inside a JSON value, with a function that replaces it there."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return
    for key, item in items:
        if isinstance(item, str):
            yield item, (lambda new, container=value, k=key: container.__setitem__(k, new))
        else:
            yield from _strings(item)


def externalise_view_images(html: str, page: Path, site: Path) -> tuple[str, int]:
    """``html`` with each image of its widget state moved to a file of ``site/_images/views``.

    The ``<img>`` in the state points at the file (relative to ``page``) and gets
    ``loading="lazy"``: the views of an explorer that are not shown are not fetched.
    Returns the new HTML and the number of images moved. Identical views share a file.
    """
    import base64
    import hashlib
    import json
    import os

    script = PageElements(html).widget_state()
    if script is None:
        return html, 0
    state = json.loads(script.text(html))
    moved = 0
    for value, replace in _strings(state):
        if "<img" not in value:
            continue
        edits = []
        for img in PageElements(value).named("img"):
            src = img.attrs.get("src") or ""
            kind, comma, data = src.partition(";base64,")
            fmt = kind.removeprefix("data:image/")
            if not comma or not kind.startswith("data:image/") or fmt not in _VIEW_FORMATS:
                continue
            image = base64.b64decode(data)
            target = site / VIEWS_DIR / f"{hashlib.sha1(image).hexdigest()[:20]}.{fmt}"
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(image)
            moved += 1
            rel = os.path.relpath(target, page.parent).replace(os.sep, "/")
            tag = value[img.start:img.start_end]
            edits.append((img.start, img.start_end, tag.replace(
                f'src="{src}"', f'loading="lazy" decoding="async" src="{escape(rel)}"', 1)))
        if edits:
            replace(apply_edits(value, edits))
    if not moved:
        return html, 0
    return apply_edits(html, [(script.text_start, script.text_end, _json_in_script(state))]), moved


# --------------------------------------------------------------------------- #
# Each explorer's first view as plain HTML until (or unless) the widgets load
# --------------------------------------------------------------------------- #
STILL_CLASS = "explorer-still"


def first_view_html(state: dict, model_id: str) -> str | None:
    """What an explorer shows before anyone touches it, as static HTML: its HTML widgets in
    order (each Stack contributing only its selected child) and each drop-down's choice
    (``Word: bank``). None for a widget that is not an explorer (no Stack: a progress bar)."""
    from html import escape as esc

    parts: list[str] = []
    stacks = 0

    def walk(mid: str, seen: frozenset) -> None:
        nonlocal stacks
        if mid in seen or mid not in state:
            return
        model = state[mid]
        widget = model.get("state", {})
        name = model.get("model_name")
        if name == "HTMLModel":
            parts.append(widget.get("value") or "")
            return
        if name == "DropdownModel":
            labels, index = widget.get("_options_labels") or [], widget.get("index")
            if index is not None and index < len(labels):
                label = (widget.get("description") or "").rstrip(":")
                parts.append(f"<p>{esc(label)}: {esc(labels[index])}</p>" if label
                             else f"<p>{esc(labels[index])}</p>")
            return
        children = [c.replace("IPY_MODEL_", "") for c in widget.get("children") or []]
        if name == "StackModel":
            stacks += 1
            index = widget.get("selected_index")
            children = [children[index]] if index is not None and index < len(children) else []
        for child in children:
            walk(child, seen | {mid})

    walk(model_id, frozenset())
    if not stacks or not parts:
        return None
    return "".join(parts)


def add_explorer_stills(html: str) -> str:
    """Before each explorer's widget placeholder, its first view as plain HTML.

    A phone that has not loaded the widget JavaScript yet (it loads when an explorer comes
    near the screen), or a reader without JavaScript, sees what the explorer opens on: its
    figure or table and the choice it shows. The site's CSS hides the still once the widget
    has rendered next to it.
    """
    import json

    elements = PageElements(html)
    script = elements.widget_state()
    if script is None or any(STILL_CLASS in (e.attrs.get("class") or "").split() for e in elements.elements):
        return html
    state = json.loads(script.text(html)).get("state", {})
    edits = []
    for view in elements.scripts_of_type(WIDGET_VIEW_TYPE):
        try:
            model_id = json.loads(view.text(html))["model_id"]
        except (ValueError, KeyError, TypeError):
            continue
        still = first_view_html(state, model_id)
        if still is not None:
            edits.append((view.start, view.start, f'<div class="{STILL_CLASS}">{still}</div>'))
    return apply_edits(html, edits)
