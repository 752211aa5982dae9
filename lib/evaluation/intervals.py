"""Confidence intervals for one system's score on a test set.

A test set is a sample: the same system on another sample of the same size would score a
little differently. These functions say how differently, so that a page can print
"81.4 (95% CI 78.9–83.8)" instead of a bare 81.4.

- :func:`bootstrap_interval`: the mean of per-example scores (0/1 correct, per-question F1,
  fractional credit), by the bootstrap over test examples (:func:`scipy.stats.bootstrap`).
- :func:`bootstrap_metric_interval`: any metric that is not a mean of per-example scores
  (macro-F1, a per-class recall...), given as a function of the indices of the examples.
- :func:`binomial_interval` and :func:`binomial_standard_error`: when only an accuracy and
  the number of items are known (no per-example scores), the Wilson interval and the
  standard error of a proportion.
- :func:`format_interval`: the interval as the course prints it.

Example
-------
>>> import numpy as np
>>> correct = np.array([1] * 80 + [0] * 20)            # 80 of 100 right
>>> interval = bootstrap_interval(correct, seed=0)
>>> interval.estimate
0.8
>>> bool(interval.low < 0.8 < interval.high)
True
>>> format_interval(binomial_interval(0.8, 100))
'80.0 (95% CI 71.1–86.7)'
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

MINUS = "\u2212"   # the typographic minus sign the course prints
BOOTSTRAP_METHODS = ("auto", "BCa", "percentile", "basic")
#: ``method="auto"`` uses BCa up to this many examples and the percentile interval above:
#: BCa's jackknife costs one more evaluation of the statistic per example (quadratic time
#: for a mean), while on large test sets the two intervals agree closely.
AUTO_BCA_MAX_EXAMPLES = 2000
# Cells held in memory at once by one bootstrap batch (resamples x examples): ~16 MB of floats.
_BATCH_CELLS = 2_000_000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval.

    Values are in the units of the scores they came from (fractions for 0/1 scores);
    :func:`format_interval` scales them for printing.

    Attributes
    ----------
    estimate : float
        The statistic on the whole test set (e.g. the accuracy, or a difference of two).
    low, high : float
        The interval's bounds, ``low <= high``.
    confidence : float
        Its confidence level, e.g. 0.95.
    method : str
        How it was computed: ``"BCa"``, ``"percentile"``, ``"basic"`` (bootstrap),
        ``"wilson"``, ``"t"`` (over seeds), or ``"degenerate"`` (every example scored the
        same, so every resample does too: the interval is the estimate itself).
    n : int
        The number of test examples (or seeds) it rests on.

    Example
    -------
    >>> interval = Interval(0.5, 0.4, 0.6, 0.95, "wilson", 100)
    >>> interval.excludes(0.0), interval.excludes(0.45)
    (True, False)
    >>> interval.width
    0.2
    """

    estimate: float
    low: float
    high: float
    confidence: float
    method: str
    n: int

    def excludes(self, value: float = 0.0) -> bool:
        """True when ``value`` lies outside ``[low, high]`` (e.g. zero for a difference)."""
        return bool(value < self.low or value > self.high)

    @property
    def width(self) -> float:
        """``high - low``, rounded to 12 decimals (so 0.6 - 0.4 reads 0.2)."""
        return round(self.high - self.low, 12)


def _check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}.")
    return confidence


