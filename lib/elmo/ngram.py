"""Count-based baselines for the language-model chapter: unigram and Kneser-Ney bigram.

Both work on the same id sequences as :mod:`ctxembed.elmo` (``[<bos>, w.., <eos>]``,
out-of-vocabulary words mapped to ``<unk>``) and predict the same targets as the
forward LM (every word and the ``<eos>``), so their perplexities compare directly.

Example
-------
>>> from ctxembed.data.corpus import load_corpus
>>> from ctxembed.elmo import load_elmo
>>> _, vocab = load_elmo()
>>> corpus = load_corpus()
>>> train_ids = [vocab.encode(s) for s in corpus.train[:20000]]
>>> valid_ids = [vocab.encode(s) for s in corpus.valid[:2000]]
>>> uni = UnigramLM(train_ids, len(vocab))
>>> kn = KneserNeyBigramLM(train_ids, len(vocab))
>>> round(uni.perplexity(valid_ids)), round(kn.perplexity(valid_ids))
(355, 165)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _pairs(sentences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    prev = np.concatenate([np.asarray(s[:-1]) for s in sentences])
    nxt = np.concatenate([np.asarray(s[1:]) for s in sentences])
    return prev, nxt


class UnigramLM:
    """Add-one smoothed unigram model over the vocabulary."""

    def __init__(self, sentences: Sequence[Sequence[int]], vocab_size: int):
        _, nxt = _pairs(sentences)
        counts = np.bincount(nxt, minlength=vocab_size).astype(np.float64) + 1.0
        self.logp = np.log(counts / counts.sum())

    def perplexity(self, sentences: Sequence[Sequence[int]]) -> float:
        """exp of the mean negative log-probability of every target (words + ``<eos>``)."""
        _, nxt = _pairs(sentences)
        return float(math.exp(-self.logp[nxt].mean()))


class KneserNeyBigramLM:
    """Interpolated Kneser-Ney bigram model (Chen & Goodman, 1999), absolute discount ``d``.

    ``P(w | v) = max(c(v,w) - d, 0) / c(v) + d * N1+(v .) / c(v) * P_cont(w)``, with
    ``P_cont(w)`` proportional to the number of distinct left neighbours of ``w``
    (add-one smoothed so no word gets zero probability). Unseen contexts use ``P_cont``.
    """

    def __init__(self, sentences: Sequence[Sequence[int]], vocab_size: int, discount: float = 0.75):
        prev, nxt = _pairs(sentences)
        self.V, self.d = vocab_size, discount
        key = prev.astype(np.int64) * vocab_size + nxt
        uniq, counts = np.unique(key, return_counts=True)
        self.bigram = dict(zip(uniq.tolist(), counts.tolist()))
        u_prev, u_next = uniq // vocab_size, uniq % vocab_size
        self.context_count = np.bincount(prev, minlength=vocab_size).astype(np.float64)
        self.followers = np.bincount(u_prev, minlength=vocab_size).astype(np.float64)
        cont = np.bincount(u_next, minlength=vocab_size).astype(np.float64) + 1.0
        self.p_cont = cont / cont.sum()

    def logprob(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """log P(nxt | prev) for arrays of ids."""
        c_vw = np.array([self.bigram.get(int(p) * self.V + int(w), 0) for p, w in zip(prev, nxt)],
                        dtype=np.float64)
        c_v = self.context_count[prev]
        seen = c_v > 0
        safe = np.where(seen, c_v, 1.0)
        p = np.where(seen,
                     np.maximum(c_vw - self.d, 0) / safe + self.d * self.followers[prev] / safe * self.p_cont[nxt],
                     self.p_cont[nxt])
        return np.log(p)

    def perplexity(self, sentences: Sequence[Sequence[int]]) -> float:
        """exp of the mean negative log-probability of every target (words + ``<eos>``)."""
        prev, nxt = _pairs(sentences)
        return float(math.exp(-self.logprob(prev, nxt).mean()))
