"""Linear probes of what each ELMo layer encodes, on data built from WordNet.

Two tasks, both from WordNet 3.0's example sentences, where the word a sentence
illustrates is known together with its synset:

- **part of speech** (syntactic): the synset's POS (noun / verb / adjective / adverb) of
  the illustrated word, kept only for word forms seen with at least two POS, so the
  word's identity alone cannot decide it (e.g. *run* the noun and *run* the verb);
- **same sense?** (semantic): pairs of example sentences of the same lemma, labelled
  same synset or not (the Word-in-Context recipe); balanced per lemma, and the probe
  is evaluated on lemmas it never saw (grouped cross-validation).

A probe is scikit-learn's :class:`~sklearn.linear_model.LogisticRegression` on one layer's
vectors; :func:`fit_scalar_mix` instead learns ELMo's :class:`~ctxembed.elmo.ScalarMix`
weights together with a linear classifier.

Example
-------
>>> from ctxembed.data.senses import wordnet_usages
>>> from ctxembed.elmo import load_elmo
>>> model, vocab = load_elmo()
>>> pos = pos_task(wordnet_usages(), vocab, per_class=30)        # 30 uses per part of speech
>>> X = elmo_features(model, vocab, pos.sentences, pos.words)
>>> X.shape
(120, 3, 512)
>>> [round(probe_accuracy(X[:, layer], pos.labels), 2) for layer in range(3)]
[0.41, 0.8, 0.86]
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..core.similarity import cosine_matrix, unit_vectors
from ..data.senses import Usage, wordnet_usages  # noqa: F401  (re-exported for chapter 2)

POS_NAMES = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}


@dataclass
class Task:
    """Sentences, the word to read in each, integer labels and label names (and groups)."""

    sentences: list[str]
    words: list[str]
    labels: np.ndarray
    names: list[str]
    groups: np.ndarray | None = None


def pos_task(usages: Sequence[Usage], vocab=None, per_class: int = 400, seed: int = 0) -> Task:
    """POS of the illustrated word, for word forms attested with >= 2 parts of speech.

    ``vocab``: keep only forms the model knows (not ``<unk>``). At most ``per_class``
    examples per POS, sampled with ``seed``.
    """
    by_form = defaultdict(set)
    for u in usages:
        by_form[u.form].add(u.pos)
    rng = random.Random(seed)
    keep = [u for u in usages if len(by_form[u.form]) >= 2 and (vocab is None or u.form in vocab)]
    rng.shuffle(keep)
    classes = sorted({u.pos for u in keep}, key="nvar".index)
    chosen = []
    for c in classes:
        chosen += [u for u in keep if u.pos == c][:per_class]
    return Task([u.sentence for u in chosen], [u.form for u in chosen],
                np.array([classes.index(u.pos) for u in chosen]), [POS_NAMES[c] for c in classes])


@dataclass
class PairTask:
    """Pairs of usages of one lemma; label 1 when both illustrate the same synset."""

    a: list[Usage]
    b: list[Usage]
    labels: np.ndarray
    groups: np.ndarray      # lemma id, for grouped cross-validation


def sense_pair_task(usages: Sequence[Usage], vocab=None, pairs_per_lemma: int = 4,
                    seed: int = 0) -> PairTask:
    """Same-sense / different-sense pairs, ``pairs_per_lemma`` of each per lemma (balanced).

    A lemma qualifies when it has a sense with >= 2 examples and >= 2 senses with examples.
    """
    rng = random.Random(seed)
    by_lemma = defaultdict(lambda: defaultdict(list))
    for u in usages:
        if vocab is None or u.form in vocab:
            by_lemma[(u.lemma, u.pos)][u.synset].append(u)
    a, b, y, g = [], [], [], []
    for gid, key in enumerate(sorted(by_lemma)):
        senses = by_lemma[key]
        multi = [s for s in senses.values() if len(s) >= 2]
        if not multi or len(senses) < 2:
            continue
        same = [tuple(rng.sample(s, 2)) for s in multi for _ in range(pairs_per_lemma)]
        names = sorted(senses)
        diff = []
        for _ in range(pairs_per_lemma * 3):
            s1, s2 = rng.sample(names, 2)
            diff.append((rng.choice(senses[s1]), rng.choice(senses[s2])))
        same = rng.sample(same, min(pairs_per_lemma, len(same)))
        diff = diff[: len(same)]
        for (u, v), label in [(p, 1) for p in same] + [(p, 0) for p in diff]:
            a.append(u)
            b.append(v)
            y.append(label)
            g.append(gid)
    return PairTask(a, b, np.array(y), np.array(g))


def elmo_features(model, vocab, sentences: Sequence[str], words: Sequence[str]) -> np.ndarray:
    """ELMo layers of each word: (n, 3, 2 * hidden) float32 (see :func:`ctxembed.elmo.word_layer_vectors`)."""
    from .vectors import word_layer_vectors

    return word_layer_vectors(model, vocab, sentences, list(words))


def pair_features(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """WiC-style pair features ``[|a - b|, a * b]`` of unit-normalised vectors: (n, 2 * dim)."""
    A, B = unit_vectors(A), unit_vectors(B)
    return np.concatenate([np.abs(A - B), A * B], -1)


def probe_accuracy(X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None,
                   folds: int = 5, C: float = 0.1, seed: int = 0) -> float:
    """Cross-validated accuracy of a logistic-regression probe on features ``X`` (n, d).

    Stratified folds, or grouped folds when ``groups`` is given (no group in two folds).
    Features are standardised inside each fold; ``C`` is the inverse L2 penalty.
    BLAS runs on one thread (much faster than two on a busy shared 2-core machine).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=300))
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return float(cross_val_score(clf, X, y, cv=_folds(y, groups, folds, seed)).mean())


