"""The library's layout: concept packages, no import cycles, everything a real install needs."""

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
INSTRUCTOR = ROOT / "instructor"


def module_name(path: Path) -> str:
    parts = ["ctxembed", *path.relative_to(LIB).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p) for p in LIB.rglob("*.py")}


def imports_of(path: Path) -> set[str]:
    """Every ctxembed module ``path`` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ctxembed")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = ".".join(base[: len(base) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.startswith("ctxembed"):
                # `from pkg import module` depends on that module alone; `from pkg import name`
                # on the package's __init__, which defines (or re-exports) the name.
                submodules = {f"{target}.{a.name}" for a in node.names} & MODULES
                found |= submodules or {target}
                if len(submodules) < len(node.names):
                    found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in LIB.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = {t for t in imports_of(path) if t in modules and t != name}
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_in_the_library():
    """Counting imports inside functions too: a lazy import still ties two modules together."""
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_core_and_data_import_no_chapter_package():
    """Dependencies run one way: the foundations never reach up into a chapter's package."""
    graph = import_graph()
    upper = ("ctxembed.elmo", "ctxembed.bert", "ctxembed.wsd", "ctxembed.viz",
             "ctxembed.finetune", "ctxembed.compare")
    for name, targets in graph.items():
        if name.startswith(("ctxembed.core", "ctxembed.data")):
            bad = sorted(t for t in targets if t.startswith(upper))
            assert not bad, f"{name} imports {bad}"


def packages_in_pyproject(project: Path = ROOT) -> set[str]:
    text = (project / "pyproject.toml").read_text()
    listed = re.search(r"^packages = \[(.*?)\]", text, re.DOTALL | re.MULTILINE).group(1)
    return set(re.findall(r'"([^"]+)"', listed))


def test_every_subpackage_is_listed_in_pyproject():
    """A non-editable install (Colab's `pip install git+...`) ships only the listed packages."""
    on_disk = {module_name(p) for p in LIB.rglob("__init__.py")}
    missing = sorted(on_disk - packages_in_pyproject())
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"


def test_every_package_pyproject_lists_exists():
    """A listed package without its folder breaks `pip install` (setuptools refuses it)."""
    on_disk = {module_name(p) for p in LIB.rglob("__init__.py")}
    ghosts = sorted(packages_in_pyproject() - on_disk)
    assert not ghosts, f"pyproject.toml lists {ghosts}, which have no lib/.../__init__.py"


def test_the_documented_module_map_names_every_top_level_package():
    doc = (LIB / "__init__.py").read_text()
    for init in LIB.glob("*/__init__.py"):
        assert f"ctxembed.{init.parent.name}" in doc, f"lib/__init__.py's module map lacks {init.parent.name}"


@pytest.mark.parametrize("command", [
    ["-m", "ctxembed.elmo", "train", "--help"],
    ["-m", "ctxembed.bert", "train", "--help"],
])
def test_entry_points_live_with_their_concept(command):
    out = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=600,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout


def test_the_top_level_names_are_core_and_static_public_names_and_resolve():
    # ctxembed lists its names without importing core (torch) at import time, so the list is
    # written out twice; this keeps the two in step and proves each name resolves to its home.
    import ctxembed
    from ctxembed import core, static

    assert set(ctxembed.__all__) == set(core.__all__) | {"load_glove", "static_vector",
                                                          "static_word_vectors"}
    for name in ctxembed.__all__:
        home = core if name in core.__all__ else static
        assert getattr(ctxembed, name) is getattr(home, name), name


def test_the_student_library_never_imports_the_instructor_tools():
    """``ctxembed`` is what a student installs; the grader and the exercise builder are not in
    it, and nothing in it may need them."""
    for path in LIB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad = [n for n in names if n.split(".")[0] == "ctxembed_instructor"]
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_instructor_package_lists_its_subpackages():
    on_disk = {".".join(p.parent.relative_to(INSTRUCTOR).parts)
               for p in (INSTRUCTOR / "ctxembed_instructor").rglob("__init__.py")}
    assert on_disk == packages_in_pyproject(INSTRUCTOR)


def _wheel(project: Path, out: Path) -> zipfile.ZipFile:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(project)], check=True, capture_output=True, timeout=600)
    (built,) = out.glob("*.whl")
    return zipfile.ZipFile(built)


