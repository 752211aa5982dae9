"""Every notebook opens and runs the way a student launches it: on Colab and on Binder.

What a reader relies on: pressing a chapter's, exercise's or solution's Colab or Binder
button gives a notebook that runs top to bottom with no error, with nothing installed by
hand. tools/launch_paths.py imitates both offline (see its docstring): a Colab-like venv
(Colab's preinstalled packages only; the notebook alone in an empty folder, fresh HOME,
``google.colab`` stubbed, the course package installed by the notebook's own Colab cell
from a clean clone of this commit) and a Binder venv built from ``binder/`` alone.
Hub access is simulated by the offline defaults (HF_HUB_OFFLINE=1).

Both environments are built once per session (a few minutes with pip's cache warm) and all
notebooks run in them: about 15-20 minutes on 2 cores. ``CTXEMBED_SKIP_LAUNCH=1`` skips
these tests on a machine where that is too long (CI never sets it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab_cells
import launch_paths

NOTEBOOKS = launch_paths.notebooks(ROOT)
skip = pytest.mark.skipif(os.environ.get("CTXEMBED_SKIP_LAUNCH") == "1",
                          reason="CTXEMBED_SKIP_LAUNCH=1")


def test_repository_url_is_one_setting():
    # _config.yml's repository.url is the one place; every Colab cell is generated from it.
    assert subprocess.run([sys.executable, str(ROOT / "tools" / "colab_cells.py"), "--check"],
                          check=False, capture_output=True, text=True).returncode == 0, \
        "run: python tools/colab_cells.py  (then tools/sync_notebooks.sh, ctxembed-exercises)"
    url, branch = colab_cells.repository(ROOT)
    for rel in NOTEBOOKS:
        text = (ROOT / rel).read_text()
        # the branch (or tag) of _config.yml, not the repository's default branch
        assert f'REPO, BRANCH = \\"{url}\\", \\"{branch}\\"' in text, rel
        assert "git+{REPO}@{BRANCH}" in text, rel
        assert "google.colab" in text, rel


def test_colab_cell_comes_before_any_import_colab_lacks():
    import nbformat

    for rel in NOTEBOOKS:
        nb = nbformat.read(ROOT / rel, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "google.colab" in code[0].source, f"{rel}: the Colab cell must be the first"


@pytest.fixture(scope="session")
def launched(tmp_path_factory):
    work = tmp_path_factory.mktemp("launch")
    report = launch_paths.LaunchPaths(work).run()
    print("\n" + report.table())
    return {(r.path, r.notebook): r for r in report.results}


@skip
@pytest.mark.launch
@pytest.mark.timeout(3600)   # the first test builds both environments and runs every notebook
@pytest.mark.parametrize("path", ["colab", "binder"])
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(launched, path, notebook):
    result = launched[(path, notebook)]
    assert result.ok, f"{notebook} fails on {path}:\n{result.error}"
