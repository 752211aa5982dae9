"""``python -m ctxembed.elmo train`` runs end to end on a tiny budget and writes a loadable model."""

import json
import os
import subprocess
import sys

import pytest
import torch

from ctxembed import elmo


@pytest.mark.slow
def test_the_training_command_writes_a_checkpoint_that_loads(tmp_path):
    out = tmp_path / "elmo_tiny.pt"
    shipped = elmo.DEFAULT_CHECKPOINT.stat().st_mtime_ns
    cmd = [sys.executable, "-m", "ctxembed.elmo", "train", "--out", str(out), "--max-steps", "4",
           "--train-sentences", "1500", "--valid-sentences", "100", "--vocab-size", "800",
           "--embed-dim", "16", "--hidden-dim", "16", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["steps"] == 4 and record["args"]["out"] == out.name
    assert record["valid_targets"] > 100 and record["valid_perplexity"]["forward"] > 1
    model, vocab, meta = elmo.load_checkpoint(out)
    assert meta["steps"] == 4 and len(vocab) == model.config.vocab_size <= 800
    assert model.config.hidden_dim == 16
    vectors = elmo.layer_vectors(model, vocab, "the bank of the river", "bank")
    assert vectors.shape == (3, 32) and torch.isfinite(torch.from_numpy(vectors)).all()
    assert elmo.DEFAULT_CHECKPOINT.stat().st_mtime_ns == shipped     # the shipped one untouched
