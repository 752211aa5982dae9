"""The count baselines of chapter 2 are proper distributions and rank sensibly."""

import numpy as np

from ctxembed.elmo.ngram import KneserNeyBigramLM, UnigramLM

V = 8
TRAIN = [[2, 4, 5, 6, 3], [2, 4, 5, 7, 3], [2, 6, 5, 4, 3]]


def test_kneser_ney_sums_to_one_for_seen_and_unseen_contexts():
    kn = KneserNeyBigramLM(TRAIN, V)
    for prev in range(V):
        p = np.exp(kn.logprob(np.full(V, prev), np.arange(V)))
        np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-9)


def test_bigram_beats_unigram_on_text_like_its_training_data():
    uni, kn = UnigramLM(TRAIN, V), KneserNeyBigramLM(TRAIN, V)
    test = [[2, 4, 5, 6, 3]]
    assert kn.perplexity(test) < uni.perplexity(test)
    assert np.isfinite(kn.perplexity([[2, 7, 7, 7, 3]]))   # unseen bigrams still get probability
