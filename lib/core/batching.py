"""Batches of similar length, and padding: the one home of both mechanics.

A batch of sequences is padded to its longest member, so batching sequences of similar
length wastes little computation on padding. The training loops (ELMo's, the small BERT's,
fine-tuning's) and the inference loops that run a model over many texts all batch this way.
What differs between them is only the order they start from, which each loop owns because
its random number generator decides it (a seeded shuffle, ties broken at random or kept
stable): given that order, the batches are made here.

Example
-------
>>> lengths = [3, 10, 4, 11]
>>> token_budget_batches(length_order(lengths), lengths, max_tokens=22)
[[0, 2], [1, 3]]
>>> [batch for batch in sorted_slices(lengths, 3)]
[[0, 2, 1], [3]]
>>> ids, mask = pad_right([[5, 6, 7], [8]])
>>> ids.tolist(), mask.tolist()
([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch


def length_order(lengths: Sequence[int], longest_first: bool = False) -> np.ndarray:
    """Indices from the shortest sequence to the longest, ties in their given order (stable);
    ``longest_first`` reverses that order."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return order[::-1] if longest_first else order


def token_budget_batches(order: Sequence[int], lengths: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Cut ``order`` (indices into ``lengths``) into consecutive batches that each hold at most
    ``max_tokens`` tokens once padded to their longest member (a longer single sequence is a
    batch of its own). Every index appears exactly once, in the order given."""
    batches, current, width = [], [], 0
    for i in order:
        n = lengths[i]
        if current and max(width, n) * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, width = [], 0
        current.append(int(i))
        width = max(width, n)
    if current:
        batches.append(current)
    return batches


def sorted_slices(lengths: Sequence[int], batch_size: int, longest_first: bool = False) -> Iterator[list[int]]:
    """Batches of ``batch_size`` indices in :func:`length_order`: for running a model over many
    sequences with little padding (put each result back at its index)."""
    order = length_order(lengths, longest_first)
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size].tolist()


def pad_right(sequences: Sequence, pad_id: float = 0,
              dtype: torch.dtype = torch.long) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad sequences to the longest: the padded batch and its ``attention_mask``.

    ``sequences`` are id lists (the default: ``(batch, longest)`` long ids) or arrays of
    vectors, ``(length, ...)`` each, padded to ``(batch, longest, ...)`` of ``dtype``. The mask
    is ``(batch, longest)``, 1 on real tokens and 0 on padding.
    """
    if not len(sequences):
        raise ValueError("pad_right needs at least one sequence.")
    arrays = [torch.as_tensor(np.array(s, dtype=np.int64 if dtype == torch.long else None)).to(dtype)
              for s in sequences]
    width = max(len(a) for a in arrays)
    padded = torch.full((len(arrays), width, *arrays[0].shape[1:]), pad_id, dtype=dtype)
    mask = torch.zeros((len(arrays), width), dtype=torch.long)
    for row, a in enumerate(arrays):
        padded[row, :len(a)] = a
        mask[row, :len(a)] = 1
    return padded, mask