def per_example_scores(scores, name: str = "scores") -> np.ndarray:
    """``scores`` as a float array of shape (n,), checked: non-empty, one-dimensional, finite.

    Raises
    ------
    ValueError
        Saying what to pass instead.

    Example
    -------
    >>> per_example_scores([1, 0, True])
    array([1., 0., 1.])
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"{name} must be one score per test example, shape (n,); got shape "
                         f"{values.shape}. Flatten it, or score each example separately.")
    if values.size == 0:
        raise ValueError(f"{name} is empty: pass one score per test example (e.g. 1.0 for a "
                         "right answer, 0.0 for a wrong one).")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values: score every example "
                         "(0 for a missing prediction) before computing an interval.")
    return values


def _bootstrap_kwargs(seed: int | None, n_resamples: int, n_examples: int) -> dict:
    """Keyword arguments for scipy.stats.bootstrap: the seeded generator under the name this
    scipy uses (``rng`` since 1.15, ``random_state`` before), and a batch size that keeps
    BCa's jackknife (n x n otherwise) within memory."""
    from scipy import stats

    name = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"
    batch = max(1, min(n_resamples, _BATCH_CELLS // max(n_examples, 1)))
    return {name: np.random.default_rng(seed), "n_resamples": int(n_resamples), "batch": batch}


def _check_method(method: str) -> str:
    if method not in BOOTSTRAP_METHODS:
        raise ValueError(f"method must be one of {', '.join(BOOTSTRAP_METHODS)}; got {method!r}.")
    return method


def resolve_method(method: str, n_examples: int) -> str:
    """The scipy method ``method`` stands for on ``n_examples`` examples (see
    :data:`AUTO_BCA_MAX_EXAMPLES`).

    Example
    -------
    >>> resolve_method("auto", 254), resolve_method("auto", 20000), resolve_method("BCa", 20000)
    ('BCa', 'percentile', 'BCa')
    """
    if _check_method(method) != "auto":
        return method
    return "BCa" if n_examples <= AUTO_BCA_MAX_EXAMPLES else "percentile"


def run_bootstrap(data: tuple, statistic, *, paired: bool, vectorized: bool, confidence: float,
                  method: str, n_resamples: int, seed: int | None) -> tuple[float, float, str]:
    """scipy.stats.bootstrap with the course's defaults; returns ``(low, high, method)``.

    When BCa is undefined (a degenerate bootstrap distribution), the percentile interval of
    the same resamples is returned and the method says so.
    """
    from scipy import stats

    n_examples = len(data[0])
    method = resolve_method(method, n_examples)
    kwargs = _bootstrap_kwargs(seed, n_resamples, n_examples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(data, statistic, paired=paired, vectorized=vectorized,
                                 confidence_level=confidence, method=method, **kwargs)
        low, high = result.confidence_interval
        if method == "BCa" and not (np.isfinite(low) and np.isfinite(high)):
            kwargs["n_resamples"] = 0
            result = stats.bootstrap(data, statistic, paired=paired, vectorized=vectorized,
                                     confidence_level=confidence, method="percentile",
                                     bootstrap_result=result, **kwargs)
            low, high = result.confidence_interval
            method = "percentile (BCa undefined here)"
    return float(low), float(high), method


def bootstrap_interval(scores: Sequence[float], confidence: float = 0.95, *,
                       method: str = "auto", n_resamples: int = 2000,
                       seed: int | None = 0) -> Interval:
    """Bootstrap confidence interval of the mean of per-example scores.

    The test examples are resampled with replacement (:func:`scipy.stats.bootstrap`); the
    interval says how much the score would move on another test set of the same size.

    Parameters
    ----------
    scores : array-like, shape (n,)
        One score per test example: 1/0 for right/wrong (the mean is the accuracy), a
        per-question F1 in [0, 1], a fractional credit...
    confidence : float
        Confidence level, 0.95 by default.
    method : {"auto", "BCa", "percentile", "basic"}
        scipy's interval method. BCa corrects for bias and skew; percentile is the plain
        quantiles of the resampled means. ``"auto"`` (the default) is BCa up to
        :data:`AUTO_BCA_MAX_EXAMPLES` examples, percentile above (BCa's cost grows with
        the square of the test set's size). ``Interval.method`` says which was used.
    n_resamples : int
        Number of bootstrap resamples.
    seed : int or None
        Seed of the resampling (the same seed gives the same interval).

    Returns
    -------
    Interval
        ``estimate`` is the mean score; ``low``/``high`` in the same units.

    Raises
    ------
    ValueError
        For empty, non-finite or multi-dimensional scores.

    Example
    -------
    >>> interval = bootstrap_interval([1, 1, 1, 0] * 25, seed=0)    # 75% of 100
    >>> interval.estimate, interval.method, interval.n
    (0.75, 'BCa', 100)
    >>> bool(0.6 < interval.low < 0.75 < interval.high < 0.9)
    True
    """
    values = per_example_scores(scores)
    confidence = _check_confidence(confidence)
    estimate = float(values.mean())
    if np.ptp(values) == 0:
        return Interval(estimate, estimate, estimate, confidence, "degenerate", values.size)
    low, high, used = run_bootstrap(
        (values,), np.mean, paired=False, vectorized=True, confidence=confidence,
        method=_check_method(method), n_resamples=n_resamples, seed=seed)
    return Interval(estimate, low, high, confidence, used, values.size)


def indices_metric(metric: Callable[[np.ndarray], float]):
    """Wrap ``metric(indices) -> float`` for scipy, which may hand indices over as floats."""
    def statistic(indices):
        return float(metric(np.asarray(indices).astype(np.intp)))
    return statistic


def bootstrap_metric_interval(metric: Callable[[np.ndarray], float], n_examples: int,
                              confidence: float = 0.95, *, method: str = "auto",
                              n_resamples: int = 2000, seed: int | None = 0) -> Interval:
    """Bootstrap confidence interval of a metric that is not a mean of per-example scores.

    ``metric`` receives an array of example indices (a resample of ``0..n_examples-1``,
    with repeats) and returns the metric over those examples, e.g. macro-F1 of
    ``gold[indices]`` against ``predicted[indices]``. The estimate is the metric on all
    examples.

    Parameters
    ----------
    metric : callable, ``metric(indices: ndarray of int, shape (m,)) -> float``
        The metric over the given examples (called once per resample; BCa also calls it
        once per left-out example).
    n_examples : int
        Size of the test set.
    confidence, method, n_resamples, seed
        As in :func:`bootstrap_interval`. BCa calls the metric once more per example;
        with a slow metric, ``method="percentile"`` saves those calls.

    Notes
    -----
    Resample the independent unit. Tokens of one sentence are not independent draws:
    for a per-token accuracy, let the indices be *sentences* and compute the metric over
    their tokens (``correct_per_sentence[idx].sum() / tokens_per_sentence[idx].sum()``),
    otherwise the interval is too narrow.

    Returns
    -------
    Interval
        ``estimate`` is ``metric(arange(n_examples))``.

    Example
    -------
    >>> import numpy as np
    >>> from sklearn.metrics import f1_score
    >>> gold = np.array([0, 1, 2] * 20)
    >>> predicted = np.where(np.arange(60) % 5 == 0, 0, gold)   # some mistakes
    >>> def macro_f1(indices):
    ...     return f1_score(gold[indices], predicted[indices], average="macro")
    >>> interval = bootstrap_metric_interval(macro_f1, len(gold), method="percentile",
    ...                                      n_resamples=200, seed=0)
    >>> round(interval.estimate, 3)
    0.87
    >>> bool(interval.low < interval.estimate < interval.high)
    True
    """
    if not callable(metric):
        raise TypeError("metric must be a function of the example indices, e.g. "
                        "lambda idx: f1_score(gold[idx], predicted[idx], average='macro').")
    n_examples = int(n_examples)
    if n_examples < 1:
        raise ValueError("n_examples must be at least 1: the metric needs test examples.")
    confidence = _check_confidence(confidence)
    statistic = indices_metric(metric)
    indices = np.arange(n_examples)
    estimate = statistic(indices)
    if not math.isfinite(estimate):
        raise ValueError(f"metric(all indices) returned {estimate}: it must return a finite "
                         "number.")
    low, high, used = run_bootstrap(
        (indices,), statistic, paired=False, vectorized=False, confidence=confidence,
        method=_check_method(method), n_resamples=n_resamples, seed=seed)
    return Interval(estimate, low, high, confidence, used, n_examples)


def binomial_standard_error(accuracy: float, n_examples: int) -> float:
    """Standard error of an accuracy measured on ``n_examples`` items: sqrt(p (1 - p) / n).

    An accuracy ``p`` on ``n`` independent items varies from test set to test set with this
    standard deviation; about two of them either side make a 95% interval.

    Parameters
    ----------
    accuracy : float
        In [0, 1] (a fraction, not a percentage).
    n_examples : int
        Number of test items.

    Example
    -------
    >>> round(binomial_standard_error(0.6, 254), 4)      # 3.1 points on 254 items
    0.0307
    """
    p = float(accuracy)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy} "
                         "(divide a percentage by 100).")
    if int(n_examples) < 1:
        raise ValueError("n_examples must be at least 1.")
    return math.sqrt(p * (1.0 - p) / int(n_examples))


def binomial_interval(accuracy: float, n_examples: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval of an accuracy known only as a number and a test-set size.

    Use it when there are no per-example scores to bootstrap (e.g. a function returned the
    accuracy alone). For an accuracy that is a whole number of right answers over
    ``n_examples`` it equals ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``;
    fractional credits (e.g. ``1/len(tied)`` for a tie) are handled by the same formula.

    Parameters
    ----------
    accuracy : float
        In [0, 1].
    n_examples : int
        Number of test items.
    confidence : float
        Confidence level, 0.95 by default.

    Returns
    -------
    Interval
        ``method == "wilson"``.

    Example
    -------
    >>> interval = binomial_interval(0.6, 254)
    >>> round(interval.low, 3), round(interval.high, 3)
    (0.539, 0.658)
    """
    from scipy import stats

    p = float(accuracy)
    binomial_standard_error(p, n_examples)          # validates both arguments
    n = int(n_examples)
    confidence = _check_confidence(confidence)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), confidence, "wilson", n)


def format_number(value: float, digits: int = 1) -> str:
    """``value`` with ``digits`` decimals and a typographic minus sign ("−0.9").

    Example
    -------
    >>> format_number(-0.94), format_number(2.0), format_number(-0.01)
    ('−0.9', '2.0', '0.0')
    """
    text = f"{float(value):.{digits}f}"
    if text.startswith("-"):
        text = text[1:] if float(text[1:]) == 0 else MINUS + text[1:]
    return text


def format_interval(interval: Interval, *, scale: float = 100.0, digits: int = 1) -> str:
    """An interval as the course prints it: ``"81.4 (95% CI 78.9–83.8)"``.

    Parameters
    ----------
    interval : Interval
    scale : float
        Multiplies every value: 100 (the default) prints fractions as percentages/points;
        pass 1 for values already in points.
    digits : int
        Decimals.

    Example
    -------
    >>> format_interval(Interval(0.8142, 0.7891, 0.8383, 0.95, "BCa", 500))
    '81.4 (95% CI 78.9–83.8)'
    >>> format_interval(Interval(-0.2, -1.1, 0.7, 0.9, "BCa", 500), scale=1)
    '−0.2 (90% CI −1.1 to 0.7)'
    """
    estimate, low, high = (scale * v for v in (interval.estimate, interval.low, interval.high))
    level = f"{100 * interval.confidence:g}%"
    separator = " to " if low < 0 or high < 0 else "\u2013"
    return (f"{format_number(estimate, digits)} ({level} CI {format_number(low, digits)}"
            f"{separator}{format_number(high, digits)})")
