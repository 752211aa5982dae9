"""Putting several systems in order without claiming more order than the data shows.

Sort them by their point estimate, then compare each with its neighbour on the same examples
(a paired test): where the test cannot tell the two apart, they stay in one group, a tie. The
pages' ordering sentences ("A, ahead of B and C, which this data cannot order"; "WordPiece 1.21
< BPE 1.25 ≈ Unigram 1.26") are both made from :func:`tie_groups`.

Example
-------
>>> scores = {"A": 2.0, "B": 0.6, "C": 0.5}
>>> tie_groups(sorted(scores, key=scores.get, reverse=True),
...            separated=lambda above, below: scores[above] - scores[below] > 0.5)
[['A'], ['B', 'C']]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence


def tie_groups(order: Sequence[str], separated: Callable[[str, str], bool]) -> list[list[str]]:
    """``order`` cut into groups of neighbours the data cannot order.

    ``order`` runs from the first place to the last by point estimate; ``separated(a, b)`` is
    True when the paired comparison of neighbours ``a`` (placed before) and ``b`` tells them
    apart (its interval excludes zero). A name joins the group before it otherwise.
    """
    if not order:
        raise ValueError("tie_groups needs at least one name to order.")
    groups = [[order[0]]]
    for before, name in itertools.pairwise(order):
        if separated(before, name):
            groups.append([name])
        else:
            groups[-1].append(name)
    return groups
