"""The five models of the comparison behind one interface.

Each *embedder* gives per-layer vectors of words, so that every measurement of
chapter 5 (sense separation, contextuality, speed, size, out-of-vocabulary
rate) runs the same code on every model:

===================  =====================================  ======================
embedder             model                                  layers
===================  =====================================  ======================
:class:`Static`      GloVe 6B 50d, the course's word2vec      ``static`` (one)
:class:`ELMo`        the course's biLM (chapter 2)            ``L0`` (embedding), ``L1``, ``L2``
:class:`Transformer` MiniLM (packaged) or any hub encoder     ``L0`` .. ``L6``
:class:`SmallBERT`   the course's masked-LM BERT (chapter 3)  ``L0`` .. ``L2``
===================  =====================================  ======================

Two methods matter:

- ``use_layers(sentences, forms, lemmas)`` -> (n, L, d): the vector of one use
  of a word per sentence (the polysemy tests);
- ``token_layers(token_lists)`` -> list of (L, len(tokens), d): every word of
  every pre-tokenised sentence (the contextuality measures, speed).

Example
-------
>>> minilm = Transformer()
>>> minilm.use_layers(["The river bank.", "A bank loan."], ["bank", "bank"], ["bank", "bank"]).shape
(2, 7, 384)
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch

from ..core.embeddings import (
    TokenStates,
    find_word,
    token_states,
    word_piece_indices,
    word_vectors,
)
from ..core.errors import EmptyInputError, UnknownWordError
from ..core.models import load_encoder
from .contextuality import Occurrences


def _spans(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join tokens with single spaces; return the text and each token's character span."""
    spans, pos = [], 0
    for t in tokens:
        spans.append((pos, pos + len(t)))
        pos += len(t) + 1
    return " ".join(tokens), spans


def _check_token_lists(token_lists) -> list[list[str]]:
    token_lists = [list(t) for t in token_lists]
    if not token_lists or any(len(t) == 0 for t in token_lists):
        raise EmptyInputError("Give a non-empty list of non-empty token lists, e.g. [['the', 'bank']].")
    return token_lists


