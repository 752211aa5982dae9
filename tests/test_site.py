"""Checks of the built site in headless Chromium, with networking off.

What a reader of the static site relies on, for every chapter page in
``_build/html/chapters/``:

- its figures are there and load (every ``<img>`` decoded, ``naturalWidth > 0``);
- no cell shows an error (traceback, ``Error displaying widget``);
- every embedded widget renders, with the widget JavaScript served by the site
  itself: no request leaves the local server (CDNs, fonts, analytics...);
- every explorer's controls work without a kernel: choosing another option in a
  Dropdown or moving a slider changes what the explorer shows, and its figures load;
- the Binder and Colab launch buttons open the paired ``.ipynb``, not the ``.md``;
- on a phone's screen (390 x 844) no page scrolls sideways and no control is too small to tap.

The pages are served by ``http.server`` on 127.0.0.1 (random port). Every request
to anything else is aborted and recorded, and Chromium's resolver maps every other
host to nothing, so the pages see no network at all.

Every explorer of every executed page (chapters, exercises, solutions) is found in the
build itself, from each page's saved widget state: the explorer checks run on exactly the
pages whose explorers have controls, every control of every explorer is used through each
of its options (and each pair of an explorer's controls through every combination of the
second's options with the first's), and after each choice the view must change and its
figures load.

Needs the built site (``tools/build.sh``), Debian's ``chromium`` and axe-core
(``tools/setup.sh --browser``); a test fails, saying how to get what is missing.
``CTXEMBED_SITE=/path/to/html`` checks another build (used to develop these tests).
A control that deliberately needs a live kernel can be exempted by giving it the
DOM class ``kernel-only`` (``widget.add_class("kernel-only")``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from ctxembed_site import first_view_html

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from site_server import CHROMIUM, CHROMIUM_ARGS, serve_folder

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the browser fixture fails, saying how to install it
    PlaywrightTimeout = TimeoutError

pytestmark = pytest.mark.book

REPO = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("CTXEMBED_SITE", REPO / "_build" / "html"))
RENDER_TIMEOUT_MS = 20_000
# How long a view may take to change after a control is used, before the control counts as dead.
VIEW_CHANGE_TIMEOUT_MS = 3_000

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


def _need_site() -> None:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: build it first with `bash tools/build.sh`")
    if not CHAPTER_PAGES:
        pytest.fail(f"the built site {SITE} has no chapter pages in chapters/")


# --------------------------------------------------------------------------- #
# The explorers of a built page, from its saved widget state
# --------------------------------------------------------------------------- #
# Widget models a reader operates, by ipywidgets model name: those the checks know how to use,
# and the others, which fail the explorer check until it learns them (so none escapes it).
USABLE_CONTROLS = {"DropdownModel": "dropdown", "IntSliderModel": "slider",
                   "FloatSliderModel": "slider", "SelectionSliderModel": "slider"}
OTHER_CONTROLS = {"SelectModel", "RadioButtonsModel", "ToggleButtonsModel", "ToggleButtonModel",
                  "CheckboxModel", "ButtonModel", "SelectMultipleModel", "IntRangeSliderModel",
                  "FloatRangeSliderModel", "FloatLogSliderModel", "SelectionRangeSliderModel",
                  "TextModel", "IntTextModel", "FloatTextModel", "BoundedIntTextModel",
                  "BoundedFloatTextModel", "ComboboxModel", "TagsInputModel", "PlayModel"}
STATE_SCRIPT = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.DOTALL)
VIEW_SCRIPT = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', re.DOTALL)


def control_key(kind: str, description: str, positions: list[str]) -> str:
    """How a control is recognised both in the saved state and on the rendered page: its kind,
    its label and, for a dropdown, its options."""
    return json.dumps([kind, description.strip(), positions])


def explorer_controls(html: str) -> list[list[dict]]:
    """For each widget view of a built page (in page order), the controls it shows a reader.

    Read from the page's saved widget state: the controls reachable from the view's model
    through its containers' children (a Stack's too), except those with the DOM class
    ``kernel-only`` (and inside such a container). Each control: ``{"model": name,
    "kind": "dropdown" | "slider" | None (a control the checks cannot use), "key": ...}``.
    """
    states = STATE_SCRIPT.findall(html)
    models: dict = {}
    for state in states:
        models.update(json.loads(state)["state"])
    explorers = []
    for view in VIEW_SCRIPT.findall(html):
        found, todo, seen = [], [json.loads(view)["model_id"]], set()
        while todo:
            model_id = todo.pop(0)
            if model_id in seen or model_id not in models:
                continue
            seen.add(model_id)
            name, state = models[model_id]["model_name"], models[model_id]["state"]
            if "kernel-only" in state.get("_dom_classes", []):
                continue
            if name in USABLE_CONTROLS or name in OTHER_CONTROLS:
                kind = USABLE_CONTROLS.get(name)
                positions = list(state.get("_options_labels", [])) if kind == "dropdown" else []
                found.append({"model": name, "kind": kind,
                              "key": control_key(kind or name, state.get("description", ""), positions)})
            todo += [c.removeprefix("IPY_MODEL_") for c in state.get("children", [])
                     if isinstance(c, str)]
        explorers.append(found)
    return explorers


def _explorer_pages() -> dict[str, list[list[dict]]]:
    """The executed pages with at least one explorer control: {page: explorer_controls}."""
    pages = {}
    for path in CHAPTER_PAGES:
        explorers = explorer_controls((SITE / path).read_text(encoding="utf-8"))
        if any(explorers):
            pages[path] = explorers
    return pages


EXPLORERS = _explorer_pages()
EXPLORER_PAGES = sorted(EXPLORERS)
NO_EXPLORER_PAGE = "(no page with an explorer in the build)"


# --------------------------------------------------------------------------- #
# Local server and browser
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def server():
    _need_site()
    with serve_folder(SITE) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    _need_site()
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} not found: install it with `bash tools/setup.sh --browser` "
                    "(Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[dev]'")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class LoadedPage:
    """A page loaded with every non-local request blocked and recorded."""

    def __init__(self, browser, server: str, path: str, *, dark: bool = False,
                 body: str | None = None, phone: bool = False):
        """``body``: the HTML to serve for ``path`` instead of the file (a page made by a test);
        ``phone``: a phone's screen (:data:`PHONE`, touch, mobile layout) instead of a desktop's."""
        self.path = path
        self.blocked: list[str] = []      # requests that tried to leave the local server
        self.failed: list[str] = []       # local requests that failed or returned >= 400
        self.page_errors: list[str] = []  # uncaught JavaScript exceptions
        self.console_errors: list[str] = []
        screen = ({"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
                  if phone else {"viewport": {"width": 1280, "height": 900}})
        self.context = browser.new_context(service_workers="block", **screen,
                                           color_scheme="dark" if dark else "light")
        if dark:  # the reader's system prefers dark, and the theme's switch was set to dark
            self.context.add_init_script("try { localStorage.setItem('mode', 'dark');"
                                         " localStorage.setItem('theme', 'dark'); } catch (e) {}")
        self.page = self.context.new_page()
        origin = urlparse(server).netloc

        def route(r):
            url = r.request.url
            if body is not None and url == f"{server}/{path}":
                r.fulfill(body=body, content_type="text/html; charset=utf-8")
            elif urlparse(url).netloc == origin:
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
            except PlaywrightTimeout:  # the tests report what is missing
                self.render_timeout = True
            self.page.wait_for_timeout(500)  # let the other views and their images settle

    def wait_for_every_view(self) -> str | None:
        """Wait until every widget view of the page has rendered; what is missing, or None."""
        try:
            self.page.wait_for_function(
                """() => Array.from(document.querySelectorAll(
                       'script[type="application/vnd.jupyter.widget-view+json"]'))
                     .every(s => s.previousElementSibling?.classList.contains('widget-subarea')
                                 && s.previousElementSibling.querySelector('.jupyter-widgets'))""",
                timeout=RENDER_TIMEOUT_MS)
        except PlaywrightTimeout:
            return (f"{self.path}: not every widget view rendered within "
                    f"{RENDER_TIMEOUT_MS // 1000} s. {_describe(self)}")
        return None

    def close(self):
        self.context.close()


def _loaded_pages(browser, server, **kind):
    """A loader of pages of one kind (desktop, dark, phone), each loaded once per module;
    yields ``get(path)`` and closes them all at the end."""
    loaded: dict[str, LoadedPage] = {}

    def get(path: str) -> LoadedPage:
        if path not in loaded:
            loaded[path] = LoadedPage(browser, server, path, **kind)
        return loaded[path]

    yield get
    for p in loaded.values():
        p.close()


@pytest.fixture(scope="module")
def pages(browser, server):
    """Each page loaded once per test module (loading is the slow part)."""
    yield from _loaded_pages(browser, server)


# --------------------------------------------------------------------------- #
# JavaScript helpers run in the page
# --------------------------------------------------------------------------- #
# Explorer views load lazily (loading="lazy"): as a reader does, bring each image into view
# and give it up to 5 s to load before judging it.
IMAGES_JS = """
async () => {
    // an explorer's still (its first view before the widget renders) is hidden once the
    // widget is there, and a hidden lazy image never loads: the still has its own test
    const imgs = Array.from(document.querySelectorAll('main img, article img, .bd-article img'))
        .filter(img => !(img.closest('.explorer-still') && !img.checkVisibility()));
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

# What an explorer shows, except its controls: the visible text, image sources and canvases
# under its root, so using a control that switches nothing does not count as a change.
VIEW_SIGNATURE_JS = """
(root, controlSelector) => {
    const parts = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
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

# The visible dropdowns and sliders under an explorer's root, in page order, except those
# marked kernel-only; each element is tagged with an id that lasts as long as the element.
LIST_CONTROLS_JS = """
(root) => {
    window.__ctxControlCount = window.__ctxControlCount || 0;
    const found = [];
    for (const el of root.querySelectorAll('.widget-dropdown select, .widget-slider .noUi-handle')) {
        if (el.closest('.kernel-only') || !el.checkVisibility()) continue;
        if (!el.dataset.ctxControl) el.dataset.ctxControl = String(++window.__ctxControlCount);
        const box = el.closest('.widget-dropdown, .widget-slider');
        const label = box.querySelector('.widget-label');
        const description = label ? label.textContent : '';
        if (el.tagName === 'SELECT') {
            found.push({id: el.dataset.ctxControl, kind: 'dropdown', description,
                        positions: Array.from(el.options).map(o => decodeURIComponent(o.dataset.value)),
                        index: el.selectedIndex});
        } else {
            found.push({id: el.dataset.ctxControl, kind: 'slider', description, positions: [],
                        index: Number(el.getAttribute('aria-valuenow'))});
        }
    }
    return found;
}
"""

# The visible images under an explorer's root that did not load (each brought into view and
# given up to 5 s first: the views are loaded lazily).
BROKEN_IMAGES_JS = """
async (root) => {
    const imgs = Array.from(root.querySelectorAll('img')).filter(img => img.checkVisibility());
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
    return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
               .map(img => (img.currentSrc || img.getAttribute('src') || '').slice(0, 100));
}
"""

# Each control is used through all its options; while one option of a control is chosen, the
# controls after it (those nested in its view and its later siblings) are used through all
# theirs too: every pair of an explorer's controls, not every combination of three or more.
MAX_NESTING = 1


class ExplorerRun:
    """Uses every control of one rendered explorer, as a reader would, and records what fails.

    ``root`` is the explorer's rendered element (the ``div.widget-subarea`` that html-manager
    puts before the view's ``<script>``). After each choice the explorer's view must change
    within ``VIEW_CHANGE_TIMEOUT_MS`` and every image it shows must load.
    """

    def __init__(self, page, root, name: str):
        self.page, self.root, self.name = page, root, name
        self.used: set[str] = set()     # control_key of every control used
        self.choices = 0
        self.dead: list[str] = []
        self.broken_images: list[str] = []

    def run(self) -> ExplorerRun:
        self._walk(after=None, depth=0, context="")
        return self

    def _controls(self) -> list[dict]:
        return self.root.evaluate(LIST_CONTROLS_JS)

    def _signature(self) -> str:
        return self.root.evaluate(VIEW_SIGNATURE_JS, CONTROL_SELECTOR)

    def _walk(self, after: str | None, depth: int, context: str) -> None:
        """Use the controls after the one with id ``after`` (all when None), in page order."""
        done = 0
        while True:
            controls = self._controls()
            ids = [c["id"] for c in controls]
            if after is not None:
                controls = controls[ids.index(after) + 1:] if after in ids else []
            if done >= len(controls):
                return
            self._cycle(controls[done], depth, context)
            done += 1

    def _cycle(self, control: dict, depth: int, context: str) -> None:
        """Use ``control`` through all its positions and back to where it was; ``context``
        says which choices of other controls hold meanwhile."""
        self.used.add(control_key(control["kind"], control["description"], control["positions"]))
        name = control["description"].strip() or control["kind"]
        if control["kind"] == "dropdown":
            start, n = control["index"], len(control["positions"])
            for k in range(1, n + 1) if n > 1 else ():
                target = (start + k) % n
                what = f"{name} = {control['positions'][target][:60]!r}"
                if not self._use(control, lambda el, i=target: el.select_option(index=i),
                                 context + what):
                    self._element(control).select_option(index=start)
                    return
                if depth < MAX_NESTING and target != start:
                    self._walk(after=control["id"], depth=depth + 1, context=f"{context}{what}, then ")
            return
        # A slider, by keyboard: up to its maximum, down to its minimum, up to where it started.
        start = control["index"]
        for key, bound, stop in (("ArrowRight", "aria-valuemax", None),
                                 ("ArrowLeft", "aria-valuemin", None),
                                 ("ArrowRight", "aria-valuemax", start)):
            while True:
                value = float(self._element(control).get_attribute("aria-valuenow"))
                if value == float(self._element(control).get_attribute(bound)) or value == stop:
                    break
                what = f"{name} moved from {value}"
                if not self._use(control, lambda el, k=key: el.press(k), context + what):
                    return
                now = float(self._element(control).get_attribute("aria-valuenow"))
                if depth < MAX_NESTING and not (stop is not None and now == start):
                    self._walk(after=control["id"], depth=depth + 1,
                               context=f"{context}{name} = {now:g}, then ")

    def _element(self, control: dict):
        return self.root.query_selector(f'[data-ctx-control="{control["id"]}"]')

    def _use(self, control: dict, act, what: str) -> bool:
        """Act on the control; False (and a record of it) when the view did not change."""
        before = self._signature()
        act(self._element(control))
        self.choices += 1
        try:
            self.page.wait_for_function(
                f"([root, before, selector]) => ({VIEW_SIGNATURE_JS})(root, selector) !== before",
                arg=[self.root, before, CONTROL_SELECTOR], timeout=VIEW_CHANGE_TIMEOUT_MS)
        except PlaywrightTimeout:
            self.dead.append(f"{self.name}: {what} changed nothing")
            return False
        self.broken_images += [f"{self.name}, {what}: {src}"
                               for src in self.root.evaluate(BROKEN_IMAGES_JS)]
        return True


def _describe(page: LoadedPage) -> str:
    return (f"blocked requests: {page.blocked[:5]}; failed local requests: {page.failed[:5]}; "
            f"page errors: {page.page_errors[:3]}; console errors: {page.console_errors[:3]}")


def check_explorers(page: LoadedPage, explorers: list[list[dict]]) -> tuple[list[str], list]:
    """Use every control of every explorer of a loaded page (:class:`ExplorerRun`).

    ``explorers``: :func:`explorer_controls` of the page's HTML. Returns the problems found and
    the runs. Every control the saved state puts in an explorer must have been used.
    """
    problems = []
    missing_views = page.wait_for_every_view()
    if missing_views:
        problems.append(missing_views)
    scripts = page.page.query_selector_all('script[type="application/vnd.jupyter.widget-view+json"]')
    if len(scripts) != len(explorers):
        problems.append(f"{len(scripts)} widget views on the page, {len(explorers)} in its HTML")
    runs = []
    for number, (script, controls) in enumerate(zip(scripts, explorers), start=1):
        if not controls:
            continue
        first = json.loads(controls[0]["key"])[1] or controls[0]["model"]
        name = f"explorer {number} ({first!r}...)"
        unusable = sorted({c["model"] for c in controls if c["kind"] is None})
        if unusable:
            problems.append(f"{name} has controls the check does not know how to use: {unusable} "
                            "(teach ExplorerRun, tests/test_site.py)")
            continue
        root = script.evaluate_handle(
            "s => s.previousElementSibling?.classList.contains('widget-subarea')"
            " ? s.previousElementSibling : null").as_element()
        if root is None:
            problems.append(f"{name} did not render")
            continue
        root.scroll_into_view_if_needed()
        run = ExplorerRun(page.page, root, name).run()
        runs.append(run)
        problems += run.dead + [f"an image did not load: {b}" for b in run.broken_images]
        unused = [json.loads(k)[:2] for k in sorted({c["key"] for c in controls} - run.used)]
        if unused:
            problems.append(f"{name}: controls in the saved state that were never shown or used: "
                            f"{unused[:5]}")
    return problems, runs


# --------------------------------------------------------------------------- #
# The tests
# --------------------------------------------------------------------------- #
# A call that makes an explorer, in a code line (not a comment) of a page's source.
EXPLORER_CALL = re.compile(r"^[^#\n]*\b(view_switcher|linked_stack|\w+_explorer)\(", re.MULTILINE)


def _source_code(page: str) -> str:
    """The code cells of the source of a built page (``chapters/x.html``: ``chapters/x.md``)."""
    stem = REPO / Path(page).with_suffix("")
    md, nb = stem.with_suffix(".md"), stem.with_suffix(".ipynb")
    if md.is_file():
        return "\n".join(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", md.read_text(encoding="utf-8"),
                                    re.DOTALL))
    if nb.is_file():
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return ""


def test_every_page_whose_code_makes_an_explorer_has_one_in_the_build():
    """The explorer checks run on the pages found in the build; none may be missing from it."""
    _need_site()
    assert EXPLORER_PAGES, (f"no page of the build {SITE} has an explorer with a control in its "
                            "saved widget state: were the chapters executed with their explorers?")
    making = [p for p in CHAPTER_PAGES if EXPLORER_CALL.search(_source_code(p))]
    assert any(p.startswith("chapters/") for p in making), "no chapter's code makes an explorer?"
    missing = sorted(set(making) - set(EXPLORER_PAGES))
    assert not missing, (f"these pages' code makes an explorer, but their built page has no "
                         f"explorer control in its saved widget state: {missing}")


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


@pytest.mark.parametrize("path", EXPLORER_PAGES or [NO_EXPLORER_PAGE])
def test_explorers_show_their_first_view_without_javascript_and_hide_it_once_rendered(
        browser, server, pages, path):
    """Before the widget JavaScript loads (a phone loads it when an explorer comes near the
    screen), or without JavaScript at all, each explorer shows its first view as plain HTML:
    its figures load and its text is there; once the widget renders, the still is hidden."""
    assert path != NO_EXPLORER_PAGE, "no page with an explorer in the build"
    html = (SITE / path).read_text(encoding="utf-8")
    state = json.loads(re.search(r'<script type="application/vnd\.jupyter\.widget-state\+json">'
                                 r"(.*?)</script>", html, re.DOTALL).group(1))["state"]
    views = [json.loads(v)["model_id"] for v in re.findall(
        r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', html, re.DOTALL)]
    # the views that are explorers (a Stack of views; not, e.g., a training progress bar)
    expected = [first_view_html(state, v) is not None for v in views]
    assert any(expected), f"{path}: no explorer among the page's widgets"
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(f"{server}/{path}", wait_until="load")
        stills = page.evaluate("""async () => {
            const out = [];
            for (const s of document.querySelectorAll(
                     'script[type="application/vnd.jupyter.widget-view+json"]')) {
              const still = s.previousElementSibling;
              if (!still || !still.classList.contains('explorer-still')) { out.push(null); continue; }
              still.scrollIntoView();
              const imgs = [...still.querySelectorAll('img')];
              for (const i of imgs) { i.loading = 'eager'; try { await i.decode(); } catch (e) {} }
              out.push({text: still.innerText.trim().length, shown: still.getBoundingClientRect().height > 0,
                        images: imgs.length, loaded: imgs.filter(i => i.naturalWidth > 0).length});
            }
            return out; }""")
    finally:
        context.close()
    assert len(stills) == len(views)
    for k, (still, wanted) in enumerate(zip(stills, expected)):
        if not wanted:
            assert still is None, f"{path}: widget {k + 1} is no explorer but has a still"
            continue
        assert still, f"{path}: explorer {k + 1} has no first view before its widget"
        assert still["shown"] and (still["text"] > 20 or still["images"]), (path, k, still)
        assert still["loaded"] == still["images"], f"{path}: explorer {k + 1}'s still image failed"
    rendered = pages(path)
    assert rendered.wait_for_every_view() is None
    visible = rendered.page.evaluate(
        "() => [...document.querySelectorAll('.explorer-still')]"
        ".filter(e => e.getBoundingClientRect().height > 0).length")
    assert visible == 0, f"{path}: {visible} first view(s) still shown beside the widget"


@pytest.mark.parametrize("path", EXPLORER_PAGES or [NO_EXPLORER_PAGE])
def test_every_explorer_control_changes_the_view_and_its_figures_load(pages, path):
    assert path != NO_EXPLORER_PAGE, (
        f"no page of the build {SITE} has an explorer with a control: build the site with "
        "`bash tools/build.sh` (the chapters' explorers are in their saved widget state)")
    page = pages(path)
    problems, runs = check_explorers(page, EXPLORERS[path])
    print(f"\n{path}: {len(runs)} explorer(s), {sum(len(r.used) for r in runs)} controls, "
          f"{sum(r.choices for r in runs)} choices made")
    advice = ("Link each control client-side (widgets.jslink to a Stack of precomputed views, "
              "ctxembed.viz.explorers.linked_stack), or mark a control that needs a live kernel "
              "with .add_class('kernel-only').")
    assert not problems, (
        f"{path}: {len(problems)} problem(s) using the explorers on the static page: {problems[:8]}"
        + (f". {advice}" if any(p.endswith("changed nothing") for p in problems) else ""))
    assert not page.page_errors, f"{path}: JavaScript errors: {page.page_errors}"
    assert not page.blocked, f"{path}: using the controls tried to reach the network: {page.blocked}"
    assert not page.failed, f"{path}: using the controls made local requests fail: {page.failed}"


def _widget_page(views) -> str:
    """A page like a built chapter's, showing ``views`` (ipywidgets) with the site's widget JS."""
    from ipywidgets.embed import embed_data

    data = embed_data(views=views)
    outputs = "".join(
        '<div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">'
        f"{json.dumps(spec)}</script></div>" for spec in data["view_specs"])
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>explorers</title>"
            '<script type="application/vnd.jupyter.widget-state+json">'
            f"{json.dumps(data['manager_state'])}</script></head>"
            f"<body><main>{outputs}</main>"
            '<script src="../_static/widgets/lazy.js"></script></body></html>')


def test_the_explorer_check_finds_a_control_that_changes_nothing(browser, server):
    """On a page made here: a dropdown and a slider linked to their views pass (through every
    option and position), a dropdown not linked to its views is reported, and nothing else."""
    import ipywidgets as widgets

    from ctxembed.viz.explorers import linked_stack

    def views(label: str, n: int) -> list:
        return [widgets.HTML(f"<p>{label}: view {i}</p>") for i in range(n)]

    linked = widgets.Dropdown(options=["a", "b", "c"], description="linked")
    slider = widgets.IntSlider(min=0, max=2, description="slider")
    unlinked = widgets.Dropdown(options=["x", "y"], description="unlinked")
    html = _widget_page([
        widgets.VBox([linked, linked_stack(linked, views("linked", 3))]),
        widgets.VBox([slider, linked_stack(slider, views("slider", 3))]),
        widgets.VBox([unlinked, widgets.Stack(views("unlinked", 2), selected_index=0)]),
    ])
    explorers = explorer_controls(html)
    assert [[c["kind"] for c in e] for e in explorers] == [["dropdown"], ["slider"], ["dropdown"]]
    page = LoadedPage(browser, server, "chapters/explorer-check.html", body=html)
    try:
        problems, runs = check_explorers(page, explorers)
    finally:
        page.close()
    assert problems == ["explorer 3 ('unlinked'...): unlinked = 'y' changed nothing"], problems
    assert [r.choices for r in runs] == [3, 4, 1], "a, b, c; 0 to 2 and back; x to y"


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
PHONE = {"width": 390, "height": 844}     # a common phone's CSS viewport
# The elements that stick out past the screen and are not inside a box that scrolls or clips:
# what to fix when a page is wider than a phone.
WIDER_THAN_SCREEN = """(W) => { const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 1) continue;
    let a = e.parentElement, inside = false;
    for (; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (['auto', 'scroll', 'hidden', 'clip'].includes(o) && a.getBoundingClientRect().right <= W + 1) {
        inside = true; break; }
    }
    if (!inside) out.push(`${e.tagName.toLowerCase()}.${e.className} "${(e.textContent || '').trim().slice(0, 40)}"`);
  }
  return out.slice(0, 5); }"""
# What fails the check: axe's two worst impact levels (moderate/minor ones are reported only).
AXE_FAILING_IMPACTS = ("serious", "critical")


def _all_pages() -> list[str]:
    """Every content page of the site: the landing page, chapters, exercises, solutions, about."""
    skip = {"genindex.html", "search.html", "py-modindex.html"}
    pages = [p.name for p in SITE.glob("*.html") if p.name not in skip]
    return sorted(set(pages) | set(CHAPTER_PAGES))


ALL_PAGES = _all_pages() if SITE.is_dir() else []


def axe_violations(page, rules: list[str] | None = None) -> list[dict]:
    """axe-core's violations on a loaded playwright page: [{id, impact, help, nodes: [target]}].

    ``rules``: run only these axe rules (default: axe's default set)."""
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `bash tools/setup.sh --browser` "
                    "(npm ci in tools/site-checks)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    result = page.evaluate(
        """async (options) => {
            const r = await axe.run(document, options);
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}));
        }""", options)
    return result


