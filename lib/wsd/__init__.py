"""Word-sense disambiguation from contextual vectors: a complete, evaluated system.

- :mod:`~ctxembed.wsd.centroid`        the nearest-sense-centroid classifier, leave-one-out
                                       evaluation and its chance level
- :mod:`~ctxembed.wsd.system`          :class:`WSDSystem`: fit on any sense-labelled sentences,
                                       predict, evaluate; centroid / k-NN / logistic regression,
                                       any layer and piece pooling, unknown-sense flag
- :mod:`~ctxembed.wsd.vectors`         the use vectors (contextual or static) and their cache
- :mod:`~ctxembed.wsd.inventory`       WordNet senses, SemCor counts and training sentences
                                       from stated sources
- :mod:`~ctxembed.wsd.wordnet_system`  :func:`default_system`: every WordNet word, fitted on demand
- :mod:`~ctxembed.wsd.selection`       the configuration chosen by cross-validation on
                                       training data (``WSDSystem(method="auto")``)
- :mod:`~ctxembed.wsd.evaluation`      :func:`evaluate_wordnet` (held-out WordNet sentences,
                                       baselines), :func:`wordnet_configuration` (chosen
                                       on the training sentences), :func:`confidence_calibration`
                                       and :func:`unknown_sense_evaluation`
- :mod:`~ctxembed.wsd.wic`             a word-in-context task built from WordNet
- :mod:`~ctxembed.wsd.discovery`       sense discovery by clustering, ARI, an explorer
- :mod:`~ctxembed.wsd.cli`, :mod:`~ctxembed.wsd.server`  ``ctxembed-wsd`` and
                                       ``python -m ctxembed.wsd serve`` (HTTP, 127.0.0.1)
- :mod:`~ctxembed.wsd.caching`         the disk caches: their folder, and keys that hash
                                       every input and the code

Example
-------
>>> from ctxembed.wsd import default_system, evaluate_wordnet
>>> default_system().disambiguate("The bark sailed at dawn.", "bark").sense
'bark.n.03'
>>> evaluate_wordnet().overall[["method", "accuracy"]].round(2)
                method  accuracy
0             centroid      0.61
1                  knn      0.56
2               logreg      0.56
3  most-frequent-sense      0.42
4               random      0.32
5                 lesk      0.35
6          static-word      0.36
7       static-context      0.55
"""

from .centroid import (
    NearestSenseCentroid,
    chance_accuracy,
    leave_one_out_accuracy,
    leave_one_out_scores,
)
from .discovery import (
    Clustering,
    cluster_explorer,
    cluster_uses,
    discover_senses,
    discovery_evaluation,
)
from .evaluation import (
    BASELINES,
    LAYER_GRID,
    UnknownSenseResult,
    WSDEvaluation,
    confidence_calibration,
    evaluate_layers,
    evaluate_wordnet,
    unknown_sense_evaluation,
    wordnet_configuration,
    wordnet_wsd_data,
)
from .inventory import SenseInfo, training_sentences, wordnet_senses
from .selection import ConfigurationChoice, choose_configuration
from .system import METHODS, SensePrediction, WSDSystem
from .vectors import use_vectors
from .wic import WiCResult, wic_evaluation, wic_pairs
from .wordnet_system import WordNetWSD, default_system

__all__ = [
    "BASELINES", "LAYER_GRID", "METHODS", "Clustering", "ConfigurationChoice",
    "NearestSenseCentroid", "SenseInfo", "SensePrediction",
    "UnknownSenseResult", "WSDEvaluation", "WSDSystem", "WiCResult", "WordNetWSD",
    "chance_accuracy", "choose_configuration", "cluster_explorer", "cluster_uses",
    "confidence_calibration", "default_system", "discover_senses",
    "discovery_evaluation", "evaluate_layers", "evaluate_wordnet", "leave_one_out_accuracy",
    "leave_one_out_scores", "training_sentences",
    "unknown_sense_evaluation", "use_vectors", "wic_evaluation", "wic_pairs",
    "wordnet_configuration", "wordnet_senses", "wordnet_wsd_data",
]
