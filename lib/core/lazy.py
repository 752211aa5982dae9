"""A package's names, imported on first use (PEP 562).

``ctxembed``, ``ctxembed.core`` and ``ctxembed.wsd`` list what they export without
importing it, so that importing one light module (``ctxembed.core.words``, the WSD command
line's quick path) does not load torch, pandas or scikit-learn for the rest.

Example
-------
>>> getattr_, dir_ = lazy_exports("ctxembed.core", {"cosine": "similarity"})
>>> getattr_("cosine").__name__
'cosine'
"""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, locations: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package``: each name in ``locations`` (name ->
    submodule, relative to the package) is imported from its submodule when first asked
    for, then kept in the package."""

    def __getattr__(name: str):
        if name in locations:
            value = getattr(importlib.import_module(f".{locations[name]}", package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted({*vars(sys.modules[package]), *locations})

    return __getattr__, __dir__
