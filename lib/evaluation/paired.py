"""Comparing two systems on the same test set, and the sentence that reports it.

Two systems scored on the same examples share the examples' difficulty: an easy sentence
is easy for both. A *paired* comparison uses that: it looks at the per-example
differences, which vary far less than either score, so it can tell a real difference
from noise on a test set where two separate intervals overlap.

Which to use:

- :func:`paired_bootstrap_difference`: an interval for *how large* the difference of two
  mean scores is (any per-example score: 0/1 correct, per-question F1, fractional credit).
  This is what a page should print, and what :func:`compare_sentence` uses.
- :func:`paired_metric_difference`: the same for a metric that is not a mean
  (macro-F1...), given as functions of the example indices.
- :func:`mcnemar_test`: McNemar's exact test for 0/1 outcomes only: a p-value for "the two
  systems have the same accuracy", computed from the examples exactly one of them gets
  right (no resampling, exact with few disagreements). It answers "is there a difference"
  and says nothing of its size; report the interval beside it.

The two can disagree at the margin (a p-value just under 0.05 with an interval touching
zero); the page's sentence follows the interval.

Example
-------
>>> import numpy as np
>>> a = np.array([1] * 90 + [0] * 10)                  # 90% right
>>> b = np.array([1] * 70 + [0] * 30)                  # 70% right, on the same items
>>> print(compare_sentence("full fine-tuning", a, "LoRA", b, metric="accuracy"))
full fine-tuning is ahead of LoRA in accuracy by 20.0 points (95% paired interval 14.0 to 30.0)
>>> mcnemar_test(a, b).p_value < 1e-5
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .intervals import (
    Interval,
    _check_confidence,
    _check_method,
    format_number,
    indices_metric,
    per_example_scores,
    run_bootstrap,
)


def paired_scores(a_scores, b_scores) -> tuple[np.ndarray, np.ndarray]:
    """Both systems' per-example scores as float arrays of shape (n,), checked to pair up.

    Raises
    ------
    ValueError
        When either is empty or not finite, or their lengths differ.

    Example
    -------
    >>> paired_scores([1, 0], [0, 0])[1]
    array([0., 0.])
    """
    a = per_example_scores(a_scores, "a_scores")
    b = per_example_scores(b_scores, "b_scores")
    if a.shape != b.shape:
        raise ValueError(f"a_scores has {a.size} scores and b_scores {b.size}: a paired "
                         "comparison needs both systems scored on the same test examples, "
                         "one score each, in the same order.")
    return a, b


def _mean_difference(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def paired_bootstrap_difference(a_scores: Sequence[float], b_scores: Sequence[float],
                                confidence: float = 0.95, *, method: str = "auto",
                                n_resamples: int = 2000, seed: int | None = 0) -> Interval:
    """Paired bootstrap interval of ``mean(a_scores) - mean(b_scores)``.

    Each resample draws test examples with replacement and keeps both systems' scores of
    each drawn example together (:func:`scipy.stats.bootstrap` with ``paired=True``).

    Parameters
    ----------
    a_scores, b_scores : array-like, shape (n,)
        Per-example scores of systems A and B on the same n test examples, same order.
    confidence, method, n_resamples, seed
        As in :func:`ctxembed.evaluation.bootstrap_interval`.

    Returns
    -------
    Interval
        Of the difference A minus B, in the scores' units (fractions for 0/1 scores).
        ``interval.excludes(0)`` is the test "one of them is ahead".

    Example
    -------
    >>> a = [1, 1, 0, 1] * 50                    # 75%
    >>> b = [1, 0, 0, 1] * 50                    # 50%, wrong wherever A is
    >>> difference = paired_bootstrap_difference(a, b, seed=0)
    >>> difference.estimate, difference.excludes(0)
    (0.25, True)
    """
    a, b = paired_scores(a_scores, b_scores)
    confidence = _check_confidence(confidence)
    estimate = float(a.mean() - b.mean())
    if np.ptp(a - b) == 0:
        return Interval(estimate, estimate, estimate, confidence, "degenerate", a.size)
    low, high, used = run_bootstrap(
        (a, b), _mean_difference, paired=True, vectorized=True, confidence=confidence,
        method=_check_method(method), n_resamples=n_resamples, seed=seed)
    return Interval(estimate, low, high, confidence, used, a.size)


def paired_metric_difference(metric_a: Callable[[np.ndarray], float],
                             metric_b: Callable[[np.ndarray], float], n_examples: int,
                             confidence: float = 0.95, *, method: str = "auto",
                             n_resamples: int = 2000, seed: int | None = 0) -> Interval:
    """Paired bootstrap interval of ``metric_a - metric_b`` for metrics that are not means.

    Both metrics are computed on the same resampled examples in each resample.

    Parameters
    ----------
    metric_a, metric_b : callable, ``metric(indices: ndarray of int, shape (m,)) -> float``
        System A's and system B's metric over the given test examples, e.g.
        ``lambda idx: f1_score(gold[idx], predicted_a[idx], average="macro")``.
    n_examples : int
        Size of the shared test set.
    confidence, method, n_resamples, seed
        As in :func:`ctxembed.evaluation.bootstrap_metric_interval`.

    Returns
    -------
    Interval
        Of A minus B; ``estimate`` is the difference on all examples.

    Example
    -------
    >>> import numpy as np
    >>> from sklearn.metrics import f1_score
    >>> gold = np.array([0, 1, 2] * 30)
    >>> predicted_a = gold.copy()
    >>> predicted_b = np.where(np.arange(90) % 3 == 0, 1, gold)    # never predicts class 0
    >>> def macro_f1(predicted):
    ...     return lambda idx: f1_score(gold[idx], predicted[idx], average="macro")
    >>> difference = paired_metric_difference(macro_f1(predicted_a), macro_f1(predicted_b), 90,
    ...                                       method="percentile", n_resamples=200)
    >>> round(difference.estimate, 3), difference.excludes(0)
    (0.444, True)
    """
    if not (callable(metric_a) and callable(metric_b)):
        raise TypeError("metric_a and metric_b must be functions of the example indices, e.g. "
                        "lambda idx: f1_score(gold[idx], predicted_a[idx], average='macro').")
    n_examples = int(n_examples)
    if n_examples < 1:
        raise ValueError("n_examples must be at least 1: the metrics need test examples.")
    confidence = _check_confidence(confidence)
    score_a, score_b = indices_metric(metric_a), indices_metric(metric_b)

    def difference(indices_a, indices_b):
        return score_a(indices_a) - score_b(indices_b)

    indices = np.arange(n_examples)
    estimate = difference(indices, indices)
    if not np.isfinite(estimate):
        raise ValueError(f"the metrics on all examples differ by {estimate}: both must return "
                         "finite numbers.")
    low, high, used = run_bootstrap(
        (indices, indices), difference, paired=True, vectorized=False, confidence=confidence,
        method=_check_method(method), n_resamples=n_resamples, seed=seed)
    return Interval(float(estimate), low, high, confidence, used, n_examples)


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's exact test of two systems' 0/1 outcomes on the same examples.

    Attributes
    ----------
    only_a_correct, only_b_correct : int
        Examples exactly one system gets right (the discordant pairs the test uses).
    both_correct, neither_correct : int
        The concordant pairs (they do not enter the test).
    p_value : float
        Two-sided exact p-value: the binomial probability, with ``only_a_correct +
        only_b_correct`` trials and probability 1/2, of a split at least as uneven.
    """

    only_a_correct: int
    only_b_correct: int
    both_correct: int
    neither_correct: int
    p_value: float

    @property
    def n(self) -> int:
        """Number of examples."""
        return self.only_a_correct + self.only_b_correct + self.both_correct + self.neither_correct


