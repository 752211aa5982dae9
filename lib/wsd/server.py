"""The WSD system over HTTP, on this machine only (127.0.0.1), with FastAPI and uvicorn.

Start it with ``python -m ctxembed.wsd serve [--port 8765]``. Endpoints:

- ``GET /health`` -> ``{"status": "ok", "model": ..., "words": <words fitted so far>,
  "batches": {"forward_passes": ..., "questions": ..., "largest": ...}}``
- ``POST /disambiguate`` with JSON ``{"sentence": ..., "word": ..., "occurrence": 0}``
  (or ``GET /disambiguate?sentence=...&word=...``) -> the prediction: ``sense``,
  ``gloss``, ``confidence``, ``similarity``, ``unknown``, ``alternatives``.

Bad requests get a JSON ``{"error": "..."}`` that says what to do: 400 for an empty
sentence, a word the sentence does not contain or a sentence longer than the encoder
reads (512 word pieces), 404 for a word with no senses, 413 for a body over
:data:`MAX_BODY_BYTES` (checked before the body is read), 422 for a malformed body.

Concurrent questions are answered together: the questions that wait while one batch is
encoded go through the encoder as the next batch, in one forward pass
(:class:`MicroBatcher`; ``batch_window`` adds a wait for more), so throughput grows with
the number of clients while a lone question is not delayed (``make bench`` measures 1, 8
and 32 concurrent clients, with and without it).

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
import asyncio
import ipaddress
import json
from concurrent.futures import ThreadPoolExecutor

from ..core.errors import UnknownWordError

DEFAULT_PORT = 8765
LOOPBACK = "127.0.0.1"
#: Largest request body accepted: a sentence the encoder can read (512 pieces) is a few KB.
MAX_BODY_BYTES = 16 * 1024
#: How long a batch waits for more questions once the waiting ones are taken (0: not at all).
BATCH_WINDOW_S = 0.0
#: Most questions answered in one forward pass (larger batches pad more and hold answers back:
#: at 32 clients a cap of 64 gave fewer requests/s and a p99 three times as long).
MAX_BATCH = 16


class MicroBatcher:
    """Answers concurrent questions in batches: ``await submit(item)`` returns
    ``answer_many([...])``'s result for ``item``.

    A batch is every question waiting when the previous batch is done (up to
    ``max_batch``), plus those that arrive within ``window`` seconds (default 0: none is
    waited for, so a lone question goes at once, and under load the questions that queue
    while one batch runs form the next). Each batch is one ``answer_many`` call, run in a
    worker thread so the event loop keeps accepting requests. If the batch call raises,
    each question is answered alone, so one bad question fails only its own request.
    """

    def __init__(self, answer_many, *, window: float = BATCH_WINDOW_S, max_batch: int = MAX_BATCH):
        self.answer_many, self.window, self.max_batch = answer_many, window, max_batch
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        # one thread runs every batch: torch keeps its thread pool warm for one caller
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wsd-batches")
        self.batch_sizes: list[int] = []

    async def submit(self, item):
        if self._worker is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._serve())
        done = asyncio.get_running_loop().create_future()
        await self._queue.put((item, done))
        return await done

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(0)          # let requests that are ready join
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            deadline = loop.time() + self.window
            while len(batch) < self.max_batch:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), left))
                except TimeoutError:
                    break
            self.batch_sizes.append(len(batch))
            items = [item for item, _ in batch]
            try:
                results = await loop.run_in_executor(self._executor, self.answer_many, items)
            except Exception:   # noqa: BLE001 - answer one by one: each request gets its error
                results = []
                for item in items:
                    try:
                        results.append((await loop.run_in_executor(
                            self._executor, self.answer_many, [item]))[0])
                    except Exception as exc:  # noqa: BLE001 - handed to that request
                        results.append(exc)
            for (_, done), result in zip(batch, results):
                if not done.done():
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)


class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes gets a 413 before the application sees
    it (a stated Content-Length is refused unread; a streamed body when it passes the limit)."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def _refuse(self, send, size: str) -> None:
        body = json.dumps({"error": f"The request body is {size}; the service takes at most "
                                    f"{self.limit:,} bytes. Send one sentence (the encoder "
                                    "reads at most 512 word pieces), not a document."}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        stated = dict(scope.get("headers", ())).get(b"content-length")
        if stated is not None and stated.isdigit() and int(stated) > self.limit:
            return await self._refuse(send, f"{int(stated):,} bytes")
        messages, size = [], 0
        while True:                       # read the body now, within the limit
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                return await self._refuse(send, f"over {self.limit:,} bytes")
            if not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)


def _import_fastapi():
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "The HTTP service needs FastAPI and uvicorn: pip install 'ctxembed-course[serve]' "
            "(the course's set-up installs them)."
        ) from exc


def create_app(system=None, *, batching: bool = True, batch_window: float = BATCH_WINDOW_S,
               max_body: int = MAX_BODY_BYTES):
    """The FastAPI application answering with ``system`` (default :func:`default_system`).

    ``batching=False`` answers each question on its own forward pass; ``batch_window``
    seconds: how long a batch waits for more questions (see :class:`MicroBatcher`).
    """
    _import_fastapi()
    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from ..core.models import load_encoder
    from ..core.words import find_word
    from .wordnet_system import default_system

    wsd = system if system is not None else default_system()
    encoder = load_encoder(wsd.encoder)
    app = FastAPI(title="ctxembed word-sense disambiguation",
                  description="Which WordNet sense of a word does a sentence use?")
    app.add_middleware(BodyLimit, limit=max_body)

    def answer_many(questions):
        sentences, words, occurrences = zip(*questions)
        return wsd.predict_details(list(sentences), list(words), list(occurrences))

    batcher = MicroBatcher(answer_many, window=batch_window) if batching else None
    app.state.batcher = batcher

    class Query(BaseModel):
        sentence: str = Field(..., description="the sentence the word is used in")
        word: str = Field(..., description="the word, as written in the sentence")
        occurrence: int = Field(0, description="which occurrence when it repeats (0 = first)")

    def check(q: Query) -> None:
        """Refuse a question with its own error before it joins a batch (and fit its word)."""
        find_word(q.sentence, q.word, q.occurrence)
        pieces = len(encoder.tokenizer(q.sentence)["input_ids"])
        if pieces > encoder.max_length:
            raise ValueError(f"The sentence is {pieces} word pieces long; the encoder reads at "
                             f"most {encoder.max_length}. Send the sentence the word is used in, "
                             "not the whole text.")
        wsd.lemma_for(q.word)

    known_forms: set[str] = set()      # word forms already fitted: checked without a thread

    async def answer(q: Query):
        try:
            form = q.word.strip().lower()
            if form in known_forms:         # microseconds: no thread hop under load
                check(q)
            else:                           # may fit the word first (a table read or seconds)
                await run_in_threadpool(check, q)
                known_forms.add(form)
            question = (q.sentence, q.word, q.occurrence)
            if batcher is None:
                [prediction] = await run_in_threadpool(answer_many, [question])
            else:
                prediction = await batcher.submit(question)
            return prediction.to_dict()
        except UnknownWordError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except (ValueError, TypeError, LookupError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    example = 'Send JSON like {"sentence": "The dog\'s bark woke us.", "word": "bark"}.'

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
                             for e in exc.errors())
        return JSONResponse({"error": f"Malformed request ({problems}). {example}"},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400:          # a body that is not JSON text (e.g. not UTF-8)
            message = f"The body could not be read as JSON in UTF-8. {example}"
        elif exc.status_code == 404:
            message = "No such endpoint: use POST /disambiguate, GET /disambiguate or GET /health."
        else:
            message = str(exc.detail)
        return JSONResponse({"error": message}, status_code=exc.status_code)

    @app.get("/health")
    def health():
        enc_name = getattr(wsd.encoder, "name", wsd.encoder) or "all-MiniLM-L6-v2"
        batches = None if batcher is None else {
            "forward_passes": len(batcher.batch_sizes), "questions": sum(batcher.batch_sizes),
            "largest": max(batcher.batch_sizes, default=0)}
        return {"status": "ok", "model": str(enc_name), "method": wsd.method,
                "words": len(wsd.words_), "batches": batches}

    @app.post("/disambiguate")
    async def disambiguate_post(q: Query):
        return await answer(q)

    @app.get("/disambiguate")
    async def disambiguate_get(sentence: str, word: str, occurrence: int = 0):
        return await answer(Query(sentence=sentence, word=word, occurrence=occurrence))

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


def make_server(system=None, *, host: str = LOOPBACK, port: int = DEFAULT_PORT,
                batching: bool = True, batch_window: float = BATCH_WINDOW_S):
    """A ``uvicorn.Server`` for the app (not started): ``server.run()`` or run it in a thread.

    Raises ValueError for a host that is not a loopback address, before anything else is done.
    """
    host, port = check_loopback(host), check_port(port)
    _import_fastapi()
    import uvicorn

    config = uvicorn.Config(create_app(system, batching=batching, batch_window=batch_window), host=host, port=port, log_level="warning",
                            access_log=False)
    return uvicorn.Server(config)


def serve(system=None, *, host: str = LOOPBACK, port: int = DEFAULT_PORT,
          batching: bool = True, batch_window: float = BATCH_WINDOW_S) -> None:
    """Answer on ``http://127.0.0.1:<port>`` until interrupted (loopback hosts only)."""
    server = make_server(system, host=host, port=port, batching=batching,
                         batch_window=batch_window)
    host, port = server.config.host, server.config.port
    print(f"ctxembed WSD service on http://{host}:{port}  (POST /disambiguate, GET /health; "
          "Ctrl-C stops)", flush=True)
    server.run()
