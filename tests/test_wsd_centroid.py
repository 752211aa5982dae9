import numpy as np

import ctxembed
from ctxembed.data.polysemy import SHOWCASE_WORDS, polysemy_sentences
from ctxembed.wsd import NearestSenseCentroid, chance_accuracy, leave_one_out_accuracy


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
