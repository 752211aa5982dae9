"""How contextual are contextual word vectors? Ethayarajh's (2019) measures, per layer.

Ethayarajh, *How Contextual are Contextualized Word Representations?* (EMNLP 2019)
measures three things on every layer of a model, over the words of a corpus:

- **self-similarity** of a word: the mean cosine between its vectors in
  different sentences (1 = the same vector everywhere, i.e. static);
- **intra-sentence similarity** of a sentence: the mean cosine between each of
  its word vectors and the sentence's mean vector;
- **anisotropy**: the mean cosine between vectors of *random* words from
  different sentences. If that baseline is high, every vector points the same
  way and a high self-similarity says little; so both measures are also
  reported *corrected for anisotropy*, the baseline subtracted.

and the **maximum explainable variance** (MEV) of a word: the share of the
variance of its vectors that their first principal component explains (how
much a single static vector could capture), also corrected for anisotropy: the
same share for as many random words' vectors is subtracted.

Everything here works on an :class:`Occurrences` table (one row per word
token, every layer), which :mod:`ctxembed.compare.models` builds for GloVe,
word2vec, the course's ELMo, MiniLM and the small BERT.

Example
-------
>>> from ctxembed.compare import models
>>> from ctxembed.data.polysemy import polysemy_sentences
>>> token_lists = [s.lower().rstrip(".").split() for s in polysemy_sentences().sentence]
>>> occ = models.corpus_occurrences(models.Transformer(), token_lists)
>>> report = contextuality_by_layer(occ)
>>> report[["self_similarity", "anisotropy", "self_similarity_adj"]].round(2)
       self_similarity  anisotropy  self_similarity_adj
layer
L0                0.96        0.07                 0.89
L1                0.91        0.16                 0.75
L2                0.82        0.19                 0.63
L3                0.76        0.21                 0.55
L4                0.75        0.22                 0.52
L5                0.78        0.25                 0.53
L6                0.48        0.04                 0.43
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.similarity import mean_pairwise_cosine, unit_vectors


@dataclass(frozen=True)
class Occurrences:
    """Vectors of word tokens in sentences, for every layer of one model.

    Attributes
    ----------
    words : np.ndarray of str, shape (n,)
        The word (lower-cased type) of each token occurrence.
    sentence_ids : np.ndarray of int, shape (n,)
        Which sentence each occurrence is from.
    vectors : np.ndarray, shape (n, L, d)
        The occurrence's vector at each of the model's L layers.
    layer_names : tuple of str, length L
    model : str
    """

    words: np.ndarray
    sentence_ids: np.ndarray
    vectors: np.ndarray
    layer_names: tuple
    model: str = ""

    def __post_init__(self):
        n = len(self.words)
        if self.vectors.ndim != 3 or len(self.vectors) != n or len(self.sentence_ids) != n:
            raise ValueError(f"Occurrences need vectors (n, L, d) and n words and sentence ids; got "
                             f"vectors {self.vectors.shape}, {n} words, {len(self.sentence_ids)} ids.")
        if self.vectors.shape[1] != len(self.layer_names):
            raise ValueError(f"{self.vectors.shape[1]} layers of vectors but "
                             f"{len(self.layer_names)} layer names.")
        if n == 0:
            raise ValueError("No occurrences: give sentences that contain words the model knows.")

    def __len__(self) -> int:
        return len(self.words)

    def unit(self) -> np.ndarray:
        """Vectors scaled to unit length, (n, L, d) float32 (zero vectors stay zero); computed once."""
        cached = self.__dict__.get("_unit")
        if cached is None:
            cached = unit_vectors(self.vectors, dtype=np.float32)
            object.__setattr__(self, "_unit", cached)
        return cached


def _context_groups(occ: Occurrences, min_contexts: int, max_contexts: int,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Row indices per word: one occurrence per sentence, words seen in >= min_contexts sentences."""
    groups: dict[str, list[int]] = {}
    seen: set[tuple[str, int]] = set()
    for i, (w, s) in enumerate(zip(occ.words, occ.sentence_ids)):
        if (w, s) not in seen:              # a word repeated in one sentence counts once
            seen.add((w, s))
            groups.setdefault(w, []).append(i)
    out = {}
    for w, idx in sorted(groups.items()):
        if len(idx) >= min_contexts:
            idx = np.array(idx)
            if len(idx) > max_contexts:
                idx = np.sort(rng.choice(idx, max_contexts, replace=False))
            out[w] = idx
    return out


