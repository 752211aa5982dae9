"""The WSD system over HTTP: ``python -m ctxembed.wsd serve``, on loopback addresses only.

The HTTP tests talk to the real command, started in a subprocess on a free 127.0.0.1 port
(with a WSD cache folder of this test session) and stopped at the end; the host checks go
through the real ``serve`` path with uvicorn's ``Server.run`` replaced by a recorder."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import uvicorn

from ctxembed.wsd import WSDSystem
from ctxembed.wsd.__main__ import main as module_main
from ctxembed.wsd.caching import cache_folder
from ctxembed.wsd.server import DEFAULT_PORT, serve

START_TIMEOUT_S = 120


@pytest.fixture(scope="module", autouse=True)
def fresh_wsd_cache(tmp_path_factory):
    with cache_folder(tmp_path_factory.getbasetemp() / "wsd-cache") as folder:
        yield folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the host
@pytest.fixture
def uvicorn_runs(monkeypatch):
    """Each ``uvicorn.Server.run`` call, recorded as (host, port, app) instead of serving."""
    runs = []
    monkeypatch.setattr(uvicorn.Server, "run",
                        lambda self, *a, **k: runs.append((self.config.host, self.config.port,
                                                           self.config.app)))
    return runs


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_serve_hands_uvicorn_the_loopback_host_and_the_port(uvicorn_runs, capsys, host):
    serve(WSDSystem(), host=host, port=8123)
    assert [(h, p) for h, p, _ in uvicorn_runs] == [(host, 8123)]
    assert f"http://{host}:8123" in capsys.readouterr().out


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.org", ""])
def test_serve_refuses_any_other_host_before_starting(uvicorn_runs, host):
    with pytest.raises(ValueError, match=f"Refusing to listen on {host!r}.*loopback.*127.0.0.1"):
        serve(WSDSystem(), host=host)
    assert uvicorn_runs == []


def test_the_serve_command_passes_port_and_method_and_refuses_other_hosts(uvicorn_runs, capsys):
    port = _free_port()
    assert module_main(["serve", "--port", str(port), "--method", "knn"]) == 0
    ((host, got_port, app),) = uvicorn_runs
    assert (host, got_port) == ("127.0.0.1", port)
    health = next(r for r in app.routes if getattr(r, "path", "") == "/health").endpoint()
    assert health["method"] == "knn"
    assert module_main(["serve"]) == 0 and uvicorn_runs[-1][1] == DEFAULT_PORT
    capsys.readouterr()
    for argv, message in ((["serve", "--host", "0.0.0.0"], "Refusing to listen on '0.0.0.0'"),
                          (["serve", "--port", "70000"], "Port 70000 is not a TCP port")):
        assert module_main(argv) == 2
        assert message in capsys.readouterr().err
    assert len(uvicorn_runs) == 2


# --------------------------------------------------------------------------- over HTTP
@pytest.fixture(scope="module")
def service(fresh_wsd_cache, tmp_path_factory):
    """``python -m ctxembed.wsd serve --port <free port>``, answering, then stopped."""
    port = _free_port()
    log = tmp_path_factory.mktemp("wsd-serve") / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ctxembed.wsd", "serve", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited ({proc.returncode}): {log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no answer on {url} in {START_TIMEOUT_S} s: {log.read_text()}")
                time.sleep(0.5)
        yield url, log
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def _post(url, payload):
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_the_server_says_where_it_listens(service):
    url, log = service
    assert f"ctxembed WSD service on {url}" in log.read_text()


def test_health_names_the_model_and_method_and_counts_the_words_fitted(service):
    url, _ = service
    status, before = _get(f"{url}/health")
    assert status == 200 and before["status"] == "ok"
    assert before["model"] == "all-MiniLM-L6-v2" and before["method"] == "centroid"
    _post(f"{url}/disambiguate", {"sentence": "A tall pine grew there.", "word": "pine"})
    _, after = _get(f"{url}/health")
    assert after["words"] == before["words"] + 1


def test_http_answers_sense_gloss_and_confidence(service):
    url, _ = service
    status, body = _post(f"{url}/disambiguate",
                         {"sentence": "The spring in the watch broke", "word": "spring"})
    assert status == 200 and body["sense"] == "spring.n.02" and "elastic" in body["gloss"]
    assert 0 < body["confidence"] <= 1 and body["alternatives"][0]["sense"] == "spring.n.02"
    query = urllib.parse.urlencode({"sentence": "Spring came early.", "word": "spring"})
    status, body = _get(f"{url}/disambiguate?{query}")
    assert status == 200 and body["sense"] == "spring.n.01"


def test_occurrence_picks_the_use_and_one_out_of_range_is_a_400(service):
    url, _ = service
    sentence = "The dog's bark was loud, but the bark of the oak was rough."
    first = _post(f"{url}/disambiguate", {"sentence": sentence, "word": "bark"})[1]
    second = _post(f"{url}/disambiguate", {"sentence": sentence, "word": "bark", "occurrence": 1})[1]
    assert first["sense"] == "bark.n.04" != second["sense"]
    status, body = _post(f"{url}/disambiguate", {"sentence": sentence, "word": "bark", "occurrence": 2})
    assert status == 400 and "bark" in body["error"]
    query = urllib.parse.urlencode({"sentence": sentence, "word": "bark", "occurrence": 5})
    assert _get(f"{url}/disambiguate?{query}")[0] == 400


@pytest.mark.parametrize("payload, status, message", [
    ({"sentence": "", "word": "bark"}, 400, "empty"),
    ({"sentence": "The dog growled.", "word": "bark"}, 400, "does not occur"),
    ({"sentence": "A blorptastic day.", "word": "blorptastic"}, 404, "no senses"),
    ({"sentence": "The dog barked."}, 422, "word: Field required"),
    ({"word": "bark"}, 422, "sentence: Field required"),
    ({"sentence": "The dog barked.", "word": "bark", "occurrence": "first"}, 422, "occurrence"),
    (b"not json", 422, "Malformed request"),
])
def test_http_bad_requests_get_a_clear_error(service, payload, status, message):
    url, _ = service
    got, body = _post(f"{url}/disambiguate", payload)
    assert got == status and message in body["error"], body


@pytest.mark.parametrize("query, missing", [({"word": "bark"}, "sentence"),
                                            ({"sentence": "The dog barked."}, "word")])
def test_http_get_without_a_parameter_is_a_422(service, query, missing):
    url, _ = service
    status, body = _get(f"{url}/disambiguate?{urllib.parse.urlencode(query)}")
    assert status == 422 and missing in body["error"] and "Send JSON like" in body["error"]


# --------------------------------------------------------------------------- limits and load
def _raw(url, body: bytes, headers: dict):
    """POST ``body`` with exactly these headers (http.client: no client-side checks)."""
    import http.client

    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.putrequest("POST", "/disambiguate")
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        if body:
            conn.send(body)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_a_body_over_the_limit_is_refused_unread_with_a_413(service):
    url, _ = service
    start = time.monotonic()
    status, body = _raw(url, b"", {"Content-Type": "application/json",
                                   "Content-Length": str(50 * 1024 * 1024)})
    assert status == 413 and "at most 16,384 bytes" in body["error"]
    assert time.monotonic() - start < 5                   # not read, not parsed
    words = " ".join(["word"] * 10_000) + " bark"
    status, body = _post(f"{url}/disambiguate", {"sentence": words, "word": "bark"})
    assert status == 413 and "Send one sentence" in body["error"]


def test_a_streamed_body_over_the_limit_is_a_413(service):
    url, _ = service
    chunk = b"x" * 4096
    stream = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
    status, body = _raw(url, stream, {"Content-Type": "application/json",
                                      "Transfer-Encoding": "chunked"})
    assert status == 413 and "over 16,384 bytes" in body["error"]


def test_a_sentence_longer_than_the_encoder_reads_is_a_400_that_says_so(service):
    url, _ = service
    sentence = "The dog's bark " + "and then it ran on " * 130 + "home."      # ~ 650 pieces
    assert len(json.dumps({"sentence": sentence}).encode()) < 16 * 1024
    status, body = _post(f"{url}/disambiguate", {"sentence": sentence, "word": "bark"})
    assert status == 400 and "word pieces long; the encoder reads at most 512" in body["error"]


def test_a_body_that_is_not_utf8_is_a_4xx_that_says_what_to_send(service):
    url, _ = service
    latin1 = '{"sentence": "café bark", "word": "bark"}'.encode("latin-1")
    status, body = _raw(url, latin1, {"Content-Type": "application/json",
                                      "Content-Length": str(len(latin1))})
    assert 400 <= status < 500 and "Send JSON like" in body["error"]


def test_a_burst_of_bad_requests_leaves_the_service_healthy(service):
    """Huge, malformed, too long and unknown requests all at once: each gets its 4xx, and
    the service answers a good question afterwards."""
    import asyncio

    import httpx

    url, _ = service
    bad = ([{"sentence": "x " * 9000, "word": "x"}] * 5 + [{"word": "bark"}] * 5
           + [{"sentence": "The blorf.", "word": "blorf"}] * 5
           + [{"sentence": "bark " + "on and on " * 200, "word": "bark"}] * 5
           + [{"sentence": "The dog growled.", "word": "bark"}] * 5)

    async def burst():
        async with httpx.AsyncClient(timeout=120) as client:
            replies = await asyncio.gather(
                *(client.post(f"{url}/disambiguate", json=p) for p in bad),
                *(client.post(f"{url}/disambiguate", content=b"\xff\xfe garbage",
                              headers={"Content-Type": "application/json"}) for _ in range(5)))
            return [r.status_code for r in replies]

    codes = asyncio.run(burst())
    assert all(400 <= c < 500 for c in codes), codes
    assert sorted(set(codes)) == [400, 404, 413, 422]
    status, body = _post(f"{url}/disambiguate", {"sentence": "Spring came early.", "word": "spring"})
    assert status == 200 and body["sense"] == "spring.n.01"
    assert _get(f"{url}/health")[1]["status"] == "ok"


def test_concurrent_questions_share_forward_passes_and_get_their_own_answers(service):
    import asyncio

    import httpx

    url, _ = service
    questions = [("The dog's bark woke us.", "bark"), ("Moss grew on the bark of the oak.", "bark"),
                 ("The spring in the watch broke", "spring"),
                 ("The flowers bloom every spring.", "spring")] * 6
    alone = {s: _post(f"{url}/disambiguate", {"sentence": s, "word": w})[1]    # one at a time
             for s, w in questions[:4]}
    assert alone["The dog's bark woke us."]["sense"] == "bark.n.04"
    assert alone["The spring in the watch broke"]["sense"] == "spring.n.02"
    before = _get(f"{url}/health")[1]["batches"]

    async def together():
        async with httpx.AsyncClient(timeout=120) as client:
            return await asyncio.gather(*(client.post(f"{url}/disambiguate",
                                                      json={"sentence": s, "word": w})
                                          for s, w in questions))

    replies = asyncio.run(together())
    for (sentence, _), reply in zip(questions, replies):    # as if each came alone
        got, expected = reply.json(), alone[sentence]
        assert got["sense"] == expected["sense"] and got["sentence"] == sentence
        assert got["confidence"] == pytest.approx(expected["confidence"], abs=1e-4)
    after = _get(f"{url}/health")[1]["batches"]
    assert after["questions"] - before["questions"] == len(questions)
    assert after["forward_passes"] - before["forward_passes"] < len(questions)
    assert after["largest"] > 1


def test_the_micro_batcher_answers_each_question_and_isolates_a_failing_one():
    import asyncio

    from ctxembed.wsd.server import MicroBatcher

    calls = []

    def answer_many(items):
        calls.append(list(items))
        if "bad" in items:
            raise ValueError("bad question")
        return [item.upper() for item in items]

    async def run():
        batcher = MicroBatcher(answer_many, window=0.05)
        return await asyncio.gather(*(batcher.submit(x) for x in ["a", "b", "bad", "c"]),
                                    return_exceptions=True)

    results = asyncio.run(run())
    assert results[:2] == ["A", "B"] and results[3] == "C"
    assert isinstance(results[2], ValueError) and str(results[2]) == "bad question"
    assert calls[0] == ["a", "b", "bad", "c"]               # one batch first, then one by one
    assert calls[1:] == [["a"], ["b"], ["bad"], ["c"]]