@pytest.fixture(scope="module")
def dark_pages(browser, server):
    yield from _loaded_pages(browser, server, dark=True)


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
# Phones: no sideways scrolling, tap targets big enough
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def phone_pages(browser, server):
    yield from _loaded_pages(browser, server, phone=True)


@pytest.mark.parametrize("path", ALL_PAGES or ["(no pages)"])
def test_phone_screen_needs_no_sideways_scrolling_and_targets_are_tappable(phone_pages, path):
    """On a 390 x 844 phone the page is no wider than the screen (wide code and tables scroll
    inside their own boxes), and axe's WCAG 2.2 target-size rule (at least 24 x 24 CSS px, or
    enough space around) finds no control too small to tap, widgets rendered included."""
    page = phone_pages(path)
    if page.widget_views:
        assert page.wait_for_every_view() is None
    width = page.page.evaluate("() => document.documentElement.scrollWidth")
    wide = page.page.evaluate(WIDER_THAN_SCREEN, PHONE["width"])
    assert width <= PHONE["width"], f"{path}: the page is {width} px wide on a " \
                                    f"{PHONE['width']} px phone; too wide: {wide}"
    small = axe_violations(page.page, rules=["target-size"])
    assert not small, f"{path}: {_format_violations(small)}"


# Where, in screens from the top, a page's first explorer and first formula are once it has loaded
FIRST_TARGETS = """() => {
  const top = el => el.getBoundingClientRect().top + window.scrollY;
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
    .map(v => top(v.parentElement));
  const maths = [...document.querySelectorAll('.math')].map(top);
  return {widgets: views.length ? Math.min(...views) / innerHeight : null,
          maths: maths.length ? Math.min(...maths) / innerHeight : null};
}"""
# what each loader fetches, and the element that brings it
HEAVY_SCRIPTS = {"widgets": ("_static/widgets/embed-amd.js",
                             'script[type="application/vnd.jupyter.widget-view+json"]'),
                 "maths": ("_static/mathjax/tex-chtml.js", ".math")}
