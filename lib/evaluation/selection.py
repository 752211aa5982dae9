"""Choose on dev, report on test: a reproducible split and a selection that never sees test.

Picking the best layer, threshold or learning rate by its *test* score and then reporting
that test score overstates it: among many candidates, one is lucky on this test set. The
discipline is to split the labelled examples once, choose on the dev side, and score the
choice once on the test side.

- :func:`split_dev_test`: a seeded dev/test split; optionally stratified by label, and
  grouped so that all examples sharing a group (the same word, the same sentence) land on
  the same side.
- :func:`select_on_dev`: scores each candidate on dev only and returns the choice with
  every dev score; it has no test argument.

Example
-------
>>> examples = [("bank", i) for i in range(6)] + [("bark", i) for i in range(4)]
>>> split = split_dev_test(examples, seed=0, groups=[word for word, _ in examples])
>>> {word for word, _ in split.dev}.isdisjoint({word for word, _ in split.test})
True
>>> selection = select_on_dev([1, 2, 3], lambda k, dev: -abs(k - 2), split)
>>> selection.choice, selection.n_dev
(2, 6)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def _codes(keys: Sequence[Hashable], n: int, name: str) -> np.ndarray:
    """Integer codes of ``keys`` in order of first appearance, shape (n,)."""
    keys = list(keys)
    if len(keys) != n:
        raise ValueError(f"{name} has {len(keys)} entries for {n} examples: give one per "
                         "example, in the same order.")
    seen: dict = {}
    return np.array([seen.setdefault(k, len(seen)) for k in keys], dtype=np.intp)


@dataclass(frozen=True)
class DevTestSplit:
    """A dev/test split of a list of examples (see :func:`split_dev_test`).

    Attributes
    ----------
    dev_indices, test_indices : ndarray of int, sorted
        Positions of the dev and test examples in the list that was split; disjoint, and
        together every position.
    dev, test : tuple
        The examples themselves, in their original order.
    seed : int
    """

    dev_indices: np.ndarray
    test_indices: np.ndarray
    dev: tuple
    test: tuple
    seed: int

    def __repr__(self) -> str:
        return (f"DevTestSplit({len(self.dev)} dev, {len(self.test)} test examples, "
                f"seed={self.seed})")


def split_dev_test(examples: Sequence[Any], dev_fraction: float = 0.5, *, seed: int = 0,
                   labels: Sequence[Hashable] | None = None,
                   groups: Sequence[Hashable] | None = None) -> DevTestSplit:
    """Split examples reproducibly into a dev side (for choosing) and a test side (to report).

    Groups (each example alone, unless ``groups`` is given) are visited in a seeded random
    order; each goes to dev when that brings dev's count of every label closer to
    ``dev_fraction`` of that label's total, else to test. So without labels dev gets about
    ``dev_fraction`` of the examples; with labels, about that fraction of each label
    (exactly, up to rounding, when there are no groups); with groups, no group is cut.

    Parameters
    ----------
    examples : sequence, length n
        Anything: sentences, dataclasses, indices.
    dev_fraction : float
        Share of examples on the dev side, between 0 and 1.
    seed : int
        The same seed and the same examples give the same split.
    labels : sequence of hashables, length n, optional
        Stratify: keep each label's share about equal on both sides.
    groups : sequence of hashables, length n, optional
        Examples with equal groups (e.g. the same word, or the same sentence) always land
        on the same side.

    Returns
    -------
    DevTestSplit

    Raises
    ------
    ValueError
        For a fraction outside (0, 1), labels/groups of the wrong length, or when one side
        would be empty (too few examples or groups for this fraction).

    Example
    -------
    >>> split = split_dev_test(list(range(10)), dev_fraction=0.3, seed=1)
    >>> len(split.dev), len(split.test)
    (3, 7)
    >>> set(split.dev) & set(split.test)
    set()
    >>> split_dev_test(list(range(10)), 0.3, seed=1).dev == split.dev    # reproducible
    True
    """
    examples = list(examples)
    n = len(examples)
    if not 0.0 < float(dev_fraction) < 1.0:
        raise ValueError(f"dev_fraction must be between 0 and 1 (e.g. 0.5), got {dev_fraction}.")
    if n < 2:
        raise ValueError(f"cannot split {n} example(s) into dev and test: need at least two.")
    group_of = np.arange(n) if groups is None else _codes(groups, n, "groups")
    label_of = np.zeros(n, dtype=np.intp) if labels is None else _codes(labels, n, "labels")
    n_groups, n_labels = int(group_of.max()) + 1, int(label_of.max()) + 1
    counts = np.zeros((n_groups, n_labels), dtype=np.float64)   # examples per group and label
    np.add.at(counts, (group_of, label_of), 1.0)
    target = float(dev_fraction) * counts.sum(axis=0)
    dev_counts = np.zeros(n_labels)
    in_dev = np.zeros(n_groups, dtype=bool)
    for g in np.random.default_rng(seed).permutation(n_groups):
        c = counts[g]
        # moving group g to dev lowers sum((dev_counts - target)^2) iff this is negative
        if float(c @ (2 * (dev_counts - target) + c)) < 0:
            dev_counts += c
            in_dev[g] = True
    dev_mask = in_dev[group_of]
    if dev_mask.all() or not dev_mask.any():
        side = "dev" if not dev_mask.any() else "test"
        raise ValueError(f"the {side} side would be empty ({n} examples in {n_groups} groups, "
                         f"dev_fraction={dev_fraction}): use more examples or groups, or a "
                         "dev_fraction nearer 0.5.")
    dev_indices, test_indices = np.flatnonzero(dev_mask), np.flatnonzero(~dev_mask)
    return DevTestSplit(dev_indices, test_indices, tuple(examples[i] for i in dev_indices),
                        tuple(examples[i] for i in test_indices), int(seed))


@dataclass(frozen=True)
class DevSelection:
    """The candidate chosen on dev, with every candidate's dev score.

    Attributes
    ----------
    choice : object
        The chosen candidate.
    dev_score : float
        Its dev score.
    dev_scores : tuple of (candidate, float)
        Every candidate's dev score, in the order given.
    higher_is_better : bool
    n_dev : int or None
        Number of dev examples scored on (None when the scorer holds its own dev data).
    """

    choice: Any
    dev_score: float
    dev_scores: tuple
    higher_is_better: bool
    n_dev: int | None

    def table(self):
        """The dev scores as a pandas DataFrame: ``candidate``, ``dev score``, ``chosen``."""
        import pandas as pd

        return pd.DataFrame({"candidate": [c for c, _ in self.dev_scores],
                             "dev score": [s for _, s in self.dev_scores],
                             "chosen": [i == self._choice_position()
                                        for i in range(len(self.dev_scores))]})

    def _choice_position(self) -> int:
        sign = 1.0 if self.higher_is_better else -1.0
        scores = [sign * s for _, s in self.dev_scores]
        return scores.index(max(scores))


def select_on_dev(candidates: Sequence[Any], dev_score_fn: Callable[..., float],
                  dev: DevTestSplit | Sequence[Any] | None = None, *,
                  higher_is_better: bool = True) -> DevSelection:
    """Choose a hyper-parameter, layer or threshold by its score on dev examples only.

    There is no test argument: report the choice's test score afterwards, once.

    Parameters
    ----------
    candidates : sequence
        The options to choose from (layers, thresholds, dicts of hyper-parameters...).
    dev_score_fn : callable
        ``dev_score_fn(candidate, dev_examples) -> float`` when ``dev`` is given, else
        ``dev_score_fn(candidate) -> float`` (a scorer that already holds the dev data).
    dev : DevTestSplit or sequence, optional
        A split (only its ``dev`` side is ever passed on) or the dev examples themselves.
    higher_is_better : bool
        False for losses and error rates.

    Returns
    -------
    DevSelection
        The best candidate (the first of equals, in the order given) and every dev score.

    Raises
    ------
    ValueError
        No candidates, or a scorer that returns NaN or a non-number.

    Example
    -------
    >>> dev_examples = [0.2, 0.4, 0.6, 0.8]            # e.g. similarities of dev pairs
    >>> def error_rate(threshold, dev):
    ...     return sum((x > threshold) != (x > 0.5) for x in dev) / len(dev)
    >>> selection = select_on_dev([0.3, 0.5, 0.7], error_rate, dev_examples,
    ...                           higher_is_better=False)
    >>> selection.choice, selection.dev_score
    (0.5, 0.0)
    >>> selection.dev_scores
    ((0.3, 0.25), (0.5, 0.0), (0.7, 0.25))
    """
    candidates = list(candidates)
    if not candidates:
        raise ValueError("select_on_dev needs at least one candidate to choose from.")
    if isinstance(dev, DevTestSplit):
        dev = dev.dev
    dev_examples = None if dev is None else tuple(dev)
    if dev_examples is not None and not dev_examples:
        raise ValueError("the dev side is empty: split off some dev examples first "
                         "(split_dev_test).")
    scores = []
    for candidate in candidates:
        raw = dev_score_fn(candidate) if dev_examples is None else dev_score_fn(candidate,
                                                                                 dev_examples)
        try:
            score = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"dev_score_fn returned {raw!r} for {candidate!r}: it must return "
                             "one number per candidate.") from None
        if math.isnan(score):
            raise ValueError(f"dev_score_fn returned NaN for {candidate!r}: fix the scorer (or "
                             "drop that candidate) so that every candidate has a dev score.")
        scores.append((candidate, score))
    sign = 1.0 if higher_is_better else -1.0
    best = max(range(len(scores)), key=lambda i: (sign * scores[i][1], -i))
    return DevSelection(scores[best][0], scores[best][1], tuple(scores), bool(higher_is_better),
                        None if dev_examples is None else len(dev_examples))


@dataclass(frozen=True)
class SeededSelection:
    """A candidate chosen on dev with the first seed, then run with every seed.

    Attributes
    ----------
    selection : DevSelection
        The choice and every candidate's dev score (first seed's runs).
    runs : dict
        ``{seed: run result}`` at the chosen candidate, the first seed's run being the one
        the selection scored (it is not repeated).
    """

    selection: DevSelection
    runs: dict


def select_then_seeds(candidates: Sequence[Any], seeds: Sequence[int],
                      run: Callable[[Any, int], Any], dev_score: Callable[[Any], float], *,
                      higher_is_better: bool = True) -> SeededSelection:
    """Choose among ``candidates`` on dev with the first seed, then train the other seeds at
    the choice: the grid -> dev -> seeds discipline of every trained figure the course reports.

    ``run(candidate, seed)`` trains (or fits) once and returns its result; ``dev_score(result)``
    reads that result's dev score. Test scores play no part in the choice. The runs of the
    candidates not chosen are dropped as soon as the choice is made (they may hold models).

    Example
    -------
    >>> dev = {1e-3: 0.80, 1e-2: 0.85}
    >>> chosen = select_then_seeds([1e-3, 1e-2], [0, 1], lambda lr, seed: (lr, seed, dev[lr]),
    ...                            lambda result: result[2])
    >>> chosen.selection.choice, sorted(chosen.runs.values())
    (0.01, [(0.01, 0, 0.85), (0.01, 1, 0.85)])
    """
    candidates, seeds = list(candidates), [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"give distinct seeds, e.g. 0 1 2 (got {seeds})")
    first = [run(candidate, seeds[0]) for candidate in candidates]
    selection = select_on_dev(range(len(candidates)), lambda i: dev_score(first[i]),
                              higher_is_better=higher_is_better)
    chosen = selection.choice
    runs = {seeds[0]: first[chosen]}
    first.clear()
    for seed in seeds[1:]:
        runs[seed] = run(candidates[chosen], seed)
    named = DevSelection(candidates[chosen], selection.dev_score,
                         tuple((candidates[i], v) for i, v in selection.dev_scores),
                         selection.higher_is_better, None)
    return SeededSelection(named, runs)
