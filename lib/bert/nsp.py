"""Next-sentence prediction, BERT's second pretraining objective, and why it was dropped.

BERT (Devlin et al. 2019) trained on sentence *pairs*: half the time segment B is the text
that follows A in the same document (IsNext), half the time a segment taken from a random
document of the corpus (NotNext). A classifier on the final ``[CLS]`` vector says which; the
segment embeddings tell the model which piece belongs to A and which to B.

RoBERTa (Liu et al. 2019) found that leaving the objective out matched or improved downstream
results, and ALBERT (Lan et al. 2020) gave a reason: a random B is usually about something
else, so the task can be solved by noticing a change of *topic*, with no sense of whether B
follows A. This module builds NSP examples from documents (such as
:func:`ctxembed.data.brown_pos.brown_documents`) the way BERT did (:func:`next_sentence_pairs`), with a second kind of negative drawn from the *same*
document, and scores pairs with topic cues that know nothing about order
(:func:`tfidf_similarity`, or sentence vectors from an encoder).

Example
-------
>>> docs = {d: [f"{d}{k}" for k in range(8)] for d in "ab"}   # two documents
>>> pairs = next_sentence_pairs(docs, 4, seed=0)
>>> sorted(p.is_next for p in pairs)
[False, False, True, True]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

NEGATIVES = ("random document", "same document")
MIN_GAP = 3   # a same-document negative is at least this many sentences away from A


@dataclass(frozen=True)
class SentencePair:
    """One NSP example: does ``second`` follow ``first`` in ``document``?"""

    first: str
    second: str
    is_next: bool
    document: str
    position: int          # index of ``first`` in its document


def next_sentence_pairs(documents: Mapping[str, Sequence[str]], n: int, *,
                        negatives: str = "random document", seed: int = 0) -> list[SentencePair]:
    """``n`` NSP examples, half IsNext and half NotNext, in a seeded random order.

    Each example picks a document (with probability proportional to its number of
    sentences) and a sentence A in it that has a successor. IsNext: B is that successor.
    NotNext: B is a random sentence of *another* document (``"random document"``, BERT's
    rule) or of the *same* document, at least :data:`MIN_GAP` sentences from A
    (``"same document"``: same topic, wrong place).

    The same ``seed`` gives the same As and the same labels whichever ``negatives`` is
    chosen, so the two kinds of negative can be compared example by example.

    Raises
    ------
    ValueError
        For an unknown ``negatives``, fewer than two documents, or ``n`` < 2.
    """
    if negatives not in NEGATIVES:
        raise ValueError(f"negatives={negatives!r}: use one of {', '.join(map(repr, NEGATIVES))}.")
    if int(n) < 2:
        raise ValueError(f"n={n}: ask for at least 2 pairs (one IsNext, one NotNext).")
    names = [d for d in sorted(documents) if len(documents[d]) >= 2 * MIN_GAP + 2]
    if len(names) < 2:
        raise ValueError(f"next_sentence_pairs needs at least two documents of "
                         f"{2 * MIN_GAP + 2} or more sentences; got {len(names)}.")
    sizes = np.asarray([len(documents[d]) for d in names], dtype=float)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(int(n)) < int(n) // 2)
    pairs = []
    for is_next in labels:
        # every example draws the same five numbers whatever its label and kind of negative,
        # so the stream (and with it each A) is the same for both kinds
        d = int(rng.choice(len(names), p=sizes / sizes.sum()))
        doc = documents[names[d]]
        i = int(rng.integers(len(doc) - 1))
        other = names[int(rng.integers(len(names) - 1))]
        other = names[-1] if other == names[d] else other
        anywhere = rng.random()
        far = int(rng.integers(len(doc) - 2 * MIN_GAP + 1))
        if is_next:
            second = doc[i + 1]
        elif negatives == "random document":
            second = documents[other][int(anywhere * len(documents[other]))]
        else:   # skip the 2 * MIN_GAP - 1 sentences centred on A
            second = doc[far if far <= i - MIN_GAP else far + 2 * MIN_GAP - 1]
        pairs.append(SentencePair(doc[i], second, bool(is_next), names[d], i))
    return pairs


def tfidf_similarity(pairs: Sequence[SentencePair], fit_texts: Sequence[str] | None = None
                     ) -> np.ndarray:
    """Cosine similarity of the two sentences' TF-IDF vectors, per pair.

    A pure *topic* cue: a bag of content words (English stop words left out), blind to
    order and to whether B could follow A. The IDF weights are fitted on ``fit_texts``
    (default: the pairs' own sentences).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    firsts, seconds = [p.first for p in pairs], [p.second for p in pairs]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    vectorizer.fit(list(fit_texts) if fit_texts is not None else firsts + seconds)
    a, b = vectorizer.transform(firsts), vectorizer.transform(seconds)
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def threshold_accuracy(similarity: np.ndarray, is_next: np.ndarray, threshold: float) -> np.ndarray:
    """Per-pair correctness (0/1) of "IsNext when the similarity is above ``threshold``"."""
    similarity, is_next = np.asarray(similarity, float), np.asarray(is_next, bool)
    return ((similarity > threshold) == is_next).astype(float)


def dev_threshold_accuracy(similarity: np.ndarray, pairs: Sequence[SentencePair],
                           split) -> tuple[float, np.ndarray]:
    """Choose "IsNext above this similarity" on the dev side, score it on the test side.

    Parameters
    ----------
    similarity : (n,) array
        One cue value per pair (e.g. :func:`tfidf_similarity`).
    pairs : sequence of SentencePair, length n
    split : ctxembed.evaluation.DevTestSplit
        Of ``range(n)`` (indices into ``pairs``); split by document so no document is on
        both sides.

    Returns
    -------
    (threshold, correct)
        The threshold (the best of 19 quantiles of the dev similarities) and the test
        pairs' 0/1 correctness, in the order of ``split.test``.
    """
    from ..evaluation import select_on_dev

    similarity = np.asarray(similarity, float)
    is_next = np.asarray([p.is_next for p in pairs], bool)
    if len(similarity) != len(is_next):
        raise ValueError(f"{len(similarity)} similarities for {len(is_next)} pairs: pass one "
                         "per pair, in the same order.")
    dev, test = np.asarray(split.dev, int), np.asarray(split.test, int)
    candidates = np.quantile(similarity[dev], np.linspace(0.05, 0.95, 19))
    choice = select_on_dev(candidates, lambda t: threshold_accuracy(similarity[dev],
                                                                     is_next[dev], t).mean())
    threshold = float(choice.choice)
    return threshold, threshold_accuracy(similarity[test], is_next[test], threshold)
