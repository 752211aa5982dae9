"""Same sense or different sense? How far apart a model puts the uses of a word.

For one word with sense-labelled uses, take every pair of uses: a model that
reads meaning should make *same-sense* pairs more similar (cosine) than
*different-sense* pairs. :func:`sense_separation` reports both means, their
gap, and two effect sizes that do not depend on the model's scale:

- **Cohen's d**: the gap divided by the pooled standard deviation of the two
  groups of pair similarities;
- **AUC**: the probability that a random same-sense pair is more similar than a
  random different-sense pair (0.5 = no separation, ties count half).

A static model gives every use the same vector, so every pair has cosine 1:
gap 0, d 0, AUC 0.5, by construction.

Example
-------
>>> from ctxembed import word_vectors
>>> from ctxembed.data.polysemy import polysemy_sentences
>>> bank = polysemy_sentences().query("word == 'bank'")
>>> X = word_vectors(list(bank.sentence), list(bank.form))
>>> {k: round(v, 2) for k, v in sense_separation(X, bank.sense).items()}
{'same': 0.84, 'different': 0.75, 'gap': 0.09, 'd': 1.68, 'auc': 0.89, 'pairs_same': 72, 'pairs_different': 81}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def pair_similarities(vectors, senses: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of every pair of distinct uses, split by whether the senses match.

    Parameters
    ----------
    vectors : array (n, d)
    senses : n labels

    Returns
    -------
    (same, different): 1-D arrays of pair cosines.
    """
    X = np.asarray(vectors, dtype=np.float64)
    senses = np.asarray(list(senses))
    if X.ndim != 2 or len(X) != len(senses):
        raise ValueError(f"Need vectors (n, d) and n sense labels; got {X.shape} and {len(senses)}.")
    if len(set(senses.tolist())) < 2:
        raise ValueError("Need uses of at least two senses to compare same and different senses.")
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    U = X / np.where(norm == 0, 1.0, norm)
    S = U @ U.T
    i, j = np.triu_indices(len(X), k=1)
    match = senses[i] == senses[j]
    if not match.any():
        raise ValueError("Need at least two uses of one sense to form a same-sense pair.")
    return S[i, j][match], S[i, j][~match]


def cohens_d(a, b) -> float:
    """(mean(a) - mean(b)) / pooled standard deviation; 0 when both groups are constant and equal."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("Cohen's d needs at least two values in each group.")
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1))
                     / (len(a) + len(b) - 2))
    gap = a.mean() - b.mean()
    if pooled < 1e-12:                     # constant groups: a static model's all-ones pairs
        return 0.0 if abs(gap) < 1e-9 else float(np.sign(gap) * np.inf)
    return float(gap / pooled)


def auc(a, b) -> float:
    """P(x > y) + P(x == y) / 2 for x drawn from ``a``, y from ``b`` (Mann-Whitney AUC)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = a[:, None] - b[None, :]
    tie = np.abs(diff) < 1e-9
    return float(((diff > 0) & ~tie).mean() + 0.5 * tie.mean())


def sense_separation(vectors, senses: Sequence[str]) -> dict:
    """How much more similar same-sense uses are than different-sense uses.

    Returns
    -------
    dict with ``same``, ``different`` (mean pair cosines), ``gap`` (their difference),
    ``d`` (Cohen's d), ``auc`` and the pair counts ``pairs_same``, ``pairs_different``.
    """
    same, diff = pair_similarities(vectors, senses)
    if len(same) < 2 or len(diff) < 2:
        raise ValueError("Need at least two same-sense and two different-sense pairs.")
    return {"same": float(same.mean()), "different": float(diff.mean()),
            "gap": float(same.mean() - diff.mean()), "d": cohens_d(same, diff),
            "auc": auc(same, diff), "pairs_same": len(same), "pairs_different": len(diff)}


def separation_table(vectors_by_model: Mapping[str, np.ndarray], words: Sequence[str],
                     senses: Sequence[str]) -> pd.DataFrame:
    """:func:`sense_separation` for every model and every word.

    Parameters
    ----------
    vectors_by_model : {model name: array (n, d)}
        Each model's vector of the n uses (rows aligned with ``words`` and ``senses``).
    words, senses : n labels each

    Returns
    -------
    pandas.DataFrame, one row per (model, word), columns as :func:`sense_separation`.
    """
    words = np.asarray(list(words))
    senses = np.asarray(list(senses))
    rows = []
    for model, X in vectors_by_model.items():
        X = np.asarray(X)
        if len(X) != len(words):
            raise ValueError(f"{model}: {len(X)} vectors for {len(words)} uses.")
        for word in dict.fromkeys(words.tolist()):
            sel = words == word
            rows.append({"model": model, "word": word, **sense_separation(X[sel], senses[sel])})
    return pd.DataFrame(rows)
