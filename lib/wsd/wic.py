"""Word in context: do two uses of a word have the same sense? Built from WordNet.

The Word-in-Context benchmark (Pilehvar & Camacho-Collados, 2019) pairs two sentences
that use the same word and asks whether the word has the same sense in both; it was
built from WordNet, VerbNet and Wiktionary examples. It is not on any package
registry, so :func:`wic_pairs` builds the same kind of task, transparently, from WordNet
3.0's sense-labelled example sentences (:func:`ctxembed.data.senses.wordnet_usages`):

- a word qualifies when it has at least two senses with example sentences and at
  least one sense with two or more;
- *same* pairs: two different example sentences of one sense of the word (at most
  ``per_word`` per word, chosen with a fixed seed);
- *different* pairs: two sentences of two different senses of the word, as many as the
  word's same pairs, so the task is balanced (chance = 50%);
- the split is **by word**: a word's pairs are all train or all test (a hash of the
  word puts 30% of the words in test), so no test word was seen in training.

:func:`wic_evaluation` scores a pair by the cosine of the word's two vectors and
chooses the threshold that maximises accuracy on the training pairs.

Example
-------
>>> pairs = wic_pairs()
>>> pairs.groupby("split").label.agg(["size", "mean"])
       size  mean
split
test   3494   0.5
train  8456   0.5
>>> wic_evaluation().test_accuracy      # embeds 23,644 sentences: minutes  # doctest: +SKIP
0.57...
>>> round(wic_evaluation(pairs.groupby("split").head(100)).test_accuracy, 2)   # 200 pairs
0.56
"""

from __future__ import annotations

import functools
import itertools
import random
import zlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.similarity import unit_vectors
from .vectors import use_vectors

TEST_PERCENT = 30


def wic_pairs(per_word: int = 6, seed: int = 0) -> pd.DataFrame:
    """Balanced same-sense / different-sense pairs of WordNet example sentences.

    Returns
    -------
    pandas.DataFrame with columns ``lemma``, ``sentence_a``, ``word_a``, ``sense_a``,
    ``sentence_b``, ``word_b``, ``sense_b``, ``label`` (1 = same sense) and ``split``.
    """
    return _wic_pairs(per_word, seed).copy()


@functools.lru_cache(maxsize=2)
def _wic_pairs(per_word: int, seed: int) -> pd.DataFrame:
    from ..core.embeddings import find_word
    from ..data.senses import wordnet_usages

    by_lemma: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for u in wordnet_usages():
        try:
            find_word(u.sentence, u.form)
        except ValueError:
            continue
        by_lemma[u.lemma][u.synset].append(u)
    rows = []
    for lemma in sorted(by_lemma):
        senses = by_lemma[lemma]
        if len(senses) < 2 or max(len(v) for v in senses.values()) < 2:
            continue
        rng = random.Random(zlib.crc32(f"{seed}|{lemma}".encode()))
        same = [p for s in sorted(senses) for p in itertools.combinations(senses[s], 2)
                if p[0].sentence != p[1].sentence]
        diff = [(a, b) for s1, s2 in itertools.combinations(sorted(senses), 2)
                for a in senses[s1] for b in senses[s2] if a.sentence != b.sentence]
        n = min(per_word, len(same), len(diff))
        if n == 0:
            continue
        split = "test" if zlib.crc32(lemma.encode()) % 100 < TEST_PERCENT else "train"
        for label, pairs in ((1, rng.sample(same, n)), (0, rng.sample(diff, n))):
            for a, b in pairs:
                rows.append((lemma, a.sentence, a.form, a.synset, b.sentence, b.form, b.synset,
                             label, split))
    return pd.DataFrame(rows, columns=["lemma", "sentence_a", "word_a", "sense_a", "sentence_b",
                                       "word_b", "sense_b", "label", "split"])


@dataclass
class WiCResult:
    """Accuracy of the cosine-threshold rule on the word-in-context pairs."""

    threshold: float
    train_accuracy: float
    test_accuracy: float
    n_train: int
    n_test: int
    test_words: int


def _pair_cosines(pairs: pd.DataFrame, **options) -> np.ndarray:
    A = use_vectors(list(pairs.sentence_a), list(pairs.word_a), **options)
    B = use_vectors(list(pairs.sentence_b), list(pairs.word_b), **options)
    return (unit_vectors(A) * unit_vectors(B)).sum(axis=1)


def best_accuracy_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold ``t`` maximising the accuracy of ``scores >= t`` (midpoints of sorted scores)."""
    s = np.sort(np.unique(scores))
    cands = np.r_[s[0] - 1e-6, (s[1:] + s[:-1]) / 2, s[-1] + 1e-6]
    acc = [((scores >= t) == labels).mean() for t in cands]
    return float(cands[int(np.argmax(acc))])


def wic_evaluation(pairs: pd.DataFrame | None = None, *, layers="last", pieces: str = "mean",
                   features: str = "contextual") -> WiCResult:
    """Same sense if cos(word vector in A, word vector in B) >= t, with t chosen on train."""
    pairs = wic_pairs() if pairs is None else pairs
    cos = _pair_cosines(pairs, layers=layers, pieces=pieces, features=features)
    labels = pairs.label.to_numpy() == 1
    train = (pairs.split == "train").to_numpy()
    t = best_accuracy_threshold(cos[train], labels[train])
    pred = cos >= t
    return WiCResult(t, float((pred[train] == labels[train]).mean()),
                     float((pred[~train] == labels[~train]).mean()), int(train.sum()),
                     int((~train).sum()), int(pairs.lemma[~train].nunique()))
