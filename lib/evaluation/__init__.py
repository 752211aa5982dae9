"""Statistics for reporting and comparing systems honestly (chapters 3 to 5).

A score on a test set is a measurement with an error bar; a difference between two
systems is only a finding when it is larger than that error. This package gives every
figure the course prints its interval, and the sentences that report them:

========================================  ===================================================
:func:`bootstrap_interval`                interval of a mean per-example score (accuracy,
                                          per-question F1) by the bootstrap over examples
:func:`bootstrap_metric_interval`         the same for a metric that is not a mean
                                          (macro-F1), given as a function of example indices
:func:`binomial_interval`,                an accuracy known only as a number and a test-set
:func:`binomial_standard_error`           size: Wilson interval, standard error
:func:`paired_bootstrap_difference`,      two systems on the same test set: interval of the
:func:`paired_metric_difference`          difference, resampling examples for both at once
:func:`mcnemar_test`                      exact test for two systems' 0/1 outcomes
:func:`compare_systems`,                  "A is ahead of B by ..." only when the paired
:func:`compare_sentence`,                 interval excludes zero, else "A and B are
:func:`difference_sentence`               indistinguishable here"
:func:`tie_groups`                        several systems in order, neighbours the paired
                                          test cannot tell apart grouped as ties
:class:`SeedRuns`,                        several training seeds: every seed's value, the
:func:`format_seed_mean`                  mean ± std, a t-interval
:func:`format_interval`                   "81.4 (95% CI 78.9–83.8)"
:func:`split_dev_test`,                   choose on dev, report on test: a seeded, optionally
:func:`select_on_dev`,                   stratified and grouped split; a selection that
:func:`select_then_seeds`                 sees dev only; then every seed at the choice
:func:`expected_calibration_error`        is a confidence a probability? the mean gap between
                                          confidence and accuracy over confidence bins
========================================  ===================================================

Paired bootstrap or McNemar? Both compare two systems on the same examples. The paired
bootstrap gives an interval for the size of the difference, for any per-example score;
McNemar's exact test gives a p-value for "no difference", for 0/1 outcomes only, exact
even when the systems disagree on few examples. Pages print the interval (it says how
large); McNemar's p-value may go beside it.

Everything here depends on numpy and scipy only (no model, no course data), and every
random step takes a seed.

Example
-------
>>> import numpy as np
>>> from ctxembed.evaluation import bootstrap_interval, format_interval
>>> correct = np.array([1] * 207 + [0] * 47)                 # 207 of 254 items right
>>> print(format_interval(bootstrap_interval(correct, seed=0)))
81.5 (95% CI 76.4–85.8)
"""

from .calibration import expected_calibration_error
from .intervals import (
    Interval,
    binomial_interval,
    binomial_standard_error,
    bootstrap_interval,
    bootstrap_metric_interval,
    format_interval,
    format_number,
)
from .ordering import tie_groups
from .paired import (
    McNemarResult,
    PairedComparison,
    compare_sentence,
    compare_systems,
    difference_sentence,
    mcnemar_test,
    paired_bootstrap_difference,
    paired_metric_difference,
)
from .seeds import SeedRuns, format_seed_mean
from .selection import (
    DevSelection,
    DevTestSplit,
    SeededSelection,
    select_on_dev,
    select_then_seeds,
    split_dev_test,
)

__all__ = [
    "DevSelection", "DevTestSplit", "Interval", "McNemarResult", "PairedComparison", "SeedRuns",
    "SeededSelection",
    "binomial_interval", "binomial_standard_error", "bootstrap_interval",
    "bootstrap_metric_interval", "compare_sentence", "compare_systems", "difference_sentence",
    "expected_calibration_error",
    "format_interval", "format_number", "format_seed_mean", "mcnemar_test",
    "paired_bootstrap_difference", "paired_metric_difference", "select_on_dev",
    "select_then_seeds", "split_dev_test", "tie_groups",
]
