"""Cosine similarity, the measure used throughout the course, and the one place vectors are
scaled to unit length (:func:`unit_vectors`)."""

from __future__ import annotations

import numpy as np


def cosine(a, b) -> float:
    """Cosine of the angle between two vectors: 1 same direction, 0 orthogonal.

    Raises
    ------
    ValueError
        When the vectors differ in size, or one of them is all zeros: a zero vector has no
        direction, so its cosine with anything is undefined (not 0).

    Example
    -------
    >>> cosine([1, 0], [1, 1])
    0.7071067811865475
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"Vectors differ in size: {a.shape[0]} and {b.shape[0]}.")
    zero = [name for name, v in (("first", a), ("second", b)) if not np.any(v)]
    if zero:
        which = "both vectors are" if len(zero) == 2 else f"the {zero[0]} vector is"
        raise ValueError(
            f"Cosine is undefined for a zero vector ({which} all zeros): it has no direction. "
            "A zero vector usually means nothing was averaged, e.g. a sentence with no known "
            "context word; leave that item out."
        )
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def unit_vectors(X, axis: int = -1, dtype=np.float64) -> np.ndarray:
    """``X`` with every vector along ``axis`` (by default: each row) scaled to length 1.

    A zero vector stays zero: it has no direction, so its cosine with anything comes out 0,
    not NaN. Computed in ``dtype`` (float64 unless asked; a float32 array of many vectors may
    stay float32).

    Example
    -------
    >>> unit_vectors([[3.0, 4.0], [0.0, 0.0]]).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    X = np.asarray(X, dtype=dtype)
    norm = np.linalg.norm(X, axis=axis, keepdims=True)
    return X / np.where(norm == 0, 1.0, norm)


def mean_pairwise_cosine(vectors, assume_unit: bool = False):
    """Mean cosine over the k(k-1)/2 pairs of distinct vectors along the first axis.

    ``vectors`` is (k, d): one number, near 0 for directions spread evenly (isotropic), near 1
    when every vector points the same way (a narrow cone). It may be (k, ..., d), e.g. (k, L, d)
    for k uses of a word at L layers: then one mean per layer, shape (L,). ``assume_unit``
    skips the scaling when the rows are unit vectors already.

    Example
    -------
    >>> mean_pairwise_cosine([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    0.4714045207910316
    """
    U = np.asarray(vectors, dtype=np.float64) if assume_unit else unit_vectors(vectors)
    if U.ndim < 2 or len(U) < 2:
        raise ValueError(f"mean_pairwise_cosine needs two or more vectors, (k, ..., d) with "
                         f"k >= 2; got shape {U.shape}.")
    total = U.sum(axis=0)
    all_pairs = (total * total).sum(axis=-1)           # every ordered pair, i == j included
    own = (U * U).sum(axis=-1).sum(axis=0)             # the k pairs i == j
    mean = (all_pairs - own) / (len(U) * (len(U) - 1))
    return float(mean) if np.ndim(mean) == 0 else mean


def cosine_matrix(X, Y=None) -> np.ndarray:
    """Pairwise cosines between the rows of ``X`` (n, d) and ``Y`` (m, d) -> (n, m).

    Unlike :func:`cosine`, a row of zeros does not raise (one such row should not sink a
    whole matrix): its cosine with every row is 0.

    Example
    -------
    >>> cosine_matrix(np.eye(2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    Xn = unit_vectors(X)
    return Xn @ (Xn if Y is None else unit_vectors(Y)).T