def self_similarity(occ: Occurrences, min_contexts: int = 5, max_contexts: int = 25,
                    seed: int = 0) -> pd.DataFrame:
    """Self-similarity of every word seen in at least ``min_contexts`` sentences.

    SelfSim_l(w) = mean over pairs of *different* sentences of cos(v_l(w, s), v_l(w, s')).
    A word seen in more than ``max_contexts`` sentences is represented by a seeded
    random sample of them (frequent words would otherwise dominate the cost).

    Returns
    -------
    pandas.DataFrame, shape (n_words, L): index the words, columns the layer names.
    """
    if min_contexts < 2:
        raise ValueError("min_contexts must be at least 2: similarity needs a pair of contexts.")
    rng = np.random.default_rng(seed)
    groups = _context_groups(occ, min_contexts, max_contexts, rng)
    if not groups:
        raise ValueError(f"No word occurs in {min_contexts} or more sentences: use more sentences "
                         f"or a smaller min_contexts.")
    U = occ.unit()
    rows = {w: mean_pairwise_cosine(U[idx], assume_unit=True) for w, idx in groups.items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(occ.layer_names))


def intra_sentence_similarity(occ: Occurrences, min_words: int = 2) -> pd.DataFrame:
    """Intra-sentence similarity of every sentence with at least ``min_words`` words.

    IntraSim_l(s) = mean over the sentence's words i of cos(v_l(s, i), mean_i v_l(s, i)).

    Returns
    -------
    pandas.DataFrame, shape (n_sentences, L): index the sentence ids.
    """
    order = np.argsort(occ.sentence_ids, kind="stable")
    ids = occ.sentence_ids[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    counts = np.diff(np.r_[starts, len(ids)])
    V = occ.vectors[order]
    U = occ.unit()[order]
    mean = np.add.reduceat(V.astype(np.float64), starts, axis=0)      # (sentences, L, d)
    mean = unit_vectors(mean)
    per_token = np.einsum("nld,nld->nl", U, np.repeat(mean, counts, axis=0))
    sims = np.add.reduceat(per_token, starts, axis=0) / counts[:, None]
    ok = counts >= min_words
    if not ok.any():
        raise ValueError(f"No sentence has {min_words} or more words.")
    return pd.DataFrame(sims[ok], index=ids[starts][ok], columns=list(occ.layer_names))


def anisotropy(occ: Occurrences, n_pairs: int = 2000, seed: int = 0) -> pd.Series:
    """Mean cosine between the vectors of random word pairs from different sentences, per layer.

    The baseline of Ethayarajh's correction: 0 for directions spread evenly
    around the origin, near 1 when all vectors share one direction.

    Returns
    -------
    pandas.Series indexed by layer name.
    """
    rng = np.random.default_rng(seed)
    n = len(occ)
    i = rng.integers(0, n, size=4 * n_pairs)
    j = rng.integers(0, n, size=4 * n_pairs)
    ok = occ.sentence_ids[i] != occ.sentence_ids[j]
    i, j = i[ok][:n_pairs], j[ok][:n_pairs]
    if len(i) == 0:
        raise ValueError("Anisotropy needs occurrences from at least two sentences.")
    U = occ.unit()
    return pd.Series(np.einsum("pld,pld->l", U[i], U[j]) / len(i), index=list(occ.layer_names))


def max_explainable_variance(occ: Occurrences, min_contexts: int = 5, max_contexts: int = 25,
                             seed: int = 0) -> pd.DataFrame:
    """Share of the variance of a word's vectors explained by their first principal component.

    MEV_l(w) = sigma_1^2 / sum_i sigma_i^2 of the (contexts x d) matrix of the word's
    layer-l vectors (not centred, as in Ethayarajh 2019). 1 means a single
    static vector explains every use. Same words and samples as :func:`self_similarity`.

    Returns
    -------
    pandas.DataFrame, shape (n_words, L).
    """
    rng = np.random.default_rng(seed)
    groups = _context_groups(occ, min_contexts, max_contexts, rng)
    rows = {}
    for w, idx in groups.items():
        X = np.moveaxis(occ.vectors[idx].astype(np.float64), 1, 0)      # (L, k, d)
        s2 = np.linalg.svd(X, compute_uv=False) ** 2                      # (L, min(k, d))
        total = s2.sum(axis=1)
        rows[w] = np.where(total > 0, s2[:, 0] / np.where(total > 0, total, 1.0), 1.0)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(occ.layer_names))


