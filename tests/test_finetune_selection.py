"""Chapter 4's trained figures: learning rates chosen on dev only, every seed kept with its
per-example scores, intervals and paired comparisons computed from those scores, and a data
curve that gives every training-set size the same minimum number of steps.

The training itself is replaced by a stand-in (``train_way``) whose dev and test scores are
set by the test, so that the selection, the seeds and the record are checked exactly and fast;
the real training command runs in ``test_finetune_training.py``.
"""

import json

import numpy as np
import pytest

from ctxembed.data.brown_pos import TaggedSentence
from ctxembed.finetune import report, tasks


def test_per_example_scores_survive_the_record_exactly():
    binary = np.array([1, 0, 0, 1, 1], dtype=float)
    assert tasks.encode_scores(binary) == "10011"
    assert np.array_equal(tasks.decode_scores(tasks.encode_scores(binary)), binary)
    f1 = np.array([0.0, 0.5, 1.0, 0.6667])
    assert np.allclose(tasks.decode_scores(tasks.encode_scores(f1)), f1, atol=1e-4)
    ones = np.ones(3)
    assert np.array_equal(tasks.decode_scores(tasks.encode_scores(ones)), ones)


def test_per_example_scores_average_to_the_headline_metric():
    rows = [TaggedSentence(["the", "dog"], ["DET", "NOUN"], "doc", "news"), TaggedSentence(["runs"], ["VERB"], "doc", "news")]
    nested = {"pred": [["DET", "VERB"], ["VERB"]]}
    flat = {"pred": np.array(["DET", "VERB", "VERB"])}
    for result in (nested, flat):
        assert tasks.example_scores("pos", result, rows).tolist() == [1.0, 0.0, 1.0]


class _FakeTraining:
    """Stands in for ``tasks.train_way``: dev and test accuracy by learning rate and seed."""

    def __init__(self, dev, test):
        self.dev, self.test, self.calls = dev, test, []

    def __call__(self, task, way, data, *, seed=0, lr=None, n_train=None, epochs=1.0,
                 batch_size=16, max_steps=None, **_):
        self.calls.append({"way": way, "seed": seed, "lr": lr, "n_train": n_train,
                           "epochs": epochs, "batch_size": batch_size})
        n = len(data["test"])
        right = round(self.test(lr, seed) * n / 100)
        scores = np.array([1.0] * right + [0.0] * (n - right))
        n_rows = n_train or len(data["train"])
        steps = max_steps or int(np.ceil(n_rows / batch_size) * epochs)
        return None, object(), {
            "test": {"accuracy": self.test(lr, seed)}, "test_scores": tasks.encode_scores(scores),
            "dev": {"accuracy": self.dev(lr, seed)}, "seed": seed, "train_seconds": 1.0,
            "steps": steps, "n_train": n_rows, "trainable": 10, "total": 100, "lr": lr,
            "epochs": epochs, "batch_size": batch_size, "examples_per_second": 1.0, "curve": {}}


@pytest.fixture
def fake_pos(monkeypatch):
    """POS data of 40 training and 20 test one-word sentences, and no artefact writing."""
    sentence = TaggedSentence(["a"], ["DET"], "doc", "news")        # one word: one score each
    data = {"train": [sentence] * 40, "dev": [sentence] * 20, "test": [sentence] * 20}
    monkeypatch.setattr(tasks, "task_data", lambda task, seed=0, sizes=None: data)
    monkeypatch.setattr(tasks, "save_small", lambda model, task, way, folder: folder / f"{task}-{way}.st")
    return data


def test_the_learning_rate_is_the_best_on_dev_whatever_test_says(fake_pos, monkeypatch, tmp_path):
    # dev prefers 1e-3; test would prefer 1e-2: the record must keep 1e-3
    fake = _FakeTraining(dev=lambda lr, seed: {1e-3: 90.0, 1e-2: 80.0}[lr],
                         test=lambda lr, seed: {1e-3: 70.0, 1e-2: 95.0}[lr] + seed)
    monkeypatch.setattr(tasks, "train_way", fake)
    record = tasks.main_train(["pos"], seeds=[0, 1, 2], ways=["lora"], out=tmp_path,
                              lrs={"lora": (1e-3, 1e-2)})
    entry = record["pos"]["lora"]
    assert entry["lr"] == 1e-3 and entry["lr_chosen_on"] == "dev"
    assert entry["lr_grid"] == {"0.001": 90.0, "0.01": 80.0}
    # the grid is tried with the first seed; the other seeds run at the chosen rate only
    assert [(c["lr"], c["seed"]) for c in fake.calls] == [(1e-3, 0), (1e-2, 0), (1e-3, 1), (1e-3, 2)]
    assert {s: e["test"]["accuracy"] for s, e in entry["seeds"].items()} == {"0": 70.0, "1": 71.0, "2": 72.0}
    assert "--seeds 0 1 2" in entry["command"]
    assert json.loads((tmp_path / "record.json").read_text())["pos"]["lora"]["lr"] == 1e-3


