"""``python -m ctxembed.finetune train`` runs end to end on a tiny budget into a folder of its own,
and what it writes loads the way the shipped artefacts do."""

import json
import os
import subprocess
import sys

import pytest

from ctxembed.finetune import feature_head, tasks


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_training_command_writes_artefacts_and_a_record_that_load(tmp_path):
    out = tmp_path / "artefacts"
    shipped = {p.name: p.stat().st_mtime_ns for p in tasks.ARTEFACTS.iterdir()}
    cmd = [sys.executable, "-m", "ctxembed.finetune", "train", "--ways", "frozen", "lora", "feature",
           "--max-steps", "1", "--n-train", "24", "--n-eval", "4", "--seeds", "0", "1",
           "--lrs", "1e-3", "2e-3", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p.name for p in out.glob("*.safetensors")} == set(tasks.task_artefacts())
    record, shipped_record = tasks.load_record(out), tasks.load_record()
    assert json.loads((out / "record.json").read_text()) == record
    for task, runs in record.items():
        assert set(runs) == {"frozen", "lora", "feature"} & set(shipped_record[task])
        for way, entry in runs.items():
            assert set(shipped_record[task][way]) <= set(entry)      # the chapter's keys
            assert set(entry["seeds"]) == {"0", "1"} and set(entry["lr_grid"]) == {"0.001", "0.002"}
            assert entry["lr"] in (1e-3, 2e-3) and entry["lr_chosen_on"] == "dev"
            assert entry["steps"] == 1 and entry["n_train"] == 24
            assert "--max-steps 1" in entry["command"]
            if way == "feature":      # QA's head on frozen states loads on its own
                assert feature_head.load_head(out / entry["artefact"]).config["width"] == 384
                continue
            tok, model = tasks.load_trained(task, way, folder=out)
            rows = tasks.task_data(task, sizes={"test": 4})["test"]
            assert 0 <= tasks.headline(task, tasks.evaluate(task, model, tok, rows)) <= 100
    assert len(record["sentiment"]["lora"]["domains"]) == 3
    assert {p.name: p.stat().st_mtime_ns for p in tasks.ARTEFACTS.iterdir()} == shipped
