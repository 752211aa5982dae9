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
- :mod:`~ctxembed.wsd.sense_table`     every WordNet word's fitted senses in one file, and
                                       :class:`QuickWSD`, the command line's quick path
- :mod:`~ctxembed.wsd.word_model`      one word's fitted senses and predictions (NumPy only)
- :mod:`~ctxembed.wsd.lemmas`          a reader's word's dictionary forms (WordNet's morphology)
- :mod:`~ctxembed.wsd.threshold`       where the calibrated unknown-sense threshold is kept
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
2               logreg      0.55
3  most-frequent-sense      0.41
4               random      0.31
5                 lesk      0.34
6          static-word      0.35
7       static-context      0.54
"""

from __future__ import annotations

from ..core.lazy import lazy_exports

# Where each name lives; imported on first use (PEP 562), so the command line's quick path
# (ctxembed.wsd.cli, sense_table) loads neither pandas nor scikit-learn.
_LOCATIONS = {
    "BASELINES": "evaluation",
    "Clustering": "discovery",
    "ConfigurationChoice": "selection",
    "LAYER_GRID": "evaluation",
    "METHODS": "system",
    "NearestSenseCentroid": "centroid",
    "SenseInfo": "inventory",
    "SensePrediction": "system",
    "UnknownSenseResult": "evaluation",
    "WSDEvaluation": "evaluation",
    "WSDSystem": "system",
    "WiCResult": "wic",
    "WordNetWSD": "wordnet_system",
    "chance_accuracy": "centroid",
    "choose_configuration": "selection",
    "cluster_explorer": "discovery",
    "cluster_uses": "discovery",
    "confidence_calibration": "evaluation",
    "default_system": "wordnet_system",
    "discover_senses": "discovery",
    "discovery_evaluation": "discovery",
    "evaluate_layers": "evaluation",
    "evaluate_wordnet": "evaluation",
    "leave_one_out_accuracy": "centroid",
    "leave_one_out_scores": "centroid",
    "training_sentences": "inventory",
    "unknown_sense_evaluation": "evaluation",
    "use_vectors": "vectors",
    "wic_evaluation": "wic",
    "wic_pairs": "wic",
    "wordnet_configuration": "evaluation",
    "wordnet_senses": "inventory",
    "wordnet_wsd_data": "evaluation",
}
__all__ = list(_LOCATIONS)


__getattr__, __dir__ = lazy_exports(__name__, _LOCATIONS)
