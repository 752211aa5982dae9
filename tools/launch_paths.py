#!/usr/bin/env python
"""Open every notebook the way Colab and Binder do, offline, and execute it top to bottom.

Two environments are built once each, from nothing (no ``--system-site-packages``, a
fresh HOME), and every chapter, exercise and solution notebook is executed in both:

**Colab** (``colab``): a fresh venv holding what Colab preinstalls that the course uses
(:data:`COLAB_PREINSTALLED`, torch 2.13.0 first) and nothing of the course. Each notebook
is copied *alone* into an empty folder, with a fresh HOME whose IPython startup file puts a
``google.colab`` module into ``sys.modules``; the repository's GitHub URLs in it are
rewritten to ``file://`` URLs of a clean clone of this checkout's commit. So the notebook's
own Colab cell must install everything it needs
(``pip install "ctxembed-course @ git+file://<clone>"``, non-editable, the committed HEAD).
Chapters run before exercises, so a chapter cannot lean on otter-grader that an exercise's
Colab cell installed.

**Binder** (``binder``): a fresh venv built from ``binder/`` alone, the way repo2docker
does: its base environment (:data:`REPO2DOCKER_BASE`: kernel and notebook runner), then
``binder/requirements.txt`` (its PyTorch CPU index is unreachable offline, so PyPI's
``torch==2.13.0`` is installed first and that line dropped), then ``binder/postBuild`` run
from the root of the clone. Each notebook runs where Binder opens it, inside the clone, with
a fresh copy of the HOME that ``postBuild`` left.

Hub access is simulated by the library's offline defaults (``HF_HUB_OFFLINE=1``): the cells
marked *online* take their offline branch. pip's download cache is shared (``PIP_CACHE_DIR``)
so that building the environments does not download again.

Usage::

    .venv/bin/python tools/launch_paths.py                 # both paths, every notebook
    .venv/bin/python tools/launch_paths.py --paths colab --only chapters/01_static_vs_contextual.ipynb

``tests/test_launch_paths.py`` runs the same thing under ``make test``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab_cells

TORCH = "torch==2.13.0"   # first, always: any other spec downloads GBs of CUDA wheels
# What Colab has preinstalled that the course's notebooks use, plus the notebook runner
# (nbconvert + ipykernel: Colab's own kernel). Not myst-nb, otter-grader, gensim
# or the course package: a notebook's Colab cell must install those.
COLAB_PREINSTALLED = ["transformers>=4.40,<6", "numpy>=1.26", "pandas>=2", "matplotlib>=3.8",
                      "ipywidgets>=8.1,<9", "scikit-learn>=1.4", "nltk>=3.8", "tqdm",
                      "pyarrow>=14", "requests", "ipykernel>=6.29,<7", "nbconvert>=7"]
# What repo2docker's base image brings before binder/ is read: the notebook server and kernel
# (jupyterlab there; its notebook runner here).
REPO2DOCKER_BASE = ["ipykernel>=6.29,<7", "nbconvert>=7"]
COLAB_STARTUP = '''\
# Imitates Colab: its notebooks run with google.colab importable (tools/launch_paths.py).
import importlib.machinery, sys, types
# A real module has a spec: libraries probe Colab with importlib.util.find_spec("google.colab")
# (accelerate does), which raises ValueError on a module whose __spec__ is None.
_colab = types.ModuleType("google.colab")
_colab.__spec__ = importlib.machinery.ModuleSpec("google.colab", None)
try:
    import google as _google            # a namespace package (protobuf) may be there
except ImportError:
    _google = types.ModuleType("google")
    _google.__spec__ = importlib.machinery.ModuleSpec("google", None, is_package=True)
    _google.__path__ = []
    sys.modules["google"] = _google
_google.colab = _colab
sys.modules["google.colab"] = _colab
'''
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               "MPLBACKEND": "agg"}


def notebooks(root: Path = ROOT) -> list[str]:
    """Every notebook a reader can launch: chapters first, then exercises and solutions."""
    found = []
    for folder in ("chapters", "exercises", "solutions"):
        found += sorted(str(p.relative_to(root)) for p in (root / folder).glob("*.ipynb"))
    return found


@dataclass
class Result:
    path: str            # "colab" or "binder"
    notebook: str        # relative to the repository root
    ok: bool
    seconds: float
    error: str = ""


@dataclass
class Report:
    commit: str
    dirty: bool
    setup_seconds: dict = field(default_factory=dict)
    results: list = field(default_factory=list)

    def table(self) -> str:
        lines = [f"launch paths at commit {self.commit[:10]}"
                 + (" (uncommitted changes are NOT tested)" if self.dirty else "")]
        for k, v in self.setup_seconds.items():
            lines.append(f"  build {k} environment: {v:.0f} s")
        for r in self.results:
            lines.append(f"  {r.path:<6} {'pass' if r.ok else 'FAIL'} {r.seconds:6.0f} s  "
                         f"{r.notebook}")
        return "\n".join(lines)


def _run(cmd, cwd=None, env=None, log=None, timeout=None):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if log is not None:
        log.write(f"$ {' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}\n")
        log.flush()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _base_env(home: Path, venv: Path | None) -> dict:
    """A clean environment: nothing of this checkout's venv, PATH or caches leaks in."""
    env = {"HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
           "PATH": ((f"{venv}/bin:" if venv else "") + "/usr/local/bin:/usr/bin:/bin"),
           # pip's download cache is shared, so the builds do not download again
           "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR",
                                           str(Path.home() / ".cache" / "pip")),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", **OFFLINE_ENV}
    for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT",
              "PIP_DEFAULT_TIMEOUT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CONFIG_FILE",
              "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        if k in os.environ:       # the machine's registry access, not anything of the course
            env[k] = os.environ[k]
    if venv:
        env["VIRTUAL_ENV"] = str(venv)
    return env