class Embedder:
    """Common parts: a name, layer names, parameters, and the two vector methods."""

    name: str = ""
    layer_names: tuple = ()
    family: str = ""

    def use_layers(self, sentences: Sequence[str], forms: Sequence[str],
                   lemmas: Sequence[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def token_layers(self, token_lists) -> list[np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def parameters(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def knows(self, word: str) -> bool:
        """True when the model has its own representation of ``word`` (not ``<unk>``)."""
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, layers={list(self.layer_names)})"


class Static(Embedder):
    """A static model (gensim ``KeyedVectors``): one vector per word type, one "layer".

    ``use_layers`` looks up the *lemma* (the dictionary form), so every use of a
    word gets the same vector; a word outside the vocabulary raises
    :class:`~ctxembed.core.errors.UnknownWordError`. In ``token_layers`` unknown
    words get a zero vector (filter them out with :meth:`knows`).
    """

    family = "static"
    layer_names = ("static",)

    def __init__(self, vectors, name: str):
        self.kv, self.name = vectors, name

    def knows(self, word: str) -> bool:
        return word.lower() in self.kv.key_to_index

    def _vector(self, word: str) -> np.ndarray:
        w = word.lower()
        if w not in self.kv.key_to_index:
            raise UnknownWordError(f"{word!r} is not in {self.name}'s vocabulary of "
                                   f"{len(self.kv):,} words; pick another word or model.")
        return self.kv[w]

    def use_layers(self, sentences, forms, lemmas) -> np.ndarray:
        for s, f in zip(sentences, forms):
            find_word(s, f)                         # the word must be there, as for the others
        return np.stack([self._vector(w) for w in lemmas])[:, None, :].astype(np.float32)

    def token_layers(self, token_lists) -> list[np.ndarray]:
        zero = np.zeros(self.kv.vector_size, dtype=np.float32)
        return [np.stack([self.kv[t] if t in self.kv.key_to_index else zero for t in tokens])[None]
                for tokens in _check_token_lists(token_lists)]

    def parameters(self) -> int:
        return int(self.kv.vectors.size)


class ELMo(Embedder):
    """The course's ELMo (chapter 2): layer 0 = token embedding, 1 and 2 = biLSTM states."""

    family = "ELMo (biLSTM)"

    def __init__(self, model=None, vocab=None, name: str = "ELMo (course)"):
        from .. import elmo

        if model is None:
            model, vocab = elmo.load_elmo()
        self.model, self.vocab, self.name = model.eval(), vocab, name
        self.layer_names = tuple(f"L{j}" for j in range(model.config.num_layers + 1))

    def knows(self, word: str) -> bool:
        return word.lower() in self.vocab

    def use_layers(self, sentences, forms, lemmas) -> np.ndarray:
        from .. import elmo

        return elmo.word_layer_vectors(self.model, self.vocab, list(sentences),
                                       [f.lower() for f in forms])

    @torch.no_grad()
    def token_layers(self, token_lists, batch_size: int = 64) -> list[np.ndarray]:
        from .. import elmo

        token_lists = _check_token_lists(token_lists)
        out = []
        for i in range(0, len(token_lists), batch_size):
            chunk = token_lists[i:i + batch_size]
            ids, lens = elmo.collate([self.vocab.encode([t.lower() for t in c]) for c in chunk])
            layers = self.model.layers(ids, lens).numpy()        # (L, batch, seq, d)
            out.extend(layers[:, k, 1:1 + len(c)].copy() for k, c in enumerate(chunk))
        return out

    def parameters(self) -> int:
        return int(sum(p.numel() for p in self.model.parameters()))


def _pool_spans(states: TokenStates, spans) -> np.ndarray:
    """Mean of the piece states covering each character span (the pieces
    :func:`~ctxembed.core.embeddings.word_piece_indices` finds, so a word truncated away is a
    :class:`~ctxembed.core.errors.WordNotFoundError`): (L, seq, d) -> (L, len(spans), d)."""
    layers = np.asarray(states.states)
    return np.stack([layers[:, word_piece_indices(states, span)].mean(axis=1) for span in spans],
                    axis=1)


class Transformer(Embedder):
    """A BERT-family encoder (default: the packaged MiniLM); layer 0 = embeddings output."""

    family = "BERT (transformer)"

    def __init__(self, encoder=None, name: str | None = None):
        self.encoder = load_encoder(encoder)
        self.name = name or self.encoder.name.split("/")[-1]
        self.layer_names = tuple(f"L{j}" for j in range(self.encoder.num_layers + 1))

    def pieces(self, word: str) -> list[str]:
        """The WordPiece tokens of ``word`` (``[UNK]`` where the vocabulary has nothing)."""
        return self.encoder.tokenizer.tokenize(word)

    def knows(self, word: str) -> bool:
        return self.encoder.tokenizer.unk_token not in self.pieces(word)

    def use_layers(self, sentences, forms, lemmas) -> np.ndarray:
        return word_vectors(list(sentences), list(forms), layers="all", encoder=self.encoder)

    def token_layers(self, token_lists, use_cache: bool = False) -> list[np.ndarray]:
        token_lists = _check_token_lists(token_lists)
        joined = [_spans(t) for t in token_lists]
        states = token_states([text for text, _ in joined], layers="all", encoder=self.encoder,
                              use_cache=use_cache)
        return [_pool_spans(s, spans) for s, (_, spans) in zip(states, joined)]

    def parameters(self) -> int:
        return int(sum(p.numel() for p in self.encoder.model.parameters()))


class SmallBERT(Embedder):
    """The course's small masked-LM BERT (chapter 3): 2 layers, hidden 128, WordNet-trained."""

    family = "BERT (transformer)"

    def __init__(self, model=None, tokenizer=None, name: str = "small BERT (course)"):
        from ..bert import mlm

        if model is None:
            model, tokenizer, _ = mlm.load_checkpoint()
        self.model, self.tokenizer, self.name = model.eval(), tokenizer, name
        self.layer_names = tuple(f"L{j}" for j in range(model.config.num_hidden_layers + 1))
        self.max_length = int(model.config.max_position_embeddings)

    def pieces(self, word: str) -> list[str]:
        """The word's pieces in the small model's 8k-piece vocabulary (others become ``[UNK]``)."""
        ids = self.tokenizer.base(word, add_special_tokens=False)["input_ids"]
        return self.tokenizer.convert_ids_to_tokens(self.tokenizer.compact(ids).tolist())

    def knows(self, word: str) -> bool:
        return self.tokenizer.base.unk_token not in self.pieces(word)

    @torch.no_grad()
    def _states(self, texts: list[str], batch_size: int = 64) -> list[TokenStates]:
        """Each text's pieces, their offsets and hidden states ``(L, seq, d)``."""
        base = self.tokenizer.base
        out = []
        for i in range(0, len(texts), batch_size):
            chunk = texts[i:i + batch_size]
            enc = base(chunk, return_offsets_mapping=True, padding=True, truncation=True,
                       max_length=self.max_length)
            ids = torch.from_numpy(self.tokenizer.compact(np.asarray(enc["input_ids"])))
            mask = torch.as_tensor(enc["attention_mask"])
            hidden = self.model.bert(input_ids=ids, attention_mask=mask,
                                     output_hidden_states=True).hidden_states
            H = torch.stack(hidden, dim=1).numpy()               # (batch, L, seq, d)
            for k in range(len(chunk)):
                n = int(mask[k].sum())
                out.append(TokenStates(
                    text=chunk[k], tokens=base.convert_ids_to_tokens(enc["input_ids"][k][:n]),
                    offsets=np.asarray(enc["offset_mapping"][k])[:n], states=H[k, :, :n],
                    truncated=bool(enc.encodings[k].overflowing)))
        return out

    def use_layers(self, sentences, forms, lemmas) -> np.ndarray:
        spans = [find_word(s, f) for s, f in zip(sentences, forms)]
        return np.stack([_pool_spans(states, [span])[:, 0]
                         for states, span in zip(self._states(list(sentences)), spans)])

    def token_layers(self, token_lists) -> list[np.ndarray]:
        token_lists = _check_token_lists(token_lists)
        joined = [_spans(t) for t in token_lists]
        return [_pool_spans(states, spans)
                for states, (_, spans) in zip(self._states([t for t, _ in joined]), joined)]

    def parameters(self) -> int:
        """All parameters of the shipped model, masked-LM head included (tied weights once)."""
        return int(sum(p.numel() for p in self.model.parameters()))


def corpus_occurrences(embedder: Embedder, token_lists, keep=None) -> Occurrences:
    """Every kept word token of every sentence, with all the embedder's layers.

    Parameters
    ----------
    embedder : Embedder
    token_lists : list of list of str
        Pre-tokenised sentences (e.g. ``ctxembed.data.corpus.load_corpus().valid``).
    keep : callable word -> bool, optional
        Which tokens to measure (e.g. alphabetic words every model knows). The
        model still reads the whole sentence.

    Returns
    -------
    Occurrences with vectors (n_tokens, L, d).
    """
    token_lists = _check_token_lists(token_lists)
    keep = keep or (lambda w: True)
    words, sids, vecs = [], [], []
    for s, (tokens, layers) in enumerate(zip(token_lists, embedder.token_layers(token_lists))):
        for i, t in enumerate(tokens):
            if keep(t):
                words.append(t.lower())
                sids.append(s)
                vecs.append(layers[:, i])
    if not vecs:
        raise ValueError("No token passed `keep`: nothing to measure.")
    return Occurrences(np.array(words), np.array(sids), np.stack(vecs).astype(np.float32),
                       tuple(embedder.layer_names), embedder.name)


def coverage(embedder: Embedder, words: Sequence[str]) -> dict:
    """How many of these word tokens the model has no representation of its own for.

    Returns
    -------
    dict with ``oov_rate`` (share of tokens that are unknown: outside a static or
    ELMo vocabulary, or containing an ``[UNK]`` piece) and, for WordPiece models,
    ``pieces_per_word`` (mean number of pieces per token; None otherwise).
    """
    words = list(words)
    if not words:
        raise EmptyInputError("No words to check: pass e.g. the tokens of a held-out text.")
    types = set(words)
    known = {w: embedder.knows(w) for w in types}
    rate = float(np.mean([not known[w] for w in words]))
    pieces = getattr(embedder, "pieces", None)
    per_word = None
    if pieces is not None:
        n = {w: len(pieces(w)) for w in types}
        per_word = float(np.mean([n[w] for w in words]))
    return {"oov_rate": rate, "pieces_per_word": per_word}


def words_per_second(embedder: Embedder, token_lists, repeats: int = 3,
                     min_seconds: float = 0.2) -> float:
    """Throughput of ``embedder.token_layers`` on these sentences: words per second.

    Best of ``repeats`` timed runs after one warm-up, as ``timeit`` reports: on a shared
    machine other work only ever slows a run down, so the fastest run is the closest to the
    model's own speed. Each run passes over the sentences as many times as it takes to last
    at least ``min_seconds``, so a table lookup that finishes one pass in milliseconds is timed
    as reliably as a neural model. Every layer of every word is computed, caches bypassed.
    """
    token_lists = _check_token_lists(token_lists)
    n_words = sum(len(t) for t in token_lists)
    embedder.token_layers(token_lists)                # warm-up
    best = 0.0
    for _ in range(max(1, repeats)):
        passes, start = 0, time.perf_counter()
        while True:
            embedder.token_layers(token_lists)
            passes += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = max(best, passes * n_words / elapsed)
    return best
