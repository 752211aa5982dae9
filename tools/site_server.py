"""Serve a built site over HTTP from 127.0.0.1, for the tools and tests that load its pages.

One server for every reader of the built site: the PDF printer (``tools/build_pdf.py``), the
browser checks (``tests/test_site.py``) and the link check (``tests/test_site_build.py``).
The files are read by this process, as the user running it, so the folder may be private
(mode 0700) to that user; a client that drops a response half-read (a browser cancelling a
lazy image, LinkChecker skipping a file it does not parse) is no error.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path


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
