"""Loading encoders: the packaged default, local folders, hub names, and the errors on the way.

The hub tests never reach the internet: a small HTTP server on 127.0.0.1 plays the hub
(``HF_ENDPOINT`` points at it), answering as the hub does for a model that exists, one that
does not, a hub in trouble, and a network that accepts connections but never answers.
"""

import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import ClassVar

import pytest

import ctxembed
from ctxembed import ModelUnavailableError
from ctxembed.core import models

UNKNOWN = "no-such-org/no-such-model-xyz"


def test_default_model_loads_offline_and_is_cached(encoder):
    assert encoder.num_layers == 6 and encoder.hidden_size == 384
    assert ctxembed.load_encoder("all-MiniLM-L6-v2") is encoder
    assert ctxembed.load_encoder("sentence-transformers/all-MiniLM-L6-v2") is encoder


def test_unknown_model_with_the_offline_flag_fails_at_once_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="load_encoder\\(\\)"):
        ctxembed.load_encoder(UNKNOWN)
    assert time.perf_counter() - start < 15


def test_model_from_a_local_folder(tmp_path, encoder):
    encoder.model.save_pretrained(tmp_path)
    encoder.tokenizer.save_pretrained(tmp_path)
    local = ctxembed.load_encoder(str(tmp_path))
    assert local.source == "local folder" and local.hidden_size == 384


def test_empty_model_name():
    with pytest.raises(ValueError, match="empty"):
        ctxembed.load_encoder("  ")


# --------------------------------------------------------------------------- local folders
def test_empty_folder_is_a_clear_error_naming_the_folder(tmp_path):
    with pytest.raises(ModelUnavailableError) as err:
        ctxembed.load_encoder(str(tmp_path))
    message = str(err.value)
    assert str(tmp_path) in message and "contains: nothing" in message
    assert "save_pretrained(folder)" in message and "load_encoder()" in message


def test_broken_folder_is_a_clear_error_naming_the_folder(tmp_path, encoder):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelUnavailableError, match="save_pretrained") as err:
        ctxembed.load_encoder(str(tmp_path))
    assert str(tmp_path) in str(err.value) and "config.json" in str(err.value)

    tokenizer_only = tmp_path / "tokenizer_only"
    encoder.tokenizer.save_pretrained(tokenizer_only)
    with pytest.raises(ModelUnavailableError, match="weights") as err:
        ctxembed.load_encoder(str(tokenizer_only))
    assert str(tokenizer_only) in str(err.value) and "tokenizer.json" in str(err.value)


@pytest.mark.parametrize("path", ["./no/such/folder", "~/no-such-model-folder-xyz", "/no/such/dir"])
def test_a_folder_that_does_not_exist_is_named_as_such(path):
    with pytest.raises(ModelUnavailableError, match="There is no folder"):
        ctxembed.load_encoder(path)


# --------------------------------------------------------------------------- the hub probe
class _FakeHub(http.server.ThreadingHTTPServer):
    """Answers like the hub by the first part of the path; records every request."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _FakeHubHandler)
        self.requests: list[str] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _FakeHubHandler(http.server.BaseHTTPRequestHandler):
    STATUS: ClassVar[dict] = {"found-org": 302, "missing-org": 404, "private-org": 401, "broken-org": 500}

    def _answer(self):
        self.server.requests.append(f"{self.command} {self.path}")
        owner = self.path.strip("/").split("/")[0]
        if owner == "silent-org":          # connection accepted, no answer
            self.server.release.wait(60)
            return
        self.send_response(self.STATUS.get(owner, 200))
        self.send_header("Location", "https://cdn.example/config.json")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_hub():
    hub = _FakeHub()
    threading.Thread(target=hub.serve_forever, args=(0.05,), daemon=True).start()
    yield hub
    hub.release.set()
    hub.shutdown()
    hub.server_close()


@pytest.fixture
def online(monkeypatch, fake_hub):
    """This process as Colab runs it: no offline flags, the hub at ``fake_hub.url``."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(models, "hub_endpoint", lambda: fake_hub.url)
    return fake_hub


@pytest.mark.parametrize("name, status", [
    ("found-org/bert", "found"), ("missing-org/bert", "missing"), ("private-org/bert", "missing"),
    ("broken-org/bert", "error"), ("silent-org/bert", "unreachable"),
])
def test_probe_reads_the_hubs_answer(online, name, status):
    start = time.perf_counter()
    assert models.probe_hub(name, timeout=0.5) == status
    assert time.perf_counter() - start < 5
    assert online.requests[-1] == f"HEAD /{name}/resolve/main/config.json"


