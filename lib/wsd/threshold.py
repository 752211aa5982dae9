"""Where the ready-made system's unknown-sense threshold is kept, and reading it.

:func:`~ctxembed.wsd.evaluation.calibrate_default_threshold` chooses the threshold on
held-out WordNet data (``python -m ctxembed.wsd prepare`` runs it) and writes it to
:func:`threshold_file`; :func:`calibrated_unknown_threshold` reads it for
:func:`~ctxembed.wsd.default_system` and for the sense table the command line reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.defaults import DEFAULT_MODEL
from .caching import (
    EVALUATION_CODE,
    EVALUATION_LIBRARIES,
    cache_dir,
    code_version,
    digest,
    touch,
    wordnet_version,
)

#: Unknown-sense threshold of :func:`~ctxembed.wsd.default_system`, used when no calibration
#: is cached. ``python -m ctxembed.wsd prepare`` replaces it by the one chosen on held-out data.
FALLBACK_UNKNOWN_THRESHOLD = 0.2


def threshold_file() -> Path:
    """Where :func:`~ctxembed.wsd.evaluation.calibrate_default_threshold` keeps the threshold:
    named by the code of the evaluation that chose it, the WordNet files and the model."""
    key = digest([code_version(EVALUATION_CODE, EVALUATION_LIBRARIES), wordnet_version(),
                  DEFAULT_MODEL])
    return cache_dir() / f"unknown-threshold-{key}.json"


def calibrated_unknown_threshold() -> float:
    """The unknown-sense threshold chosen on held-out WordNet data, if it was computed
    (``python -m ctxembed.wsd prepare``); otherwise :data:`FALLBACK_UNKNOWN_THRESHOLD`."""
    path = threshold_file()
    if path.exists():
        return float(json.loads(touch(path).read_text())["threshold"])
    return FALLBACK_UNKNOWN_THRESHOLD
