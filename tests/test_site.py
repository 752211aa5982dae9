"""Checks of the built site in headless Chromium, with networking off.

What a reader of the static site relies on, for every chapter page in
``_build/html/chapters/``:

- its figures are there and load (every ``<img>`` decoded, ``naturalWidth > 0``);
- no cell shows an error (traceback, ``Error displaying widget``);
- every embedded widget renders, with the widget JavaScript served by the site
  itself: no request leaves the local server (CDNs, fonts, analytics...);
- an explorer's control works without a kernel: choosing another option in a
  Dropdown or moving a slider changes what the explorer shows;
- the Binder and Colab launch buttons open the paired ``.ipynb``, not the ``.md``.

The pages are served by ``http.server`` on 127.0.0.1 (random port). Every request
to anything else is aborted and recorded, and Chromium's resolver maps every other
host to nothing, so the pages see no network at all.

Needs the built site (``tools/build.sh``) and Debian's ``chromium``
(``tools/setup.sh --browser``); skipped with the reason when either is missing,
except under CI (``CI=true``), where that is a failure.
``CTXEMBED_SITE=/path/to/html`` checks another build (used to develop these tests).
A control that deliberately needs a live kernel can be exempted by giving it the
DOM class ``kernel-only`` (``widget.add_class("kernel-only")``).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.book

REPO = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("CTXEMBED_SITE", REPO / "_build" / "html"))
CHROMIUM = os.environ.get("CTXEMBED_CHROMIUM", "/usr/bin/chromium")
# Pages that must have at least one rendered widget and a working explorer (issue 2).
EXPLORER_PAGES = ["chapters/01_static_vs_contextual.html"]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-pings",
    # Networking off beyond the local server: no other host name resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
RENDER_TIMEOUT_MS = 20_000

# Elements of a widget that are *controls* (their own text changes when used) rather
# than the view the control switches.
CONTROL_SELECTOR = (".widget-inline-hbox:not(.widget-html):not(.widget-htmlmath), "
                    ".widget-toggle-buttons, .widget-radio, .widget-button")
# Logged by sphinx-thebe on every page; harmless (toolchain notes).
KNOWN_HARMLESS_JS_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)


def _chapter_pages() -> list[str]:
    """Every executed page: chapters, exercises and solutions."""
    pages = []
    for name in ("chapters", "exercises", "solutions"):
        folder = SITE / name
        if folder.is_dir():
            pages += [p.relative_to(SITE).as_posix() for p in folder.glob("*.html")]
    return sorted(pages)


CHAPTER_PAGES = _chapter_pages()


def _skip_or_fail(reason: str) -> None:
    """Skip locally; in CI (CI=true, where tools/test.sh builds and installs all) fail instead."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(reason)
    pytest.skip(reason)


def _need_site() -> None:
    if not (SITE / "index.html").is_file():
        _skip_or_fail(f"no built site at {SITE}: build it first with `bash tools/build.sh`")
    if not CHAPTER_PAGES:
        pytest.fail(f"the built site {SITE} has no chapter pages in chapters/")


# --------------------------------------------------------------------------- #
# Local server and browser
# --------------------------------------------------------------------------- #
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server():
    _need_site()
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    _need_site()
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _skip_or_fail(f"{CHROMIUM} not found: install it with `bash tools/setup.sh --browser` "
                      "(Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is missing: pip install -e '.[dev]'")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class LoadedPage:
    """A page loaded with every non-local request blocked and recorded."""

    def __init__(self, browser, server: str, path: str, *, dark: bool = False):
        self.path = path
        self.blocked: list[str] = []      # requests that tried to leave the local server
        self.failed: list[str] = []       # local requests that failed or returned >= 400
        self.page_errors: list[str] = []  # uncaught JavaScript exceptions
        self.console_errors: list[str] = []
        self.context = browser.new_context(service_workers="block", viewport={"width": 1280, "height": 900},
                                           color_scheme="dark" if dark else "light")
        if dark:  # the reader's system prefers dark, and the theme's switch was set to dark
            self.context.add_init_script("try { localStorage.setItem('mode', 'dark');"
                                         " localStorage.setItem('theme', 'dark'); } catch (e) {}")
        self.page = self.context.new_page()
        origin = urlparse(server).netloc

        def route(r):
            url = r.request.url
            if urlparse(url).netloc == origin:
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort("internetdisconnected")

        self.page.route("**/*", route)
        self.page.on("response", lambda resp: resp.status >= 400 and self.failed.append(
            f"{resp.status} {resp.url}"))
        self.page.on("requestfailed", lambda req: urlparse(req.url).netloc == origin
                     and self.failed.append(f"{req.failure} {req.url}"))
        self.page.on("pageerror", lambda exc: str(exc) not in KNOWN_HARMLESS_JS_ERRORS
                     and self.page_errors.append(str(exc)))
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        self.page.goto(f"{server}/{path}", wait_until="load")
        self.widget_views = self.page.locator(
            'script[type="application/vnd.jupyter.widget-view+json"]').count()
        self.render_timeout = False
        if self.widget_views:
            # The widget JavaScript loads when a widget comes near the viewport (widgets/lazy.js):
            # scroll to the first one, as a reader does.
            self.page.evaluate("""() => { const s = document.querySelector(
                'script[type="application/vnd.jupyter.widget-view+json"]');
                if (s && s.parentElement) s.parentElement.scrollIntoView(); }""")
            # html-manager renders each view next to its <script> placeholder.
            try:
                self.page.wait_for_function(
                    "() => document.querySelectorAll('.cell_output .jupyter-widgets').length > 0",
                    timeout=RENDER_TIMEOUT_MS)
            except Exception:  # playwright's TimeoutError: the tests report what is missing
                self.render_timeout = True
            self.page.wait_for_timeout(500)  # let the other views and their images settle

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def pages(browser, server):
    """Each chapter page loaded once per test module (loading is the slow part)."""
    loaded: dict[str, LoadedPage] = {}

    def get(path: str) -> LoadedPage:
        if path not in loaded:
            loaded[path] = LoadedPage(browser, server, path)
        return loaded[path]

    yield get
    for p in loaded.values():
        p.close()