def make_venv(venv: Path, log, env: dict) -> Path:
    """A fresh venv with a current pip, as Colab and repo2docker have (the pip bundled with
    ``venv`` may be too old to parse ``name @ git+file://...``)."""
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(venv)], log=log)
    py = venv / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"], env=env, log=log)
    return py


class LaunchPaths:
    def __init__(self, work: Path, root: Path = ROOT, jobs: int = 2):
        self.root, self.work, self.jobs = root, work, jobs
        self.work.mkdir(parents=True, exist_ok=True)
        # open for the object's whole life (every step appends to it); run() closes it
        self.log = open(work / "launch.log", "a")  # noqa: SIM115
        self.commit = _run(["git", "-C", str(root), "rev-parse", "HEAD"]).stdout.strip()
        self.dirty = bool(_run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"]).stdout.strip())
        self.report = Report(self.commit, self.dirty)
        self.clone = work / "repo"
        if not self.clone.exists():   # a clean clone of this commit: what Colab/Binder fetch
            _run(["git", "clone", "-q", "--no-hardlinks", str(root), str(self.clone)],
                 log=self.log)
        _run(["git", "-C", str(self.clone), "checkout", "-q", "--detach", self.commit],
             log=self.log)
        self.url, self.branch = colab_cells.repository(root)
        # the install cells ask for git+URL@BRANCH: in the clone, that branch is this commit
        _run(["git", "-C", str(self.clone), "branch", "-f", self.branch, self.commit],
             log=self.log)

    # ------------------------------------------------------------------ Colab
    def build_colab(self) -> Path:
        start = time.perf_counter()
        venv = self.work / "colab-venv"
        home = self.work / "colab-build-home"
        home.mkdir(exist_ok=True)
        shutil.rmtree(venv, ignore_errors=True)
        env = _base_env(home, venv)
        py = make_venv(venv, self.log, env)
        _run([py, "-m", "pip", "install", "-q", TORCH], env=env, log=self.log)
        _run([py, "-m", "pip", "install", "-q", *COLAB_PREINSTALLED], env=env, log=self.log)
        self.report.setup_seconds["colab"] = time.perf_counter() - start
        return venv

    def colab_notebook(self, venv: Path, rel: str, timeout: int) -> Result:
        start = time.perf_counter()
        case = Path(tempfile.mkdtemp(prefix="colab-", dir=self.work))
        home, folder = case / "home", case / "content"
        startup = home / ".ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-colab.py").write_text(COLAB_STARTUP)
        folder.mkdir()
        text = (self.root / rel).read_text()
        # GitHub URLs -> the clean clone of this commit (pip git+file://, urllib file://)
        text = text.replace(colab_cells.raw_url(self.url, self.branch), f"file://{self.clone}")
        text = text.replace(self.url, f"file://{self.clone}")
        nb = folder / Path(rel).name
        nb.write_text(text)
        return self._execute("colab", rel, venv, home, nb, folder, case / "out", timeout,
                             start)

    # ----------------------------------------------------------------- Binder
    def build_binder(self) -> tuple[Path, Path]:
        start = time.perf_counter()
        venv = self.work / "binder-venv"
        home = self.work / "binder-home"
        shutil.rmtree(venv, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir()
        env = _base_env(home, venv)
        py = make_venv(venv, self.log, env)
        _run([py, "-m", "pip", "install", "-q", TORCH], env=env, log=self.log)
        # repo2docker's base environment has the notebook server; its runner stands in here
        _run([py, "-m", "pip", "install", "-q", *REPO2DOCKER_BASE], env=env, log=self.log)
        req = self.clone / "binder" / "requirements.txt"
        kept = [line for line in req.read_text().splitlines()
                if "download.pytorch.org" not in line]      # unreachable offline
        offline_req = self.work / "binder-requirements.txt"
        offline_req.write_text("\n".join(kept) + "\n")
        _run([py, "-m", "pip", "install", "-q", "-r", offline_req], env=env, log=self.log)
        _run(["bash", self.clone / "binder" / "postBuild"], cwd=self.clone, env=env,
             log=self.log)
        self.report.setup_seconds["binder"] = time.perf_counter() - start
        return venv, home

    def binder_notebook(self, venv: Path, home_template: Path, rel: str,
                        timeout: int) -> Result:
        start = time.perf_counter()
        case = Path(tempfile.mkdtemp(prefix="binder-", dir=self.work))
        home = case / "home"
        shutil.copytree(home_template, home, symlinks=True)
        nb = self.clone / rel           # Binder opens the notebook inside the repository
        return self._execute("binder", rel, venv, home, nb, nb.parent, case / "out",
                             timeout, start)

    # ----------------------------------------------------------------- common
    def _execute(self, path, rel, venv, home, nb, cwd, out, timeout, start) -> Result:
        out.mkdir(parents=True, exist_ok=True)
        env = _base_env(home, venv)
        # notebooks run ``jobs`` at a time: give each its share of the cores (a chapter asks
        # torch for at most what it is given), as one student's machine would
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // max(1, self.jobs)))
        cmd = [venv / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
               f"--ExecutePreprocessor.timeout={timeout}",
               "--ExecutePreprocessor.kernel_name=python3", "--output-dir", str(out), str(nb)]
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=timeout + 120, check=False)
            ok, err = proc.returncode == 0, ("" if proc.returncode == 0
                                             else proc.stderr[-4000:])
        except subprocess.TimeoutExpired:
            ok, err = False, f"timed out after {timeout + 120} s"
        self.log.write(f"[{path}] {rel}: {'ok' if ok else 'FAILED'}\n{err}\n")
        self.log.flush()
        result = Result(path, rel, ok, time.perf_counter() - start, err)
        if ok:
            shutil.rmtree(out.parent, ignore_errors=True)   # keep failures for inspection
        return result

    def run(self, paths=("colab", "binder"), only=None, timeout: int = 600) -> Report:
        names = [n for n in notebooks(self.root) if not only or n in only]
        # chapters first: an exercise's Colab cell installs otter-grader in the shared
        # Colab venv, and a chapter must not pass because of it
        names = ([n for n in names if n.startswith("chapters/")]
                 + [n for n in names if not n.startswith("chapters/")])

        def colab():
            venv = self.build_colab()
            return [self.colab_notebook(venv, rel, timeout) for rel in names]

        def binder():
            venv, home = self.build_binder()
            return [self.binder_notebook(venv, home, rel, timeout) for rel in names]

        # One thread per path (each path's notebooks one after another, so two notebooks
        # never pip-install into the same venv at once); jobs=1 runs the paths in turn.
        runners = {"colab": colab, "binder": binder}
        try:
            with cf.ThreadPoolExecutor(max_workers=max(1, min(self.jobs, len(paths)))) as pool:
                futures = [pool.submit(runners[p]) for p in paths]
                for f in futures:
                    self.report.results += f.result()
        finally:
            self.log.close()
        (self.work / "report.json").write_text(json.dumps(asdict(self.report), indent=1))
        return self.report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paths", nargs="+", default=["colab", "binder"],
                    choices=["colab", "binder"])
    ap.add_argument("--only", nargs="*", help="notebooks (relative paths) to run")
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: temp)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("CTXEMBED_LAUNCH_JOBS", "2")))
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="ctxembed-launch-"))
    start = time.perf_counter()
    report = LaunchPaths(work, jobs=args.jobs).run(tuple(args.paths), args.only)
    print(report.table())
    print(f"total {time.perf_counter() - start:.0f} s; log and report in {work}")
    for r in report.results:
        if not r.ok:
            print(f"\n--- {r.path} {r.notebook}\n{r.error}")
    return 0 if all(r.ok for r in report.results) else 1


if __name__ == "__main__":
    sys.exit(main())