MEV_DRAWS = 50     # random sets of tokens averaged for the MEV baseline of each number of contexts


def random_word_mev(occ: Occurrences, k: int, n_draws: int = MEV_DRAWS, seed: int = 0) -> np.ndarray:
    """The anisotropy baseline of :func:`max_explainable_variance`: the mean MEV, per layer,
    of ``k`` random tokens from ``k`` different sentences (mostly different words).

    When every vector shares a common direction, the first principal component of *any*
    set of vectors explains much of their variance; Ethayarajh (2019, section 4.3) subtracts
    this share for random words before reading a word's MEV. Returns an ``(L,)`` array.
    """
    if k < 2:
        raise ValueError("k must be at least 2: a variance share needs two vectors.")
    rng = np.random.default_rng(seed)
    order = np.argsort(occ.sentence_ids, kind="stable")
    sentences, starts, counts = np.unique(occ.sentence_ids[order], return_index=True,
                                          return_counts=True)
    if len(sentences) < k:
        raise ValueError(f"Only {len(sentences)} sentences: cannot draw {k} tokens from different ones.")
    shares = []
    for _ in range(n_draws):
        picked = rng.choice(len(sentences), k, replace=False)       # k different sentences
        idx = order[starts[picked] + rng.integers(0, counts[picked])]  # a random token of each
        X = np.moveaxis(occ.vectors[idx].astype(np.float64), 1, 0)      # (L, k, d)
        s2 = np.linalg.svd(X, compute_uv=False) ** 2
        total = s2.sum(axis=1)
        shares.append(np.where(total > 0, s2[:, 0] / np.where(total > 0, total, 1.0), 1.0))
    return np.mean(shares, axis=0)


def adjusted_max_explainable_variance(occ: Occurrences, min_contexts: int = 5,
                                      max_contexts: int = 25, n_draws: int = MEV_DRAWS,
                                      seed: int = 0) -> pd.DataFrame:
    """MEV corrected for anisotropy, as Ethayarajh (2019) reports it: each word's
    :func:`max_explainable_variance` minus :func:`random_word_mev` for as many random
    tokens as the word has contexts (fewer vectors alone make the first component explain
    more). About 0 means a static vector explains no more of the word's uses than of random
    words'; the paper's "less than 5%" is this figure.

    Returns
    -------
    pandas.DataFrame, shape (n_words, L).
    """
    raw = max_explainable_variance(occ, min_contexts, max_contexts, seed)
    return raw - _mev_baselines(occ, raw.index, min_contexts, max_contexts, n_draws, seed)


def _mev_baselines(occ: Occurrences, words, min_contexts: int, max_contexts: int, n_draws: int,
                   seed: int) -> np.ndarray:
    """(len(words), L): :func:`random_word_mev` for as many tokens as each word has contexts
    (the same sample of contexts as :func:`max_explainable_variance` with this seed)."""
    groups = _context_groups(occ, min_contexts, max_contexts, np.random.default_rng(seed))
    baselines = {k: random_word_mev(occ, k, n_draws, seed + k)
                 for k in sorted({len(idx) for idx in groups.values()})}
    return np.stack([baselines[len(groups[w])] for w in words])


