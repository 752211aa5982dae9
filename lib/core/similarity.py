"""Cosine similarity, the measure used throughout the course."""

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


def cosine_matrix(X, Y=None) -> np.ndarray:
    """Pairwise cosines between the rows of ``X`` (n, d) and ``Y`` (m, d) -> (n, m).

    Unlike :func:`cosine`, a row of zeros does not raise (one such row should not sink a
    whole matrix): its cosine with every row is 0.

    Example
    -------
    >>> cosine_matrix(np.eye(2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    X = np.asarray(X, dtype=np.float64)
    Y = X if Y is None else np.asarray(Y, dtype=np.float64)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True).clip(min=1e-12)
    Yn = Y / np.linalg.norm(Y, axis=1, keepdims=True).clip(min=1e-12)
    return Xn @ Yn.T