# --------------------------------------------------------------------------- #
# JavaScript helpers run in the page
# --------------------------------------------------------------------------- #
# Explorer views load lazily (loading="lazy"): as a reader does, bring each image into view
# and give it up to 5 s to load before judging it.
IMAGES_JS = """
async () => {
    const imgs = Array.from(document.querySelectorAll('main img, article img, .bd-article img'));
    for (const img of imgs) {
        if (img.complete && img.naturalWidth > 0) continue;
        img.scrollIntoView({block: 'center'});
        await new Promise(done => {
            if (img.complete && img.naturalWidth > 0) return done();
            img.addEventListener('load', done, {once: true});
            img.addEventListener('error', done, {once: true});
            setTimeout(done, 5000);
        });
    }
    window.scrollTo(0, 0);
    return imgs.map(img => ({
        src: (img.currentSrc || img.getAttribute('src') || '').slice(0, 80), complete: img.complete,
        width: img.naturalWidth, inWidget: !!img.closest('.jupyter-widgets'),
    }));
}
"""

# The "view" of the cell output that holds a control: what is visible in it except the
# controls themselves (image sources and text), so using a control that switches
# nothing does not count as a change.
VIEW_SIGNATURE_JS = """
(control, controlSelector) => {
    const scope = control.closest('.cell_output') || control.closest('.output') || document.body;
    const parts = [];
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
        if (!el || el.closest(controlSelector)) continue;
        if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
        if (node.nodeType === Node.TEXT_NODE) {
            const t = node.textContent.trim();
            if (t) parts.push('T:' + t);
        } else if (el.tagName === 'IMG') {
            parts.push('I:' + (el.currentSrc || el.src));   // a lazy view may not have loaded yet
        } else if (el.tagName === 'CANVAS') {
            parts.push('C:' + el.toDataURL());
        }
    }
    return parts.join('\\n');
}
"""


def _controls(page):
    """Dropdowns and sliders of rendered widgets, except those marked kernel-only."""
    found = []
    for kind, selector in (("dropdown", ".widget-dropdown select"),
                           ("slider", ".widget-slider .noUi-handle")):
        loc = page.locator(f".cell_output .jupyter-widgets {selector}")
        for i in range(loc.count()):
            el = loc.nth(i)
            if el.evaluate("e => !!e.closest('.kernel-only')") or not el.is_visible():
                continue
            found.append((kind, i, el))
    return found


def _use_control(page, kind: str, el) -> str:
    """Choose another option / move the slider one step; return what was done."""
    if kind == "dropdown":
        n = el.locator("option").count()
        current = el.evaluate("e => e.selectedIndex")
        target = (current + 1) % n
        el.select_option(index=target)
        return f"chose option {target} of {n}"
    el.focus()
    before = el.get_attribute("aria-valuenow")
    el.press("ArrowRight")
    if el.get_attribute("aria-valuenow") == before:  # already at the maximum
        el.press("ArrowLeft")
    return f"moved from {before} to {el.get_attribute('aria-valuenow')}"


def _describe(page: LoadedPage) -> str:
    return (f"blocked requests: {page.blocked[:5]}; failed local requests: {page.failed[:5]}; "
            f"page errors: {page.page_errors[:3]}; console errors: {page.console_errors[:3]}")


