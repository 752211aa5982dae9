"""Choosing a WSD configuration on the training data only, by cross-validation.

Which classifier, which layers and which WordPiece pooling work best depends on the data:
with two or three labelled uses per sense (WordNet) a sense centroid averages away noise
that a nearest neighbour copies; with hundreds of uses per sense, and senses whose uses
form several groups, a nearest neighbour or a logistic regression can follow shapes that
one centroid cannot. So the choice is measured, never assumed, and never on test data:

- :func:`cross_validated_accuracy` holds out each labelled use once (``folds`` folds,
  stratified by word and sense: a sense's uses are spread over the folds), fits the
  per-word classifiers on the rest and scores the held-out uses whose sense is still in
  training (as the test split does);
- :func:`choose_configuration` scores every candidate that way (the same held-out uses for
  all) and takes the first candidate, in the order given (simplest first), that the best
  one does not beat: a paired bootstrap interval of their difference that includes zero
  (the "one standard error" rule of model selection, with the course's paired test). A
  fraction of a point on held-out training uses is noise, and the simpler system is the
  safer bet on new data;
- :func:`fit_temperature` calibrates the centroid softmax on held-out uses (temperature
  scaling: the one temperature that minimises their log loss); see
  :func:`ctxembed.wsd.evaluation.confidence_calibration`.

``WSDSystem(method="auto")`` (:mod:`ctxembed.wsd.system`) runs this on whatever data it is
fitted on. This module knows no classifier: it is given ``make_system(method, **options)``,
which returns an unfitted :class:`~ctxembed.wsd.system.WSDSystem` (or anything with its
``fit_vectors``, ``_predict_vectors`` and ``_model_for``).

Example
-------
>>> from ctxembed.wsd import WSDSystem
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal([3, 0], 2, (20, 2)), rng.normal([0, 3], 2, (20, 2))]
>>> senses = ["east"] * 20 + ["north"] * 20
>>> round(cross_validated_accuracy(X, ["w"] * 40, senses, lambda: WSDSystem("centroid")), 2)
0.85
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: ``method="auto"``'s classifiers with their options, simplest first (the first of equal
#: scores is chosen): centroids of unit vectors or of the raw ones, 1 or 5 nearest uses,
#: logistic regression with a weak or a stronger penalty.
AUTO_METHODS = (("centroid", {}), ("centroid", {"unit": False}), ("knn", {"k": 1}),
                ("knn", {"k": 5}), ("logreg", {"C": 10.0}), ("logreg", {"C": 1.0}))
AUTO_LAYERS = ("last", "sum_last4")
AUTO_PIECES = ("mean", "first")
FOLDS = 5


def fold_of_each_use(lemmas: Sequence[str], senses: Sequence[str], holdout=None, *,
                     folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """The fold (0..folds-1) of each use, or -1 for a use that is never held out.

    Within each (word, sense) the uses are shuffled (seeded) and dealt to the folds from a
    random starting fold, so a sense with two uses has them in different folds."""
    lemmas, senses = np.asarray(list(lemmas)), np.asarray([str(s) for s in senses])
    holdout = np.ones(len(lemmas), bool) if holdout is None else np.asarray(holdout, bool)
    if not len(lemmas) == len(senses) == len(holdout):
        raise ValueError(f"Need one word, one sense and one holdout flag per use (got "
                         f"{len(lemmas)}, {len(senses)} and {len(holdout)}).")
    if folds < 2:
        raise ValueError(f"folds={folds}: cross-validation needs at least 2 folds.")
    rng = np.random.default_rng(seed)
    fold = np.full(len(lemmas), -1)
    groups = pd.DataFrame({"l": lemmas, "s": senses})[holdout].groupby(["l", "s"], sort=True)
    for idx in groups.indices.values():
        rows = np.flatnonzero(holdout)[idx]
        fold[rng.permutation(rows)] = (rng.integers(folds) + np.arange(len(rows))) % folds
    return fold


def cross_validated_predictions(X, lemmas, senses, make_system: Callable[[], object], *,
                                holdout=None, folds: int = FOLDS, seed: int = 0) -> pd.DataFrame:
    """Every scored held-out use: ``index`` (its row in ``X``), ``gold``, ``predicted``,
    ``correct``, ``cosines`` (its cosines to the training fold's sense centroids) and
    ``gold_position`` (the gold sense's place among them, for calibration). Each fold
    fits ``make_system()`` on the other folds."""
    X = np.asarray(X, dtype=np.float32)
    lemmas, senses = np.asarray(list(lemmas)), np.asarray([str(s) for s in senses])
    fold = fold_of_each_use(lemmas, senses, holdout, folds=folds, seed=seed)
    parts = []
    for f in range(folds):
        train = fold != f
        known = set(zip(lemmas[train], senses[train]))
        test = np.flatnonzero((fold == f) & np.array([(l, s) in known
                                                       for l, s in zip(lemmas, senses)]))
        if len(test) == 0:
            continue
        wsd = make_system().fit_vectors(X[train], lemmas[train], senses[train])
        preds = wsd._predict_vectors(X[test], lemmas[test])
        cos = [wsd._model_for(p.lemma).centroid for p in preds]
        parts.append(pd.DataFrame({
            "index": test, "gold": senses[test], "predicted": [p.sense for p in preds],
            "cosines": [c.scores(X[i])[0] for c, i in zip(cos, test)],
            "gold_position": [c.senses_.index(g) for c, g in zip(cos, senses[test])]}))
    if not parts:
        raise ValueError("No use could be held out: cross-validation needs at least two "
                         "labelled uses of some sense.")
    out = pd.concat(parts, ignore_index=True).sort_values("index", ignore_index=True)
    out["correct"] = out.gold == out.predicted
    return out


def cross_validated_accuracy(X, lemmas, senses, make_system, **options) -> float:
    """Accuracy on held-out uses by :func:`cross_validated_predictions`."""
    return float(cross_validated_predictions(X, lemmas, senses, make_system,
                                             **options).correct.mean())


@dataclass(frozen=True)
class ConfigurationChoice:
    """What :func:`choose_configuration` chose, and every candidate's held-out accuracy.

    Attributes
    ----------
    method, options, layers, pieces : the chosen configuration (``options``: the classifier's
        ``k``, ``C`` or ``unit``, as a dict)
    scores : DataFrame, one row per candidate, in the order tried: method, options, layers, pieces,
        accuracy, n (the held-out uses scored), behind_best with behind_low and behind_high
        (the best candidate's accuracy minus this one's, and its paired 95% interval), chosen
    """

    method: str
    options: dict
    layers: object
    pieces: str
    scores: pd.DataFrame


def choose_configuration(vectors: Callable[[object, str], np.ndarray], lemmas, senses,
                         make_system: Callable[..., object], *, holdout=None,
                         methods: Sequence = AUTO_METHODS, layers: Sequence = AUTO_LAYERS,
                         pieces: Sequence[str] = AUTO_PIECES, folds: int = FOLDS,
                         seed: int = 0) -> ConfigurationChoice:
    """The first (method with options, layers, pieces), in the order tried (methods
    fastest-varying), whose cross-validated accuracy on these uses the best candidate's does
    not beat. ``methods`` are ``(method, options)`` pairs, or method names.

    ``vectors(layers, pieces)`` returns the (n, d) vectors of the n uses for one layer
    choice and pooling; ``make_system(method, **options)`` an unfitted system with that
    classifier.
    ``holdout`` marks the uses that may be held out (default all; e.g. not glosses).
    """
    from ..evaluation import paired_bootstrap_difference, select_on_dev

    classifiers = [(m, {}) if isinstance(m, str) else (m[0], dict(m[1])) for m in methods]
    rows, held = [], {}
    for lay, pie in itertools.product(layers, pieces):
        X = vectors(lay, pie)
        for k, (method, options) in enumerate(classifiers):
            held[k, lay, pie] = cv = cross_validated_predictions(
                X, lemmas, senses, lambda m=method, o=options: make_system(m, **o),
                holdout=holdout, folds=folds, seed=seed)
            rows.append({"method": method, "options": _describe(options), "layers": str(lay),
                         "pieces": pie, "accuracy": float(cv.correct.mean()), "n": len(cv)})
    candidates = list(held)
    accuracy = dict(zip(candidates, (r["accuracy"] for r in rows)))
    best = select_on_dev(candidates, accuracy.__getitem__).choice
    for row, candidate in zip(rows, candidates):
        gap = paired_bootstrap_difference(held[best].correct.to_numpy(float),
                                          held[candidate].correct.to_numpy(float), seed=seed)
        row.update(behind_best=gap.estimate, behind_low=gap.low, behind_high=gap.high)
    chosen = next(c for r, c in zip(rows, candidates) if not r["behind_low"] > 0)
    table = pd.DataFrame(rows).assign(chosen=[c == chosen for c in candidates])
    k, lay, pie = chosen
    return ConfigurationChoice(classifiers[k][0], classifiers[k][1], lay, pie, table)


def _describe(options: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in options.items())


def fit_temperature(held_out: pd.DataFrame) -> float:
    """The softmax temperature that minimises the log loss of the gold senses, given
    held-out uses' ``cosines`` to the sense centroids and the gold sense's
    ``gold_position`` among them (as :func:`cross_validated_predictions` returns them):
    temperature scaling (Guo et al., 2017), fitted on data the test set never saw.

    Held-out uses must be like the new uses the temperature is for: cross-validated uses
    of a word with two or three uses per sense are harder than new ones (each fold trains
    on fewer), and a temperature fitted on them is too high."""
    from scipy.optimize import minimize_scalar

    cos = [np.asarray(c, float) for c in held_out.cosines]
    gold = held_out.gold_position.to_numpy()

    def log_loss(log_t):
        t = np.exp(log_t)
        return -np.mean([(c[g] - c.max()) / t - np.log(np.exp((c - c.max()) / t).sum())
                         for c, g in zip(cos, gold)])

    return float(np.exp(minimize_scalar(log_loss, bounds=(np.log(1e-3), np.log(10.0)),
                                        method="bounded").x))
