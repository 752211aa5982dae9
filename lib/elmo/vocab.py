"""The ELMo's vocabulary and its special tokens, and sentences turned into padded id tensors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import torch

from ..core.batching import pad_right

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


class Vocab:
    """Word <-> id mapping with ``<pad>=0, <unk>=1, <bos>=2, <eos>=3``.

    Example
    -------
    >>> vocab = Vocab.build([["the", "bank"], ["the", "river"]], max_size=10, min_count=1)
    >>> vocab.encode(["the", "bank", "zebra"])                # <bos> the bank <unk> <eos>
    [2, 4, 5, 1, 3]
    """

    def __init__(self, itos: Sequence[str]):
        self.itos = list(itos)
        if tuple(self.itos[:4]) != SPECIALS:
            raise ValueError(f"the first four entries must be {SPECIALS}")
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], max_size: int = 16000,
              min_count: int = 2) -> Vocab:
        """The ``max_size - 4`` most frequent words seen at least ``min_count`` times."""
        counts: Counter = Counter()
        for s in sentences:
            counts.update(s)
        words = [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                 if c >= min_count and w not in SPECIALS]
        return cls(list(SPECIALS) + words[: max_size - len(SPECIALS)])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self.stoi

    def encode(self, tokens: Sequence[str], wrap: bool = True) -> list[int]:
        """Token ids, with ``<bos>`` and ``<eos>`` around them when ``wrap``."""
        ids = [self.stoi.get(t, UNK_ID) for t in tokens]
        return [BOS_ID, *ids, EOS_ID] if wrap else ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[i] for i in ids]


def encode_corpus(sentences: Sequence[Sequence[str]], vocab: Vocab, max_len: int = 64) -> list[list[int]]:
    """Ids with ``<bos>``/``<eos>``, sentences cut to ``max_len`` words."""
    return [vocab.encode(s[:max_len]) for s in sentences]


def collate(encoded: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists with 0 (``PAD_ID``): returns ids (batch, max_len) and lengths (batch,)."""
    ids, mask = pad_right(encoded, PAD_ID)
    return ids, mask.sum(dim=1)
