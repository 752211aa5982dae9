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
``"auto"``      one of the three, with a layer choice and piece pooling,      that of the choice
                chosen by cross-validation on the data given to ``fit``: the
                simplest candidate that the best one does not beat
                (:mod:`ctxembed.wsd.selection`)
==============  ============================================================  ======================

Every method breaks a tie the same way: a seeded uniform choice among the tied senses
(:mod:`ctxembed.wsd.centroid`), never the alphabetically first. ``confidence`` is a score,
not a calibrated probability unless the temperature was fitted on held-out uses like the
new ones (:func:`ctxembed.wsd.selection.fit_temperature`;
:func:`ctxembed.wsd.evaluation.confidence_calibration` measures the calibration error on
WordNet's held-out sentences).

A :class:`WSDSystem` is a scikit-learn classifier: ``fit(uses, senses)``, ``predict(uses)``
and ``score(uses, senses)`` take a table of uses (a DataFrame with ``sentence`` and
``word`` columns, optionally ``lemma`` and ``occurrence``, or a list of
``(sentence, word)`` pairs), so ``clone``, ``cross_val_score`` and ``GridSearchCV`` work;
``fit(sentences, words, senses)`` and ``predict(sentences, words)`` are the same calls
written out. ``fit`` starts from scratch.

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

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from ..core.errors import EmptyInputError, UnknownWordError
from ..core.similarity import unit_vectors
from ..core.words import find_word
from .lemmas import EMPTY_WORD
from .vectors import FEATURES, use_vectors
from .word_model import (
    DEFAULT_TEMPERATURE,
    SensePrediction,
    WordModel,
    fit_word,
    word_predictions,
)

METHODS = ("centroid", "knn", "logreg")
AUTO = "auto"


_WORD_RE = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")


def uses_table(X, words=None, occurrences=0, lemmas=None) -> pd.DataFrame:
    """The uses to classify as one table: columns ``sentence``, ``word``, ``occurrence``,
    ``lemma`` (None where not given).

    ``X`` is a table of uses (a DataFrame with ``sentence`` and ``word`` columns, optionally
    ``occurrence`` and ``lemma``) or a list of ``(sentence, word)`` pairs; or, with ``words``
    given, a list of sentences.
    """
    if words is None:
        if isinstance(X, pd.DataFrame):
            missing = {"sentence", "word"} - set(X.columns)
            if missing:
                raise ValueError(f"The table of uses lacks the column(s) {sorted(missing)}: give "
                                 "one row per use with its 'sentence' and 'word'.")
            table = X.reset_index(drop=True)
            return pd.DataFrame({
                "sentence": list(table.sentence), "word": list(table.word),
                "occurrence": list(table.occurrence) if "occurrence" in table else 0,
                "lemma": list(table.lemma) if "lemma" in table else None})
        if isinstance(X, str):
            raise TypeError("Pass a list of sentences and the word (or a table of uses), "
                            "or use disambiguate() for one sentence.")
        pairs = list(X)
        if not all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pairs):
            raise TypeError("Give the uses as a table with 'sentence' and 'word' columns, as "
                            "(sentence, word) pairs, or as sentences plus words=...")
        X, words = [p[0] for p in pairs], [p[1] for p in pairs]
    if isinstance(X, str):
        raise TypeError("Pass a list of sentences (or use disambiguate() for one).")
    sentences = list(X)
    if not sentences:
        raise EmptyInputError("No sentences given: pass at least one sentence.")
    words, occurrences = resolve_targets(sentences, words, occurrences)
    if lemmas is not None and len(list(lemmas)) != len(sentences):
        raise ValueError(f"Got {len(sentences)} sentences but {len(list(lemmas))} lemmas.")
    return pd.DataFrame({"sentence": sentences, "word": words, "occurrence": occurrences,
                         "lemma": list(lemmas) if lemmas is not None else None})


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


