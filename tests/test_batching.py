"""Batches of similar length and padding (``ctxembed.core.batching``), which every training and
inference loop of the course uses: each example is in exactly one batch, a batch respects its
token budget once padded, and padding never reads as a token."""

import itertools

import numpy as np
import pytest
import torch

from ctxembed.core.batching import (
    length_order,
    pad_right,
    sorted_slices,
    token_budget_batches,
)
from ctxembed.elmo import bucket_batches, collate


@pytest.mark.parametrize("seed", range(5))
def test_token_budget_batches_hold_every_index_once_within_the_budget(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 40, size=300).tolist()
    order = rng.permutation(len(lengths)).tolist()
    batches = token_budget_batches(order, lengths, max_tokens=120)
    assert [i for b in batches for i in b] == order, "the order is kept, every index once"
    for batch in batches:
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= 120
    # a batch is cut only when the next sequence would not fit
    for batch, following in itertools.pairwise(batches):
        grown = batch + following[:1]
        assert max(lengths[i] for i in grown) * len(grown) > 120


def test_a_sequence_longer_than_the_budget_is_a_batch_of_its_own():
    assert token_budget_batches([0, 1, 2], [5, 50, 5], max_tokens=20) == [[0], [1], [2]]


def test_length_order_is_stable_and_longest_first_reverses_it():
    lengths = [3, 1, 3, 2, 1]
    assert length_order(lengths).tolist() == [1, 4, 3, 0, 2]
    assert length_order(lengths, longest_first=True).tolist() == [2, 0, 3, 4, 1]
    assert list(sorted_slices(lengths, 2)) == [[1, 4], [3, 0], [2]]
    many_ties = [i % 3 for i in range(300)]
    assert length_order(many_ties).tolist() == sorted(range(300), key=lambda i: (i % 3, i))


def test_pad_right_pads_with_the_given_id_and_masks_the_padding():
    ids, mask = pad_right([np.array([7, 8], dtype=np.int32), [9, 10, 11]], pad_id=5)
    assert ids.dtype == mask.dtype == torch.long
    assert ids.tolist() == [[7, 8, 5], [9, 10, 11]]
    assert mask.tolist() == [[1, 1, 0], [1, 1, 1]]
    with pytest.raises(ValueError, match="at least one"):
        pad_right([])


def test_elmo_batches_are_shuffled_by_their_seed_and_collated_with_their_lengths():
    lengths = [3, 10, 4, 11, 2, 9]
    a, b = bucket_batches(lengths, 30, seed=0), bucket_batches(lengths, 30, seed=1)
    assert sorted(i for x in a for i in x) == list(range(6))
    assert a == bucket_batches(lengths, 30, seed=0) and (a != b or len(a) == 1)
    ids, lens = collate([[4, 5, 6], [7]])
    assert ids.tolist() == [[4, 5, 6], [7, 0, 0]] and lens.tolist() == [3, 1]
