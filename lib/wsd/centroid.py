"""The nearest-sense-centroid classifier: word senses from vectors.

The classifier is the simplest word-sense disambiguation system there is:
average the vectors of each sense's labelled uses (its *centroid*), then give
a new use the sense whose centroid is most similar (cosine). With static
vectors every use of a word has the same vector, so it can do no better than
always guessing one sense; with contextual vectors it can.

The tie rule (one rule, used everywhere in the course)
-----------------------------------------------------
When several senses' centroids are equally similar to a use (within 1e-9, e.g.
identical vectors), the prediction is a *uniform random choice among the tied
senses*. :meth:`NearestSenseCentroid.predict` makes that choice with a seeded
generator (``random_state``); :func:`leave_one_out_accuracy` scores its
expectation exactly (credit ``1 / number of tied senses`` when the right sense is
among them). So with static vectors, where every sense ties, the accuracy is
exactly chance (:func:`chance_accuracy`), never an artefact of how sense names
happen to sort.

Example
-------
>>> from ctxembed.data.polysemy import polysemy_sentences
>>> data = polysemy_sentences()
>>> from ctxembed import word_vectors
>>> bank = data[data.word == "bank"]
>>> X = word_vectors(list(bank.sentence), list(bank.form))
>>> leave_one_out_accuracy(X, bank.sense)
1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.similarity import cosine_matrix

TIE_TOLERANCE = 1e-9


def tied_senses(scores: np.ndarray, senses: Sequence[str]) -> list[str]:
    """The senses whose score is the best one (within :data:`TIE_TOLERANCE`)."""
    best = scores.max()
    return [s for s, v in zip(senses, scores) if v >= best - TIE_TOLERANCE]


def _predict(scores: np.ndarray, senses: Sequence[str], counts=None, rng=None) -> str:
    """Best-scoring sense; a tie is a uniform random choice among the tied senses."""
    tied = tied_senses(scores, senses)
    if len(tied) == 1:
        return tied[0]
    rng = np.random.default_rng(0) if rng is None else rng
    return tied[int(rng.integers(len(tied)))]


class NearestSenseCentroid:
    """Word-sense classifier: the sense whose mean vector is most cosine-similar.

    Example
    -------
    >>> X_train = np.array([[1.0, 0.1], [0.9, 0.0], [0.0, 1.0], [0.1, 0.8]])
    >>> clf = NearestSenseCentroid().fit(X_train, ["money", "money", "river", "river"])
    >>> clf.predict(np.array([[0.8, 0.2], [0.2, 0.9]]))
    ['money', 'river']

    Ties are a uniform random choice among the tied senses, drawn from a generator
    seeded with ``random_state`` (see the module's tie rule).
    """

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def fit(self, X, senses) -> NearestSenseCentroid:
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
        rng = np.random.default_rng(self.random_state)
        return [_predict(row, self.senses_, rng=rng) for row in self.scores(X)]


def leave_one_out_scores(X, senses, groups=None) -> np.ndarray:
    """Each use's leave-one-out credit under :class:`NearestSenseCentroid`, shape (n,).

    Each use is classified by centroids computed from all *other* uses (of the same word
    when ``groups`` gives each row's word). Ties follow the module's one tie rule (a
    uniform random choice among the tied senses), scored by its exact expectation: credit
    ``1 / len(tied)`` when the right sense is tied for best, so a use scores 1, 0 or a
    fraction. Per-use credits are what an interval or a paired comparison of two
    representations needs (:mod:`ctxembed.evaluation`). Shapes: X (n, d), senses and
    groups length n.

    Example
    -------
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.5, 0.5]])
    >>> leave_one_out_scores(X, ["a", "a", "b", "b", "b"]).tolist()  # the last one ties a and b
    [1.0, 1.0, 1.0, 1.0, 0.5]
    """
    X = np.asarray(X, dtype=np.float64)
    senses = np.asarray(list(senses))
    groups = np.zeros(len(X), dtype=int) if groups is None else np.asarray(list(groups))
    credit = np.zeros(len(X))
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        for i in idx:
            train = idx[idx != i]
            clf = NearestSenseCentroid().fit(X[train], senses[train])
            scores = clf.scores(X[i])[0]
            tied = tied_senses(scores, clf.senses_)
            # Expected credit of the random tie-break. With static vectors every
            # sense ties, which is exactly chance level.
            credit[i] = (senses[i] in tied) / len(tied)
    return credit


def leave_one_out_accuracy(X, senses, groups=None) -> float:
    """Leave-one-out accuracy of :class:`NearestSenseCentroid`: the mean of
    :func:`leave_one_out_scores` (see there for the tie rule and the shapes).
    """
    return float(leave_one_out_scores(X, senses, groups).mean())


def chance_accuracy(senses, groups=None) -> float:
    """Expected leave-one-out accuracy of guessing uniformly among a word's senses.

    This is what the nearest-centroid classifier scores with static vectors,
    where every use of a word has the same vector, so every sense ties.
    """
    senses = list(senses)
    return leave_one_out_accuracy(np.ones((len(senses), 1)), senses, groups)