def test_the_table_reports_the_mean_over_seeds_with_an_interval(fake_pos, monkeypatch, tmp_path):
    fake = _FakeTraining(dev=lambda lr, seed: 90.0, test=lambda lr, seed: [60.0, 70.0, 80.0][seed])
    monkeypatch.setattr(tasks, "train_way", fake)
    entry = tasks.main_train(["pos"], seeds=[0, 1, 2], ways=["full"], out=tmp_path,
                             lrs={"full": (1e-4,)})["pos"]["full"]
    scores, values = report.trained_scores(entry)
    assert values == [60.0, 70.0, 80.0]
    assert scores.mean() == pytest.approx(0.70)
    interval = report.score_interval("pos", scores, fake_pos["test"])
    assert interval.low < 0.70 < interval.high
    table = report.four_way_table({"full fine-tuning": {"metric": 100 * scores.mean(), "seconds": 1,
                                                        "trainable": 10, "interval": interval,
                                                        "seed_values": values}})
    assert table.loc["full fine-tuning", "per seed"] == "60.0 / 70.0 / 80.0"
    assert table.loc["full fine-tuning", "95% CI"].count("–") == 1


def test_pos_intervals_resample_sentences_not_words():
    # 50 sentences of 10 words, all right or all wrong: the words are not independent draws
    rows = [TaggedSentence(["w"] * 10, ["NOUN"] * 10, "doc", "news")] * 50
    scores = np.repeat((np.arange(50) % 2).astype(float), 10)
    by_sentence = report.score_interval("pos", scores, rows)
    by_word = report.score_interval("sentiment", scores, range(500))
    assert by_sentence.estimate == pytest.approx(0.5) == by_word.estimate
    assert by_sentence.width > 2 * by_word.width
    same = report.paired_difference("pos", scores, scores, rows)
    assert same.estimate == 0 and same.low == 0 and same.high == 0


def test_the_comparison_sentence_calls_noise_noise():
    rng = np.random.default_rng(0)
    a = (rng.random(400) < 0.8).astype(float)
    b = a.copy(); b[np.flatnonzero(a == 1)[:1]] = 0                     # one sentence apart
    sentence, diff = report.comparison_sentence("sentiment", "LoRA", a, "full", b, range(400), "accuracy")
    assert "indistinguishable here" in sentence and diff.low <= 0 <= diff.high
    worse = a.copy(); worse[np.flatnonzero(a == 1)[:80]] = 0             # 80 sentences apart
    sentence, diff = report.comparison_sentence("sentiment", "LoRA", a, "full", worse, range(400), "accuracy")
    assert sentence.startswith("LoRA is ahead of full") and diff.low > 0


def test_every_data_curve_size_gets_the_same_minimum_number_of_steps(fake_pos, monkeypatch):
    fake = _FakeTraining(dev=lambda lr, seed: 50.0, test=lambda lr, seed: 50.0)
    monkeypatch.setattr(tasks, "train_way", fake)
    data = {"train": fake_pos["train"] * 100, "dev": fake_pos["dev"], "test": fake_pos["test"]}
    curve = tasks.data_curve("pos", data, sizes=(16, 160, 3200), ways=("lora",), seeds=(0, 1),
                             lrs={"lora": 5e-3}, min_steps=40)
    runs = curve["lora"]["runs"]
    assert [(r["n"], r["seed"]) for r in runs] == [(16, 0), (16, 1), (160, 0), (160, 1), (3200, 0), (3200, 1)]
    assert all(r["steps"] >= 40 for r in runs)                       # 16 sentences: 40 epochs
    assert {c["epochs"] for c in fake.calls if c["n_train"] == 3200} == {1.0}   # 200 steps in one
    assert {c["lr"] for c in fake.calls} == {5e-3} and curve["lora"]["min_steps"] == 40
    assert all(len(tasks.decode_scores(r["test_scores"])) == len(data["test"]) for r in runs)
