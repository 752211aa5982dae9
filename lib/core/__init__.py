"""The core every chapter uses: encoders, contextual vectors, pooling, similarity, errors.

- :mod:`~ctxembed.core.models`      load an encoder (packaged MiniLM offline, any hub name online)
- :mod:`~ctxembed.core.embeddings`  contextual token, word and sentence vectors
- :mod:`~ctxembed.core.words`       finding a word in a sentence (standard library only)
- :mod:`~ctxembed.core.pooling`     [CLS] / mean / max pooling that ignores padding
- :mod:`~ctxembed.core.similarity`  cosine similarity, unit vectors (the one row normaliser), mean pairwise cosine
- :mod:`~ctxembed.core.batching`    batches of similar length, and padding (every training and inference loop)
- :mod:`~ctxembed.core.cache`       the course's one cache folder, and cache keys made from inputs and code
- :mod:`~ctxembed.core.errors`      the errors that say what to do

The names below are imported on first use (PEP 562), so ``ctxembed.core.words`` or
``ctxembed.core.errors`` can be imported without loading torch.
"""

from __future__ import annotations

from .lazy import lazy_exports

_LOCATIONS = {
    "DEFAULT_MODEL": "defaults",
    "EmptyInputError": "errors",
    "Encoder": "models",
    "ModelUnavailableError": "errors",
    "TokenStates": "embeddings",
    "UnknownWordError": "errors",
    "WordNotFoundError": "errors",
    "cache_info": "embeddings",
    "clear_cache": "embeddings",
    "cosine": "similarity",
    "cosine_matrix": "similarity",
    "find_word": "words",
    "load_encoder": "models",
    "pool_tokens": "pooling",
    "sentence_vectors": "embeddings",
    "set_seed": "models",
    "token_states": "embeddings",
    "tokenize": "embeddings",
    "word_vector": "embeddings",
    "word_vectors": "embeddings",
}
__all__ = list(_LOCATIONS)


__getattr__, __dir__ = lazy_exports(__name__, _LOCATIONS)
