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

from ..core.similarity import cosine_matrix, unit_vectors
from ..evaluation import tie_groups


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
    S = cosine_matrix(X)
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


# ----------------------------------------------------------------------------- noise
def bootstrap_separation(vectors_by_model: Mapping[str, np.ndarray], words: Sequence[str],
                         senses: Sequence[str], *, n_resamples: int = 1000, seed: int = 0,
                         confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cohen's d averaged over the words, with a bootstrap interval over sentences.

    Each resample draws every word's uses with replacement (the same draw for every model,
    so models are compared on the same sentences: a paired bootstrap), forms the pairs of
    distinct draws, and recomputes each word's d and their mean.

    Returns
    -------
    (table, draws): ``table`` has one row per model (``d``, the mean d on the data, and
    ``low``, ``high``, its percentile interval); ``draws`` one column per model, one row
    per resample, for comparing models (:func:`ordered_with_ties`).
    """
    words = np.asarray(list(words))
    senses = np.asarray(list(senses))
    rng = np.random.default_rng(seed)
    cosines = {}
    for model, X in vectors_by_model.items():
        X = np.asarray(X, dtype=np.float64)
        if len(X) != len(words):
            raise ValueError(f"{model}: {len(X)} vectors for {len(words)} uses.")
        U = unit_vectors(X)
        cosines[model] = {w: U[words == w] @ U[words == w].T for w in dict.fromkeys(words.tolist())}
    draws = np.full((n_resamples, len(cosines)), np.nan)
    for r in range(n_resamples):
        per_word = []
        for w in dict.fromkeys(words.tolist()):
            labels = senses[words == w]
            pick = rng.integers(len(labels), size=len(labels))
            i, j = np.triu_indices(len(pick), k=1)
            keep = pick[i] != pick[j]                    # a sentence is not paired with itself
            a, b = pick[i][keep], pick[j][keep]
            same = labels[a] == labels[b]
            if same.sum() < 2 or (~same).sum() < 2:
                continue
            per_word.append([cohens_d(cosines[m][w][a, b][same], cosines[m][w][a, b][~same])
                             for m in cosines])
        if per_word:
            draws[r] = np.mean(per_word, axis=0)
    draws = pd.DataFrame(draws, columns=list(cosines)).dropna()
    point = separation_table(vectors_by_model, words, senses).groupby("model", sort=False).d.mean()
    tail = 100 * (1 - confidence) / 2
    table = pd.DataFrame({"d": point[list(cosines)],
                          "low": np.percentile(draws, tail, axis=0),
                          "high": np.percentile(draws, 100 - tail, axis=0)})
    return table, draws


def ordered_with_ties(table: pd.DataFrame, draws: pd.DataFrame,
                      confidence: float = 0.95) -> list[list[str]]:
    """Models from the largest mean d down, in groups: a model joins the group above it when
    the paired bootstrap interval of their difference (same resampled sentences) includes
    zero, i.e. when this data cannot order them.

    Example
    -------
    >>> t = pd.DataFrame({"d": [2.0, 0.6, 0.5]}, index=["A", "B", "C"])
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(0, 0.1, 500)
    >>> draws = pd.DataFrame({"A": 2.0 + noise, "B": 0.6 + noise + rng.normal(0, 0.2, 500),
    ...                       "C": 0.5 + noise})
    >>> ordered_with_ties(t, draws)
    [['A'], ['B', 'C']]
    """
    order = table.d.sort_values(ascending=False, kind="stable").index.tolist()
    tail = 100 * (1 - confidence) / 2
    return tie_groups(order, lambda above, model: np.percentile(draws[above] - draws[model], tail) > 0)


def ordering_sentence(table: pd.DataFrame, draws: pd.DataFrame) -> str:
    """The order of :func:`ordered_with_ties` in words, each model with its mean d and
    interval; models the data cannot order are named together as a tie.

    Example
    -------
    >>> t = pd.DataFrame({"d": [2.1, 0.5, 0.46], "low": [1.8, 0.3, 0.2], "high": [2.5, 0.7, 0.7]},
    ...                  index=["A", "B", "C"])
    >>> draws = pd.DataFrame({"A": [2.0, 2.2, 2.1], "B": [0.4, 0.6, 0.5], "C": [0.5, 0.4, 0.5]})
    >>> ordering_sentence(t, draws)
    'A (d = 2.1, 95% CI 1.8 to 2.5), ahead of B (0.5, 0.3 to 0.7) and C (0.5, 0.2 to 0.7), which this data cannot order'
    """
    def named(model, first=False):
        r = table.loc[model]
        return (f"{model} ({'d = ' if first else ''}{r.d:.1f}"
                f"{', 95% CI ' if first else ', '}{r.low:.1f} to {r.high:.1f})")

    parts, first = [], True
    for group in ordered_with_ties(table, draws):
        names = [named(m, first and k == 0) for k, m in enumerate(group)]
        first = False
        text = names[0] if len(names) == 1 else (", ".join(names[:-1]) + " and " + names[-1]
                                                 + ", which this data cannot order")
        parts.append(text)
    return ", ahead of ".join(parts)
