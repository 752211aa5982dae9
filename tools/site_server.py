"""Serve a built site over HTTP from 127.0.0.1, and the Chromium that reads it offline.

One server for every reader of the built site: the PDF printer (``tools/build_pdf.py``), the
browser checks (``tests/test_site.py``), the link check (``tests/test_site_build.py``) and
Lighthouse (``benchmarks/bench_site.py``, gzipped as GitHub Pages serves it); and one
Chromium command line for the three that drive a browser.
The files are read by this process, as the user running it, so the folder may be private
(mode 0700) to that user; a client that drops a response half-read (a browser cancelling a
lazy image, LinkChecker skipping a file it does not parse) is no error.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

# Debian's chromium (tools/setup.sh installs it), or the browser CTXEMBED_CHROMIUM names
CHROMIUM = os.environ.get("CTXEMBED_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-pings",
    # Networking off beyond the local server: no other host name resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request, and ignores clients that hang up."""

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().copyfile(source, outputfile)


@contextlib.contextmanager
def serve_folder(folder: Path, handler: type[QuietHandler] = QuietHandler) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) from a thread of this process; yield its URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


COMPRESSIBLE = {".html", ".js", ".css", ".json", ".svg", ".txt", ".map", ".ipynb", ".md"}


class GzipHandler(QuietHandler):
    """Text files gzipped when the client accepts it, as GitHub Pages serves them (what a
    page weighs on the wire, for Lighthouse)."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if (path.suffix not in COMPRESSIBLE or not path.is_file()
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return io.BytesIO(body)
