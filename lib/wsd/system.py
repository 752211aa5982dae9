"""A word-sense disambiguation system: fit on sense-labelled sentences, predict on new ones.

Each word gets its own classifier over that word's senses, trained on the vectors of
its labelled uses (:mod:`ctxembed.wsd.vectors`: any layer, any piece pooling, or
static vectors as a baseline). Three classifiers:

==============  ============================================================  ======================
``method``      prediction                                                    ``confidence``
==============  ============================================================  ======================
``"centroid"``  the sense whose mean unit vector is most cosine-similar        softmax of the cosines
                (:class:`~ctxembed.wsd.centroid.NearestSenseCentroid`; a tie  at ``temperature``
                is a seeded uniform choice among the tied senses)
``"knn"``       majority of the ``k`` most cosine-similar training uses        share of the votes
                (scikit-learn ``KNeighborsClassifier``)
``"logreg"``    scikit-learn ``LogisticRegression`` on unit vectors             its probability
==============  ============================================================  ======================

Whatever the method, a use's ``similarity`` is its cosine to the nearest sense
centroid *after removing the word's mean vector* (what every use of the word shares: raw
cosines of one word's uses are all high, ~0.9, whatever the sense); with
``unknown_threshold`` set, a use below it is flagged ``unknown``: it matches no known
sense well enough (see :func:`ctxembed.wsd.evaluation.unknown_sense_evaluation`
for how the threshold is chosen on held-out data).

Example
-------
>>> wsd = WSDSystem("centroid").fit(
...     ["The dog's bark woke us.", "A loud bark from the yard.",
...      "Rough bark covered the oak.", "Strip the bark from the log."],
...     "bark", ["dog", "dog", "tree", "tree"])
>>> wsd.predict(["The puppy gave a bark."], "bark")
['dog']
>>> wsd.disambiguate("Moss grew on the bark.", "bark").sense
'tree'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..core.embeddings import find_word
from ..core.errors import EmptyInputError, UnknownWordError
from .centroid import NearestSenseCentroid
from .vectors import FEATURES, use_vectors

METHODS = ("centroid", "knn", "logreg")


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
        The classifier's score for ``sense`` in [0, 1] (see the module docstring).
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
class _WordModel:
    senses: list
    centroid: NearestSenseCentroid
    estimator: object = None        # knn / logreg (None when the word has one sense)
    n_train: int = 0
    mean: np.ndarray | None = None  # the word's mean unit training vector
    centered: NearestSenseCentroid | None = None   # centroids relative to ``mean``


def _unit(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


_WORD_RE = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")


def resolve_targets(sentences: Sequence[str], words, occurrences=0) -> tuple[list[str], list[int]]:
    """Turn each target into ``(word as written, occurrence)``.

    A target is a word (``"bark"``), a token position (an int: the index of the word
    among the sentence's words, counting from 0) or a character span ``(start, end)``.
    Raises :class:`~ctxembed.core.errors.WordNotFoundError` /
    :class:`~ctxembed.core.errors.EmptyInputError` with what to do.
    """
    n = len(sentences)
    is_span = (isinstance(words, tuple) and len(words) == 2
               and all(isinstance(v, (int, np.integer)) for v in words))
    if isinstance(words, (str, int, np.integer)) or is_span:
        words = [words] * n
    words = list(words)
    occurrences = [occurrences] * n if isinstance(occurrences, (int, np.integer)) else list(occurrences)
    if len(words) != n or len(occurrences) != n:
        raise ValueError(f"Got {n} sentences but {len(words)} targets and {len(occurrences)} "
                         "occurrences: give one per sentence.")
    out_w, out_o = [], []
    for sentence, target, occ in zip(sentences, words, occurrences):
        if not isinstance(sentence, str) or not sentence.strip():
            raise EmptyInputError("The sentence is empty: pass the text the word is used in.")
        if isinstance(target, str):
            find_word(sentence, target, occ)               # raises a clear error if absent
            out_w.append(target.strip())
            out_o.append(int(occ))
            continue
        if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
            tokens = list(_WORD_RE.finditer(sentence))
            if not -len(tokens) <= target < len(tokens):
                raise ValueError(f"Token position {target} is out of range: {sentence!r} has "
                                 f"{len(tokens)} words (positions 0..{len(tokens) - 1}).")
            start, end = tokens[target].span()
        elif isinstance(target, tuple) and len(target) == 2:
            start, end = int(target[0]), int(target[1])
            if not 0 <= start < end <= len(sentence):
                raise ValueError(f"Span {target} is not inside the sentence (0..{len(sentence)}).")
        else:
            raise TypeError(f"A target is a word (str), a token position (int) or a span "
                            f"(start, end), not {target!r}.")
        word = sentence[start:end].strip()
        # the occurrence of that word that starts at the span
        k = 0
        while True:
            a, _ = find_word(sentence, word, k)
            if a >= start:
                break
            k += 1
        out_w.append(word)
        out_o.append(k)
    return out_w, out_o


class WSDSystem:
    """Word-sense disambiguation from contextual (or static) vectors.

    Parameters
    ----------
    method : {"centroid", "knn", "logreg"}
    layers : "last", int, "sum_last4" or "concat_last4"
        Which hidden states make a word's vector (see :mod:`ctxembed.core.embeddings`).
    pieces : {"mean", "first", "max", "sum"}
        How a word split into several WordPieces is pooled.
    features : {"contextual", "static-word", "static-context"}
        ``"static-*"`` are the static-vector baselines (:mod:`ctxembed.wsd.vectors`).
    k : int
        Neighbours for ``"knn"`` (fewer when a word has fewer training uses); 1 by default,
        since WordNet gives most senses only a few uses.
    C : float
        Inverse regularisation strength for ``"logreg"``.
    temperature : float
        Softmax temperature that turns the centroid cosines into ``confidence``.
    unknown_threshold : float, optional
        Flag uses whose similarity to every known sense is below this.
    encoder : Encoder or model name, optional
        Default: the packaged MiniLM.

    Attributes (after fitting)
    --------------------------
    words_ : list of str, the words it can disambiguate
    glosses_ : dict sense -> definition

    Example
    -------
    >>> from ctxembed.data.polysemy import polysemy_sentences
    >>> spring = polysemy_sentences().query("word == 'spring'")    # season, coil, water
    >>> train, test = spring.iloc[::2], spring.iloc[1::2]
    >>> wsd = WSDSystem("knn", k=3, layers="sum_last4").fit(
    ...     list(train.sentence), list(train.form), list(train.sense))
    >>> wsd.predict(["The flowers bloom every spring.", "We drank from a cold mountain spring."],
    ...             "spring")
    ['season', 'water']
    >>> float(wsd.evaluate(list(test.sentence), list(test.form), list(test.sense)).correct.mean())
    0.75
    """

    def __init__(self, method: str = "centroid", *, layers="last", pieces: str = "mean",
                 features: str = "contextual", k: int = 1, C: float = 10.0,
                 temperature: float = 0.05, unknown_threshold: float | None = None,
                 encoder=None):
        if method not in METHODS:
            raise ValueError(f"method={method!r}: use one of {', '.join(METHODS)}.")
        if features not in FEATURES:
            raise ValueError(f"features={features!r}: use one of {', '.join(FEATURES)}.")
        self.method, self.layers, self.pieces, self.features = method, layers, pieces, features
        self.k, self.C, self.temperature = k, C, temperature
        self.unknown_threshold = unknown_threshold
        self.encoder = encoder
        self._models: dict[str, _WordModel] = {}
        self.glosses_: dict[str, str] = {}

    def __repr__(self) -> str:
        return (f"WSDSystem(method={self.method!r}, layers={self.layers!r}, pieces={self.pieces!r}, "
                f"features={self.features!r}, words={len(self._models)})")

    # ------------------------------------------------------------------ vectors
    def vectors(self, sentences: Sequence[str], words, occurrences=0) -> np.ndarray:
        """The vectors this system classifies: (n, d), one per (sentence, target)."""
        sentences = list(sentences)
        if not sentences:
            raise EmptyInputError("No sentences given: pass at least one sentence.")
        words, occurrences = resolve_targets(sentences, words, occurrences)
        return use_vectors(sentences, words, occurrences, layers=self.layers, pieces=self.pieces,
                           features=self.features, encoder=self.encoder)

    # ------------------------------------------------------------------ fitting
    def fit(self, sentences: Sequence[str], words, senses: Sequence[str], *,
            lemmas: Sequence[str] | None = None, occurrences=0,
            glosses: dict[str, str] | None = None) -> WSDSystem:
        """Learn every word's senses from labelled uses.

        Parameters
        ----------
        sentences : list of n str
        words : str, or list of n targets (word as written, token position or span)
        senses : list of n sense labels (any strings: synset names, "dog", "tree"...)
        lemmas : list of n str, optional
            Which word each use belongs to (``"bark"`` for ``"barked"``); default the
            target word in lower case. Senses are only compared within one lemma.
        glosses : dict sense -> definition, optional
            Shown with predictions.
        """
        sentences = list(sentences)
        words, occurrences = resolve_targets(sentences, words, occurrences)
        X = self.vectors(sentences, words, occurrences)
        lemmas = [w.lower() for w in words] if lemmas is None else [str(l).lower() for l in lemmas]
        return self.fit_vectors(X, lemmas, senses, glosses=glosses)

    def fit_vectors(self, X: np.ndarray, lemmas: Sequence[str], senses: Sequence[str], *,
                    glosses: dict[str, str] | None = None) -> WSDSystem:
        """:meth:`fit` on precomputed vectors ``X`` (n, d) (e.g. from :meth:`vectors`).

        Words already known are replaced; others are kept, so a system can be fitted
        word by word.
        """
        X = _unit(X)
        lemmas = np.asarray(list(lemmas))
        senses = np.asarray([str(s) for s in senses])
        if not (len(X) == len(lemmas) == len(senses)) or len(X) == 0:
            raise ValueError(f"Need one lemma and one sense per vector (got {len(X)} vectors, "
                             f"{len(lemmas)} lemmas, {len(senses)} senses).")
        order = np.argsort(lemmas, kind="stable")
        bounds = np.flatnonzero(np.r_[True, lemmas[order][1:] != lemmas[order][:-1], True])
        for a, b in itertools.pairwise(bounds):
            idx = order[a:b]
            self._models[str(lemmas[idx[0]])] = self._fit_word(X[idx], senses[idx])
        if glosses:
            self.glosses_.update(glosses)
        return self

    def _fit_word(self, X: np.ndarray, y: np.ndarray) -> _WordModel:
        centroid = NearestSenseCentroid().fit(X, y)
        model = _WordModel(list(centroid.senses_), centroid, None, len(y))
        if len(y) >= 2:
            model.mean = X.mean(axis=0)
            model.centered = NearestSenseCentroid().fit(_unit(X - model.mean), y)
        if len(model.senses) < 2 or self.method == "centroid":
            return model
        if self.method == "knn":
            from sklearn.neighbors import KNeighborsClassifier

            model.estimator = KNeighborsClassifier(n_neighbors=min(self.k, len(y)),
                                                   metric="cosine").fit(X, y)
        else:
            from sklearn.linear_model import LogisticRegression

            model.estimator = LogisticRegression(C=self.C, max_iter=2000).fit(X, y)
        return model

    # ------------------------------------------------------------------ lookup
    @property
    def words_(self) -> list[str]:
        return sorted(self._models)

    def senses_of(self, word: str) -> list[str]:
        """The senses the system knows for ``word``."""
        return list(self._model_for(self.lemma_for(word)).senses)

    def lemma_for(self, word: str) -> str:
        """Which fitted word ``word`` is a form of (exact match, then WordNet's lemmas)."""
        if not isinstance(word, str) or not word.strip():
            raise EmptyInputError("The word to disambiguate is empty: pass e.g. word='bark'.")
        low = word.strip().lower()
        if low in self._models:
            return low
        try:
            from .inventory import candidate_lemmas

            for cand in candidate_lemmas(low):
                if cand in self._models:
                    return cand
        except (OSError, LookupError):      # WordNet not installed: exact matches only
            pass
        return self._missing(low)

    def _missing(self, word: str) -> str:
        """Called for a word the system was not fitted on; subclasses may fit it here."""
        known = self.words_
        listed = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        raise UnknownWordError(
            f"{word!r} has no senses in this system (it knows {len(known)} word(s): {listed}). "
            "Fit it on labelled sentences of that word first (WSDSystem.fit), or use "
            "ctxembed.wsd.default_system(), which knows every WordNet word."
        )

    def _model_for(self, lemma: str) -> _WordModel:
        return self._models[lemma]

    # ------------------------------------------------------------------ predicting
    def disambiguate(self, sentence: str, word, occurrence: int = 0, *,
                     lemma: str | None = None) -> SensePrediction:
        """The sense of ``word`` (a word, token position or span) in one ``sentence``."""
        return self.predict_details([sentence], [word], [occurrence],
                                    lemmas=None if lemma is None else [lemma])[0]

    def predict(self, sentences: Sequence[str], words, occurrences=0, *,
                lemmas: Sequence[str] | None = None) -> list[str]:
        """The best known sense of each use (scikit-learn style: a list of labels)."""
        return [p.sense for p in self.predict_details(sentences, words, occurrences, lemmas=lemmas)]

    def predict_details(self, sentences: Sequence[str], words, occurrences=0, *,
                        lemmas: Sequence[str] | None = None) -> list[SensePrediction]:
        """:class:`SensePrediction` of each use: sense, gloss, confidence, unknown flag."""
        if isinstance(sentences, str):
            raise TypeError("Pass a list of sentences (or use disambiguate() for one).")
        sentences = list(sentences)
        if not sentences:
            raise EmptyInputError("No sentences given: pass at least one sentence.")
        words, occurrences = resolve_targets(sentences, words, occurrences)
        keys = [self.lemma_for(w if l is None else l)
                for w, l in zip(words, lemmas if lemmas is not None else [None] * len(words))]
        X = self.vectors(sentences, words, occurrences)
        return self._predict_vectors(X, keys, sentences, words)

    def _predict_vectors(self, X, keys, sentences=None, words=None) -> list[SensePrediction]:
        X = _unit(X)
        keys = list(keys)
        sentences = sentences or [""] * len(keys)
        words = words or keys
        out: list[SensePrediction | None] = [None] * len(keys)
        by_key: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            by_key.setdefault(key, []).append(i)
        for key, idx in by_key.items():
            model = self._model_for(key)
            cos = model.centroid.scores(X[idx])                  # (m, n_senses)
            probs = self._probabilities(model, X[idx], cos)      # (m, n_senses)
            if self.method == "centroid":      # the documented tie rule of the centroids
                best = model.centroid.predict(X[idx])
            else:
                best = [model.centroid.senses_[int(j)] for j in probs.argmax(axis=1)]
            if model.centered is not None:
                sims = model.centered.scores(_unit(X[idx] - model.mean)).max(axis=1)
            else:
                sims = np.ones(len(idx))
            for row, i in enumerate(idx):
                ranked = sorted(zip(model.centroid.senses_, probs[row].tolist()), key=lambda t: -t[1])
                similarity = float(sims[row])
                out[i] = SensePrediction(
                    sentence=sentences[i], word=words[i], lemma=key, sense=best[row],
                    gloss=self.glosses_.get(best[row], ""),
                    confidence=float(dict(ranked)[best[row]]), similarity=similarity,
                    unknown=self.unknown_threshold is not None and similarity < self.unknown_threshold,
                    alternatives=[(s, round(float(c), 4)) for s, c in ranked],
                )
        return out  # type: ignore[return-value]

    def _probabilities(self, model: _WordModel, X: np.ndarray, cos: np.ndarray) -> np.ndarray:
        """(m, n_senses) scores over ``model.centroid.senses_`` (sorted labels), rows sum to 1."""
        if model.estimator is None:
            z = (cos - cos.max(axis=1, keepdims=True)) / self.temperature
            p = np.exp(z)
            return p / p.sum(axis=1, keepdims=True)
        proba = model.estimator.predict_proba(X)
        classes = list(model.estimator.classes_)
        cols = [classes.index(s) if s in classes else None for s in model.centroid.senses_]
        return np.stack([proba[:, c] if c is not None else np.zeros(len(X)) for c in cols], axis=1)

    # ------------------------------------------------------------------ evaluating
    def evaluate(self, sentences: Sequence[str], words, senses: Sequence[str], *,
                 lemmas: Sequence[str] | None = None, occurrences=0) -> pd.DataFrame:
        """Predict labelled uses and compare: one row per use (a tidy table).

        Columns ``sentence``, ``word``, ``lemma``, ``gold``, ``predicted``, ``correct``,
        ``confidence``, ``similarity``, ``unknown``. Accuracy per word:
        ``table.groupby("lemma").correct.mean()``; overall: ``table.correct.mean()``.
        """
        preds = self.predict_details(sentences, words, occurrences, lemmas=lemmas)
        return predictions_table(preds, senses)


def predictions_table(preds: Sequence[SensePrediction], gold: Sequence[str]) -> pd.DataFrame:
    """Predictions beside their gold senses, one row per use (see :meth:`WSDSystem.evaluate`)."""
    gold = [str(g) for g in gold]
    return pd.DataFrame({
        "sentence": [p.sentence for p in preds], "word": [p.word for p in preds],
        "lemma": [p.lemma for p in preds], "gold": gold,
        "predicted": [p.sense for p in preds],
        "correct": [p.sense == g for p, g in zip(preds, gold)],
        "confidence": [p.confidence for p in preds], "similarity": [p.similarity for p in preds],
        "unknown": [p.unknown for p in preds],
    })
