import time

import pytest

import ctxembed
from ctxembed import ModelUnavailableError


def test_default_model_loads_offline_and_is_cached(encoder):
    assert encoder.num_layers == 6 and encoder.hidden_size == 384
    assert ctxembed.load_encoder("all-MiniLM-L6-v2") is encoder
    assert ctxembed.load_encoder("sentence-transformers/all-MiniLM-L6-v2") is encoder


def test_unknown_model_offline_fails_fast_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="load_encoder\\(\\)"):
        ctxembed.load_encoder("no-such-org/no-such-model-xyz")
    assert time.perf_counter() - start < 15


def test_model_from_a_local_folder(tmp_path, encoder):
    encoder.model.save_pretrained(tmp_path)
    encoder.tokenizer.save_pretrained(tmp_path)
    local = ctxembed.load_encoder(str(tmp_path))
    assert local.source == "local folder" and local.hidden_size == 384


def test_empty_model_name():
    with pytest.raises(ValueError, match="empty"):
        ctxembed.load_encoder("  ")
