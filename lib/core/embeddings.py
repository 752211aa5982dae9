"""Contextual embeddings: one vector per *use* of a word.

Everything here runs texts through a BERT-family encoder in length-sorted,
padded batches and keeps a small LRU cache, so asking again about the same
sentence costs nothing.

Vocabulary of the ``layers`` argument (``L`` = number of transformer layers):

==================  ==========================================  ===============
``layers``          meaning                                      vector size
==================  ==========================================  ===============
``"last"``          output of layer ``L``                        ``H``
``k`` (int)         hidden state ``k``: 0 is the embedding        ``H``
                    output, 1..L the layers; negatives count
                    from the end
``"sum_last4"``     sum of the last four layers                  ``H``
``"concat_last4"``  concatenation of the last four layers        ``4H``
``"all"``           every hidden state, stacked                  ``(L+1, H)``
==================  ==========================================  ===============

Example
-------
>>> from ctxembed import word_vector, cosine
>>> money = word_vector("I deposited the cheque at the bank.", "bank")
>>> river = word_vector("We had a picnic on the bank of the river.", "bank")
>>> money.shape
(384,)
>>> other = word_vector("The bank raised its interest rates.", "bank")
>>> round(cosine(money, other), 2), round(cosine(money, river), 2)   # same sense is closer
(0.81, 0.77)
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cachetools
import numpy as np
import torch

from .batching import pad_right, sorted_slices
from .errors import EmptyInputError, WordNotFoundError
from .models import Encoder, load_encoder
from .pooling import POOLING_CHOICES, pool_tokens
from .words import find_word

LayerSpec = str | int
LAYER_CHOICES = ("last", "sum_last4", "concat_last4", "all")
PIECE_POOLING = ("mean", "first", "max", "sum")



# --------------------------------------------------------------------------- #
# Token states of whole sentences
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class TokenStates:
    """The encoder's view of one text.

    Attributes
    ----------
    text : str
    tokens : list[str]
        WordPiece tokens, ``[CLS]`` and ``[SEP]`` included.
    offsets : np.ndarray, shape (seq, 2)
        Character span of each token in ``text``; ``(0, 0)`` for special tokens.
    states : np.ndarray
        ``(seq, H)``, ``(seq, 4H)`` for ``"concat_last4"``, or ``(L+1, seq, H)``
        for ``"all"``. Read-only: it may be shared with the cache.
    truncated : bool
        True when the text was longer than the model takes.
    """

    text: str
    tokens: list
    offsets: np.ndarray
    states: np.ndarray
    truncated: bool = False


def layer_key(layers: LayerSpec) -> str:
    """The layer choice as a name (``"last"``, ``"layer3"``...): a clear error for anything else."""
    if isinstance(layers, (bool, np.bool_)):
        raise TypeError("layers must be an int or one of " + ", ".join(LAYER_CHOICES))
    if isinstance(layers, (int, np.integer)):
        return f"layer{int(layers)}"
    if isinstance(layers, str) and layers in LAYER_CHOICES:
        return layers
    raise ValueError(
        f"layers={layers!r} is not understood: use an int (0 = embeddings, 1..L = layers, "
        f"-1 = last) or one of {', '.join(repr(c) for c in LAYER_CHOICES)}."
    )


def layer_selection(layers: LayerSpec, n_states: int) -> tuple[list[int], str]:
    """What a layer choice means for a model with ``n_states`` hidden states (L+1): the
    indices of the states it takes, and how they make one vector, ``"one"``, ``"sum"``,
    ``"concat"`` or ``"all"`` (stacked). The one place the choices are defined:
    :func:`combine_layers` applies them to a model's output, and
    :func:`ctxembed.wsd.vectors.layers_from_all` to cached every-layer vectors.

    Example
    -------
    >>> layer_selection("sum_last4", 7), layer_selection(-1, 7)
    (([3, 4, 5, 6], 'sum'), ([6], 'one'))
    """
    key = layer_key(layers)
    if key == "last":
        return [n_states - 1], "one"
    if key in ("sum_last4", "concat_last4"):
        return list(range(max(0, n_states - 4), n_states)), key.split("_")[0]
    if key == "all":
        return list(range(n_states)), "all"
    index = int(layers)
    if not -n_states <= index < n_states:
        raise ValueError(f"layer {index} does not exist: this model has hidden states 0..{n_states - 1}.")
    return [index % n_states], "one"


def combine_layers(hidden_states: Sequence[torch.Tensor], layers: LayerSpec) -> torch.Tensor:
    """Select or combine hidden states.

    Parameters
    ----------
    hidden_states : sequence of L+1 tensors, each (batch, seq, H)
        What a Hugging Face encoder returns with ``output_hidden_states=True``.
    layers : int or str
        See the module docstring.

    Returns
    -------
    torch.Tensor
        (batch, seq, H), (batch, seq, 4H) for ``"concat_last4"``, or
        (batch, L+1, seq, H) for ``"all"``.
    """
    indices, how = layer_selection(layers, len(hidden_states))
    if how == "one":
        return hidden_states[indices[0]]
    states = tuple(hidden_states[i] for i in indices)
    if how == "sum":
        return torch.stack(states, dim=0).sum(dim=0)
    if how == "concat":
        return torch.cat(states, dim=-1)
    return torch.stack(states, dim=1)


#: The TokenStates of recently encoded sentences, by (model, layer choice, text), in
#: cachetools' least-recently-used cache. The service answers questions from several threads,
#: so every read and write takes the lock.
_CACHE = cachetools.LRUCache(maxsize=2048)
_CACHE_LOCK = threading.Lock()
_CACHE_COUNTS = {"hits": 0, "misses": 0}


def _cached_states(key):
    with _CACHE_LOCK:
        states = _CACHE.get(key)
        _CACHE_COUNTS["misses" if states is None else "hits"] += 1
        return states


def _remember_states(key, states) -> None:
    with _CACHE_LOCK:
        _CACHE[key] = states


def clear_cache() -> None:
    """Forget every cached sentence (e.g. before timing a cold run)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _CACHE_COUNTS.update(hits=0, misses=0)


