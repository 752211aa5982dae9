"""Evaluating the WSD system on held-out WordNet sentences, and its unknown-sense flag.

The data are WordNet 3.0's sense-labelled example sentences
(:func:`ctxembed.data.senses.wordnet_usages`), kept for every word with at least two
senses that have at least two example sentences each (only those senses). They are
split **by sentence**: for each (word, sense), a third of its sentences (at least one,
chosen with a fixed seed) are test sentences, and a sentence is never on both sides.
Every method is trained on the training sentences only (plus, with ``glosses=True``,
each candidate sense's gloss, which is not a test sentence) and chooses among the
senses seen in training.

Baselines:

- ``"most-frequent-sense"``: WordNet's first sense, the standard baseline: WordNet lists a
  word's senses by how often SemCor's annotators chose them, and this baseline answers the
  first listed candidate in the part of speech of the test use (the standard all-words
  benchmarks give the part of speech; the systems here are not given it);
- ``"random"``: a uniform choice among the candidate senses (seeded per word);
- ``"lesk"``: simplified Lesk, NLTK's :func:`nltk.wsd.lesk` (gloss-context word overlap)
  restricted to the candidate senses;
- ``"static-word"``: the centroid classifier on GloVe vectors of the word (one vector
  per word, so every sense ties and the tie rule, a seeded uniform choice among the tied
  senses, makes it a chance-level guess);
- ``"static-context"``: the centroid classifier on the mean GloVe vector of the other
  words of the sentence.

Results are cached under ``~/.cache/ctxembed/wsd/`` in a file named by the options, a hash of
the sense-labelled data (train and test sentences, glosses, sense counts) and the code
(:func:`evaluation_cache_path`). The first run embeds about 10,000 sentences (a few minutes on
two cores); ``words=[...]`` evaluates a few words only, in seconds.

Example
-------
>>> result = evaluate_wordnet()
>>> result.overall[["method", "layers", "pieces", "accuracy"]].round(2)
                method layers pieces  accuracy
0             centroid   last   mean      0.61
1                  knn   last   mean      0.56
2               logreg   last   mean      0.55
3  most-frequent-sense      -      -      0.41
4               random      -      -      0.31
5                 lesk      -      -      0.34
6          static-word      -      -      0.35
7       static-context      -      -      0.54
>>> result.per_word.query("method == 'centroid'").head(3)
     method layers pieces   lemma  n  accuracy
0  centroid   last   mean    able  2      0.50
1  centroid   last   mean  unable  2      1.00
2  centroid   last   mean    last  8      0.25
>>> result.confusions("centroid", n=5).columns.tolist()
['lemma', 'sentence', 'gold', 'gold_gloss', 'predicted', 'predicted_gloss', 'confidence']
"""

from __future__ import annotations

import functools
import json
import pickle
import random
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.defaults import DEFAULT_MODEL
from .caching import (
    EVALUATION_CODE,
    EVALUATION_LIBRARIES,
    cache_dir,
    code_version,
    digest,
    store,
    touch,
)
from .inventory import gloss_sentence, wordnet_inventory
from .system import WSDSystem, predictions_table
from .vectors import use_vectors

BASELINES = ("most-frequent-sense", "random", "lesk", "static-word", "static-context")


def wordnet_wsd_data(min_senses: int = 2, min_examples: int = 2, seed: int = 0,
                     test_fraction: float = 1 / 3) -> pd.DataFrame:
    """WordNet's sense-labelled sentences with a train/test split by sentence.

    Returns
    -------
    pandas.DataFrame with columns ``sentence``, ``word`` (as written), ``lemma``,
    ``sense`` (synset), ``pos`` and ``split`` (``"train"`` / ``"test"``).
    """
    return _wordnet_wsd_data(min_senses, min_examples, seed, test_fraction).copy()


