"""Every ``>>>`` example in the library's docstrings runs and prints what it says.

One test per module with examples, run by doctest with ELLIPSIS and NORMALIZE_WHITESPACE.
The packaged encoder is loaded once for the session (``load_encoder`` caches it), so the
examples pay for it once. An example that cannot run here (a server that must be started
first, minutes of training) carries ``# doctest: +SKIP`` and says why in its docstring.
"""

from __future__ import annotations

import doctest
import importlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
# each package's import name and its source folder: the course library, the instructor's tools
PACKAGES = {"ctxembed": ROOT / "lib",
            "ctxembed_instructor": ROOT / "instructor" / "ctxembed_instructor"}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_name(package: str, path: Path) -> str:
    parts = [package, *path.relative_to(PACKAGES[package]).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules_with_examples() -> list[str]:
    return sorted(_module_name(package, p) for package, folder in PACKAGES.items()
                  for p in folder.rglob("*.py")
                  if p.name != "__main__.py" and ">>>" in p.read_text(encoding="utf-8"))


MODULES = _modules_with_examples()


def test_the_library_has_examples():
    assert len(MODULES) > 30 and "ctxembed.core.embeddings" in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module, encoder):
    mod = importlib.import_module(module)
    tests = [t for t in doctest.DocTestFinder(exclude_empty=True).find(mod, module) if t.examples]
    assert tests, f"{module} has '>>>' in its source but doctest found no example in it"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} examples of {module} failed (fix the example, "
        "or the code if the example states what it should do):\n" + "".join(report))