# --------------------------------------------------------------------------- #
# The tests
# --------------------------------------------------------------------------- #
def test_chapter_pages_are_built():
    _need_site()
    assert CHAPTER_PAGES
    for required in EXPLORER_PAGES:
        assert (SITE / required).is_file(), f"{required} is missing from the built site {SITE}"


@pytest.mark.parametrize("path", CHAPTER_PAGES or ["(no chapter pages)"])
def test_page_loads_with_no_network_and_nothing_missing(pages, path):
    page = pages(path)
    assert not page.blocked, (
        f"{path} tried to reach the network (the site must work offline): {page.blocked}")
    assert not page.failed, f"{path}: local requests failed: {page.failed}"
    assert not page.page_errors, f"{path}: JavaScript errors: {page.page_errors}"


@pytest.mark.parametrize("path", CHAPTER_PAGES or ["(no chapter pages)"])
def test_figures_are_present_and_load(pages, path):
    page = pages(path)
    images = page.page.evaluate(IMAGES_JS)
    assert images, f"{path} has no figures (no <img> in the article)"
    broken = [img for img in images if not (img["complete"] and img["width"] > 0)]
    assert not broken, f"{path}: {len(broken)} of {len(images)} images did not load: {broken[:3]}"


@pytest.mark.parametrize("path", CHAPTER_PAGES or ["(no chapter pages)"])
def test_no_error_outputs(pages, path):
    p = pages(path).page
    tracebacks = p.locator(".cell_output .traceback, .cell_output .output.error").count()
    assert tracebacks == 0, f"{path} shows {tracebacks} error output(s) (tracebacks)"
    for sel in (".cell_output .output.stderr", ".cell_output .stderr"):
        for text in p.locator(sel).all_inner_texts():
            assert not re.search(r"Traceback|\w+Error\b|Exception", text), (
                f"{path} shows an error on stderr: {text[:300]}")
    outputs = " ".join(p.locator(".cell_output").all_inner_texts())
    assert "Traceback (most recent call last)" not in outputs, f"{path} shows a traceback"
    assert "Error displaying widget" not in outputs, f"{path}: a widget failed to render"


@pytest.mark.parametrize("path", CHAPTER_PAGES or ["(no chapter pages)"])
def test_every_widget_renders(pages, path):
    page = pages(path)
    rendered = page.page.locator(".cell_output .jupyter-widgets")
    if path in EXPLORER_PAGES:
        assert page.widget_views > 0, (
            f"{path} has no embedded widget state: was the chapter executed with its explorer?")
    if page.widget_views == 0:
        return
    assert not page.render_timeout, (
        f"{path}: {page.widget_views} widget view(s) embedded, none rendered within "
        f"{RENDER_TIMEOUT_MS // 1000} s (is the widget JavaScript served?). {_describe(page)}")
    visible = [rendered.nth(i).is_visible() for i in range(rendered.count())]
    assert any(visible), (f"{path}: {page.widget_views} widget view(s) embedded but none "
                          f"rendered visibly (is the widget JavaScript served?). {_describe(page)}")
    unrendered = page.page.evaluate(
        """() => Array.from(document.querySelectorAll(
               'script[type="application/vnd.jupyter.widget-view+json"]'))
             .filter(s => !(s.previousElementSibling || s.parentElement)
                          .closest('.cell_output')?.querySelector('.jupyter-widgets')).length""")
    assert unrendered == 0, f"{path}: {unrendered} widget view(s) did not render. {_describe(page)}"


@pytest.mark.parametrize("path", CHAPTER_PAGES or ["(no chapter pages)"])
def test_explorer_controls_change_the_view(pages, path):
    page = pages(path)
    controls = _controls(page.page)
    if path in EXPLORER_PAGES:
        assert controls, f"{path} has no explorer control (Dropdown or slider) on the static page"
    if not controls:
        pytest.skip(f"{path} has no Dropdown or slider")
    dead = []
    for kind, i, el in controls:
        before = el.evaluate(VIEW_SIGNATURE_JS, CONTROL_SELECTOR)
        action = _use_control(page.page, kind, el)
        page.page.wait_for_timeout(250)
        after = el.evaluate(VIEW_SIGNATURE_JS, CONTROL_SELECTOR)
        if after == before:
            dead.append(f"{kind} #{i} ({action})")
    assert not dead, (
        f"{path}: using these controls changed nothing on the static page: {dead}. Link them "
        "client-side (widgets.jslink to a Stack of precomputed views), or mark a control that "
        "needs a live kernel with .add_class('kernel-only').")
    assert not page.page_errors, f"{path}: JavaScript errors: {page.page_errors}"
    assert not page.blocked, f"{path}: using the controls tried to reach the network: {page.blocked}"
    assert not page.failed, f"{path}: using the controls made local requests fail: {page.failed}"