@functools.lru_cache(maxsize=4)
def _wordnet_wsd_data(min_senses: int, min_examples: int, seed: int,
                      test_fraction: float) -> pd.DataFrame:
    from ..core.embeddings import find_word
    from ..data.senses import wordnet_usages

    usages = wordnet_usages()
    per_sense = Counter((u.lemma, u.synset) for u in usages)
    senses_ok: Counter = Counter(l for (l, s), c in per_sense.items() if c >= min_examples)
    rows = []
    for u in usages:
        if senses_ok[u.lemma] >= min_senses and per_sense[u.lemma, u.synset] >= min_examples:
            try:
                find_word(u.sentence, u.form)
            except ValueError:           # a token the word finder splits differently: skip
                continue
            rows.append((u.sentence, u.form, u.lemma, u.synset, u.pos))
    data = pd.DataFrame(rows, columns=["sentence", "word", "lemma", "sense", "pos"])
    split = np.array(["train"] * len(data), dtype=object)
    for (lemma, sense), idx in data.groupby(["lemma", "sense"]).indices.items():
        idx = sorted(idx.tolist())
        random.Random(zlib.crc32(f"{seed}|{lemma}|{sense}".encode())).shuffle(idx)
        n_test = max(1, int(len(idx) * test_fraction))
        split[idx[:n_test]] = "test"
    # a sentence illustrating two words goes wholly to train
    both = set(data.sentence[split == "test"]) & set(data.sentence[split == "train"])
    split[data.sentence.isin(both).to_numpy()] = "train"
    data["split"] = split
    # keep only test uses whose sense still has a training sentence
    train_senses = set(zip(data.lemma[split == "train"], data.sense[split == "train"]))
    keep = (data.split == "train").to_numpy() | np.array(
        [(l, s) in train_senses for l, s in zip(data.lemma, data.sense)])
    data = data[keep].reset_index(drop=True)
    assert not set(data.sentence[data.split == "test"]) & set(data.sentence[data.split == "train"])
    return data


def sample_words(n: int, *, min_senses: int = 3, seed: int = 0) -> list[str]:
    """``n`` words of :func:`wordnet_wsd_data` with at least ``min_senses`` senses in training,
    in a fixed pseudo-random order (a hash of the word): a small but unselected sample for a
    quick evaluation, ``evaluate_wordnet(words=sample_words(30))``."""
    data = wordnet_wsd_data(seed=seed)
    senses = data[data.split == "train"].groupby("lemma").sense.nunique()
    eligible = senses[senses >= min_senses].index
    return sorted(eligible, key=lambda lemma: (zlib.crc32(lemma.encode()), lemma))[:n]


def _gloss_rows(train: pd.DataFrame) -> pd.DataFrame:
    """One gloss sentence per candidate (lemma, sense) of the training data."""
    inventory = wordnet_inventory()
    rows = []
    for lemma, sense in sorted(set(zip(train.lemma, train.sense))):
        info = next(s for s in inventory[lemma] if s.name == sense)
        rows.append((gloss_sentence(info), lemma.replace("_", " "), lemma, sense))
    return pd.DataFrame(rows, columns=["sentence", "word", "lemma", "sense"])


@dataclass
class WSDEvaluation:
    """Results of :func:`evaluate_wordnet`.

    Attributes
    ----------
    predictions : DataFrame, one row per (method, layers, pieces, test use): ``lemma``,
        ``sentence``, ``word``, ``gold``, ``predicted``, ``correct``, ``confidence``
    per_word : DataFrame, accuracy per (method, layers, pieces, lemma) with ``n``
    overall : DataFrame, accuracy per (method, layers, pieces) over all test uses, with
        the macro average over words and the number of test uses and words
    """

    predictions: pd.DataFrame
    per_word: pd.DataFrame
    overall: pd.DataFrame

    def accuracy(self, method: str, layers="last", pieces: str = "mean") -> float:
        """Overall accuracy of one configuration (baselines: any layers/pieces)."""
        t = self.overall[self.overall.method == method]
        if method not in BASELINES:
            t = t[(t.layers == str(layers)) & (t.pieces == pieces)]
        if t.empty:
            raise KeyError(f"{method!r} with layers={layers!r}, pieces={pieces!r} was not evaluated.")
        return float(t.accuracy.iloc[0])

    def confusions(self, method: str = "centroid", n: int = 5, layers="last",
                   pieces: str = "mean") -> pd.DataFrame:
        """The ``n`` most confident mistakes of a method, with the glosses of both senses."""
        p = self.predictions
        sel = (p.method == method) & ~p.correct
        if method not in BASELINES:
            sel &= (p.layers == str(layers)) & (p.pieces == pieces)
        wrong = p[sel].sort_values("confidence", ascending=False).head(n).copy()
        inventory = wordnet_inventory()
        gloss = {(s.lemma, s.name): s.definition for l in set(wrong.lemma) for s in inventory[l]}
        wrong["gold_gloss"] = [gloss.get((l, s), "") for l, s in zip(wrong.lemma, wrong.gold)]
        wrong["predicted_gloss"] = [gloss.get((l, s), "") for l, s in zip(wrong.lemma, wrong.predicted)]
        return wrong[["lemma", "sentence", "gold", "gold_gloss", "predicted", "predicted_gloss",
                      "confidence"]].reset_index(drop=True)