def _folds(y: np.ndarray, groups: np.ndarray | None, folds: int, seed: int):
    """The cross-validation folds every probe here uses: stratified, or grouped."""
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    cv = GroupKFold(folds) if groups is not None else StratifiedKFold(folds, shuffle=True,
                                                                      random_state=seed)
    return list(cv.split(np.zeros(len(y)), y, groups))


def _mixed(mix, X, X2):
    """The mixed vectors the head sees: one word's, or the pair features of two."""
    h = mix(X)
    if X2 is None:
        return h
    h2 = mix(X2)
    u = h / h.norm(dim=-1, keepdim=True)
    v = h2 / h2.norm(dim=-1, keepdim=True)
    return torch.cat([(u - v).abs(), u * v], -1) * mix.gamma


def _as_layers(layers: np.ndarray) -> torch.Tensor:
    X = torch.tensor(layers).transpose(0, 1)                    # (layers, n, dim)
    return X / X.norm(dim=-1, keepdim=True).mean(dim=1, keepdim=True)   # layers on one scale


def _train_mix(X, X2, target, n_classes: int, steps: int, lr: float, weight_decay: float,
               seed: int):
    from .model import ScalarMix

    torch.manual_seed(seed)
    mix = ScalarMix(X.shape[0])
    head = nn.Linear(X.shape[-1] * (2 if X2 is not None else 1), n_classes)
    opt = torch.optim.Adam([*mix.parameters(), *head.parameters()], lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(head(_mixed(mix, X, X2)), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return mix, head


def fit_scalar_mix(layers: np.ndarray, y: np.ndarray, *, pair_with: np.ndarray | None = None,
                   steps: int = 200, lr: float = 0.05, weight_decay: float = 1e-3, seed: int = 0):
    """Learn ELMo's scalar mix and a linear classifier together, on all the examples given
    (its training loss decides the weights); return the mix.

    Parameters
    ----------
    layers : (n, num_layers, dim)
        Per-layer vectors of the word (or of the first word of each pair).
    pair_with : (n, num_layers, dim), optional
        Second word of each pair: the classifier then sees :func:`pair_features` of the
        two mixed vectors.

    Returns
    -------
    ScalarMix with learned ``s`` (see ``.weights()``) and ``gamma``.
    """
    X = _as_layers(layers)
    X2 = None if pair_with is None else _as_layers(pair_with)
    target = torch.tensor(y)
    mix, _ = _train_mix(X, X2, target, int(target.max()) + 1, steps, lr, weight_decay, seed)
    return mix


def scalar_mix_accuracy(layers: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None, *,
                        pair_with: np.ndarray | None = None, folds: int = 5, seed: int = 0,
                        **options) -> float:
    """Held-out accuracy of the scalar mix with its linear head, on the same folds as
    :func:`probe_accuracy` (so the two can be set side by side): each fold's mix and head
    are trained on the other folds. ``options`` go to the training (steps, lr, ...)."""
    X = _as_layers(layers)
    X2 = None if pair_with is None else _as_layers(pair_with)
    target = torch.tensor(y)
    n_classes = int(target.max()) + 1
    settings = {"steps": 200, "lr": 0.05, "weight_decay": 1e-3, **options}
    scores = []
    for train, test in _folds(np.asarray(y), groups, folds, seed):
        mix, head = _train_mix(X[:, train], None if X2 is None else X2[:, train], target[train],
                               n_classes, seed=seed, **settings)
        with torch.no_grad():
            guess = head(_mixed(mix, X[:, test], None if X2 is None else X2[:, test])).argmax(-1)
        scores.append(float((guess == target[test]).float().mean()))
    return float(np.mean(scores))           # the mean over folds, as cross_val_score gives it


def ambiguous_contexts(per_sense: int | None = None) -> dict[str, list[tuple[str, str]]]:
    """The course's sense-labelled sentences (chapter 1's), grouped by word.

    Returns ``{word: [(sense, sentence), ...]}`` for the seven showcase words
    of :func:`ctxembed.data.polysemy.polysemy_sentences`; ``per_sense`` keeps only the
    first sentences of each sense.
    """
    from ..data.polysemy import polysemy_sentences

    data = polysemy_sentences()
    if per_sense is not None:
        data = data.groupby(["word", "sense"], sort=False).head(per_sense)
    return {word: list(zip(group.sense, group.sentence))
            for word, group in data.groupby("word", sort=False)}


def sense_gap(vectors: np.ndarray, senses: Sequence[str]) -> tuple[float, float]:
    """Mean cosine of same-sense pairs and of different-sense pairs among ``vectors`` (n, d)."""
    S = cosine_matrix(vectors)
    same, diff = [], []
    for i in range(len(senses)):
        for j in range(i + 1, len(senses)):
            (same if senses[i] == senses[j] else diff).append(S[i, j])
    return float(np.mean(same)), float(np.mean(diff))