def contextuality_by_layer(occ: Occurrences, *, min_contexts: int = 5, max_contexts: int = 25,
                           n_pairs: int = 2000, seed: int = 0) -> pd.DataFrame:
    """All of Ethayarajh's measures for each layer of one model.

    Returns
    -------
    pandas.DataFrame indexed by layer name, with columns ``self_similarity``,
    ``intra_similarity``, ``anisotropy``, ``self_similarity_adj`` and
    ``intra_similarity_adj`` (the anisotropy baseline subtracted), ``mev`` and ``mev_adj``
    (the same for the maximum explainable variance), and ``words`` / ``sentences`` (how
    many the averages are over).
    """
    self_sim = self_similarity(occ, min_contexts, max_contexts, seed)
    intra = intra_sentence_similarity(occ)
    base = anisotropy(occ, n_pairs, seed)
    mev = max_explainable_variance(occ, min_contexts, max_contexts, seed)
    mev_adj = mev - _mev_baselines(occ, mev.index, min_contexts, max_contexts, MEV_DRAWS, seed)
    out = pd.DataFrame({
        "self_similarity": self_sim.mean(),
        "intra_similarity": intra.mean(),
        "anisotropy": base,
    })
    out["self_similarity_adj"] = out.self_similarity - out.anisotropy
    out["intra_similarity_adj"] = out.intra_similarity - out.anisotropy
    out["mev"] = mev.mean()
    out["mev_adj"] = mev_adj.mean()
    out["words"] = len(self_sim)
    out["sentences"] = len(intra)
    out.index.name = "layer"
    return out


def stopword_gap(self_sim: pd.DataFrame, stopwords: Iterable[str]) -> pd.Series:
    """Per layer: mean self-similarity of stopwords minus that of the other words.

    Negative means stopwords are *more* context-specific than other words (one of
    Ethayarajh's findings). ``self_sim`` is what :func:`self_similarity` returns.
    """
    stop = self_sim.index.isin(set(stopwords))
    if stop.all() or not stop.any():
        raise ValueError("Need both stopwords and other words among the words compared.")
    return self_sim[stop].mean() - self_sim[~stop].mean()


FINDINGS = (
    "anisotropic in every layer above the input",
    "upper layers more context-specific",
    "a word is more like itself than like a random word",
    "stopwords among the most context-specific words",
    "same-sentence words: ELMo closer, BERT farther apart in upper layers",
    "a static vector explains under 5% of the variance (corrected for anisotropy)",
)


def ethayarajh_findings(report: pd.DataFrame, stop_gap: pd.Series, family: str,
                        anisotropy_threshold: float = 0.1) -> pd.DataFrame:
    """Does each finding of Ethayarajh (2019) hold for this model? One row per finding.

    Parameters
    ----------
    report : :func:`contextuality_by_layer` output; its first row is the input layer.
    stop_gap : :func:`stopword_gap` output (per layer).
    family : "elmo" or "bert": which direction finding 5 predicts
        (ELMo: intra-sentence similarity rises in upper layers; BERT: it falls).
    anisotropy_threshold : mean random-pair cosine above which a layer counts as anisotropic.

    Returns
    -------
    pandas.DataFrame indexed by :data:`FINDINGS`, columns ``holds`` (bool) and ``evidence`` (str).
    "Upper" compares the top layer with the first contextual layer (layer 1).
    """
    if family not in ("elmo", "bert"):
        raise ValueError("family must be 'elmo' or 'bert'.")
    if len(report) < 3:
        raise ValueError("Need the input layer and at least two contextual layers.")
    ctx = report.iloc[1:]
    first, top = ctx.index[0], ctx.index[-1]
    a = ctx.anisotropy
    s = ctx.self_similarity_adj
    intra = ctx.intra_similarity_adj
    rising = intra[top] > intra[first]
    rows = [
        (bool((a > anisotropy_threshold).all()),
         f"random-pair cosine {a.min():.2f} to {a.max():.2f} in layers {first}-{top}"),
        (bool(s[top] < s[first]),
         f"corrected self-similarity {s[first]:.2f} at {first}, {s[top]:.2f} at {top}"),
        (bool((report.self_similarity_adj > 0).all()),
         f"corrected self-similarity at least {report.self_similarity_adj.min():.2f}"),
        (bool(stop_gap[top] < 0),
         f"stopwords minus other words at {top}: {stop_gap[top]:+.2f}"),
        (bool(rising if family == "elmo" else (not rising and (intra > 0).all())),
         f"corrected intra-sentence similarity {intra[first]:.2f} at {first}, {intra[top]:.2f} at {top}"),
        (bool((ctx.mev_adj < 0.05).all()),
         (f"first principal component explains {ctx.mev_adj.min():.1%} to {ctx.mev_adj.max():.1%} "
          f"more than for random words ({ctx.mev.min():.0%} to {ctx.mev.max():.0%} before correction)")),
    ]
    return pd.DataFrame(rows, index=list(FINDINGS), columns=["holds", "evidence"])