def _summaries(pred: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    keys = ["method", "layers", "pieces"]
    per_word = (pred.groupby(keys + ["lemma"], sort=False)
                .agg(n=("correct", "size"), accuracy=("correct", "mean")).reset_index())
    overall = pred.groupby(keys, sort=False).agg(accuracy=("correct", "mean"),
                                                 n=("correct", "size"),
                                                 words=("lemma", "nunique")).reset_index()
    macro = per_word.groupby(keys, sort=False).accuracy.mean().rename("macro_accuracy")
    overall = overall.merge(macro.reset_index(), on=keys)
    return per_word, overall[keys + ["accuracy", "macro_accuracy", "n", "words"]]


def first_wordnet_sense(lemma: str, candidates: Sequence[str], pos: str | None = None) -> str:
    """WordNet's first listed sense of ``lemma`` among ``candidates`` (synset names),
    in part of speech ``pos`` ("n", "v", "a", "r"; "s" counts as "a") when one of the
    candidates has it. WordNet orders a word's senses by their frequency in SemCor, so this
    is the standard most-frequent-sense baseline.

    Example
    -------
    >>> first_wordnet_sense("bank", ["bank.n.01", "depository_financial_institution.n.01"], "n")
    'bank.n.01'
    """
    from ..data.wordnet import load_wordnet
    if not candidates:
        raise ValueError(f"No candidate senses for {lemma!r}.")
    wanted = set(candidates)
    pos = {"s": "a"}.get(pos, pos)
    listed = [s.name() for s in load_wordnet().synsets(lemma) if s.name() in wanted]
    if not listed:
        raise ValueError(f"None of {sorted(wanted)[:3]} is a WordNet sense of {lemma!r}.")
    same_pos = [n for n in listed if {"s": "a"}.get(n.split(".")[-2], n.split(".")[-2]) == pos]
    return (same_pos or listed)[0]


def _lesk_predictions(test: pd.DataFrame, candidates: dict[str, list[str]]) -> list[str]:
    from nltk.wsd import lesk

    from ..data.corpus import tokenize
    from ..data.wordnet import load_wordnet

    wn = load_wordnet()
    out = []
    for sentence, lemma in zip(test.sentence, test.lemma):
        synsets = [wn.synset(name) for name in candidates[lemma]]
        best = lesk(tokenize(sentence), lemma, synsets=synsets)
        out.append(best.name() if best is not None else candidates[lemma][0])
    return out


def _evaluation_data(words, seed: int, glosses: bool):
    """The test uses, the uses to fit on and each word's candidate senses, for ``words``
    (all words when None)."""
    data = wordnet_wsd_data(seed=seed)
    if words is not None:
        wanted = sorted({str(w).strip().lower() for w in words})
        missing = sorted(set(wanted) - set(data.lemma))
        if not wanted or missing:
            raise ValueError(f"Not evaluation words: {', '.join(missing) or '(none given)'}. "
                             "Pick words of wordnet_wsd_data().lemma.")
        data = data[data.lemma.isin(wanted)].reset_index(drop=True)
    train, test = data[data.split == "train"], data[data.split == "test"]
    fit = pd.concat([train, _gloss_rows(train)], ignore_index=True) if glosses else train
    candidates = {l: sorted(set(g)) for l, g in train.groupby("lemma").sense}
    return fit, test, candidates


def evaluation_cache_path(methods: Sequence[str], layers: Sequence, pieces: Sequence[str],
                          baselines: Sequence[str], glosses: bool, k: int, seed: int,
                          fit: pd.DataFrame, test: pd.DataFrame, candidates: dict,
                          encoder_name: str = DEFAULT_MODEL):
    """The file of a cached :func:`evaluate_wordnet` result: named by its options, the code
    and a hash of its data (the uses fitted on and tested, their senses, each candidate
    sense's gloss and SemCor count)."""
    inventory = wordnet_inventory()
    senses = {lemma: [[s.name, s.definition, s.count] for s in inventory[lemma] if s.name in names]
              for lemma, names in candidates.items()}
    columns = ["sentence", "word", "lemma", "sense"]
    data = digest([fit[columns].values.tolist(), test[columns].values.tolist(), senses])
    options = [list(methods), [str(l) for l in layers], list(pieces), list(baselines),
               bool(glosses), int(k), int(seed), encoder_name]
    key = digest([code_version(EVALUATION_CODE, EVALUATION_LIBRARIES), options, data], 16)
    return cache_dir() / f"eval-{key}.pkl"


def _write_pickle(path, result) -> None:
    """Store a computed result in the cache (written whole, then renamed into place)."""
    def write(tmp):
        with open(tmp, "wb") as fh:
            pickle.dump(result, fh)

    store(path, write)


def _read_evaluation(path) -> WSDEvaluation:
    with open(touch(path), "rb") as fh:
        return pickle.load(fh)


def cached_evaluation(methods: Sequence[str] = ("centroid", "knn", "logreg"), *,
                      layers: Sequence = ("last",), pieces: Sequence[str] = ("mean",),
                      baselines: Sequence[str] = BASELINES, glosses: bool = True, k: int = 1,
                      seed: int = 0, words: Sequence[str] | None = None) -> WSDEvaluation | None:
    """What :func:`evaluate_wordnet` with these options would read from the cache, or None
    when this code has not computed it on this data yet (nothing is computed)."""
    fit, test, candidates = _evaluation_data(words, seed, glosses)
    path = evaluation_cache_path(methods, list(layers), list(pieces), baselines, glosses, k,
                                 seed, fit, test, candidates)
    return _read_evaluation(path) if path.exists() else None


def evaluate_wordnet(methods: Sequence[str] = ("centroid", "knn", "logreg"), *,
                     layers: Sequence = ("last",), pieces: Sequence[str] = ("mean",),
                     baselines: Sequence[str] = BASELINES, glosses: bool = True,
                     k: int = 1, seed: int = 0, words: Sequence[str] | None = None,
                     cache: bool = True, encoder=None) -> WSDEvaluation:
    """Accuracy of each method and baseline on held-out WordNet sentences (see the module).

    Every combination of ``methods`` x ``layers`` x ``pieces`` is evaluated, plus each
    baseline once. ``k`` is k-NN's number of neighbours: 1 by default, since most senses
    have only two to four training uses (k=5 scores 0.45 against 1-NN's higher score).
    ``words`` evaluates only these words (lemmas of :func:`wordnet_wsd_data`): each word has
    its own classifier, so their rows are the same as in the evaluation of every word.
    Cached on disk (``cache=False``: neither read nor written, vectors included), so calling
    it again (e.g. from a chapter) is instant. ``encoder`` (a name or an
    :class:`~ctxembed.core.models.Encoder`, default the packaged MiniLM) computes the
    contextual vectors, e.g. ``load_encoder(precision="bf16")`` to measure what it costs.

    Returns
    -------
    WSDEvaluation with ``overall`` (one row per configuration), ``per_word`` and
    ``predictions`` tables.
    """
    layers, pieces = list(layers), list(pieces)
    fit, test, candidates = _evaluation_data(words, seed, glosses)
    # the name alone: a cached result is read without loading any model
    encoder_name = DEFAULT_MODEL if encoder is None else getattr(encoder, "name", str(encoder))
    path = evaluation_cache_path(methods, layers, pieces, baselines, glosses, k, seed,
                                 fit, test, candidates, encoder_name)
    if cache and path.exists():
        return _read_evaluation(path)
    parts = []

    def record(name, lay, pie, preds):
        table = predictions_table(preds, test.sense)
        table.insert(0, "method", name)
        table.insert(1, "layers", str(lay))
        table.insert(2, "pieces", pie)
        parts.append(table)

    for pie in pieces if methods else ():
        for lay in layers:
            X_fit = use_vectors(list(fit.sentence), list(fit.word), layers=lay, pieces=pie,
                                cache=cache, encoder=encoder)
            X_test = use_vectors(list(test.sentence), list(test.word), layers=lay, pieces=pie,
                                 cache=cache, encoder=encoder)
            for method in methods:
                wsd = WSDSystem(method, layers=lay, pieces=pie, k=k, encoder=encoder)
                wsd.fit_vectors(X_fit, fit.lemma, fit.sense)
                record(method, lay, pie, wsd._predict_vectors(X_test, test.lemma, list(test.sentence),
                                                              list(test.word)))
    for name in baselines:
        if name in ("static-word", "static-context"):
            wsd = WSDSystem("centroid", features=name)
            X_fit = use_vectors(list(fit.sentence), list(fit.word), features=name)
            X_test = use_vectors(list(test.sentence), list(test.word), features=name)
            wsd.fit_vectors(X_fit, fit.lemma, fit.sense)
            record(name, "-", "-", wsd._predict_vectors(X_test, test.lemma, list(test.sentence),
                                                        list(test.word)))
            continue
        if name == "most-frequent-sense":
            labels = [first_wordnet_sense(lemma, candidates[lemma], sense.split(".")[-2])
                      for lemma, sense in zip(test.lemma, test.sense)]
        elif name == "random":      # one seeded stream per word: the same draws in any subset
            streams = {}
            labels = [streams.setdefault(lemma, random.Random(f"{seed}:{lemma}"))
                      .choice(candidates[lemma]) for lemma in test.lemma]
        elif name == "lesk":
            labels = _lesk_predictions(test, candidates)
        else:
            raise ValueError(f"Unknown baseline {name!r}: use some of {', '.join(BASELINES)}.")
        from .system import SensePrediction

        preds = [SensePrediction(s, w, l, lab, "", float("nan"), float("nan"), False)
                 for s, w, l, lab in zip(test.sentence, test.word, test.lemma, labels)]
        record(name, "-", "-", preds)
    pred = pd.concat(parts, ignore_index=True)
    per_word, overall = _summaries(pred)
    result = WSDEvaluation(pred, per_word, overall)
    if cache:
        _write_pickle(path, result)
    return result


#: The layer choices :func:`evaluate_layers` compares (MiniLM has hidden states 0..6).
LAYER_GRID = (1, 2, 3, 4, 5, "last", "sum_last4", "concat_last4")
PIECES_GRID = ("mean", "first")


def evaluate_layers(method: str = "centroid", *, layers: Sequence = LAYER_GRID,
                    pieces: Sequence[str] = PIECES_GRID, **options) -> pd.DataFrame:
    """Overall accuracy of one method for every layer choice x WordPiece pooling (cached).

    Returns the ``overall`` table of :func:`evaluate_wordnet` (one row per layers x pieces).
    """
    return evaluate_wordnet((method,), layers=layers, pieces=pieces, baselines=(),
                            **options).overall


# --------------------------------------------------------------------------- #
# The configuration, chosen on the training sentences only
# --------------------------------------------------------------------------- #
def wordnet_configuration(*, seed: int = 0, glosses: bool = True,
                          words: Sequence[str] | None = None, cache: bool = True):
    """The WSD configuration (classifier, layers, piece pooling) chosen for WordNet's data
    by :func:`ctxembed.wsd.selection.choose_configuration` on the **training** sentences
    (glosses stay in training; test sentences are never seen), with the calibrated
    temperature of the centroid softmax. Cached like :func:`evaluate_wordnet`.

    Returns
    -------
    ConfigurationChoice (``.method``, ``.layers``, ``.pieces``, ``.scores``, ``.temperature``)
    """
    from .selection import choose_configuration

    fit, test, candidates = _evaluation_data(words, seed, glosses)
    named = evaluation_cache_path(["configuration"], [], [], [], glosses, 1, seed, fit, test,
                                  candidates)
    path = named.with_name(named.name.replace("eval-", "config-", 1))
    if cache and path.exists():
        return _read_evaluation(path)
    holdout = (fit.split == "train").to_numpy() if "split" in fit else None

    def vectors(layers, pieces):
        return use_vectors(list(fit.sentence), list(fit.word), layers=layers, pieces=pieces,
                           cache=cache)

    choice = choose_configuration(vectors, list(fit.lemma), list(fit.sense), WSDSystem,
                                  holdout=holdout, seed=seed)
    if cache:
        _write_pickle(path, choice)
    return choice


def confidence_calibration(choice, *, seed: int = 0, glosses: bool = True,
                           default_temperature: float | None = None) -> pd.DataFrame:
    """Is the centroid system's ``confidence`` a probability?

    The system (``choice``'s layers and pieces) is fitted on the training sentences and
    predicts the held-out uses; these are split by word into two halves
    (:func:`ctxembed.evaluation.split_dev_test`). A temperature is calibrated on the dev
    half (:func:`ctxembed.wsd.selection.fit_temperature`) and the expected calibration error
    is measured on the other half, at the default temperature and at the calibrated one.
    (A temperature calibrated by cross-validation on the training sentences, as
    ``choice.temperature``, would be biased here: each fold trains on fewer of the two or
    three uses per sense, so its held-out uses are harder than new ones.)

    Returns
    -------
    DataFrame, one row per temperature: value, accuracy, mean confidence, calibration error
    (ECE), n (the uses of the evaluation half).
    """
    from ..evaluation import expected_calibration_error, split_dev_test
    from .selection import fit_temperature

    default_temperature = (WSDSystem().temperature if default_temperature is None
                           else default_temperature)
    fit, test, _ = _evaluation_data(None, seed, glosses)
    X_fit, X_test = (use_vectors(list(d.sentence), list(d.word), layers=choice.layers,
                                 pieces=choice.pieces) for d in (fit, test))
    half = split_dev_test(list(range(len(test))), seed=seed, groups=list(test.lemma))
    dev, ev = half.dev_indices, half.test_indices
    wsd = WSDSystem("centroid", layers=choice.layers, pieces=choice.pieces)
    wsd.fit_vectors(X_fit, fit.lemma, fit.sense)
    models = [wsd._model_for(lemma).centroid for lemma in test.lemma]
    held = pd.DataFrame({"cosines": [m.scores(x)[0] for m, x in zip(models, X_test)],
                         "gold_position": [m.senses_.index(g) for m, g in zip(models, test.sense)]})
    calibrated = fit_temperature(held.iloc[dev])
    rows = []
    for name, t in (("default", default_temperature), ("calibrated on the dev half", calibrated)):
        wsd.temperature_ = t
        table = predictions_table(wsd._predict_vectors(X_test[ev], test.lemma.iloc[ev]),
                                  test.sense.iloc[ev])
        rows.append({"temperature": name, "value": t, "accuracy": table.correct.mean(),
                     "mean confidence": table.confidence.mean(),
                     "calibration error (ECE)": expected_calibration_error(
                         table.confidence.to_numpy(), table.correct.to_numpy()),
                     "n": len(table)})
    return pd.DataFrame(rows).set_index("temperature")


# --------------------------------------------------------------------------- #
# Unknown senses
# --------------------------------------------------------------------------- #
@dataclass
class UnknownSenseResult:
    """Held-out-sense evaluation of the unknown flag (see :func:`unknown_sense_evaluation`).

    ``threshold`` was chosen on the calibration words; ``precision``, ``recall`` and
    ``f1`` of flagging "unknown" are measured on the other words, and ``auc`` (the chance
    that an unknown use is less similar than a known one) there too. ``scores`` holds one
    row per test use: ``lemma``, ``part`` (calibration / evaluation), ``unknown`` (truth),
    ``similarity``.
    """

    threshold: float
    precision: float
    recall: float
    f1: float
    auc: float
    known_accuracy: float
    n_unknown: int
    n_known: int
    scores: pd.DataFrame


def _best_threshold(similarity: np.ndarray, unknown: np.ndarray) -> float:
    """Threshold maximising Youden's J (recall of unknown uses minus the share of known uses
    flagged) of ``similarity < threshold``. (Maximising F1 instead flags almost everything
    when unknown uses are common.)"""
    s = np.unique(similarity)
    candidates = np.r_[(s[1:] + s[:-1]) / 2, s[-1] + 1e-6]
    j = [(similarity[unknown] < t).mean() - (similarity[~unknown] < t).mean() for t in candidates]
    return float(candidates[int(np.argmax(j))])


def unknown_sense_evaluation(*, layers="last", pieces: str = "mean", glosses: bool = True,
                             seed: int = 0, min_senses: int = 3,
                             words: Sequence[str] | None = None) -> UnknownSenseResult:
    """Can the system tell that a use belongs to none of the senses it knows?

    For every word with at least ``min_senses`` evaluation senses, one sense (chosen
    with ``seed``) is hidden: none of its sentences or its gloss is trained on. The test
    uses are the word's test sentences of its known senses (truth: known) and every
    sentence of the hidden sense (truth: unknown). A use is flagged when its
    ``similarity`` to the nearest known sense (see :mod:`ctxembed.wsd.system`) is below a
    threshold. Words are split in two by a
    hash of the word: the threshold maximising F1 is chosen on the calibration half and
    precision / recall are reported on the other half. ``words`` keeps only these words
    (a quick check; the threshold of :func:`default_system` is chosen on all of them).
    """
    data = wordnet_wsd_data(seed=seed)
    n_senses = data[data.split == "train"].groupby("lemma").sense.nunique()
    lemmas = sorted(n_senses[n_senses >= min_senses].index)
    if words is not None:
        wanted = {str(w).strip().lower() for w in words}
        lemmas = [l for l in lemmas if l in wanted]
        if not lemmas:
            raise ValueError(f"None of {sorted(wanted)} has {min_senses} evaluation senses: "
                             "pick words of wordnet_wsd_data().lemma with more senses.")
    hidden = {l: sorted(set(data.sense[data.lemma == l]))[
        random.Random(zlib.crc32(f"{seed}|{l}".encode())).randrange(n_senses[l])] for l in lemmas}
    sub = data[data.lemma.isin(lemmas)]
    is_hidden = np.array([hidden[l] == s for l, s in zip(sub.lemma, sub.sense)])
    train = sub[(sub.split == "train").to_numpy() & ~is_hidden]
    test = sub[(sub.split == "test").to_numpy() | is_hidden]
    truth = np.array([hidden[l] == s for l, s in zip(test.lemma, test.sense)])
    fit = pd.concat([train, _gloss_rows(train)], ignore_index=True) if glosses else train
    wsd = WSDSystem("centroid", layers=layers, pieces=pieces)
    wsd.fit_vectors(use_vectors(list(fit.sentence), list(fit.word), layers=layers, pieces=pieces),
                    fit.lemma, fit.sense)
    preds = wsd._predict_vectors(use_vectors(list(test.sentence), list(test.word), layers=layers,
                                             pieces=pieces), test.lemma)
    sim = np.array([p.similarity for p in preds])
    part = np.array(["calibration" if zlib.crc32(l.encode()) % 2 == 0 else "evaluation"
                     for l in test.lemma])
    cal = part == "calibration"
    threshold = _best_threshold(sim[cal], truth[cal])
    ev = ~cal
    flag = sim[ev] < threshold
    tp = int((flag & truth[ev]).sum())
    precision = tp / max(int(flag.sum()), 1)
    recall = tp / max(int(truth[ev].sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(truth[ev], -sim[ev]))
    correct = np.array([p.sense == g for p, g in zip(preds, test.sense)])
    scores = pd.DataFrame({"lemma": test.lemma.to_numpy(), "sentence": test.sentence.to_numpy(),
                           "part": part, "unknown": truth, "similarity": sim})
    return UnknownSenseResult(threshold, precision, recall, f1, auc,
                              float(correct[ev & ~truth].mean()) if (ev & ~truth).any() else float("nan"),
                              int(truth[ev].sum()), int((~truth[ev]).sum()), scores)


def calibrate_default_threshold() -> float:
    """Run :func:`unknown_sense_evaluation` and store its threshold for
    :func:`~ctxembed.wsd.default_system`."""
    from .threshold import threshold_file

    result = unknown_sense_evaluation()
    text = json.dumps({"threshold": result.threshold, "precision": result.precision,
                       "recall": result.recall})
    store(threshold_file(), lambda tmp: tmp.write_text(text))
    return result.threshold