def test_probe_asks_nothing_under_the_offline_flag(online, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert models.probe_hub("found-org/bert") == "unreachable" and not models.hub_reachable()
    assert online.requests == []


def test_hub_that_accepts_connections_but_never_answers_is_unreachable(online, monkeypatch):
    assert models.hub_reachable(timeout=0.5)
    monkeypatch.setattr(models, "hub_endpoint", lambda: online.url + "/silent-org")
    start = time.perf_counter()
    assert not models.hub_reachable(timeout=0.5)
    assert time.perf_counter() - start < 5


def test_closed_port_is_unreachable(monkeypatch):
    import socket

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with socket.socket() as s:       # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(models, "hub_endpoint", lambda: f"http://127.0.0.1:{port}")
    assert models.probe_hub("found-org/bert", timeout=0.5) == "unreachable"


_LOAD_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import ctxembed.core.models as models
    results = {}
    for name in sys.argv[1:]:
        start = time.perf_counter()
        try:
            models.load_encoder(name)
            results[name] = ["loaded", "", 0.0]
        except Exception as exc:
            results[name] = [type(exc).__name__, str(exc), time.perf_counter() - start]
    print("RESULTS " + json.dumps(results))
""")


def _load_in_a_colab_like_process(names):
    """Load ``names`` in a fresh process without the offline flags (as on Colab or Binder)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT")}
    run = subprocess.run([sys.executable, "-c", _LOAD_SCRIPT, *names], capture_output=True,
                         text=True, env=env, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Retrying" not in run.stderr, f"download retries instead of a quick error:\n{run.stderr}"
    [line] = [ln for ln in run.stdout.splitlines() if ln.startswith("RESULTS ")]
    return json.loads(line.removeprefix("RESULTS "))


@pytest.mark.slow
def test_unknown_model_without_the_offline_flag_fails_quickly_with_advice():
    """The path a Colab or Binder reader takes with a typo, or with the network down: no
    HF_HUB_OFFLINE, the real hub address. Here the hub cannot be reached, so this is the
    no-network path; with a network it is the unknown-name path. Either way: the library's
    error, naming the model and what to do, within seconds and without download retries."""
    [(kind, message, seconds)] = _load_in_a_colab_like_process([UNKNOWN]).values()
    assert kind == "ModelUnavailableError", message
    assert UNKNOWN in message and ("load_encoder()" in message or "Check the spelling" in message)
    assert seconds < 20


def test_hub_names_against_a_hub_that_says_no_or_stays_silent(online):
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="no public model 'missing-org/bert'") as err:
        ctxembed.load_encoder("missing-org/bert")
    assert "Check the spelling" in str(err.value) and time.perf_counter() - start < 20
    asked = [r for r in online.requests if "missing-org" in r]
    assert asked == ["HEAD /missing-org/bert/resolve/main/config.json"], (
        f"a download was attempted after the hub said the model does not exist: {asked}")

    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="cannot be reached") as err:
        ctxembed.load_encoder("silent-org/bert")
    assert "load_encoder()" in str(err.value) and time.perf_counter() - start < 20


def test_bf16_precision_is_named_as_such_and_close_to_full_precision():
    """The opt-in bfloat16 encoder: its own name (so no cache mixes its vectors with fp32
    ones), vectors within a small angle of fp32's, and clear errors for what it cannot do."""
    import numpy as np
    import torch

    from ctxembed import word_vectors

    fp32, bf16 = models.load_encoder(), models.load_encoder(precision="bf16")
    assert bf16 is not fp32 and bf16.name == "all-MiniLM-L6-v2 (bf16)"
    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    assert next(fp32.model.parameters()).dtype == torch.float32      # the default untouched
    sentences = ["The bank by the river.", "She paid the cheque into the bank."]
    a = word_vectors(sentences, "bank", encoder=fp32)
    b = word_vectors(sentences, "bank", encoder=bf16)
    assert b.dtype == np.float32
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.99 and not np.array_equal(a, b)
    with pytest.raises(ValueError, match="precision='int4'"):
        models.load_encoder(precision="int4")
    with pytest.raises(ValueError, match="needs the transformers runtime"):
        models.load_encoder(runtime="torchscript", precision="bf16")
