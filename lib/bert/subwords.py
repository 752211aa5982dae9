"""Three ways to cut words into pieces, trained side by side (chapter 3, section 1).

BERT's WordPiece is one of three subword algorithms in common use:

- **WordPiece** (Schuster & Nakajima 2012; BERT): merges the pair of pieces that most raises
  the likelihood of the training text; a piece that continues a word is written ``##piece``;
  a character it never saw becomes ``[UNK]``.
- **byte-level BPE** (Sennrich et al. 2016 over bytes, as in GPT-2 and RoBERTa): merges the
  most frequent pair; its alphabet is the 256 bytes, so *nothing* is ever unknown; a piece
  that starts a word carries the space before it, shown as ``Ġ``.
- **Unigram** (Kudo 2018; SentencePiece, as in ALBERT, T5, XLM-R): starts from a large
  vocabulary and prunes the pieces whose loss least lowers the likelihood under a unigram
  model of pieces; a word-initial piece starts with ``▁``.

:func:`train_tokenizer` trains any of them with Hugging Face ``tokenizers`` on the same texts,
at the same vocabulary size and with the same normalisation (BERT's: lower-casing and accent
stripping when ``lowercase``), so that what differs is the algorithm.
:func:`segmentation_statistics` measures what a model then has to read: pieces per word,
the share of words split, the share with an unknown piece, and pieces per text (the
sequence length attention pays for quadratically).

Words are counted the same way for every tokenizer: BERT's pre-tokenizer (whitespace and
punctuation), keeping the words that contain a letter or a digit.

Example
-------
>>> from ctxembed.bert.subwords import train_tokenizer, pieces
>>> texts = ["the bank of the river", "the banks approved the loan"] * 50
>>> wordpiece = train_tokenizer("wordpiece", texts, vocab_size=60)
>>> pieces(wordpiece, "banks")
['banks']
>>> pieces(wordpiece, "🙂")        # a character never seen in training
['[UNK]']
>>> pieces(train_tokenizer("bpe", texts, vocab_size=300), "🙂")   # its four UTF-8 bytes
['Ġ', 'ð', 'Ł', 'Ļ', 'Ĥ']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALGORITHMS = ("wordpiece", "bpe", "unigram")
LABELS = {"wordpiece": "WordPiece", "bpe": "byte-level BPE", "unigram": "Unigram"}
UNK = "[UNK]"
SPECIAL_TOKENS = (UNK, "[PAD]", "[CLS]", "[SEP]", "[MASK]")


def _check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown subword algorithm {algorithm!r}: use one of "
                         f"{', '.join(ALGORITHMS)}.")
    return algorithm


def train_tokenizer(algorithm: str, texts: Sequence[str], vocab_size: int, *,
                    lowercase: bool = True):
    """Train a ``tokenizers.Tokenizer`` of one algorithm on ``texts``.

    Parameters
    ----------
    algorithm : {"wordpiece", "bpe", "unigram"}
        WordPiece (BERT), byte-level BPE (GPT-2, RoBERTa) or Unigram (SentencePiece).
    texts : sequence of str
        The training texts.
    vocab_size : int
        Pieces in the vocabulary, the five special tokens included. (Unigram may stop a
        little short of it on a small corpus.)
    lowercase : bool
        True: lower-case and strip accents, as uncased BERT does. False: keep the case.

    Returns
    -------
    tokenizers.Tokenizer

    Raises
    ------
    ValueError
        For an unknown algorithm, no texts, or a vocabulary too small to hold the specials.
    """
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        trainers,
    )

    _check_algorithm(algorithm)
    texts = list(texts)
    if not any(t.strip() for t in texts):
        raise ValueError("train_tokenizer needs some non-empty texts to learn pieces from.")
    if int(vocab_size) <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size={vocab_size} leaves no room for pieces: use a few "
                         "hundred or more.")
    common = {"vocab_size": int(vocab_size), "special_tokens": list(SPECIAL_TOKENS),
              "show_progress": False}
    if algorithm == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token=UNK))
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(**common)
    elif algorithm == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      **common)
    else:
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        tokenizer.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(unk_token=UNK, **common)
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=lowercase,
                                                      strip_accents=lowercase)
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tokenizer


def pieces(tokenizer, text: str) -> list[str]:
    """The pieces ``tokenizer`` cuts ``text`` (a word or a short text) into, markers included.

    A piece whose id is the unknown token's is shown as ``[UNK]`` (Unigram would otherwise
    show the raw character it could not represent).
    """
    encoding = tokenizer.encode(text)
    unk_id = tokenizer.token_to_id(UNK)
    return [UNK if i == unk_id else t for t, i in zip(encoding.tokens, encoding.ids)]


@dataclass(frozen=True, eq=False)
class SegmentationStats:
    """What a tokenizer makes of some texts (see :func:`segmentation_statistics`).

    ``text_words`` and ``text_pieces`` hold, per text, its counted words and their pieces:
    two tokenizers measured on the same texts can be compared text by text
    (:func:`pieces_ordering_sentence`).
    """

    text_words: np.ndarray      # (texts,) words counted in each text
    text_pieces: np.ndarray     # (texts,) pieces of those words
    split_words: int            # words cut into two or more pieces
    unknown_words: int          # words with an [UNK] piece
    pieces_per_text: float      # mean sequence length (every piece, punctuation included)

    @property
    def words(self) -> int:
        return int(self.text_words.sum())

    @property
    def pieces(self) -> int:
        return int(self.text_pieces.sum())

    @property
    def pieces_per_word(self) -> float:
        return self.pieces / self.words

    @property
    def split_rate(self) -> float:
        return self.split_words / self.words

    @property
    def unknown_rate(self) -> float:
        return self.unknown_words / self.words

    def as_row(self) -> dict[str, float]:
        """The figures a table shows, rates as fractions."""
        return {"pieces per word": self.pieces_per_word, "words split": self.split_rate,
                "words with [UNK]": self.unknown_rate, "pieces per text": self.pieces_per_text}


def segmentation_statistics(tokenizer, texts: Sequence[str]) -> SegmentationStats:
    """Pieces per word, split and unknown rates and sequence length of ``tokenizer`` on ``texts``.

    Each text is cut into words first, the same way for every tokenizer (BERT's
    pre-tokenizer, keeping the pieces with a letter or a digit); the tokenizer then encodes
    those words (``is_pretokenized``), so each piece belongs to one
    word, exactly as when it encodes the running text.

    Raises
    ------
    ValueError
        When the texts hold no words.
    """
    from tokenizers.pre_tokenizers import BertPreTokenizer

    split = BertPreTokenizer()
    tokens = [[w for w, _ in split.pre_tokenize_str(t)] or [""] for t in texts]
    kept = [np.asarray([any(c.isalnum() for c in w) for w in ws]) for ws in tokens]
    if not any(k.any() for k in kept):
        raise ValueError("segmentation_statistics found no words in these texts: pass "
                         "non-empty sentences.")
    unk_id = tokenizer.token_to_id(UNK)
    text_words, text_pieces = np.zeros(len(texts), int), np.zeros(len(texts), int)
    n_split = n_unknown = n_all = 0
    for row, (enc, keep) in enumerate(zip(tokenizer.encode_batch(tokens, is_pretokenized=True),
                                          kept)):
        word_ids = np.asarray([-1 if w is None else w for w in enc.word_ids], dtype=int)
        ids = np.asarray(enc.ids, dtype=int)
        n_all += len(ids)
        counts = np.bincount(word_ids[word_ids >= 0], minlength=len(keep))
        unknown = np.bincount(word_ids[(word_ids >= 0) & (ids == unk_id)], minlength=len(keep))
        text_words[row], text_pieces[row] = keep.sum(), counts[keep].sum()
        n_split += int((counts[keep] > 1).sum())
        n_unknown += int((unknown[keep] > 0).sum())
    return SegmentationStats(text_words, text_pieces, n_split, n_unknown,
                             n_all / max(1, len(texts)))


def pieces_ordering_sentence(stats: dict[str, SegmentationStats], *, seed: int = 0) -> str:
    """The tokenizers from fewest to most pieces per word, with ``<`` only where it is real.

    Neighbours in the order are compared on the same texts by a paired bootstrap over texts
    (:func:`ctxembed.evaluation.paired_metric_difference`): ``<`` when the 95% interval of
    the difference excludes zero, ``≈`` ("indistinguishable here") when it does not.

    Example
    -------
    >>> texts = ["the bank of the river", "the banks approved the loans"] * 20
    >>> stats = {f"{size} pieces": segmentation_statistics(
    ...              train_tokenizer("wordpiece", texts, size), texts) for size in (30, 60)}
    >>> pieces_ordering_sentence(stats)
    '60 pieces 1.00 < 30 pieces 4.10'
    """
    from ..evaluation import paired_metric_difference, tie_groups

    if len(stats) < 2:
        raise ValueError("pieces_ordering_sentence compares two or more tokenizers.")
    if len({tuple(s.text_words) for s in stats.values()}) != 1:
        raise ValueError("the tokenizers were measured on different texts: measure them all "
                         "on the same ones to compare them.")
    order = sorted(stats, key=lambda name: stats[name].pieces_per_word)
    n_texts = len(stats[order[0]].text_words)

    def per_word(s):
        return lambda idx: s.text_pieces[idx].sum() / max(1, s.text_words[idx].sum())

    def separated(fewer, more):
        return paired_metric_difference(per_word(stats[more]), per_word(stats[fewer]), n_texts,
                                        method="percentile", seed=seed).excludes(0.0)

    return " < ".join(" ≈ ".join(f"{name} {stats[name].pieces_per_word:.2f}" for name in group)
                      for group in tie_groups(order, separated))