LAUNCH_HOSTS = {"binder": "mybinder.org", "colab": "colab.research.google.com"}


@pytest.mark.parametrize("path", CHAPTER_PAGES or ["(no chapter pages)"])
def test_launch_buttons_open_the_notebook(path):
    _need_site()
    html = (SITE / path).read_text(encoding="utf-8")
    chapter = Path(path).with_suffix("").as_posix()         # chapters/01_...
    for name, host in LAUNCH_HOSTS.items():
        links = set(re.findall(rf'href="(https://{re.escape(host)}/[^"]+)"', html))
        assert links, f"{path} has no {name} launch button"
        for link in links:
            assert link.endswith(f"{chapter}.ipynb"), (
                f"{path}: the {name} button opens {link}, not {chapter}.ipynb: commit the paired "
                f"notebook (`bash tools/sync_notebooks.sh`) and rebuild")
        if SITE == REPO / "_build" / "html":
            assert (REPO / f"{chapter}.ipynb").is_file(), f"{chapter}.ipynb is not in the repository"


# --------------------------------------------------------------------------- #
# Accessibility (axe-core), light and dark mode, on every built page
# --------------------------------------------------------------------------- #
AXE_JS = REPO / "tools" / "site-checks" / "node_modules" / "axe-core" / "axe.min.js"
# What fails the check: axe's two worst impact levels (moderate/minor ones are reported only).
AXE_FAILING_IMPACTS = ("serious", "critical")


def _all_pages() -> list[str]:
    """Every content page of the site: the landing page, chapters, exercises, solutions, about."""
    skip = {"genindex.html", "search.html", "py-modindex.html"}
    pages = [p.name for p in SITE.glob("*.html") if p.name not in skip]
    return sorted(set(pages) | set(CHAPTER_PAGES))


ALL_PAGES = _all_pages() if SITE.is_dir() else []


def axe_violations(page, selector_context=None) -> list[dict]:
    """axe-core's violations on a loaded playwright page: [{id, impact, help, nodes: [target]}]."""
    if not AXE_JS.is_file():
        _skip_or_fail(f"{AXE_JS} is missing: run `bash tools/setup.sh --browser` (npm ci in tools/site-checks)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}));
        }""")
    return result


@pytest.fixture(scope="module")
def dark_pages(browser, server):
    loaded: dict[str, LoadedPage] = {}

    def get(path: str) -> LoadedPage:
        if path not in loaded:
            loaded[path] = LoadedPage(browser, server, path, dark=True)
        return loaded[path]

    yield get
    for p in loaded.values():
        p.close()


def _format_violations(violations) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}, {v['count']}x: {v['help']}; e.g. {v['nodes'][:2]})"
                     for v in violations)


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("path", ALL_PAGES or ["(no pages)"])
def test_no_serious_accessibility_violations(pages, dark_pages, path, mode):
    """axe-core finds no serious or critical violation (WCAG 2 A/AA rules and best practices)."""
    page = (pages if mode == "light" else dark_pages)(path)
    if mode == "dark":
        theme = page.page.evaluate("() => document.documentElement.dataset.theme")
        assert theme == "dark", f"{path}: the page did not switch to dark mode (data-theme={theme!r})"
    violations = axe_violations(page.page)
    failing = [v for v in violations if v["impact"] in AXE_FAILING_IMPACTS]
    assert not failing, f"{path} ({mode} mode): {len(failing)} serious/critical axe violation(s): " \
                        f"{_format_violations(failing)}"


# --------------------------------------------------------------------------- #
# Built-in search, offline
# --------------------------------------------------------------------------- #
SEARCH_TERMS = {"WordPiece": "chapters/03_bert", "biLM": "chapters/02_elmo", "GloVe": "chapters/01_static_vs_contextual"}


@pytest.mark.parametrize("term", sorted(SEARCH_TERMS))
def test_search_finds_chapter_terms_offline(browser, server, term):
    want = SEARCH_TERMS[term]
    if not (SITE / f"{want}.html").is_file():
        pytest.skip(f"{want} is not in this build")
    page = LoadedPage(browser, server, f"search.html?q={term}")
    try:
        page.page.wait_for_selector("#search-results ul.search li a", timeout=RENDER_TIMEOUT_MS)
        hrefs = page.page.eval_on_selector_all("#search-results ul.search li a",
                                               "els => els.map(a => a.getAttribute('href'))")
        assert any(h.split("#")[0].split("?")[0].removesuffix(".html") == want for h in hrefs), (
            f"searching {term!r} did not find {want}: {hrefs[:8]}")
        assert not page.blocked, f"the search tried to reach the network: {page.blocked}"
    finally:
        page.close()
