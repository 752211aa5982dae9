"""Word-sense disambiguation from contextual vectors.

- :mod:`~ctxembed.wsd.centroid`  the nearest-sense-centroid classifier, leave-one-out
                                 evaluation and its chance level (re-exported here)
"""

from .centroid import NearestSenseCentroid, chance_accuracy, leave_one_out_accuracy

__all__ = ["NearestSenseCentroid", "chance_accuracy", "leave_one_out_accuracy"]
