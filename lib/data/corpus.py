"""A real training corpus from WordNet 3.0: its glosses and example sentences.

Every synset contributes its definition ("gloss") and its example sentences,
one sentence each: 117,659 glosses and 48,339 examples, about 1.54M tokens of
modern English written by lexicographers. It is small, clean and licensed
permissively (WordNet 3.0 licence, Princeton University), which makes it a fair
corpus for training a small ELMo on two CPU cores. Its limits: short sentences
(median 8 tokens), a dictionary's register, and each sense of a word described
rather than used in running text.

Built from :func:`ctxembed.data.wordnet.synset_texts`. The train/validation split is fixed and does not depend on any random state:
a synset goes to validation when the CRC-32 of its name is divisible by 20
(about 5%), so a gloss and its examples always land on the same side.

Example
-------
>>> corpus = load_corpus()
>>> len(corpus.train), corpus.train[0][:5]
(..., ['(', 'usually', 'followed', 'by', '`'])
>>> tokenize("The bank's river-side branch")
['the', 'bank', "'s", 'river-side', 'branch']
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..core.cache import cached_file, write_atomic
from .wordnet import synset_texts, wordnet_version

#: The code the cached corpus depends on (its file name carries a hash of it and of WordNet's files).
CORPUS_CODE = ("ctxembed.data.corpus", "ctxembed.data.wordnet")
VALID_MODULUS = 20  # 1 in 20 synsets (5%) go to validation

_TOKEN = re.compile(r"[a-z]+(?=n't)|n't|'[a-z]+|[a-z]+(?:-[a-z]+)*|\d+(?:[.,]\d+)*|[^\sa-z\d]")
_TOKEN_ANY_CASE = re.compile(_TOKEN.pattern, re.IGNORECASE)


def tokenize(text: str, *, keep_case: bool = False) -> list[str]:
    """Lower-case word-level tokens: words (with inner hyphens), clitics, numbers, punctuation.

    Parameters
    ----------
    text : str
    keep_case : bool
        Give the tokens as the text writes them (``"Don't"`` -> ``["Do", "n't"]``): the same
        tokens, lower-cased or not.

    Returns
    -------
    list of str

    Example
    -------
    >>> tokenize("Don't bank on it.")
    ['do', "n't", 'bank', 'on', 'it', '.']
    """
    return _TOKEN_ANY_CASE.findall(text) if keep_case else _TOKEN.findall(text.lower())


@dataclass
class Corpus:
    """Tokenized sentences with a fixed split.

    Attributes
    ----------
    train, valid : list of list of str
        Tokenized sentences (no BOS/EOS; the model adds those).
    source : str
        Where the text comes from.
    """

    train: list[list[str]]
    valid: list[list[str]]
    source: str = "WordNet 3.0 glosses and example sentences"

    def num_tokens(self, split: str = "train") -> int:
        """Number of word tokens in ``split`` ("train" or "valid")."""
        return sum(len(s) for s in getattr(self, split))

    def word_counts(self) -> Counter:
        """Token counts over the training split."""
        counts: Counter = Counter()
        for sentence in self.train:
            counts.update(sentence)
        return counts


def _cache_path() -> Path:
    return cached_file("data", "wordnet_corpus", ".json.gz", code=CORPUS_CODE, inputs=wordnet_version())


def is_validation(synset_name: str) -> bool:
    """True when the synset (e.g. ``"bank.n.01"``) belongs to the validation split."""
    return zlib.crc32(synset_name.encode()) % VALID_MODULUS == 0


def build_corpus() -> Corpus:
    """Tokenize every WordNet gloss and example sentence (a few seconds), split by synset."""
    train, valid = [], []
    for synset in synset_texts():
        side = valid if is_validation(synset.name) else train
        for text in [synset.definition, *synset.examples]:
            tokens = tokenize(text)
            if tokens:
                side.append(tokens)
    return Corpus(train, valid)


def load_corpus(cache: bool = True) -> Corpus:
    """The WordNet corpus, built once and then read from a cache (~1 s).

    The cache lives in the course's cache folder (``~/.cache/ctxembed/data``), named by a
    hash of this code and of WordNet's files.

    Returns
    -------
    Corpus
    """
    path = _cache_path()
    if cache and path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        return Corpus(data["train"], data["valid"])
    corpus = build_corpus()
    if cache:
        def write(tmp):
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                json.dump({"train": corpus.train, "valid": corpus.valid}, fh)

        write_atomic(path, write)
    return corpus
