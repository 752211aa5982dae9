"""Every shipped fine-tuning artefact loads with the library's loader and does its task.

Each is scored on the first held-out test examples of its task (a few seconds each) against
what an untrained model or the majority answer gets, and against the score the training
record (read by chapter 4) holds for the whole test set. A QA artefact must give the record's
own per-question scores on those questions (the file is the run the record describes), and
the record's scores on the whole test set must beat an untrained head's by a paired interval.
"""

import math
from collections import Counter

import pytest
import torch

from ctxembed.evaluation import paired_bootstrap_difference
from ctxembed.finetune import feature_head, tasks

SHIPPED = {"sentiment-lora.safetensors", "pos-lora.safetensors", "qa-lora.safetensors",
           "qa-frozen.safetensors", "qa-feature.safetensors"}
FIRST = {"sentiment": 100, "pos": 40, "qa": 150}      # test examples scored per artefact


def shipped_artefacts():
    """The task artefacts of ``record.json`` (the contrastive adapters have their own record
    and tests, in ``test_finetune_contrastive.py``)."""
    return tasks.task_artefacts()


def test_the_record_and_the_folder_agree_on_the_shipped_artefacts():
    record = tasks.load_record()
    recorded = {entry["artefact"] for runs in record.values() for entry in runs.values()
                if isinstance(entry, dict) and "artefact" in entry}
    assert set(shipped_artefacts()) == recorded == SHIPPED
    for name in SHIPPED:
        task, way = name.removesuffix(".safetensors").split("-")
        assert record[task][way]["artefact"] == name
        assert (tasks.ARTEFACTS / name).stat().st_size < 1_000_000


@pytest.fixture(scope="module")
def test_rows():
    return {task: tasks.task_data(task)["test"][: n] for task, n in FIRST.items()}


@pytest.fixture(scope="module")
def untrained_qa_scores():
    """Per-question F1 of the QA model before training (the seeded random head both QA ways
    start from) on the whole test set: a random span overlaps the answer now and then."""
    tok, model = tasks.build_model("qa", "frozen")
    rows = tasks.task_data("qa")["test"]
    return tasks.example_scores("qa", tasks.evaluate("qa", model.eval(), tok, rows), rows)


def majority_accuracy(task, rows):
    answers = [r.label for r in rows] if task == "sentiment" else [t for r in rows for t in r.tags]
    return 100 * Counter(answers).most_common(1)[0][1] / len(answers), len(answers)


@pytest.mark.parametrize("name", shipped_artefacts())
def test_each_shipped_artefact_does_its_task_well_above_chance(name, test_rows, request):
    torch.set_num_threads(1)
    task, way = name.removesuffix(".safetensors").split("-")
    recorded = tasks.load_record()[task][way]["test"]
    rows = test_rows[task]
    if way == "feature":          # a head on the frozen encoder's states, with a loader of its own
        got = feature_head.evaluate_examples(feature_head.load_head(tasks.ARTEFACTS / name), rows)
    else:
        tok, model = tasks.load_trained(task, way)
        got = tasks.evaluate(task, model, tok, rows)
    if task in ("sentiment", "pos"):
        majority, n = majority_accuracy(task, rows)
        assert got["accuracy"] > majority + {"sentiment": 20, "pos": 40}[task], (got, majority)
        # a sample of the test set: its accuracy lies near the recorded whole-set accuracy
        p = recorded["accuracy"] / 100
        spread = 100 * 3 * math.sqrt(p * (1 - p) / n) + {"sentiment": 1, "pos": 2}[task]
        assert abs(got["accuracy"] - recorded["accuracy"]) < spread, (got["accuracy"], recorded)
        return
    entry = tasks.load_record()[task][way]
    assert "test_scores" in entry, f"{task}/{way}: the record keeps no per-question scores"
    recorded_scores = tasks.decode_scores(entry["test_scores"])
    # the file is the run the record describes: its answers score as the record's did
    mine, want = tasks.example_scores(task, got, rows), recorded_scores[: len(rows)]
    assert (abs(mine - want) < 1e-3).mean() >= 0.95, (mine, want)
    assert abs(100 * mine.mean() - 100 * want.mean()) < 1.5, (mine.mean(), want.mean())
    assert all(answer in row.context for answer, row in zip(got["pred"], rows))
    # ... and that run answers better than an untrained head, by the course's paired rule
    chance = request.getfixturevalue("untrained_qa_scores")
    assert chance.mean() < 0.12, chance.mean()
    ahead = paired_bootstrap_difference(recorded_scores, chance)
    assert ahead.low > 0, (way, ahead)
    floor = {"lora": 0.25, "feature": 0.04, "frozen": 0.02}[way]      # F1 / 100
    assert recorded_scores.mean() > chance.mean() + floor, (recorded_scores.mean(), chance.mean())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sentiment-lora.safetensors", "pos-lora.safetensors"])
def test_shipped_artefact_reproduces_its_recorded_test_score(name):
    """The whole test set, as chapter 4 evaluates it: the record is what the file gives.
    (The QA artefacts take half a minute each; chapter 4's build checks them the same way.)"""
    torch.set_num_threads(1)
    task, way = name.removesuffix(".safetensors").split("-")
    recorded = tasks.load_record()[task][way]["test"]
    tok, model = tasks.load_trained(task, way)
    got = tasks.evaluate(task, model, tok, tasks.task_data(task)["test"])
    assert tasks.headline(task, got) == pytest.approx(tasks.headline(task, recorded), abs=0.11)
