"""The nearest-sense-centroid classifier: word senses from vectors.

The classifier is the simplest word-sense disambiguation system there is:
average the vectors of each sense's labelled uses (its *centroid*), then give
a new use the sense whose centroid is most similar (cosine). With static
vectors every use of a word has the same vector, so it can do no better than
always guessing one sense; with contextual vectors it can.

Example
-------
>>> from ctxembed.data.polysemy import polysemy_sentences
>>> data = polysemy_sentences()
>>> bank = data[data.word == "bank"]
>>> X = word_vectors(list(bank.sentence), list(bank.form))
>>> leave_one_out_accuracy(X, bank.sense)
1.0
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.similarity import cosine_matrix


def _predict(scores: np.ndarray, senses: Sequence[str], counts: dict[str, int]) -> str:
    """Best-scoring sense; ties (equal vectors) go to the sense seen most often."""
    best = scores.max()
    tied = [s for s, v in zip(senses, scores) if v >= best - 1e-9]
    return max(tied, key=lambda s: (counts[s], s))


class NearestSenseCentroid:
    """Word-sense classifier: the sense whose mean vector is most cosine-similar.

    Example
    -------
    >>> clf = NearestSenseCentroid().fit(X_train, senses_train)
    >>> clf.predict(X_test)
    """

    def fit(self, X, senses) -> "NearestSenseCentroid":
        """X: (n, d) vectors of labelled uses; senses: n labels."""
        X = np.asarray(X, dtype=np.float64)
        senses = np.asarray(list(senses))
        if len(X) != len(senses) or len(X) == 0:
            raise ValueError(f"Need as many labels as vectors (got {len(X)} and {len(senses)}).")
        self.senses_ = sorted(set(senses.tolist()))
        self.counts_ = {s: int((senses == s).sum()) for s in self.senses_}
        self.centroids_ = np.stack([X[senses == s].mean(axis=0) for s in self.senses_])
        return self

    def scores(self, X) -> np.ndarray:
        """(n, n_senses) cosine similarity of each vector to each sense centroid."""
        return cosine_matrix(np.atleast_2d(X), self.centroids_)

    def predict(self, X) -> list[str]:
        return [_predict(row, self.senses_, self.counts_) for row in self.scores(X)]


def leave_one_out_accuracy(X, senses, groups=None) -> float:
    """Leave-one-out accuracy of :class:`NearestSenseCentroid`.

    Ties count as a random guess among the tied senses (expected credit).
    Each use is classified by centroids computed from all *other* uses (of the
    same word when ``groups`` gives each row's word). Shapes: X (n, d), senses
    and groups length n.
    """
    X = np.asarray(X, dtype=np.float64)
    senses = np.asarray(list(senses))
    groups = np.zeros(len(X), dtype=int) if groups is None else np.asarray(list(groups))
    correct = 0.0
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        for i in idx:
            train = idx[idx != i]
            clf = NearestSenseCentroid().fit(X[train], senses[train])
            scores = clf.scores(X[i])[0]
            tied = [s for s, v in zip(clf.senses_, scores) if v >= scores.max() - 1e-9]
            # A tie is broken at random: expected credit 1/len(tied). With static
            # vectors every sense ties, which is exactly chance level.
            correct += (senses[i] in tied) / len(tied)
    return correct / len(X)


def chance_accuracy(senses, groups=None) -> float:
    """Expected leave-one-out accuracy of guessing uniformly among a word's senses.

    This is what the nearest-centroid classifier scores with static vectors,
    where every use of a word has the same vector, so every sense ties.
    """
    senses = list(senses)
    return leave_one_out_accuracy(np.ones((len(senses), 1)), senses, groups)
