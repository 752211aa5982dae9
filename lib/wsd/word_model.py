"""One word's fitted senses and how a use of it is classified (NumPy only).

The maths every WSD system shares, whatever holds the training vectors:
:class:`~ctxembed.wsd.system.WSDSystem` (scikit-learn's interface, k-NN and logistic
regression on top) and the command line's quick path over the compact sense table
(:mod:`ctxembed.wsd.sense_table`), which must start without pandas or scikit-learn.

- :func:`fit_word` fits a word's sense centroids, and its centroids relative to the word's
  mean vector (what the unknown-sense similarity compares);
- :func:`word_predictions` turns the vectors of new uses into :class:`SensePrediction` s,
  with one tie rule (a uniform draw among tied senses, seeded by the word).

Example
-------
>>> import numpy as np
>>> X = np.array([[1.0, 0.1], [0.9, 0.0], [0.0, 1.0], [0.1, 0.8]])
>>> model = fit_word(X, np.array(["dog", "dog", "tree", "tree"]))
>>> [p.sense for p in word_predictions(model, np.array([[0.2, 0.9]]), "bark")]
['tree']
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ..core.similarity import unit_vectors
from .centroid import NearestSenseCentroid, _predict

#: Softmax temperature that turns centroid cosines into confidences (``WSDSystem``'s default).
DEFAULT_TEMPERATURE = 0.05


@dataclass(frozen=True)
class SensePrediction:
    """The sense of one use of a word.

    Attributes
    ----------
    sentence, word : str
        The input (``word`` as written in the sentence).
    lemma : str
        The word whose senses were compared (``"bark"`` for ``"barked"``).
    sense : str
        The predicted sense label (a synset name for WordNet senses).
    gloss : str
        The sense's definition, when the system knows it ("" otherwise).
    confidence : float
        The classifier's score for ``sense`` in [0, 1] (see :mod:`ctxembed.wsd.system`).
    similarity : float
        Cosine similarity to the nearest sense centroid, both taken relative to the word's
        mean training vector (1.0 by convention when the word has one training use).
    unknown : bool
        True when ``similarity`` is below the system's ``unknown_threshold``.
    alternatives : list of (sense, confidence)
        Every sense of the word, best first.
    """

    sentence: str
    word: str
    lemma: str
    sense: str
    gloss: str
    confidence: float
    similarity: float
    unknown: bool
    alternatives: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["alternatives"] = [{"sense": s, "confidence": c} for s, c in self.alternatives]
        return d


@dataclass
class WordModel:
    """A word's fitted senses: centroids, and the same relative to the word's mean vector."""

    senses: list
    centroid: NearestSenseCentroid
    estimator: object = None        # k-NN / logistic regression (WSDSystem adds it)
    n_train: int = 0
    mean: np.ndarray | None = None  # the word's mean training vector
    centered: NearestSenseCentroid | None = None   # centroids relative to ``mean``



def fit_word(X: np.ndarray, senses: np.ndarray) -> WordModel:
    """Fit one word's senses on its training vectors ``X`` (n, d) labelled ``senses`` (n)."""
    X = np.asarray(X, dtype=np.float64)
    centroid = NearestSenseCentroid().fit(X, senses)
    model = WordModel(list(centroid.senses_), centroid, None, len(senses))
    if len(senses) >= 2:
        model.mean = X.mean(axis=0)
        model.centered = NearestSenseCentroid().fit(unit_vectors(X - model.mean), senses)
    return model


def centroid_probabilities(cos: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of the cosines at ``temperature``: (m, n_senses), rows sum to 1."""
    z = (cos - cos.max(axis=1, keepdims=True)) / temperature
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def word_predictions(model: WordModel, X: np.ndarray, lemma: str, *,
                     sentences: Sequence[str] | None = None, words: Sequence[str] | None = None,
                     method: str = "centroid", temperature: float = DEFAULT_TEMPERATURE,
                     probabilities: np.ndarray | None = None, glosses=None,
                     unknown_threshold: float | None = None) -> list[SensePrediction]:
    """The predictions for the uses ``X`` (m, d) of one word (``lemma``).

    ``probabilities`` (m, n_senses) are a classifier's scores over ``model.senses``; by
    default the softmax of the centroid cosines at ``temperature``. The centroid method
    picks the sense by cosine, the others by ``probabilities``; ties are a uniform draw
    among the tied senses, from a stream seeded by the word, so a use's answer does not
    depend on what else is predicted with it.
    """
    X = np.asarray(X, dtype=np.float64)
    m = len(X)
    sentences = list(sentences) if sentences is not None else [""] * m
    words = list(words) if words is not None else [lemma] * m
    glosses = glosses or {}
    cos = model.centroid.scores(X)                                       # (m, n_senses)
    probs = centroid_probabilities(cos, temperature) if probabilities is None else probabilities
    rng = np.random.default_rng([model.centroid.random_state, zlib.crc32(lemma.encode())])
    best = [_predict(row, model.centroid.senses_, rng=rng)
            for row in (cos if method == "centroid" else probs)]
    if model.centered is not None:
        sims = model.centered.scores(unit_vectors(X - model.mean)).max(axis=1)
    else:
        sims = np.ones(m)
    out = []
    for row in range(m):
        ranked = sorted(zip(model.centroid.senses_, probs[row].tolist()), key=lambda t: -t[1])
        similarity = float(sims[row])
        out.append(SensePrediction(
            sentence=sentences[row], word=words[row], lemma=lemma, sense=best[row],
            gloss=glosses.get(best[row], ""), confidence=float(dict(ranked)[best[row]]),
            similarity=similarity,
            unknown=unknown_threshold is not None and similarity < unknown_threshold,
            alternatives=[(s, round(float(c), 4)) for s, c in ranked],
        ))
    return out