def cache_info() -> dict:
    """``{"entries", "hits", "misses"}`` of the sentence cache."""
    return {"entries": len(_CACHE), **_CACHE_COUNTS}


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("Pass a list of sentences (for one sentence use a list of one).")
    texts = list(texts)
    if not texts:
        raise EmptyInputError("No sentences given: pass at least one non-empty sentence.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"Sentence {i} is a {type(text).__name__}, not a str.")
        if not text.strip():
            raise EmptyInputError(
                f"Sentence {i} is empty: every sentence needs at least one word."
            )
    return texts


def token_states(
    texts: Iterable[str],
    *,
    layers: LayerSpec = "last",
    encoder: Encoder | str | None = None,
    batch_size: int = 32,
    use_cache: bool = True,
) -> list[TokenStates]:
    """Run texts through the encoder; one :class:`TokenStates` per text, in order.

    Texts are tokenized once, sorted by length and run in padded batches of
    ``batch_size`` (padding is masked, so a text's vectors do not depend on
    its batch-mates). Texts longer than the model takes are truncated with a
    warning.

    Example
    -------
    >>> [s] = token_states(["The river bank."])
    >>> s.tokens
    ['[CLS]', 'the', 'river', 'bank', '.', '[SEP]']
    >>> s.states.shape
    (6, 384)
    """
    texts = _check_texts(texts)
    enc = load_encoder(encoder)
    key = layer_key(layers)
    results: list[TokenStates | None] = [None] * len(texts)
    todo: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        hit = _cached_states((enc.name, key, text)) if use_cache else None
        if hit is not None:
            results[i] = hit
        else:
            todo.setdefault(text, []).append(i)

    if todo:
        unique = list(todo)
        for text, states in zip(unique, _encode_uncached(enc, unique, layers, batch_size)):
            if use_cache:
                _remember_states((enc.name, key, text), states)
            for i in todo[text]:
                results[i] = states
    return results  # type: ignore[return-value]


def _encode_uncached(enc: Encoder, texts: list[str], layers: LayerSpec, batch_size: int):
    tok = enc.tokenizer
    encoded = tok(texts, add_special_tokens=True, return_offsets_mapping=True,
                  truncation=False, verbose=False)
    limit = enc.max_length
    ids_list, offsets_list, truncated = [], [], []
    too_long = []
    for i, (ids, offs) in enumerate(zip(encoded["input_ids"], encoded["offset_mapping"])):
        cut = len(ids) > limit
        if cut:
            too_long.append(i)
            ids = ids[: limit - 1] + [ids[-1]]          # keep the final [SEP]
            offs = offs[: limit - 1] + [offs[-1]]
        ids_list.append(ids)
        offsets_list.append(np.asarray(offs, dtype=np.int64).reshape(-1, 2))
        truncated.append(cut)
    if too_long:
        warnings.warn(
            f"{len(too_long)} text(s) are longer than {enc.name}'s limit of {limit} tokens "
            f"and were truncated (first: text {too_long[0]}). Split long documents into "
            "sentences to keep every word.", stacklevel=3,
        )

    out: list[TokenStates | None] = [None] * len(texts)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    wants_types = "token_type_ids" in tok.model_input_names
    device = enc.model.device
    for batch in sorted_slices([len(ids) for ids in ids_list], batch_size):
        input_ids, mask = pad_right([ids_list[i] for i in batch], pad_id)
        inputs = {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}
        if wants_types:
            inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
        with torch.inference_mode():
            hidden = enc.model(**inputs, output_hidden_states=True).hidden_states
            combined = combine_layers(hidden, layers).float().cpu().numpy()
        for row, i in enumerate(batch):
            n = len(ids_list[i])
            states = combined[row, :, :n] if combined.ndim == 4 else combined[row, :n]
            states = np.ascontiguousarray(states)
            states.flags.writeable = False
            out[i] = TokenStates(
                text=texts[i],
                tokens=tok.convert_ids_to_tokens(ids_list[i]),
                offsets=offsets_list[i],
                states=states,
                truncated=truncated[i],
            )
    return out


# --------------------------------------------------------------------------- #
# Finding a word's pieces (finding the word itself: ctxembed.core.words)
# --------------------------------------------------------------------------- #
def word_piece_indices(states: TokenStates, span: tuple[int, int]) -> list[int]:
    """Indices of the WordPiece tokens that cover the character ``span``.

    Example
    -------
    >>> [s] = token_states(["Unbelievably good."])
    >>> [s.tokens[i] for i in word_piece_indices(s, (0, 12))]
    ['un', '##bel', '##ie', '##va', '##bly']
    """
    start, end = span
    offs = states.offsets
    hit = (offs[:, 1] > offs[:, 0]) & (offs[:, 0] < end) & (offs[:, 1] > start)
    idx = np.flatnonzero(hit).tolist()
    if not idx:
        raise WordNotFoundError(
            f"The word at characters {start}..{end} of the text lies beyond the model's "
            "maximum length and was truncated away; shorten the text around the word."
        )
    return idx


def _pool_pieces(piece_states: np.ndarray, pieces: str) -> np.ndarray:
    """Pool (pieces, ...) along axis 0 (axis -2 of 'all' states handled by caller)."""
    if pieces == "mean":
        return piece_states.mean(axis=0)
    if pieces == "first":
        return piece_states[0].copy()
    if pieces == "max":
        return piece_states.max(axis=0)
    if pieces == "sum":
        return piece_states.sum(axis=0)
    raise ValueError(f"pieces={pieces!r}: use one of {', '.join(PIECE_POOLING)}.")


# --------------------------------------------------------------------------- #
# Word and sentence vectors
# --------------------------------------------------------------------------- #
def word_vectors(
    sentences: Sequence[str],
    words: str | Sequence[str],
    occurrences: int | Sequence[int] = 0,
    *,
    layers: LayerSpec = "last",
    pieces: str = "mean",
    encoder: Encoder | str | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Contextual vectors of one word per sentence, computed in batches.

    Parameters
    ----------
    sentences : list of str, length n
    words : str or list of n str
        The word to embed in every sentence, or one word per sentence.
    occurrences : int or list of n int
        Which occurrence when a word repeats (0 = first, -1 = last).
    layers : int or str
        See the module docstring; default the last layer.
    pieces : {"mean", "first", "max", "sum"}
        How to pool a word split into several WordPieces.

    Returns
    -------
    np.ndarray
        (n, H) float32; (n, 4H) for ``"concat_last4"``; (n, L+1, H) for ``"all"``.

    Example
    -------
    >>> X = word_vectors(["A bank loan.", "The river bank."], "bank")
    >>> X.shape
    (2, 384)
    """
    sentences = _check_texts(sentences)
    n = len(sentences)
    words = [words] * n if isinstance(words, str) else list(words)
    occurrences = [occurrences] * n if isinstance(occurrences, (int, np.integer)) else list(occurrences)
    if len(words) != n or len(occurrences) != n:
        raise ValueError(f"Got {n} sentences but {len(words)} words and "
                         f"{len(occurrences)} occurrences: give one per sentence.")
    if pieces not in PIECE_POOLING:
        raise ValueError(f"pieces={pieces!r}: use one of {', '.join(map(repr, PIECE_POOLING))}.")
    spans = [find_word(s, w, o) for s, w, o in zip(sentences, words, occurrences)]
    all_states = token_states(sentences, layers=layers, encoder=encoder, batch_size=batch_size)
    vectors = []
    for states, span in zip(all_states, spans):
        idx = word_piece_indices(states, span)
        if states.states.ndim == 3:  # "all": (L+1, seq, H) -> pool over seq
            vectors.append(_pool_pieces(np.moveaxis(states.states[:, idx], 1, 0), pieces))
        else:
            vectors.append(_pool_pieces(states.states[idx], pieces))
    return np.stack(vectors).astype(np.float32, copy=False)


def word_vector(
    sentence: str,
    word: str,
    occurrence: int = 0,
    *,
    layers: LayerSpec = "last",
    pieces: str = "mean",
    encoder: Encoder | str | None = None,
) -> np.ndarray:
    """The contextual vector of ``word`` as used in ``sentence``.

    Returns (H,) float32 (see :func:`word_vectors` for other shapes).

    Example
    -------
    >>> v = word_vector("I live near the Bank of America.", "bank")
    >>> v.shape
    (384,)
    """
    return word_vectors([sentence], [word], [occurrence], layers=layers,
                        pieces=pieces, encoder=encoder)[0]


def sentence_vectors(
    sentences: Sequence[str],
    *,
    pooling: str = "mean",
    layers: LayerSpec = "last",
    normalize: bool = False,
    include_special: bool = True,
    encoder: Encoder | str | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """One vector per sentence by ``"cls"``, ``"mean"`` or ``"max"`` pooling.

    Padding never takes part. ``include_special=False`` leaves [CLS] and [SEP]
    out of mean and max pooling (sentence-transformers' MiniLM was trained with
    them in, the default here). ``normalize=True`` scales each vector to unit
    length, so dot products are cosine similarities.

    Returns
    -------
    np.ndarray, shape (n, H) (or (n, 4H) for ``"concat_last4"``)

    Example
    -------
    >>> sentence_vectors(["A bank loan.", "The river bank."]).shape
    (2, 384)
    """
    sentences = _check_texts(sentences)
    if pooling not in POOLING_CHOICES:
        raise ValueError(f"pooling={pooling!r}: use one of {', '.join(map(repr, POOLING_CHOICES))}.")
    if layer_key(layers) == "all":
        raise ValueError("sentence_vectors takes one layer choice, not 'all'.")
    all_states = token_states(sentences, layers=layers, encoder=encoder, batch_size=batch_size)
    hidden, mask = pad_right([s.states for s in all_states], dtype=torch.float32)
    if not include_special:
        for row, s in enumerate(all_states):
            mask[row, 0] = mask[row, len(s.tokens) - 1] = 0
    vectors = pool_tokens(hidden, mask, pooling)
    if normalize:
        vectors = torch.nn.functional.normalize(vectors, dim=-1)
    return vectors.numpy().astype(np.float32, copy=False)


def tokenize(sentence: str, encoder: Encoder | str | None = None) -> list[tuple[str, str]]:
    """WordPiece tokens of ``sentence`` with the text each one covers.

    Example
    -------
    >>> tokenize("Embeddings!")
    [('[CLS]', ''), ('em', 'Em'), ('##bed', 'bed'), ('##ding', 'ding'), ('##s', 's'), ('!', '!'), ('[SEP]', '')]
    """
    [text] = _check_texts([sentence])
    enc = load_encoder(encoder)
    out = enc.tokenizer(text, return_offsets_mapping=True)
    pieces = enc.tokenizer.convert_ids_to_tokens(out["input_ids"])
    return [(p, text[a:b]) for p, (a, b) in zip(pieces, out["offset_mapping"])]
