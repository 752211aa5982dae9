"""A result over several seeds: the mean, its spread, and every seed's value.

Training the same model with another seed (initialisation, data order, dropout) gives a
different score; a single run's figure mixes the method with its luck. The course reports
the mean over seeds with the standard deviation, and a t-interval for the mean.

Example
-------
>>> runs = SeedRuns({0: 87.1, 1: 88.0, 2: 87.7}, metric="accuracy")
>>> runs.format()
'87.6 ± 0.5 over 3 seeds'
>>> round(runs.mean, 2), round(runs.std, 3)
(87.6, 0.458)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .intervals import Interval, _check_confidence, format_number


@dataclass(frozen=True)
class SeedRuns:
    """Every seed's value of one metric for one system, and their summary.

    Parameters
    ----------
    values : mapping seed -> float, or a sequence of floats (seeds 0, 1, 2, ...)
        One value per seed, all in the same units (e.g. accuracy in %).
    metric : str, optional
        What the values measure.

    Attributes
    ----------
    values : dict[int, float]
        Every seed's value, kept (never only the mean).
    mean : float
        Mean over seeds.
    std : float
        Sample standard deviation over seeds (``ddof=1``, numpy's ``np.std(v, ddof=1)``);
        NaN for a single seed.

    Example
    -------
    >>> runs = SeedRuns([0.81, 0.83, 0.82])
    >>> runs.seeds, runs.n_seeds
    ((0, 1, 2), 3)
    >>> runs.interval().method
    't'
    """

    values: Mapping[int, float]
    metric: str | None = None
    _array: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        raw = self.values
        if isinstance(raw, Mapping):
            values = {int(seed): float(v) for seed, v in raw.items()}
        elif isinstance(raw, (str, bytes)) or not isinstance(raw, (Sequence, np.ndarray)):
            raise TypeError("values must map each seed to its value, e.g. {0: 87.1, 1: 88.0}, "
                            "or list the values of seeds 0, 1, 2, ...")
        else:
            values = {seed: float(v) for seed, v in enumerate(np.asarray(raw).ravel())}
        if not values:
            raise ValueError("SeedRuns needs at least one seed's value.")
        bad = {s: v for s, v in values.items() if not math.isfinite(v)}
        if bad:
            raise ValueError(f"seed values must be finite numbers; got {bad}: rerun or drop "
                             "those seeds.")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "_array", np.array(list(values.values()), dtype=np.float64))

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds, in the order given."""
        return tuple(self.values)

    @property
    def n_seeds(self) -> int:
        """Number of seeds."""
        return len(self.values)

    @property
    def mean(self) -> float:
        """Mean over seeds."""
        return float(self._array.mean())

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (ddof=1); NaN for one seed."""
        return float(self._array.std(ddof=1)) if self.n_seeds > 1 else float("nan")

    def interval(self, confidence: float = 0.95) -> Interval:
        """Student-t confidence interval of the mean over seeds.

        ``mean ± t(1 - (1 - confidence)/2, n_seeds - 1) * std / sqrt(n_seeds)``
        (:func:`scipy.stats.t`). It treats the seeds as a sample of all seeds: with three
        of them it is wide, as it should be.

        Raises
        ------
        ValueError
            With fewer than two seeds (no spread to estimate: run more seeds).
        """
        from scipy import stats

        confidence = _check_confidence(confidence)
        if self.n_seeds < 2:
            raise ValueError("a t-interval over seeds needs at least two seeds; run more seeds.")
        half = float(stats.t.ppf(0.5 + confidence / 2, self.n_seeds - 1)
                     * self.std / math.sqrt(self.n_seeds))
        return Interval(self.mean, self.mean - half, self.mean + half, confidence, "t",
                        self.n_seeds)

    def format(self, digits: int = 1) -> str:
        """``"87.6 ± 0.4 over 3 seeds"`` (mean ± standard deviation), in the values' units.

        One seed prints ``"87.6 (one seed: no spread measured)"``.
        """
        if self.n_seeds == 1:
            return f"{format_number(self.mean, digits)} (one seed: no spread measured)"
        return (f"{format_number(self.mean, digits)} ± {format_number(self.std, digits)} "
                f"over {self.n_seeds} seeds")


def format_seed_mean(values: Mapping[int, float] | Sequence[float], digits: int = 1) -> str:
    """Mean ± standard deviation over seeds as the course prints it.

    Parameters
    ----------
    values : mapping seed -> float, or sequence of floats
        One value per seed, in the units to print (e.g. accuracy in %).
    digits : int
        Decimals.

    Example
    -------
    >>> format_seed_mean([87.2, 87.6, 88.0])
    '87.6 ± 0.4 over 3 seeds'
    """
    return SeedRuns(values).format(digits)
