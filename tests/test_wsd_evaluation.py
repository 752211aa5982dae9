"""Evaluation of the WSD system: held-out WordNet sentences, unknown senses, word in context,
sense discovery. The first run embeds the WordNet sentences once (cached)."""

import numpy as np
import pytest

from ctxembed.wsd import (cluster_uses, discovery_evaluation, evaluate_wordnet,
                          unknown_sense_evaluation, wic_evaluation, wic_pairs, wordnet_wsd_data)


def test_wordnet_data_is_split_by_sentence_and_every_test_sense_is_trained():
    data = wordnet_wsd_data()
    train, test = data[data.split == "train"], data[data.split == "test"]
    assert not set(train.sentence) & set(test.sentence)
    assert set(zip(test.lemma, test.sense)) <= set(zip(train.lemma, train.sense))
    assert len(test) > 2000 and test.lemma.nunique() > 800


@pytest.fixture(scope="module")
def result():
    return evaluate_wordnet()


def test_contextual_methods_beat_the_baselines(result):
    best_baseline = max(result.accuracy(b) for b in
                        ("most-frequent-sense", "lesk", "static-word", "static-context"))
    assert result.accuracy("centroid") > best_baseline + 0.03, result.overall
    for method in ("knn", "logreg"):     # context-average GloVe vectors come close to these
        assert result.accuracy(method) > max(result.accuracy(b) for b in
                                             ("most-frequent-sense", "lesk", "static-word")) + 0.1
    # one vector per word cannot tell senses apart: no better than the most common training sense
    assert result.accuracy("static-word") < result.accuracy("centroid") - 0.15


def test_results_are_tidy_per_word_and_overall(result):
    overall = result.overall
    assert {"method", "layers", "pieces", "accuracy", "macro_accuracy", "n", "words"} <= set(overall)
    n_test = (wordnet_wsd_data().split == "test").sum()
    assert (overall.n == n_test).all()
    per_word = result.per_word
    assert per_word.groupby("method").n.sum().eq(n_test).all()
    wrong = result.confusions("centroid", n=3)
    assert len(wrong) == 3 and (wrong.gold != wrong.predicted).all() and wrong.gold_gloss.str.len().min() > 0


def test_unknown_sense_flag_has_useful_precision_and_recall():
    r = unknown_sense_evaluation()
    assert 0 < r.threshold < 1
    assert r.n_unknown > 50 and r.n_known > 100
    # better than flagging at random (precision = share of unknown uses, AUC = 0.5)
    assert r.auc > 0.6
    assert r.precision > r.n_unknown / (r.n_unknown + r.n_known)
    assert r.recall > 0.3
    assert set(r.scores.part) == {"calibration", "evaluation"}


def test_word_in_context_pairs_are_balanced_and_split_by_word():
    pairs = wic_pairs()
    assert not set(pairs.lemma[pairs.split == "train"]) & set(pairs.lemma[pairs.split == "test"])
    assert pairs.groupby("lemma").label.mean().eq(0.5).all()
    same = pairs[pairs.label == 1]
    assert (same.sense_a == same.sense_b).all() and (same.sentence_a != same.sentence_b).all()
    diff = pairs[pairs.label == 0]
    assert (diff.sense_a != diff.sense_b).all()


def test_word_in_context_contextual_beats_chance_and_static_vectors():
    r = wic_evaluation()
    assert r.test_accuracy > 0.55 and r.n_test > 500
    # a static vector only differs between inflected forms ("bank" / "banks"): near chance
    static = wic_evaluation(features="static-word").test_accuracy
    assert static < r.test_accuracy and abs(static - 0.5) < 0.06


def test_cluster_count_is_chosen_by_silhouette():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8) * 5
    X = np.concatenate([c + rng.normal(scale=0.3, size=(10, 8)) for c in centres])
    found = cluster_uses(X, k_max=6)
    assert found.k == 3 and found.silhouette == max(found.scores.values())


def test_discovered_senses_agree_with_the_gold_senses():
    table = discovery_evaluation("curated")
    assert set(table.lemma) == {"apple", "bank", "bark", "key", "light", "run", "spring"}
    assert table.ari.mean() > 0.3
    static = discovery_evaluation("curated", features="static-context")
    assert table.ari.mean() > static.ari.mean()


def test_the_capstone_exercise_data_is_up_to_date(tmp_path):
    from importlib.resources import files

    from ctxembed.wsd.capstone import FILE, build_capstone_data, capstone_data

    fresh = build_capstone_data(tmp_path / FILE)
    assert fresh.read_text() == (files("ctxembed.wsd") / FILE).read_text(), \
        "run: python -c 'from ctxembed.wsd.capstone import build_capstone_data; build_capstone_data()'"
    data = capstone_data()
    assert set(data.part) == {"exercise", "held-out"}
    assert not set(data.lemma[data.part == "exercise"]) & set(data.lemma[data.part == "held-out"])
