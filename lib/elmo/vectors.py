"""A word's ELMo vectors: every layer at the word's position in its sentence."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..data.corpus import tokenize
from .model import BiLM
from .vocab import Vocab, collate


def _find(tokens: list[str], word: str, occurrence: int) -> int:
    from ..core.errors import WordNotFoundError

    target = tokenize(word)
    if len(target) != 1:
        raise ValueError(f"{word!r} is not a single word token")
    hits = [i for i, t in enumerate(tokens) if t == target[0]]
    if len(hits) <= occurrence:
        raise WordNotFoundError(
            f"{word!r} (occurrence {occurrence}) not found in tokens {tokens}")
    return hits[occurrence]


@torch.no_grad()
def sentence_layers(model: BiLM, vocab: Vocab, sentences: Sequence[str],
                    batch_size: int = 64) -> list[tuple[list[str], np.ndarray]]:
    """Every token's ELMo layers for each sentence.

    Returns
    -------
    list of (tokens, array (num_layers + 1, len(tokens), 2 * hidden)) ; ``<bos>``/``<eos>`` dropped.
    """
    model.eval()
    toks = [tokenize(s) for s in sentences]
    out = []
    for i in range(0, len(toks), batch_size):
        chunk = toks[i: i + batch_size]
        ids, lens = collate([vocab.encode(t) for t in chunk])
        layers = model.layers(ids, lens).numpy()
        for k, t in enumerate(chunk):
            out.append((t, layers[:, k, 1: 1 + len(t)]))
    return out


def word_layer_vectors(model: BiLM, vocab: Vocab, sentences: Sequence[str],
                       words: Sequence[str] | str, occurrences: Sequence[int] | int = 0,
                       batch_size: int = 64) -> np.ndarray:
    """ELMo layers of one word in each sentence: (n, num_layers + 1, 2 * hidden) float32.

    Example
    -------
    >>> from ctxembed.elmo import load_elmo
    >>> model, vocab = load_elmo()
    >>> X = word_layer_vectors(model, vocab, ["the river bank", "the bank loan"], "bank")
    >>> X.shape
    (2, 3, 512)
    """
    n = len(sentences)
    words = [words] * n if isinstance(words, str) else list(words)
    occurrences = [occurrences] * n if isinstance(occurrences, int) else list(occurrences)
    per = sentence_layers(model, vocab, sentences, batch_size)
    return np.stack([layers[:, _find(tokens, w, o)] for (tokens, layers), w, o
                     in zip(per, words, occurrences)]).astype(np.float32)


def layer_vectors(model: BiLM, vocab: Vocab, sentence: str, word: str, occurrence: int = 0) -> np.ndarray:
    """ELMo layers of ``word`` in ``sentence``: (num_layers + 1, 2 * hidden).

    Row 0: token embedding (the same in every sentence); rows 1, 2: ``[forward ; backward]``
    LSTM states at the word. Raises ``WordNotFoundError`` if the word is absent.
    """
    return word_layer_vectors(model, vocab, [sentence], word, occurrence)[0]
