"""ctxembed: the helper library of the course *Contextual Word Embeddings*.

The modules follow the course's concepts, so a reader who knows a chapter can guess
where its code lives:

========================  ==================================================================
``ctxembed.core``         encoders (packaged MiniLM offline, hub names online), contextual
                          token / word / sentence vectors, pooling, similarity, errors
``ctxembed.static``       static vectors: GloVe, word2vec, context averages (chapter 1)
``ctxembed.data``         WordNet (one fast text reader), the LM corpus, sense-labelled
                          sentences, the course's curated polysemy sentences
``ctxembed.elmo``         the course's ELMo: model, training, n-gram baselines, probes,
                          explorer (chapter 2)
``ctxembed.bert``         BERT written out by hand, masked-LM pretraining (chapter 3)
``ctxembed.wsd``          word-sense disambiguation from vectors
``ctxembed.finetune``     task heads, the fine-tuning loop, label alignment, QA spans, LoRA
                          (chapter 4; ``python -m ctxembed.finetune train``)
``ctxembed.viz``          plots and the widget explorers that work on the static site
``ctxembed.book``         page helpers: ``glue`` (also off the book), ``claim``, ``quiz``
``ctxembed.compare``      static vs ELMo vs BERT measured: sense separation, contextuality
                          per layer (Ethayarajh 2019), the summary table (chapter 5)
``ctxembed.evaluation``   confidence intervals, paired comparisons of two systems, seed
                          summaries, dev/test selection (chapters 3 to 5; numpy and scipy only)
========================  ==================================================================

Dependencies run one way: ``core`` and ``data`` import nothing else of the course,
``static``, ``viz`` and ``wsd`` build on ``core``, and the chapter packages (``elmo``,
``bert``) on all of those; a test fails on an import cycle. The names most chapters
use are importable from ``ctxembed`` itself:

>>> import ctxembed
>>> ctxembed.word_vector("I sat on the bank of the river.", "bank").shape
(384,)
"""

from __future__ import annotations

from .core.lazy import lazy_exports

__version__ = "0.1.0"

# Where each top-level name lives. They are imported on first use (PEP 562), so that
# `python -m ctxembed.data` or the grader can import one subpackage without loading
# torch and transformers for the rest.
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
    "load_glove",
    "pool_tokens",
    "sentence_vectors",
    "set_seed",
    "static_vector",
    "static_word_vectors",
    "token_states",
    "tokenize",
    "word_vector",
    "word_vectors",
]
_STATIC_NAMES = {"load_glove", "static_vector", "static_word_vectors"}
_LOCATIONS = {name: "static" if name in _STATIC_NAMES else "core" for name in __all__}


__getattr__, __dir__ = lazy_exports(__name__, _LOCATIONS)


# In a notebook, every matplotlib figure displayed carries an alt text saying what it shows
# (ctxembed.viz.alt: the built site puts it on the <img>); outside IPython this does nothing.
from .viz.alt import install as _install_alt_text

_install_alt_text()