FAR_SCREENS = 3.5      # the loaders start at two screens away; beyond this nothing may load


def test_a_phone_fetches_widgets_and_mathjax_only_when_they_come_near(browser, server):
    """The explorers' JavaScript (1.1 MB) and MathJax (264 kB) are fetched when an explorer or
    a formula comes near a phone's screen: not at all on opening a chapter where they are far
    down, and by the time the reader gets there."""
    far_checked, problems = [], []
    for path in CHAPTER_PAGES:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda r, seen=requested: seen.append(r.url))
        try:
            page.goto(f"{server}/{path}", wait_until="load")
            page.wait_for_timeout(1500)
            where = page.evaluate(FIRST_TARGETS)
            far = [kind for kind in HEAVY_SCRIPTS if where[kind] is not None and where[kind] >= FAR_SCREENS]
            for kind in far:                 # first everything fetched on opening, then scroll
                script = HEAVY_SCRIPTS[kind][0]
                far_checked.append(f"{path} {kind}")
                if any(script in url for url in requested):
                    problems.append(f"{path}: {script} fetched on opening, though the first "
                                    f"{kind} is {where[kind]:.1f} screens down")
            for kind in far:
                script, selector = HEAVY_SCRIPTS[kind]
                if any(script in url for url in requested):
                    continue
                page.locator(selector).first.evaluate(
                    "el => (el.tagName === 'SCRIPT' ? el.parentElement : el).scrollIntoView()")
                try:
                    page.wait_for_event("request", lambda r, s=script: s in r.url, timeout=RENDER_TIMEOUT_MS)
                except Exception:  # noqa: BLE001 - playwright's TimeoutError
                    if not any(script in url for url in requested):
                        problems.append(f"{path}: {script} not fetched when the first {kind} came on screen")
        finally:
            context.close()
    assert far_checked, "no chapter has an explorer or a formula far down: the check checked nothing"
    assert not problems, problems


# --------------------------------------------------------------------------- #
# Built-in search, offline
# --------------------------------------------------------------------------- #
SEARCH_TERMS = {"WordPiece": "chapters/03_bert", "biLM": "chapters/02_elmo", "GloVe": "chapters/01_static_vs_contextual"}


@pytest.mark.parametrize("term", sorted(SEARCH_TERMS))
def test_search_finds_chapter_terms_offline(browser, server, term):
    want = SEARCH_TERMS[term]
    assert (SITE / f"{want}.html").is_file(), f"{want} is not in the build {SITE}"
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
