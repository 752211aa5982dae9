"""ctxembed: the helper library of the course *Contextual Word Embeddings*.

Each module follows a chapter's concept:

- :mod:`ctxembed.models`      loading encoders (packaged MiniLM offline, hub names online)
- :mod:`ctxembed.embeddings`  contextual token, word and sentence vectors
- :mod:`ctxembed.pooling`     [CLS] / mean / max pooling that ignores padding
- :mod:`ctxembed.static`      static vectors (GloVe, word2vec)
- :mod:`ctxembed.similarity`  cosine similarity
- :mod:`ctxembed.wordnet`     WordNet offline and its sense-labelled sentences
- :mod:`ctxembed.senses`      nearest-sense-centroid word-sense classification
- :mod:`ctxembed.plots`       the figures the chapters draw
- :mod:`ctxembed.explorers`   ipywidgets explorers that also work on the static site
- :mod:`ctxembed.corpus`      the WordNet glosses-and-examples corpus (train/valid split)
- :mod:`ctxembed.ngram`       unigram and Kneser-Ney bigram baselines
- :mod:`ctxembed.elmo`        a small ELMo: forward and backward LSTM LMs, scalar mix
- :mod:`ctxembed.probing`     linear probes per layer (part of speech, word sense)
- :mod:`ctxembed.bert_internals`  BERT written out by hand, checked against the real model
- :mod:`ctxembed.mlm`         80/10/10 masking and a small BERT trained with masked LM
- :mod:`ctxembed.grading`     ``ctxembed-grade``: sandboxed autograding of exercises
"""

from .embeddings import (
    TokenStates,
    cache_info,
    clear_cache,
    find_word,
    sentence_vectors,
    token_states,
    tokenize,
    word_vector,
    word_vectors,
)
from .errors import EmptyInputError, ModelUnavailableError, UnknownWordError, WordNotFoundError
from .models import DEFAULT_MODEL, Encoder, load_encoder, set_seed
from .pooling import pool_tokens
from .similarity import cosine, cosine_matrix
from .static import load_glove, static_vector, static_word_vectors

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL", "Encoder", "TokenStates", "EmptyInputError", "ModelUnavailableError",
    "UnknownWordError", "WordNotFoundError", "cache_info", "clear_cache", "cosine",
    "cosine_matrix", "find_word", "load_encoder", "load_glove", "pool_tokens", "sentence_vectors",
    "set_seed", "static_vector", "static_word_vectors", "token_states", "tokenize", "word_vector",
    "word_vectors",
]
