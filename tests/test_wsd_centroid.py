import numpy as np

import ctxembed
from ctxembed.data.polysemy import SHOWCASE_WORDS, polysemy_sentences
from ctxembed.wsd import (
    NearestSenseCentroid,
    chance_accuracy,
    leave_one_out_accuracy,
    leave_one_out_scores,
)


def test_curated_sentences_cover_the_showcase_words_and_contain_their_word():
    data = polysemy_sentences()
    assert set(data.word) == set(SHOWCASE_WORDS)
    assert (data.groupby(["word", "sense"]).size() >= 8).all()
    for row in data.itertuples():
        ctxembed.find_word(row.sentence, row.form)  # raises if absent


def test_static_vectors_score_chance_and_contextual_ones_beat_it():
    data = polysemy_sentences()
    static = np.stack([ctxembed.static_vector(w) for w in data.word])
    chance = chance_accuracy(data.sense, data.word)
    assert abs(leave_one_out_accuracy(static, data.sense, data.word) - chance) < 1e-9
    contextual = ctxembed.word_vectors(list(data.sentence), list(data.form))
    assert leave_one_out_accuracy(contextual, data.sense, data.word) > chance + 0.3


def test_nearest_centroid_by_hand():
    X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    clf = NearestSenseCentroid().fit(X, ["a", "a", "b", "b"])
    assert clf.predict([[1.0, 0.2], [0.2, 1.0]]) == ["a", "b"]
    assert leave_one_out_accuracy(X, ["a", "a", "b", "b"]) == 1.0
    assert chance_accuracy(["a", "a", "b", "b"]) == 0.5


def test_one_tie_rule_random_among_tied_senses():
    # Identical vectors: every sense ties. predict draws uniformly among the tied senses
    # (seeded), leave-one-out scores that draw's expectation: exactly chance.
    X = np.ones((6, 3))
    senses = ["b.n.02"] * 4 + ["a.n.01"] * 2
    clf = NearestSenseCentroid(random_state=0).fit(X, senses)
    draws = clf.predict(np.ones((400, 3)))
    assert set(draws) == {"a.n.01", "b.n.02"}
    assert 0.4 < draws.count("a.n.01") / 400 < 0.6      # not "the sense seen most often"
    assert clf.predict(np.ones((5, 3))) == NearestSenseCentroid(0).fit(X, senses).predict(
        np.ones((5, 3)))                                  # reproducible
    assert leave_one_out_accuracy(X, senses) == 0.5 == chance_accuracy(senses)


def test_leave_one_out_scores_are_each_uses_credit_with_its_own_word_only():
    # Two words share one space. Use 0 of "x" is nearest the other word's sense "q", which must
    # not count: only its own word's senses compete. Use 4 of "x" ties between p and q (1/2).
    X = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0], [1.0, 1.0],
                  [1.0, 0.0], [1.0, 0.05], [0.0, 1.0]])
    senses = ["p", "p", "q", "q", "p", "r", "r", "s"]
    words = ["x"] * 5 + ["y"] * 3
    credit = leave_one_out_scores(X, senses, words)
    assert credit.tolist() == [1.0, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 0.0]
    assert leave_one_out_accuracy(X, senses, words) == credit.mean()
    # one use left out means one use fewer for its centroid: "s" has no other use, so it
    # cannot be predicted for the use that is its only example
    assert credit[7] == 0.0
