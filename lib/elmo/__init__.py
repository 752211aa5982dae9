"""A small ELMo the course trains itself (chapter 2).

- :mod:`~ctxembed.elmo.model`     the biLM (forward and backward LSTM LMs), scalar mix, training
                                  loop, checkpoint, per-layer word vectors (re-exported here)
- :mod:`~ctxembed.elmo.training`  the seeded command behind the shipped checkpoint
                                  (``python -m ctxembed.elmo train``)
- :mod:`~ctxembed.elmo.ngram`     unigram and Kneser-Ney bigram baselines for perplexity
- :mod:`~ctxembed.elmo.probing`   linear probes per layer (part of speech, same sense)
- :mod:`~ctxembed.elmo.explorer`  the nearest-neighbour explorer of chapter 2

Example
-------
>>> from ctxembed import elmo
>>> model, vocab = elmo.load_elmo()
>>> elmo.layer_vectors(model, vocab, "I sat on the bank of the river.", "bank").shape
(3, 512)
"""

from .model import (
    BOS,
    BOS_ID,
    DEFAULT_CHECKPOINT,
    EOS,
    EOS_ID,
    PAD,
    PAD_ID,
    SPECIALS,
    UNK,
    UNK_ID,
    BiLM,
    ELMoConfig,
    ScalarMix,
    TrainResult,
    Vocab,
    bucket_batches,
    build_model,
    collate,
    encode_corpus,
    layer_vectors,
    load_checkpoint,
    load_elmo,
    perplexity,
    save_checkpoint,
    sentence_layers,
    train,
    word_layer_vectors,
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
