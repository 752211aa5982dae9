"""Every shipped fine-tuning artefact loads with the library's loader and does its task.

Each is scored on the first held-out test examples of its task (a few seconds each) against
what an untrained model or the majority answer gets, and against the score the training
record (read by chapter 4) holds for the whole test set.
"""

import math
from collections import Counter

import pytest
import torch

from ctxembed.finetune import feature_head, tasks

SHIPPED = {"sentiment-lora.safetensors", "pos-lora.safetensors", "qa-lora.safetensors",
           "qa-frozen.safetensors", "qa-feature.safetensors"}
FIRST = {"sentiment": 100, "pos": 40, "qa": 60}       # test examples scored per artefact


def shipped_artefacts():
    return sorted(p.name for p in tasks.ARTEFACTS.glob("*.safetensors"))


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
def untrained_qa_f1(test_rows):
    """F1 of the QA model before training (the seeded random head both QA ways start from)."""
    tok, model = tasks.build_model("qa", "frozen")
    return tasks.evaluate("qa", model.eval(), tok, test_rows["qa"])


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
    chance = request.getfixturevalue("untrained_qa_f1")
    assert chance["exact_match"] < 2 and chance["f1"] < 8, chance
    floor = {"lora": 25, "feature": 6, "frozen": 4}[way]
    assert got["f1"] > chance["f1"] + floor and got["f1"] > 2 * chance["f1"], (got, chance)
    assert got["exact_match"] > chance["exact_match"] + floor / 2, (got, chance)
    assert abs(got["f1"] - recorded["f1"]) < 20, (got["f1"], recorded)
    assert all(answer in row.context for answer, row in zip(got["pred"], rows))


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
