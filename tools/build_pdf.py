#!/usr/bin/env python
"""Print the built site to PDF: one file per page, and the whole book as one file.

Each page of the table of contents (in its order; pages a build left out are skipped) is
opened in headless Chromium from a server on 127.0.0.1, scrolled through so that the lazily
loaded formulas and explorers render, and printed with the theme's print style (no sidebars,
A4, page numbers in the footer). The pages are then joined with pypdf into
``pdf/contextual-embeddings.pdf``, with one bookmark per page. Everything is written into the
site (``_build/html/pdf/``), so the landing page's links to the PDFs work wherever the site is
served.

Usage::

    .venv/bin/python tools/build_pdf.py                # _build/html
    .venv/bin/python tools/build_pdf.py --site _build/student/html

``tools/build.sh`` runs it after every build; it prints the page count and the time taken.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))      # the site's Sphinx extension names the PDF's files
from ctxembed_site import BOOK_PDF, PDF_FOLDER, pdf_file_name

sys.path.insert(0, str(ROOT / "tools"))
from site_server import CHROMIUM, CHROMIUM_ARGS, serve_folder

FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="title"></span> &middot; <span class="pageNumber"></span></div>')


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every page of ``_toc.yml``, the landing page first, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [entry["file"] for entry in part.get("chapters", [])]
    return pages


SCROLL_THROUGH = """async () => {
  if (window.ctxembedLoadMathJax) {            // the site loads MathJax when maths come near
    await window.ctxembedLoadMathJax();
  }
  const step = Math.max(200, Math.floor(window.innerHeight * 0.8));
  for (let y = 0; y < document.body.scrollHeight; y += step) {
    window.scrollTo(0, y);
    await new Promise(r => setTimeout(r, 60));
  }
  window.scrollTo(0, 0);
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
}"""


def print_pages(site: Path, pages: list[str], out: Path) -> list[tuple[str, Path]]:
    """Print each built page to ``out/<name>.pdf``; returns (title, file) in order."""
    from playwright.sync_api import sync_playwright

    printed = []
    with serve_folder(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        for doc in pages:
            if not (site / f"{doc}.html").is_file():
                continue                      # left out of this build (the student build)
            page.goto(f"{base}/{doc}.html", wait_until="load")
            page.evaluate(SCROLL_THROUGH)
            page.wait_for_load_state("networkidle")
            page.emulate_media(media="print")
            target = out / pdf_file_name(doc)
            page.pdf(path=str(target), format="A4", print_background=True,
                     display_header_footer=True, header_template="<span></span>",
                     footer_template=FOOTER,
                     margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
            printed.append((page.title().split("—")[0].split(" | ")[0].strip(), target))
        browser.close()
    return printed


def join(printed: list[tuple[str, Path]], target: Path) -> int:
    """One PDF of every printed page, a bookmark per page; returns its page count."""
    writer = PdfWriter()
    for title, path in printed:
        start = len(writer.pages)
        writer.append(PdfReader(str(path)))
        writer.add_outline_item(title=title, page_number=start)
    writer.add_metadata({"/Title": "Contextual Word Embeddings",
                         "/Author": "The ctxembed course team"})
    with open(target, "wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    args = ap.parse_args(argv)
    if not (args.site / "index.html").is_file():
        raise SystemExit(f"build_pdf: no site in {args.site}: run tools/build.sh first")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"build_pdf: no Chromium at {CHROMIUM}: run tools/setup.sh (it "
                         f"installs Debian's chromium) or set CTXEMBED_CHROMIUM")
    start = time.perf_counter()
    out = args.site / PDF_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.pdf"):
        old.unlink()
    printed = print_pages(args.site, toc_pages(), out)
    pages = join(printed, out / BOOK_PDF)
    print(f"[pdf] {len(printed)} pages printed, {out / BOOK_PDF}: {pages} PDF pages, "
          f"{(out / BOOK_PDF).stat().st_size / 1e6:.1f} MB, in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
