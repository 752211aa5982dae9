"""Static vs ELMo vs BERT, measured (chapter 5).

- :mod:`~ctxembed.compare.models`         the five models behind one interface: per-layer vectors
                                          of word uses and of whole sentences; speed, coverage
- :mod:`~ctxembed.compare.polysemy`       same-sense vs different-sense similarity, with effect
                                          sizes (Cohen's d, AUC)
- :mod:`~ctxembed.compare.contextuality`  Ethayarajh (2019): self-similarity, intra-sentence
                                          similarity, anisotropy (and the correction), MEV
- :mod:`~ctxembed.compare.summary`        the measured summary table and the advice it implies
- :mod:`~ctxembed.compare.bias`           WEAT and SEAT association tests (Caliskan et al. 2017;
                                          May et al. 2019): effect sizes, permutation p-values
- :mod:`~ctxembed.compare.contamination`  what the packaged encoder was trained on, read from
                                          its own ``data_config.json``
- :mod:`~ctxembed.compare.plots`          the chapter's figures (colour-blind safe)

Example
-------
>>> from ctxembed.compare import models, polysemy
>>> from ctxembed.data.polysemy import polysemy_sentences
>>> bank = polysemy_sentences().query("word == 'bank'")           # 9 money, 9 river uses
>>> minilm = models.Transformer()
>>> X = minilm.use_layers(list(bank.sentence), list(bank.form), list(bank.word))
>>> X.shape                                                         # uses, layers L0..L6, width
(18, 7, 384)
>>> round(polysemy.sense_separation(X[:, -1], bank.sense)["auc"], 2)
0.89
"""

from .contextuality import Occurrences, contextuality_by_layer
from .polysemy import sense_separation, separation_table
from .summary import ModelFacts, summary_table

__all__ = ["ModelFacts", "Occurrences", "contextuality_by_layer", "sense_separation",
           "separation_table", "summary_table"]