def mcnemar_test(a_correct: Sequence[int], b_correct: Sequence[int]) -> McNemarResult:
    """McNemar's exact test: do systems A and B have the same accuracy on these examples?

    Only the examples exactly one system gets right count. If the accuracies were equal,
    each of those would be A's with probability 1/2, so the count of A's is binomial; the
    p-value is :func:`scipy.stats.binomtest`'s two-sided exact test of that count.

    Parameters
    ----------
    a_correct, b_correct : array-like of 0/1 or bool, shape (n,)
        Whether each system got each test example right (same examples, same order).

    Returns
    -------
    McNemarResult

    Raises
    ------
    ValueError
        For values other than 0/1 (use :func:`paired_bootstrap_difference` for graded
        scores such as F1), empty inputs or different lengths.

    Example
    -------
    >>> a = [1] * 8 + [0] * 2 + [1] * 5        # A alone right on 8, B alone on 2, both on 5
    >>> b = [0] * 8 + [1] * 2 + [1] * 5
    >>> result = mcnemar_test(a, b)
    >>> result.only_a_correct, result.only_b_correct, round(result.p_value, 4)
    (8, 2, 0.1094)
    """
    from scipy import stats

    a, b = paired_scores(a_correct, b_correct)
    for name, values in (("a_correct", a), ("b_correct", b)):
        if not np.all((values == 0) | (values == 1)):
            raise ValueError(f"{name} must hold 0/1 (wrong/right) outcomes for McNemar's test; "
                             "for graded scores (F1, partial credit) use "
                             "paired_bootstrap_difference instead.")
    a, b = a.astype(bool), b.astype(bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    discordant = only_a + only_b
    p_value = 1.0 if discordant == 0 else float(
        stats.binomtest(only_a, discordant, 0.5, alternative="two-sided").pvalue)
    return McNemarResult(only_a, only_b, int(np.sum(a & b)), int(np.sum(~a & ~b)), p_value)


def _digits_for(values: Sequence[float], digits: int) -> int:
    """At least ``digits`` decimals, more (up to 3 extra) while a non-zero bound prints 0."""
    extra = 0
    while extra < 3 and any(v != 0 and float(format_number(v, digits + extra).replace(
            "\u2212", "-")) == 0 for v in values):
        extra += 1
    return digits + extra


def difference_sentence(name_a: str, name_b: str, difference: Interval,
                        metric: str | None = None, *, scale: float = 100.0, digits: int = 1,
                        unit: str = "points") -> str:
    """The sentence a page prints about a paired difference A minus B.

    It says one system "is ahead" only when the paired interval excludes zero, and that the
    two "are indistinguishable here" otherwise, so noise never reads as a win.

    Parameters
    ----------
    name_a, name_b : str
        The systems, as the page names them.
    difference : Interval
        Of A minus B (:func:`paired_bootstrap_difference`, :func:`paired_metric_difference`).
    metric : str, optional
        Named in the sentence ("in accuracy") when given.
    scale : float
        Multiplies the difference for printing: 100 (the default) turns fractions into
        points; 1 for differences already in points.
    digits : int
        Decimals (more are used when a non-zero bound would print as 0).
    unit : str
        The word after the difference.

    Example
    -------
    >>> ahead = Interval(0.012, 0.003, 0.021, 0.95, "BCa", 872)
    >>> difference_sentence("full fine-tuning", "LoRA", ahead, "accuracy")
    'full fine-tuning is ahead of LoRA in accuracy by 1.2 points (95% paired interval 0.3 to 2.1)'
    >>> noise = Interval(0.003, -0.009, 0.015, 0.95, "BCa", 872)
    >>> print(difference_sentence("full fine-tuning", "LoRA", noise))
    ... # doctest: +NORMALIZE_WHITESPACE
    full fine-tuning and LoRA are indistinguishable here (difference 0.3 points,
    95% paired interval −0.9 to 1.5)
    >>> behind = Interval(-0.05, -0.08, -0.02, 0.95, "BCa", 872)
    >>> difference_sentence("frozen features", "LoRA", behind, "accuracy")
    'LoRA is ahead of frozen features in accuracy by 5.0 points (95% paired interval 2.0 to 8.0)'
    """
    if not isinstance(difference, Interval):
        raise TypeError("difference must be an Interval of A minus B, e.g. "
                        "paired_bootstrap_difference(a_scores, b_scores).")
    estimate, low, high = (scale * v for v in (difference.estimate, difference.low,
                                               difference.high))
    level = f"{100 * difference.confidence:g}% paired interval"
    in_metric = f" in {metric}" if metric else ""
    shown = _digits_for((low, high), digits)

    def number(value):
        return format_number(value, shown)

    if difference.excludes(0.0):
        if estimate > 0:
            leader, other, by, lo, hi = name_a, name_b, estimate, low, high
        else:
            leader, other, by, lo, hi = name_b, name_a, -estimate, -high, -low
        return (f"{leader} is ahead of {other}{in_metric} by {number(by)} {unit} "
                f"({level} {number(lo)} to {number(hi)})")
    return (f"{name_a} and {name_b} are indistinguishable here{in_metric} (difference "
            f"{number(estimate)} {unit}, {level} {number(low)} to {number(high)})")


@dataclass(frozen=True)
class PairedComparison:
    """Two systems compared on the same test set (see :func:`compare_systems`).

    Attributes
    ----------
    name_a, name_b : str
    difference : Interval
        Paired bootstrap interval of A minus B, in the scores' units.
    mean_a, mean_b : float
        Each system's mean score.
    metric : str or None
    mcnemar : McNemarResult or None
        When both systems' scores are 0/1.
    """

    name_a: str
    name_b: str
    difference: Interval
    mean_a: float
    mean_b: float
    metric: str | None = None
    mcnemar: McNemarResult | None = None

    @property
    def leader(self) -> str | None:
        """The system that is ahead (its interval excludes zero), or None."""
        if not self.difference.excludes(0.0):
            return None
        return self.name_a if self.difference.estimate > 0 else self.name_b

    def sentence(self, *, scale: float = 100.0, digits: int = 1, unit: str = "points") -> str:
        """:func:`difference_sentence` for this comparison."""
        return difference_sentence(self.name_a, self.name_b, self.difference, self.metric,
                                   scale=scale, digits=digits, unit=unit)


def compare_systems(name_a: str, a_scores: Sequence[float], name_b: str,
                    b_scores: Sequence[float], metric: str | None = None, *,
                    confidence: float = 0.95, method: str = "auto", n_resamples: int = 2000,
                    seed: int | None = 0) -> PairedComparison:
    """Compare two systems' per-example scores on the same test set.

    Parameters
    ----------
    name_a, a_scores, name_b, b_scores
        Each system's name and per-example scores, shape (n,), same examples, same order.
    metric : str, optional
        What the scores measure ("accuracy"), for the sentence.
    confidence, method, n_resamples, seed
        As in :func:`paired_bootstrap_difference`.

    Returns
    -------
    PairedComparison
        With McNemar's test as well when every score is 0 or 1.

    Example
    -------
    >>> comparison = compare_systems("A", [1, 0] * 50, "B", [1, 0] * 50)
    >>> comparison.leader is None, comparison.mcnemar.p_value
    (True, 1.0)
    """
    a, b = paired_scores(a_scores, b_scores)
    difference = paired_bootstrap_difference(a, b, confidence, method=method,
                                             n_resamples=n_resamples, seed=seed)
    binary = all(np.all((v == 0) | (v == 1)) for v in (a, b))
    return PairedComparison(name_a, name_b, difference, float(a.mean()), float(b.mean()),
                            metric, mcnemar_test(a, b) if binary else None)


def compare_sentence(name_a: str, a_scores: Sequence[float], name_b: str,
                     b_scores: Sequence[float], metric: str | None = None, *,
                     scale: float = 100.0, digits: int = 1, confidence: float = 0.95,
                     method: str = "auto", n_resamples: int = 2000, seed: int | None = 0) -> str:
    """One sentence comparing two systems on the same test set, honest about noise.

    "A is ahead of B ... by x points (95% paired interval l to h)" when the paired bootstrap
    interval of the difference excludes zero; "A and B are indistinguishable here
    (difference x points, 95% paired interval l to h)" otherwise.

    Parameters
    ----------
    name_a, a_scores, name_b, b_scores
        Each system's name and per-example scores, shape (n,), same examples, same order.
        With the default ``scale=100`` the scores must be fractions in [0, 1].
    metric : str, optional
        Named in the sentence.
    scale : float
        100 prints fractions as points; pass 1 for per-example scores already in points.
    digits, confidence, method, n_resamples, seed
        See :func:`difference_sentence` and :func:`paired_bootstrap_difference`.

    Example
    -------
    >>> a = [1, 1, 0, 0] * 50
    >>> b = [1, 0, 1, 0] * 50               # same accuracy, different mistakes
    >>> print(compare_sentence("full fine-tuning", a, "LoRA", b, metric="accuracy"))
    ... # doctest: +NORMALIZE_WHITESPACE
    full fine-tuning and LoRA are indistinguishable here in accuracy (difference 0.0 points,
    95% paired interval −10.2 to 9.5)
    """
    a, b = paired_scores(a_scores, b_scores)
    if scale == 100 and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) > 1):
        raise ValueError("with scale=100 the per-example scores must be fractions in [0, 1] "
                         "(1 = right); pass scale=1 for scores already in points.")
    comparison = compare_systems(name_a, a, name_b, b, metric, confidence=confidence,
                                 method=method, n_resamples=n_resamples, seed=seed)
    return comparison.sentence(scale=scale, digits=digits)
