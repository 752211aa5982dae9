"""A small ELMo the course trains itself (chapter 2).

- :mod:`~ctxembed.elmo.vocab`       the vocabulary, its special tokens, sentences as padded ids
- :mod:`~ctxembed.elmo.model`       the biLM (forward and backward LSTM LMs) and the scalar mix
- :mod:`~ctxembed.elmo.training`    length-bucketed batches, the training loop, perplexity, and
                                    the seeded command behind the shipped checkpoint
                                    (``python -m ctxembed.elmo train``)
- :mod:`~ctxembed.elmo.checkpoint`  saving and loading a checkpoint; the shipped one
- :mod:`~ctxembed.elmo.vectors`     a word's vectors at every layer
- :mod:`~ctxembed.elmo.ngram`       unigram and Kneser-Ney bigram baselines for perplexity
- :mod:`~ctxembed.elmo.probing`     linear probes per layer (part of speech, same sense)
- :mod:`~ctxembed.elmo.explorer`    the nearest-neighbour explorer of chapter 2

Example
-------
>>> from ctxembed import elmo
>>> model, vocab = elmo.load_elmo()
>>> elmo.layer_vectors(model, vocab, "I sat on the bank of the river.", "bank").shape
(3, 512)
"""

from .checkpoint import DEFAULT_CHECKPOINT, load_checkpoint, load_elmo, save_checkpoint
from .model import BiLM, ELMoConfig, ScalarMix, build_model
from .training import TrainResult, bucket_batches, perplexity, train
from .vectors import layer_vectors, sentence_layers, word_layer_vectors
from .vocab import (
    BOS,
    BOS_ID,
    EOS,
    EOS_ID,
    PAD,
    PAD_ID,
    SPECIALS,
    UNK,
    UNK_ID,
    Vocab,
    collate,
    encode_corpus,
)

__all__ = [
    "BOS",
    "BOS_ID",
    "DEFAULT_CHECKPOINT",
    "EOS",
    "EOS_ID",
    "PAD",
    "PAD_ID",
    "SPECIALS",
    "UNK",
    "UNK_ID",
    "BiLM",
    "ELMoConfig",
    "ScalarMix",
    "TrainResult",
    "Vocab",
    "bucket_batches",
    "build_model",
    "collate",
    "encode_corpus",
    "layer_vectors",
    "load_checkpoint",
    "load_elmo",
    "perplexity",
    "save_checkpoint",
    "sentence_layers",
    "train",
    "word_layer_vectors",
]
