#!/usr/bin/env python
"""Run an exported Gradescope autograder the way Gradescope runs it, offline.

Gradescope builds one image per assignment from the autograder zip alone: it unpacks the zip
into ``/autograder/source`` and runs its ``setup.sh`` (a conda environment from the zip's
``environment.yml``, then the course's data step that ``ctxembed-grade gradescope`` adds).
For each submission it starts a fresh container of that image, puts the student's files in
``/autograder/submission`` and runs ``/autograder/run_autograder``, which runs
``python /autograder/source/run_otter.py`` in that environment; the score is read from
``/autograder/results/results.json``.

This tool does the same with what is reachable here (package registries only):

- **the image**: a fresh venv (no ``--system-site-packages``, a fresh HOME) with the zip's
  ``environment.yml`` pip list installed, ``torch==2.13.0`` first (any other spec pulls GBs
  of CUDA wheels). The course library's ``git+https://github.com/...@BRANCH`` resolves to a
  clean clone of this checkout's commit, whose BRANCH is that commit. conda's own
  packages (python, ``jupyter_server``) and ``setup.sh``'s apt/miniforge steps cannot be
  fetched offline; pip and this machine's Python stand in for them. Then the zip's own
  data step (``ctxembed_prepare.sh``) runs in that venv.
- **each submission**: without network, bubblewrap mounts the host read-only and builds the ``/autograder``
  layout (a fresh copy of the source, the submission, an empty results folder, HOME the
  image's), and runs the command of the zip's ``run_autograder`` with the venv's Python.

Usage::

    .venv/bin/python tools/gradescope_check.py instructor/dist/ch01_static_vs_contextual-autograder.zip \\
        solutions/ch01_static_vs_contextual.ipynb exercises/ch01_static_vs_contextual.ipynb

prints each submission's score. ``tests/test_gradescope.py`` runs it for every exercise.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import launch_paths

from ctxembed_instructor.grading.cli import (
    GRADESCOPE_PREPARE,
    export_gradescope,
    gradescope_pip_requirements,
)

RUN_OTTER = "python /autograder/source/run_otter.py"
# Gradescope builds and grades as root, HOME /root: here, the account's own home folder
ACCOUNT_HOME = Path(pwd.getpwuid(os.getuid()).pw_dir)


@dataclass
class GradescopeResult:
    submission: str
    score: float
    possible: float
    seconds: float
    results: dict

    def line(self) -> str:
        return f"{self.score:g}/{self.possible:g} in {self.seconds:.0f} s  {self.submission}"


class GradescopeImage:
    """The grading image of one exported autograder zip, built once, then run per submission."""

    def __init__(self, work: Path, exported_zip: Path, root: Path = ROOT):
        self.work = work
        self.paths = launch_paths.LaunchPaths(work, root=root)   # a clean clone of HEAD
        self.log = self.paths.log
        self.source = work / "source"
        self.venv = work / "image-venv"
        self.home = work / "image-home"
        self.build_seconds = 0.0
        self.built_from: list[str] | None = None
        self.use(exported_zip)

    def use(self, exported_zip: Path) -> None:
        """Unpack ``exported_zip`` as ``/autograder/source``. Once the image is built, another
        exercise's zip may be used only if it asks for the same pip list."""
        shutil.rmtree(self.source, ignore_errors=True)
        with zipfile.ZipFile(exported_zip) as zf:
            zf.extractall(self.source)
        run_autograder = (self.source / "run_autograder").read_text()
        if RUN_OTTER not in run_autograder:
            raise RuntimeError(f"the zip's run_autograder no longer runs {RUN_OTTER!r}:\n"
                               f"{run_autograder}")
        if self.built_from is not None and self.pip_requirements() != self.built_from:
            raise RuntimeError(f"{exported_zip} asks for {self.pip_requirements()}, the image "
                               f"was built for {self.built_from}")

    def pip_requirements(self) -> list[str]:
        """The zip's pip list, the course library's GitHub URL pointing at the clean clone."""
        reqs = gradescope_pip_requirements((self.source / "environment.yml").read_text())
        return [r.replace(self.paths.url, f"file://{self.paths.clone}") for r in reqs]

    def build(self) -> None:
        start = time.perf_counter()
        shutil.rmtree(self.venv, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        env = self._env()
        py = launch_paths.make_venv(self.venv, self.log, env)
        launch_paths._run([py, "-m", "pip", "install", "-q", launch_paths.TORCH], env=env,
                          log=self.log)
        launch_paths._run([py, "-m", "pip", "install", "-q", *self.pip_requirements()],
                          env=env, log=self.log)
        # setup.sh's last step, in the image's layout (registries reachable, as on Gradescope)
        argv = self._bwrap({self.source: "/autograder/source"}, network=True)
        launch_paths._run([*argv, "bash", f"/autograder/source/{GRADESCOPE_PREPARE}"],
                          env=self._env(), log=self.log)
        self.built_from = self.pip_requirements()
        self.build_seconds = time.perf_counter() - start

    def _env(self, tmp: Path | None = None) -> dict:
        env = launch_paths._base_env(ACCOUNT_HOME, self.venv)
        env["PIP_CACHE_DIR"] = str(ACCOUNT_HOME / ".cache" / "pip")   # the image's own
        if tmp is not None:
            env["TMPDIR"] = str(tmp)
        return env

    def _bwrap(self, binds: dict[Path, str], network: bool) -> list[str]:
        """The host read-only, with the image's HOME in place of the account's home (so no
        cache of this machine is found: the course looks in the account's home too), the work
        folder writable and ``binds`` (host folder -> path) laid out under ``/autograder``."""
        argv = ["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-ipc"]
        if not network:
            argv.append("--unshare-net")
        for entry in sorted(os.listdir("/")):
            path = Path("/") / entry
            if entry in ("proc", "dev", "autograder"):
                continue
            if path.is_symlink():
                argv += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                argv += ["--ro-bind", str(path), str(path)]
        argv += ["--proc", "/proc", "--dev", "/dev",
                 "--bind", str(self.home), str(ACCOUNT_HOME),
                 "--bind", str(self.work), str(self.work),   # visible even under that home
                 # the venv's interpreter (pyenv keeps it in the home folder)
                 "--ro-bind", sys.base_prefix, sys.base_prefix,
                 "--dir", "/autograder"]
        for host, inside in binds.items():
            argv += ["--bind", str(host), inside]
        return argv + ["--chdir", "/autograder"]

    def grade(self, notebook: Path, timeout: int = 900) -> GradescopeResult:
        start = time.perf_counter()
        case = Path(tempfile.mkdtemp(prefix="submission-", dir=self.work))
        submission, results, scratch = case / "submission", case / "results", case / "tmp"
        for d in (submission, results, scratch):
            d.mkdir()
        # a fresh container's own copy: otter rewrites otter_config.json in it
        source = shutil.copytree(self.source, case / "source")
        shutil.copy(notebook, submission / notebook.name)
        # no network: everything a submission reads must already be in the image (Gradescope's
        # containers may reach the internet, but what one fetches, every submission fetches)
        argv = self._bwrap({source: "/autograder/source", submission: "/autograder/submission",
                            results: "/autograder/results"}, network=False)
        proc = subprocess.run([*argv, "bash", "-c", RUN_OTTER], env=self._env(scratch), capture_output=True, text=True, timeout=timeout,
                              check=False)
        self.log.write(f"$ grade {notebook}\n{proc.stdout}\n{proc.stderr}\n")
        self.log.flush()
        found = results / "results.json"
        if not found.exists():
            raise RuntimeError(f"no results.json for {notebook} (exit {proc.returncode}):\n"
                               f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        data = json.loads(found.read_text())
        tests = data.get("tests", [])
        score = data.get("score", sum(t.get("score", 0) for t in tests))
        possible = sum(t.get("max_score", 0) for t in tests)
        return GradescopeResult(str(notebook), float(score), float(possible),
                                time.perf_counter() - start, data)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("autograder", type=Path, help="an autograder zip (instructor/dist/...)")
    ap.add_argument("submissions", type=Path, nargs="+", help="notebooks to grade")
    ap.add_argument("--work", type=Path, help="folder for the image (default: a temporary one)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="gradescope-"))
    exported = export_gradescope(args.autograder, work / "gradescope.zip")
    image = GradescopeImage(work, exported)
    image.build()
    print(f"image built in {image.build_seconds:.0f} s ({image.venv})")
    for nb in args.submissions:
        print(image.grade(nb).line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
