"""The core every chapter uses: encoders, contextual vectors, pooling, similarity, errors.

- :mod:`~ctxembed.core.models`      load an encoder (packaged MiniLM offline, any hub name online)
- :mod:`~ctxembed.core.embeddings`  contextual token, word and sentence vectors
- :mod:`~ctxembed.core.pooling`     [CLS] / mean / max pooling that ignores padding
- :mod:`~ctxembed.core.similarity`  cosine similarity
- :mod:`~ctxembed.core.errors`      the errors that say what to do
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
from .errors import (
    EmptyInputError,
    ModelUnavailableError,
    UnknownWordError,
    WordNotFoundError,
)
from .models import DEFAULT_MODEL, Encoder, load_encoder, set_seed
from .pooling import pool_tokens
from .similarity import cosine, cosine_matrix

__all__ = [
    "DEFAULT_MODEL",
    "EmptyInputError",
    "Encoder",
    "ModelUnavailableError",
    "TokenStates",
    "UnknownWordError",
    "WordNotFoundError",
    "cache_info",
    "clear_cache",
    "cosine",
    "cosine_matrix",
    "find_word",
    "load_encoder",
    "pool_tokens",
    "sentence_vectors",
    "set_seed",
    "token_states",
    "tokenize",
    "word_vector",
    "word_vectors",
]
