"""Word labels and WordPiece pieces: aligning them for token classification.

A tagged sentence has one label per *word*; the model sees *pieces*
("hippopotamuses" -> ``hip ##pop ##ota ##mus ##es``) plus ``[CLS]``/``[SEP]``.
The usual convention (BERT paper, NER): the label goes on the **first piece** of
each word, and every other position gets ``-100``, which PyTorch's
cross-entropy ignores. Predictions are read back the same way, from each word's
first piece, so the round trip is exact.

Example
-------
>>> enc = encode_tagged(tok, ["Hippopotamuses", "swim", "."], ["NOUN", "VERB", "."], LABEL2ID)  # doctest: +SKIP
>>> enc["labels"]                                   # doctest: +SKIP
[-100, 0, -100, -100, -100, -100, 1, 10, -100]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

IGNORE = -100


class LabelMismatchError(ValueError):
    """The words and their labels do not line up."""


def align_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """One label per piece: the word's label on its first piece, ``-100`` elsewhere.

    Parameters
    ----------
    word_ids : list of int or None, length = number of pieces
        For each piece, the index of the word it belongs to (``None`` for special
        tokens), as ``BatchEncoding.word_ids()`` gives it.
    word_labels : list of int, one per word

    Example
    -------
    >>> align_labels([None, 0, 1, 1, 2, None], [5, 6, 7])
    [-100, 5, 6, -100, 7, -100]
    """
    n_words = len(word_labels)
    seen = {w for w in word_ids if w is not None}
    if seen and (max(seen) >= n_words or len(seen) != n_words):
        raise LabelMismatchError(
            f"The pieces cover {len(seen)} words (indices up to {max(seen)}) but {n_words} labels "
            "were given: give exactly one label per word (and tokenize with is_split_into_words=True).")
    out, previous = [], None
    for w in word_ids:
        out.append(IGNORE if w is None or w == previous else int(word_labels[w]))
        previous = w
    return out


def encode_tagged(tokenizer, words: Sequence[str], tags: Sequence[str],
                  label2id: Mapping[str, int], max_length: int = 128) -> dict:
    """Tokenize one pre-split sentence and align its tags: a training feature.

    Returns
    -------
    dict
        ``input_ids``, ``token_type_ids``, ``attention_mask``, ``labels`` (lists
        of the same length) and ``word_ids``.

    Raises
    ------
    LabelMismatchError
        ``len(words) != len(tags)``, a tag not in ``label2id``, or the sentence
        too long for ``max_length`` pieces.
    """
    if len(words) != len(tags):
        raise LabelMismatchError(f"{len(words)} words but {len(tags)} tags: give one tag per word.")
    if not words:
        raise LabelMismatchError("An empty sentence has nothing to tag.")
    unknown = sorted(set(tags) - set(label2id))
    if unknown:
        raise LabelMismatchError(f"Tags {unknown} are not in the label set {sorted(label2id)}.")
    enc = tokenizer(list(words), is_split_into_words=True, truncation=True, max_length=max_length)
    word_ids = enc.word_ids()
    if max(w for w in word_ids if w is not None) != len(words) - 1:
        raise LabelMismatchError(
            f"The sentence needs more than max_length={max_length} pieces; raise max_length or "
            "split the sentence.")
    feature = {k: list(v) for k, v in enc.items()}
    feature["labels"] = align_labels(word_ids, [label2id[t] for t in tags])
    feature["word_ids"] = word_ids
    return feature


def word_predictions(piece_logits: np.ndarray, word_ids: Sequence[int | None]) -> list[int]:
    """One predicted label per word, read from its first piece.

    Parameters
    ----------
    piece_logits : array (pieces, num_labels)
    word_ids : list, as in :func:`align_labels`

    Returns
    -------
    list of int, one per word (in word order)
    """
    piece_logits = np.asarray(piece_logits)
    if piece_logits.shape[0] != len(word_ids):
        raise LabelMismatchError(f"{piece_logits.shape[0]} rows of logits for {len(word_ids)} pieces.")
    first = {}
    for i, w in enumerate(word_ids):
        if w is not None and w not in first:
            first[w] = i
    return [int(np.argmax(piece_logits[first[w]])) for w in sorted(first)]


def first_piece_labels(labels: Sequence[int], word_ids: Sequence[int | None]) -> list[int]:
    """Undo :func:`align_labels`: the word labels, read back from the first pieces."""
    out, previous = [], None
    for lab, w in zip(labels, word_ids):
        if w is not None and w != previous:
            out.append(int(lab))
        previous = w
    return out