class WSDSystem(ClassifierMixin, BaseEstimator):
    """Word-sense disambiguation from contextual (or static) vectors.

    Parameters
    ----------
    method : {"centroid", "knn", "logreg", "auto"}
        ``"auto"`` chooses the classifier (with its ``k``, ``C`` or ``unit``), the layers
        and the piece pooling by cross-validation on the training data (those parameters
        are then ignored; the choice is in ``method_``, ``options_``, ``layers_``,
        ``pieces_`` and the scores of every candidate in ``selection_``).
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
    unit : bool
        Scale every vector to unit length before centroids are averaged and classifiers
        fitted (True), or keep the raw vectors, so that long vectors weigh more.
    temperature : float
        Softmax temperature that turns the centroid cosines into ``confidence``.
    unknown_threshold : float, optional
        Flag uses whose similarity to every known sense is below this.
    encoder : Encoder or model name, optional
        Default: the packaged MiniLM. Give a name, not a loaded model, to ``clone`` cheaply.

    Attributes (after fitting)
    --------------------------
    words_ : list of str, the words it can disambiguate
    glosses_ : dict sense -> definition
    method_, options_, layers_, pieces_, temperature_ : the configuration in use
    selection_ : :class:`~ctxembed.wsd.selection.ConfigurationChoice` (``method="auto"``)

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
                 features: str = "contextual", k: int = 1, C: float = 10.0, unit: bool = True,
                 temperature: float = DEFAULT_TEMPERATURE, unknown_threshold: float | None = None,
                 encoder=None):
        if method not in (*METHODS, AUTO):
            raise ValueError(f"method={method!r}: use one of {', '.join(METHODS)} or 'auto'.")
        if features not in FEATURES:
            raise ValueError(f"features={features!r}: use one of {', '.join(FEATURES)}.")
        self.method, self.layers, self.pieces, self.features = method, layers, pieces, features
        self.k, self.C, self.unit, self.temperature = k, C, unit, temperature
        self.unknown_threshold = unknown_threshold
        self.encoder = encoder

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(method={self.method!r}, layers={self.layers!r}, "
                f"pieces={self.pieces!r}, features={self.features!r}, "
                f"words={len(getattr(self, '_models', {}))})")

    def _settings(self) -> tuple:
        """(method, layers, pieces, temperature) in use: the fitted choice for ``"auto"``."""
        if hasattr(self, "method_"):
            return self.method_, self.layers_, self.pieces_, self.temperature_
        if self.method == AUTO:
            raise RuntimeError("method='auto' chooses its layers on the training data: call "
                               "fit(...) first.")
        return self.method, self.layers, self.pieces, self.temperature

    # ------------------------------------------------------------------ vectors
    def vectors(self, sentences: Sequence[str], words, occurrences=0, *,
                cache: bool = True) -> np.ndarray:
        """The vectors this system classifies: (n, d), one per (sentence, target).
        ``cache``: keep large sets in the disk cache (training sets are asked for again)."""
        _, layers, pieces, _ = self._settings()
        uses = uses_table(sentences, words, occurrences)
        return use_vectors(list(uses.sentence), list(uses.word), list(uses.occurrence),
                           layers=layers, pieces=pieces, features=self.features,
                           encoder=self.encoder, cache=cache)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, senses: Sequence[str] | None = None, *,
            lemmas: Sequence[str] | None = None, occurrences=0,
            glosses: dict[str, str] | None = None) -> WSDSystem:
        """Learn every word's senses from labelled uses, from scratch.

        Two ways to call it:

        - ``fit(uses, senses)``: scikit-learn's form; ``uses`` is a table with ``sentence``
          and ``word`` columns (optionally ``lemma``, ``occurrence``) or a list of
          ``(sentence, word)`` pairs;
        - ``fit(sentences, words, senses)``: ``words`` is one word for every sentence, or a
          list of n targets (word as written, token position or span).

        Parameters
        ----------
        senses : list of n sense labels (any strings: synset names, "dog", "tree"...)
        lemmas : list of n str, optional
            Which word each use belongs to (``"bark"`` for ``"barked"``); default the
            target word in lower case. Senses are only compared within one lemma.
        glosses : dict sense -> definition, optional
            Shown with predictions.
        """
        if senses is None:
            uses, senses = uses_table(X), y
        else:
            uses = uses_table(X, y, occurrences, lemmas)
        if senses is None or len(list(senses)) != len(uses):
            raise ValueError(f"Need one sense label per use ({len(uses)} uses).")
        senses = [str(s) for s in senses]
        lemmas = [str(w if l is None else l).lower() for w, l in zip(uses.word, uses.lemma)]
        for name in ("_models", "glosses_", "method_", "options_", "layers_", "pieces_",
                     "temperature_", "selection_"):
            self.__dict__.pop(name, None)
        if self.method == AUTO and self.features == "contextual":
            from .selection import choose_configuration

            def vectors(layers, pieces):
                return use_vectors(list(uses.sentence), list(uses.word), list(uses.occurrence),
                                   layers=layers, pieces=pieces, encoder=self.encoder)

            choice = choose_configuration(vectors, lemmas, senses, self._same_but)
            self._choose(choice)
            return self.fit_vectors(vectors(choice.layers, choice.pieces), lemmas, senses,
                                    glosses=glosses)
        X_uses = self.vectors(list(uses.sentence), list(uses.word), list(uses.occurrence)) \
            if self.method != AUTO else use_vectors(list(uses.sentence), list(uses.word),
                                                    features=self.features)
        return self.fit_vectors(X_uses, lemmas, senses, glosses=glosses)

    def _same_but(self, method: str, **options) -> WSDSystem:
        """An unfitted system like this one with another classifier and classifier options
        (``k``, ``C``, ``unit``), for cross-validation."""
        params = {"layers": self.layers, "pieces": self.pieces, "features": self.features,
                  "k": self.k, "C": self.C, "unit": self.unit, "temperature": self.temperature,
                  "encoder": self.encoder}
        return WSDSystem(method, **{**params, **options})

    def _option(self, name: str):
        """A classifier option in use: the one ``"auto"`` chose, or the parameter."""
        return getattr(self, "options_", {}).get(name, getattr(self, name))

    def _start_fitting(self) -> None:
        """Create the fitted state if there is none: no word yet, the configuration given."""
        if not hasattr(self, "_models"):
            self._models: dict[str, WordModel] = {}
            self.glosses_: dict[str, str] = {}
        if not hasattr(self, "method_"):
            self.method_, self.layers_, self.pieces_ = self.method, self.layers, self.pieces
            self.options_, self.temperature_ = {}, self.temperature

    def _choose(self, choice) -> None:
        self.selection_ = choice
        self.method_, self.layers_, self.pieces_ = choice.method, choice.layers, choice.pieces
        self.options_ = dict(choice.options)
        self.temperature_ = self.temperature

    def fit_vectors(self, X: np.ndarray, lemmas: Sequence[str], senses: Sequence[str], *,
                    glosses: dict[str, str] | None = None) -> WSDSystem:
        """Fit on precomputed vectors ``X`` (n, d) (e.g. from :meth:`vectors`).

        Unlike :meth:`fit`, words already known are replaced and others are kept, so a
        system can be fitted word by word. With ``method="auto"`` (and no choice made yet)
        only the classifier is chosen here, since the vectors are given.
        """
        if not hasattr(self, "method_") and self.method == AUTO:
            from .selection import choose_configuration

            self._choose(choose_configuration(lambda layers, pieces: X, lemmas, senses,
                                              self._same_but, layers=(self.layers,),
                                              pieces=(self.pieces,)))
        self._start_fitting()
        X = unit_vectors(X) if self._option("unit") else np.asarray(X, dtype=np.float64)
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

    def _fit_word(self, X: np.ndarray, y: np.ndarray) -> WordModel:
        model = fit_word(X, y)
        method = self.method_
        if len(model.senses) < 2 or method == "centroid":
            return model
        if method == "knn":
            from sklearn.neighbors import KNeighborsClassifier

            model.estimator = KNeighborsClassifier(n_neighbors=min(self._option("k"), len(y)),
                                                   metric="cosine").fit(X, y)
        else:
            from sklearn.linear_model import LogisticRegression

            # newton-cg: the same L2-penalised optimum as lbfgs, ten times faster on a
            # word's handful of uses
            model.estimator = LogisticRegression(C=self._option("C"), solver="newton-cg",
                                                 max_iter=2000).fit(X, y)
        return model

    # ------------------------------------------------------------------ lookup
    @property
    def words_(self) -> list[str]:
        return sorted(getattr(self, "_models", {}))

    def senses_of(self, word: str) -> list[str]:
        """The senses the system knows for ``word``."""
        return list(self._model_for(self.lemma_for(word)).senses)

    def lemma_for(self, word: str) -> str:
        """Which fitted word ``word`` is a form of (exact match, then WordNet's lemmas)."""
        if not isinstance(word, str) or not word.strip():
            raise EmptyInputError(EMPTY_WORD)
        low = word.strip().lower()
        if not hasattr(self, "_models"):
            raise RuntimeError("This system has not been fitted: call fit(...) first.")
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

    def _model_for(self, lemma: str) -> WordModel:
        if not hasattr(self, "_models"):
            raise RuntimeError("This system has not been fitted: call fit(...) first.")
        return self._models[lemma]

    # ------------------------------------------------------------------ predicting
    def disambiguate(self, sentence: str, word, occurrence: int = 0, *,
                     lemma: str | None = None) -> SensePrediction:
        """The sense of ``word`` (a word, token position or span) in one ``sentence``."""
        return self.predict_details([sentence], [word], [occurrence],
                                    lemmas=None if lemma is None else [lemma])[0]

    def predict(self, X, words=None, occurrences=0, *,
                lemmas: Sequence[str] | None = None) -> list[str]:
        """The best known sense of each use, as a list of labels: ``predict(uses)`` (a
        table or ``(sentence, word)`` pairs, as for :meth:`fit`) or ``predict(sentences, words)``."""
        return [p.sense for p in self.predict_details(X, words, occurrences, lemmas=lemmas)]

    def predict_details(self, X, words=None, occurrences=0, *,
                        lemmas: Sequence[str] | None = None) -> list[SensePrediction]:
        """:class:`SensePrediction` of each use: sense, gloss, confidence, unknown flag."""
        uses = uses_table(X, words, occurrences, lemmas)
        sentences, words = list(uses.sentence), list(uses.word)
        keys = [self.lemma_for(w if l is None else l) for w, l in zip(words, uses.lemma)]
        # new uses are rarely asked about twice: encoded directly, at the encoder's speed,
        # without computing and storing every layer for the disk cache
        X = self.vectors(sentences, words, list(uses.occurrence), cache=False)
        return self._predict_vectors(X, keys, sentences, words)

    def _predict_vectors(self, X, keys, sentences=None, words=None) -> list[SensePrediction]:
        X = unit_vectors(X) if self._option("unit") else np.asarray(X, dtype=np.float64)
        keys = list(keys)
        sentences = sentences or [""] * len(keys)
        words = words or keys
        out: list[SensePrediction | None] = [None] * len(keys)
        by_key: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            by_key.setdefault(key, []).append(i)
        for key, idx in by_key.items():
            model = self._model_for(key)
            preds = word_predictions(
                model, X[idx], key, sentences=[sentences[i] for i in idx],
                words=[words[i] for i in idx], method=self.method_, temperature=self.temperature_,
                probabilities=None if model.estimator is None else self._probabilities(model, X[idx]),
                glosses=self.glosses_, unknown_threshold=self.unknown_threshold)
            for i, pred in zip(idx, preds):
                out[i] = pred
        return out  # type: ignore[return-value]

    def _probabilities(self, model: WordModel, X: np.ndarray) -> np.ndarray:
        """(m, n_senses) scores of the word's k-NN / logistic regression over
        ``model.centroid.senses_`` (sorted labels), rows sum to 1."""
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