@pytest.mark.slow
def test_the_student_wheel_carries_no_grader_and_the_instructor_wheel_carries_both_tools(tmp_path):
    """What `pip install git+URL@BRANCH` (Colab, the exercises' install cell) gets: the course
    library, no sandboxed grader, no exercise builder, no `ctxembed-grade` command; and the
    instructor package has both tools and both commands."""
    student = _wheel(ROOT, tmp_path / "student")
    names = student.namelist()
    assert any(n.startswith("ctxembed/core/") for n in names)
    assert not [n for n in names if "grading" in n or "instructor" in n or "exercises" in n]
    (points,) = [n for n in names if n.endswith("entry_points.txt")]
    assert "ctxembed-grade" not in student.read(points).decode()

    instructor = _wheel(INSTRUCTOR, tmp_path / "instructor")
    names = instructor.namelist()
    for module in ("grading/runner.py", "grading/sandbox.py", "grading/cli.py", "exercises.py"):
        assert f"ctxembed_instructor/{module}" in names, module
    assert not [n for n in names if n.startswith("ctxembed/")]
    (points,) = [n for n in names if n.endswith("entry_points.txt")]
    text = instructor.read(points).decode()
    assert "ctxembed-grade = ctxembed_instructor.grading.cli:main" in text
    assert "ctxembed-exercises = ctxembed_instructor.exercises:main" in text


def test_a_command_has_one_entry_point():
    """A library command is run as ``python -m ctxembed.<package> ...`` (or its console script),
    never also through a wrapper script in tools/ that only forwards to it."""
    for path in sorted((ROOT / "tools").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ctxembed"):
                assert "main" not in {a.name for a in node.names}, \
                    f"{path.name} forwards to {node.module}.main: call that command instead"


def test_vectors_are_scaled_to_unit_length_in_one_place():
    """``core.similarity.unit_vectors`` is the one row normaliser (one rule for a zero row)."""
    home = LIB / "core" / "similarity.py"
    for path in sorted(LIB.rglob("*.py")):
        if path == home:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not ("linalg.norm(" in line and "keepdims=True" in line), \
                f"{path.relative_to(ROOT)}:{number} scales vectors itself: use unit_vectors"


def test_the_course_cache_folder_is_named_in_one_place_and_no_cache_key_is_bumped_by_hand():
    """``core.cache`` says where the course's cache folder is and names cached files by what they
    depend on; a module neither spells ``~/.cache/ctxembed`` itself nor keeps a version number
    to bump when its code changes."""
    home = LIB / "core" / "cache.py"
    own_home = LIB / "data" / "downloads.py"   # also looks in the account's own home, see _cached
    for path in sorted(LIB.rglob("*.py")):
        text = path.read_text()
        rel = path.relative_to(ROOT)
        if path not in (home, own_home):
            assert '".cache"' not in text, f"{rel} names a cache folder itself: use core.cache"
        assert "nltk_data_dir().parent" not in text, f"{rel} keeps a cache beside NLTK's data: use core.cache"
        for node in ast.parse(text).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, int):
                for target in node.targets:
                    assert not (isinstance(target, ast.Name) and target.id.endswith("_VERSION")), \
                        f"{rel} bumps {target.id} by hand: key the cache with core.cache.cached_file"


def test_batches_are_cut_and_padded_in_one_place():
    """``core.batching`` cuts length-sorted batches and pads them, for every loop of the course."""
    allowed = {LIB / "core" / "batching.py"}
    for path in sorted(LIB.rglob("*.py")):
        if path in allowed:
            continue
        text = path.read_text()
        rel = path.relative_to(ROOT)
        assert "len(current) + 1" not in text, f"{rel} cuts batches itself: use token_budget_batches"
        assert "torch.full((len(" not in text and "torch.zeros(len(" not in text, \
            f"{rel} pads sequences itself: use core.batching.pad_right"


def test_html_is_made_from_templates_that_escape_what_they_insert():
    """The library's HTML views render Jinja templates (``ctxembed.viz.html.render``, which
    escapes every inserted value); none is assembled from f-strings that must each remember to."""
    for path in sorted(LIB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr) and node.values \
                    and isinstance(node.values[0], ast.Constant) \
                    and re.match(r"\s*<[a-zA-Z/!]", str(node.values[0].value)):
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} builds HTML with an "
                                     "f-string: render a template with ctxembed.viz.html.render")


def test_built_pages_are_read_with_an_html_parser_not_patterns_over_markup():
    """The site extension finds the elements it rewrites in built pages with an HTML parser
    (``PageElements``): no regular expression there spells out a tag."""
    source = (ROOT / "_ext" / "ctxembed_site.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("compile", "sub", "search",
                                                                            "match", "finditer", "split"):
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    pattern = re.sub(r"\(\?P?<", "", arg.value)     # named groups, lookbehinds
                    assert not re.search(r"<\\?[a-zA-Z/]", pattern), (
                        f"_ext/ctxembed_site.py:{node.lineno} matches markup with a pattern: "
                        "read the page with PageElements")


def test_no_package_imports_another_package_s_private_names():
    """A name starting with ``_`` is its module's own business: another package that needs it
    gets a public name, so a maintainer can change a private helper without reading the rest."""
    for path in sorted(LIB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            crosses = isinstance(node, ast.ImportFrom) and (
                node.level >= 2 or (node.level == 0 and (node.module or "").startswith("ctxembed")))
            if crosses:
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                assert not private, f"{path.relative_to(ROOT)}:{node.lineno} imports private {private}"
