"""The course's one cache folder, and what a cached file's name is made of.

The folder is ``$CTXEMBED_CACHE``, else ``~/.cache/ctxembed``. Data downloads, NLTK's WordNet,
the corpora built from it, the compiled encoder, the tokenised MLM corpus and the WSD caches
all live under it (each in its own subfolder), so one variable moves them all, and deleting
the folder resets the course.

A cached result is named by a hash of everything it depends on (:func:`cached_file`): its
inputs, and the code that computed it (:func:`code_version`: the code of the modules involved,
docstrings and comments aside, and the versions of the libraries they call). Change any of
them and the result is computed afresh; nothing is bumped by hand, and an old result is never
read for new code.

Example
-------
>>> import os, tempfile
>>> from unittest import mock
>>> with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {"CTXEMBED_CACHE": tmp}):
...     path = cached_file("data", "squares", ".json", code=("ctxembed.core.cache",), inputs=[1, 2, 3])
...     _ = write_atomic(path, lambda tmp_path: tmp_path.write_text("[1, 4, 9]"))
...     path.parent.name, path.name.startswith("squares-"), path.read_text()
('data', True, '[1, 4, 9]')
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
from collections.abc import Callable
from importlib import metadata, util
from pathlib import Path

ENV = "CTXEMBED_CACHE"


def course_cache_dir() -> Path:
    """``$CTXEMBED_CACHE`` when set, else ``~/.cache/ctxembed`` (not created here)."""
    env = os.environ.get(ENV)
    return Path(env) if env else Path.home() / ".cache" / "ctxembed"


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


#: Modules that decide where results are kept and what errors say, not what a result is:
#: a key that covers a module importing them leaves them out.
KEY_EXEMPT = frozenset({"ctxembed.core.cache", "ctxembed.core.errors", "ctxembed.core.lazy",
                        "ctxembed.wsd.caching"})


def _course_imports(module: str) -> set[str]:
    """The modules of ``module``'s own package tree that it imports, anywhere in its code
    (``from ..core.words import find_word``, ``from . import lemmas``, a function's late
    import). A package's ``__init__`` that only re-exports is not one of them."""
    spec = util.find_spec(module)
    root = module.split(".")[0]
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names = [target]
            if target.split(".")[0] == root and _is_package(target):   # "from . import lemmas"
                names += [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] == root and _is_module(name)}
    return found


def _is_package(name: str) -> bool:
    spec = util.find_spec(name)
    return spec is not None and spec.submodule_search_locations is not None


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module (not a package, not a name inside a module). Only a
    package's ``__init__`` is imported to answer: never a module, which may load torch."""
    parent = name.rpartition(".")[0]
    if parent and not _is_package(parent):
        return False
    try:
        spec = util.find_spec(name)
    except ModuleNotFoundError:
        return False
    return spec is not None and spec.submodule_search_locations is None


def covered_modules(modules) -> tuple[str, ...]:
    """``modules`` and every course module they import, directly or not (sorted; without
    :data:`KEY_EXEMPT`): the code a cached result of ``modules`` was computed with."""
    seen, todo = set(), list(modules)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += sorted(_course_imports(name) - seen)
    return tuple(sorted(seen - (KEY_EXEMPT - set(modules))))


@functools.cache
def code_version(modules: tuple = (), libraries: tuple = ()) -> str:
    """A hash of the code of ``modules`` and of every course module they import
    (:func:`covered_modules`; dotted names; docstrings and comments left out) and the
    installed versions of ``libraries`` (distribution names): a cache key part that changes
    with the code, including a helper a listed module calls."""
    h = hashlib.sha1()
    for name in covered_modules(modules):
        h.update(f"{name}\0".encode() + _source(name) + b"\0")
    for name in libraries:
        h.update(f"{name}=={_library_version(name)}\0".encode())
    return h.hexdigest()[:16]


@functools.cache
def files_version(folder: Path) -> str:
    """A hash of the names and contents of the files in ``folder`` (not its sub-folders):
    a cache key part for data read from installed files, such as WordNet's."""
    h = hashlib.sha1()
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        h.update(f"{path.name}\0".encode() + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def cached_file(folder: str, stem: str, suffix: str, *, code: tuple, libraries: tuple = (),
                inputs=None) -> Path:
    """Where the result ``stem`` of ``code`` (module names) on ``inputs`` is cached:
    ``<course cache>/<folder>/<stem>-<hash of code and inputs><suffix>``. The folder is created."""
    key = digest([code_version(tuple(code), tuple(libraries)), inputs], 16)
    path = course_cache_dir() / folder / f"{stem}-{key}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` whole or not at all: ``write(tmp_path)`` writes a temporary file beside it
    (same suffix, so a writer that picks its format by suffix still works), renamed when done."""
    tmp = path.with_name(f"{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
