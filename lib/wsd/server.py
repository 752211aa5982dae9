"""The WSD system over HTTP, on this machine only (127.0.0.1), with FastAPI and uvicorn.

Start it with ``python -m ctxembed.wsd serve [--port 8765]``. Endpoints:

- ``GET /health`` -> ``{"status": "ok", "model": ..., "words": <words fitted so far>}``
- ``POST /disambiguate`` with JSON ``{"sentence": ..., "word": ..., "occurrence": 0}``
  (or ``GET /disambiguate?sentence=...&word=...``) -> the prediction: ``sense``,
  ``gloss``, ``confidence``, ``similarity``, ``unknown``, ``alternatives``.

Bad requests get a JSON ``{"error": "..."}`` that says what to do: 400 for an empty
sentence or a word the sentence does not contain, 404 for a word with no senses, 422
for a malformed body.

Example
-------
>>> import json, urllib.request
>>> body = json.dumps({"sentence": "The bark of the oak.", "word": "bark"}).encode()
>>> req = urllib.request.Request("http://127.0.0.1:8765/disambiguate", body,
...                              {"Content-Type": "application/json"})
>>> json.load(urllib.request.urlopen(req))["sense"]   # once the server runs  # doctest: +SKIP
'bark.n.01'
"""

# No ``from __future__ import annotations`` here: FastAPI reads the request model from the
# endpoint's annotation, which must be the class itself, not a string.
import ipaddress

from ..core.errors import UnknownWordError

DEFAULT_PORT = 8765
LOOPBACK = "127.0.0.1"


def _import_fastapi():
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "The HTTP service needs FastAPI and uvicorn: pip install 'ctxembed-course[serve]' "
            "(the course's set-up installs them)."
        ) from exc


def create_app(system=None):
    """The FastAPI application answering with ``system`` (default :func:`default_system`)."""
    _import_fastapi()
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field

    from .wordnet_system import default_system

    wsd = system if system is not None else default_system()
    app = FastAPI(title="ctxembed word-sense disambiguation",
                  description="Which WordNet sense of a word does a sentence use?")

    class Query(BaseModel):
        sentence: str = Field(..., description="the sentence the word is used in")
        word: str = Field(..., description="the word, as written in the sentence")
        occurrence: int = Field(0, description="which occurrence when it repeats (0 = first)")

    def answer(q: Query):
        try:
            return wsd.disambiguate(q.sentence, q.word, q.occurrence).to_dict()
        except UnknownWordError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except (ValueError, TypeError, LookupError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
                             for e in exc.errors())
        return JSONResponse({"error": f"Malformed request ({problems}). Send JSON like "
                                      '{"sentence": "The dog\'s bark woke us.", "word": "bark"}.'},
                            status_code=422)

    @app.get("/health")
    def health():
        enc_name = getattr(wsd.encoder, "name", wsd.encoder) or "all-MiniLM-L6-v2"
        return {"status": "ok", "model": str(enc_name), "method": wsd.method,
                "words": len(wsd.words_)}

    @app.post("/disambiguate")
    def disambiguate_post(q: Query):
        return answer(q)

    @app.get("/disambiguate")
    def disambiguate_get(sentence: str, word: str, occurrence: int = 0):
        return answer(Query(sentence=sentence, word=word, occurrence=occurrence))

    return app


def check_loopback(host: str) -> str:
    """``host`` if it is a loopback address; otherwise a clear error (the service is local only)."""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"Refusing to listen on {host!r}: the WSD service binds this machine's "
                         f"loopback interface only (use {LOOPBACK}).")
    return host


def check_port(port) -> int:
    """``port`` if it is a TCP port number (0 lets the system pick a free one); otherwise a
    clear error."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"Port {port!r} is not a TCP port: use a number from 1024 to 65535 "
                         f"(default {DEFAULT_PORT}).")
    return port


def make_server(system=None, *, host: str = LOOPBACK, port: int = DEFAULT_PORT):
    """A ``uvicorn.Server`` for the app (not started): ``server.run()`` or run it in a thread.

    Raises ValueError for a host that is not a loopback address, before anything else is done.
    """
    host, port = check_loopback(host), check_port(port)
    _import_fastapi()
    import uvicorn

    config = uvicorn.Config(create_app(system), host=host, port=port, log_level="warning",
                            access_log=False)
    return uvicorn.Server(config)


def serve(system=None, *, host: str = LOOPBACK, port: int = DEFAULT_PORT) -> None:
    """Answer on ``http://127.0.0.1:<port>`` until interrupted (loopback hosts only)."""
    server = make_server(system, host=host, port=port)
    host, port = server.config.host, server.config.port
    print(f"ctxembed WSD service on http://{host}:{port}  (POST /disambiguate, GET /health; "
          "Ctrl-C stops)", flush=True)
    server.run()
