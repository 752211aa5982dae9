"""``python -m ctxembed.bert train`` runs end to end on a tiny budget and writes a loadable model."""

import json
import os
import subprocess
import sys

import pytest

from ctxembed.bert.mlm import CHECKPOINT, PROBES, fill_mask, load_checkpoint


@pytest.mark.slow
def test_the_training_command_writes_a_checkpoint_that_loads(tmp_path):
    out = tmp_path / "mlm_tiny.pt"
    shipped = CHECKPOINT.stat().st_mtime_ns
    cmd = [sys.executable, "-m", "ctxembed.bert", "train", "--steps", "4", "--threads", "1",
           "--texts", "1500", "--eval-texts", "100", "--tokens-per-batch", "1024",
           "--out", str(out), "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["steps"] == 4 and record["corpus"]["texts"] == 1500
    assert record["corpus"]["eval_texts"] == 100
    assert record["eval_loss_after"] < record["eval_loss_before"]
    model, tokenizer, meta = load_checkpoint(out)
    assert json.loads(json.dumps(meta)) == record
    assert model.config.vocab_size == len(tokenizer) == record["corpus"]["vocab"]
    [guesses] = fill_mask(model, tokenizer, PROBES[0], top_k=3)
    assert len(guesses) == 3
    assert CHECKPOINT.stat().st_mtime_ns == shipped                  # the shipped one untouched
