"""Vectors of the word to disambiguate: contextual (any layer and piece pooling) or static,
with a disk cache for large sets of sentences.

A word's use is turned into one vector by :func:`ctxembed.core.word_vectors` (layers
``"last"``, an int, ``"sum_last4"`` or ``"concat_last4"``; WordPiece pooling ``"mean"``,
``"first"``, ``"max"`` or ``"sum"``). For two static baselines:

- ``features="static-word"``: the word's GloVe vector, the same for every use;
- ``features="static-context"``: the mean GloVe vector of the *other* words of the
  sentence (:func:`ctxembed.static.context_average_vectors`).

Sets of 64 sentences or more are cached under ``~/.cache/ctxembed/wsd/vectors/``
(:mod:`~ctxembed.wsd.caching`), keyed by a hash of the model, the options, the inputs and the
code (:func:`vector_cache_path`). For up to 20,000 sentences every hidden state is cached once
(float16), so any layer choice and the linear piece poolings are read from the same file.

Example
-------
>>> X = use_vectors(["The dog's bark woke us.", "Rough bark covered the oak."], "bark")
>>> X.shape
(2, 384)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.embeddings import layer_key, layer_selection, word_vectors
from ..core.models import load_encoder
from .caching import (
    VECTOR_CODE,
    VECTOR_LIBRARIES,
    cache_dir,
    code_version,
    digest,
    store,
    touch,
)

FEATURES = ("contextual", "static-word", "static-context")
CACHE_MIN = 64          # smaller sets are computed directly
CACHE_ALL_LAYERS_MAX = 20_000


def layers_from_all(states: np.ndarray, layers) -> np.ndarray:
    """Pick or combine layers from every-layer vectors ``(n, L+1, H)`` -> ``(n, H)`` or ``(n, 4H)``.

    The same choices, and the same results, as :func:`ctxembed.core.embeddings.combine_layers`
    (both read them from :func:`~ctxembed.core.embeddings.layer_selection`).
    """
    indices, how = layer_selection(layers, states.shape[1])
    if how == "all":
        return states
    if how == "one":
        return states[:, indices[0]]
    if how == "sum":
        return states[:, indices].sum(axis=1)
    return states[:, indices].reshape(len(states), -1)


def vector_cache_path(kind: str, model: str, pieces: str, sentences: Sequence[str],
                      words: Sequence[str], occurrences: Sequence[int], layers=None):
    """The cache file of a set of use vectors: ``kind`` ``"all"`` (every layer, float16) or
    ``"layer"`` (one layer choice, ``layers``). The name hashes every input and the code."""
    if kind not in ("all", "layer"):
        raise ValueError(f"kind={kind!r}: use 'all' or 'layer'.")
    payload = [code_version(VECTOR_CODE, VECTOR_LIBRARIES), model, pieces,
               None if kind == "all" else str(layers),
               [list(sentences), list(words), [int(o) for o in occurrences]]]
    folder = cache_dir() / "vectors"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{kind}-{digest(payload)}.npy"


def use_vectors(sentences: Sequence[str], words, occurrences=0, *, layers="last",
                pieces: str = "mean", features: str = "contextual", encoder=None,
                cache: bool = True) -> np.ndarray:
    """One vector per (sentence, word) use: (n, H), (n, 4H) for ``"concat_last4"``, (n, 50) static.

    Parameters
    ----------
    sentences : list of n str
    words : str or list of n str
        The word as written in each sentence.
    occurrences : int or list of n int
        Which occurrence of a repeated word (0 = first).
    layers, pieces : see :func:`ctxembed.core.word_vectors`
    features : {"contextual", "static-word", "static-context"}
    cache : bool
        Use the disk cache for sets of :data:`CACHE_MIN` sentences or more.
    """
    sentences = list(sentences)
    n = len(sentences)
    words = [words] * n if isinstance(words, str) else list(words)
    occurrences = [occurrences] * n if isinstance(occurrences, (int, np.integer)) else list(occurrences)
    if features not in FEATURES:
        raise ValueError(f"features={features!r}: use one of {', '.join(FEATURES)}.")
    if features == "static-context":
        from ..static import context_average_vectors

        return context_average_vectors(sentences, words)
    if features == "static-word":
        from ..static import load_glove

        kv = load_glove()
        return np.stack([kv[w.lower()] if w.lower() in kv.key_to_index
                         else np.zeros(kv.vector_size, np.float32) for w in words])
    layer_key(layers)                    # a clear error before any work
    if not cache or n < CACHE_MIN:
        return word_vectors(sentences, words, occurrences, layers=layers, pieces=pieces,
                            encoder=encoder)
    enc = load_encoder(encoder)
    linear = pieces in ("mean", "first", "sum")
    kind = "all" if linear and n <= CACHE_ALL_LAYERS_MAX else "layer"
    path = vector_cache_path(kind, enc.name, pieces, sentences, words, occurrences, layers)
    if path.exists():
        X = np.load(touch(path))
    else:
        X = word_vectors(sentences, words, occurrences, layers="all" if kind == "all" else layers,
                         pieces=pieces, encoder=enc)
        if kind == "all":
            X = X.astype(np.float16)
        store(path, lambda tmp: np.save(tmp, X))
    return layers_from_all(X.astype(np.float32), layers) if kind == "all" else X
