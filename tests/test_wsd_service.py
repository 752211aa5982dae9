"""The WSD system in real time: ``ctxembed-wsd`` and the HTTP service (loopback only)."""

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ctxembed.wsd import default_system
from ctxembed.wsd.cli import main as cli_main
from ctxembed.wsd.server import check_loopback, make_server


def _ctxembed_wsd():
    exe = Path(sys.executable).with_name("ctxembed-wsd")
    return [str(exe)] if exe.exists() else [shutil.which("ctxembed-wsd") or "ctxembed-wsd"]


@pytest.mark.slow
def test_console_script_prints_sense_gloss_and_confidence():
    out = subprocess.run([*_ctxembed_wsd(), "The bark sailed across the ocean.", "bark"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "bark.n.03" in out.stdout and "sailing ship" in out.stdout and "confidence" in out.stdout


def test_cli_errors_say_what_to_do(capsys):
    assert cli_main(["The dog growled.", "bark"]) == 2
    assert "does not occur" in capsys.readouterr().err
    assert cli_main(["The blorptastic gizmo.", "blorptastic"]) == 2
    assert "no senses in WordNet" in capsys.readouterr().err
    assert cli_main(["Spring came early.", "spring", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sense"] == "spring.n.01"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def service():
    port = _free_port()
    server = make_server(default_system(), port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _post(url, payload):
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_http_answers_sense_gloss_and_confidence(service):
    status, body = _post(f"{service}/disambiguate",
                         {"sentence": "The spring in the watch broke", "word": "spring"})
    assert status == 200 and body["sense"] == "spring.n.02" and "elastic" in body["gloss"]
    assert 0 < body["confidence"] <= 1 and body["alternatives"][0]["sense"] == "spring.n.02"
    with urllib.request.urlopen(f"{service}/disambiguate?sentence=Spring+came+early.&word=spring") as r:
        assert json.load(r)["sense"] == "spring.n.01"
    with urllib.request.urlopen(f"{service}/health") as r:
        assert json.load(r)["status"] == "ok"


@pytest.mark.parametrize("payload, status, message", [
    ({"sentence": "", "word": "bark"}, 400, "empty"),
    ({"sentence": "The dog growled.", "word": "bark"}, 400, "does not occur"),
    ({"sentence": "A blorptastic day.", "word": "blorptastic"}, 404, "no senses"),
    ({"sentence": "The dog barked."}, 422, "word"),
    (b"not json", 422, "Malformed request"),
])
def test_http_bad_requests_get_a_clear_error(service, payload, status, message):
    got, body = _post(f"{service}/disambiguate", payload)
    assert got == status and message in body["error"]


def test_the_service_binds_loopback_only():
    assert check_loopback("127.0.0.1") == "127.0.0.1"
    for host in ("0.0.0.0", "192.168.1.5", "example.org"):
        with pytest.raises(ValueError, match="loopback"):
            check_loopback(host)
