"""Is a system's confidence a probability? The expected calibration error.

A classifier that says "0.9" should be right about 9 times in 10 when it says so. Group
the predictions by their confidence into equal-width bins; in each bin compare the mean
confidence with the accuracy; the expected calibration error (ECE, Naeini et al., 2015;
Guo et al., 2017) is the average gap, weighted by how many predictions fall in the bin.
0 is perfectly calibrated; a softmax at too low a temperature is over-confident and has
a large ECE.

Example
-------
>>> confidence = np.array([0.9, 0.9, 0.9, 0.9, 0.6, 0.6])
>>> correct = np.array([1, 1, 1, 0, 1, 0])
>>> round(expected_calibration_error(confidence, correct), 3)    # (4 * 0.15 + 2 * 0.1) / 6
0.133
"""

from __future__ import annotations

import numpy as np


def expected_calibration_error(confidence, correct, bins: int = 10) -> float:
    """ECE of ``confidence`` (n values in [0, 1]) against ``correct`` (n 0/1 outcomes),
    over ``bins`` equal-width bins of confidence."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.shape != correct.shape or confidence.ndim != 1 or len(confidence) == 0:
        raise ValueError(f"Need one confidence per outcome (got {confidence.shape} and "
                         f"{correct.shape}).")
    if np.isnan(confidence).any() or confidence.min() < 0 or confidence.max() > 1:
        raise ValueError("Confidences must be numbers between 0 and 1.")
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = 0.0
    for b in np.unique(which):
        in_bin = which == b
        gap += in_bin.sum() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(gap / len(confidence))
