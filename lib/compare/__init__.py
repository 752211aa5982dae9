"""Static vs ELMo vs BERT, measured (chapter 5).

- :mod:`~ctxembed.compare.models`         the five models behind one interface: per-layer vectors
                                          of word uses and of whole sentences; speed, coverage
- :mod:`~ctxembed.compare.polysemy`       same-sense vs different-sense similarity, with effect
                                          sizes (Cohen's d, AUC)
- :mod:`~ctxembed.compare.contextuality`  Ethayarajh (2019): self-similarity, intra-sentence
                                          similarity, anisotropy (and the correction), MEV
- :mod:`~ctxembed.compare.summary`        the measured summary table and the advice it implies
- :mod:`~ctxembed.compare.plots`          the chapter's figures (colour-blind safe)

Example
-------
>>> from ctxembed.compare import models, polysemy
>>> minilm = models.Transformer()
>>> X = minilm.use_layers(sentences, forms, lemmas)[:, -1]        # doctest: +SKIP
>>> polysemy.sense_separation(X, senses)["d"]                       # doctest: +SKIP
"""

from .contextuality import Occurrences, contextuality_by_layer
from .polysemy import sense_separation, separation_table
from .summary import ModelFacts, summary_table

__all__ = ["ModelFacts", "Occurrences", "contextuality_by_layer", "sense_separation",
           "separation_table", "summary_table"]
