"""Run every benchmark and print the book's execution times.

1. Runs each ``benchmarks/bench_*.py`` in turn (its own process, offline, the same
   thread count), printing its figures and how long it took; a failing benchmark is
   reported and the others still run (exit status 1 at the end). ``bench_site.py`` prints
   the Lighthouse scores of the landing page and each chapter (needs the built site).
2. If the site was built (``_build/``), prints each chapter's execution time as
   myst-nb recorded it for the last build (the Sphinx environment in
   ``_build/.doctrees``), or else from the jupyter-cache database
   (``_build/.jupyter_cache``), plus whether it was executed or served from the cache.
3. With ``--cold-build``, also times a cold full build of the book into a temporary
   folder (execution included, nothing cached), leaving ``_build/`` alone.

Usage::

    .venv/bin/python benchmarks/run_all.py              # or: make bench
    .venv/bin/python benchmarks/run_all.py -k embeddings --cold-build
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
BUILD = Path(os.environ.get("CTXEMBED_BUILD", REPO / "_build"))


def run_benchmarks(pattern: str | None) -> list[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    failed = []
    scripts = sorted(p for p in BENCH.glob("bench_*.py") if not pattern or pattern in p.name)
    if not scripts:
        print(f"no benchmarks/bench_*.py{' matching ' + pattern if pattern else ''}")
    for script in scripts:
        print(f"\n=== {script.relative_to(REPO)} " + "=" * max(0, 60 - len(script.name)), flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=REPO, env=env)
        took = time.perf_counter() - start
        status = "ok" if rc == 0 else f"FAILED (exit {rc})"
        print(f"--- {script.name}: {status} in {took:.1f} s", flush=True)
        if rc != 0:
            failed.append(script.name)
    return failed


def _from_environment() -> dict[str, dict] | None:
    """docname -> myst-nb exec data, from the pickled Sphinx environment of the last build."""
    pickled = BUILD / ".doctrees" / "environment.pickle"
    if not pickled.is_file():
        return None
    import sphinx  # noqa: F401  (the pickle holds Sphinx objects)
    try:
        with open(pickled, "rb") as fh:
            env = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, ImportError, AttributeError) as exc:
        # another Sphinx version, a half-written file...
        print(f"(could not read {pickled}: {exc})")
        return None
    meta = getattr(env, "nb_metadata", {}) or {}
    return {doc: data["exec_data"] for doc, data in meta.items() if data.get("exec_data")}


def _from_jupyter_cache() -> dict[str, dict] | None:
    """notebook path -> latest cached execution, from jupyter-cache's database."""
    folder = BUILD / ".jupyter_cache"
    if not folder.is_dir():
        return None
    from jupyter_cache import get_cache

    latest: dict[str, dict] = {}
    for record in get_cache(str(folder)).list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        uri = record.uri
        if Path(uri).is_absolute() and Path(uri).is_relative_to(REPO):
            uri = str(Path(uri).relative_to(REPO))
        if uri not in latest or record.created.timestamp() > latest[uri]["mtime"]:
            latest[uri] = {"runtime": seconds, "mtime": record.created.timestamp(),
                           "method": "cache", "succeeded": True}
    return latest


def print_execution_times() -> None:
    if not BUILD.is_dir():
        print("\nno _build/: build the book (bash tools/build.sh) to see each chapter's execution time")
        return
    data, source = _from_environment(), "_build/.doctrees (last build)"
    if not data:
        data, source = _from_jupyter_cache(), "_build/.jupyter_cache"
    if not data:
        print("\nno execution data in _build/ (has the book been built with execution?)")
        return
    print(f"\n=== chapter execution times, from {source}")
    print(f"{'document':50s} {'seconds':>8s}  {'method':8s} {'ok':3s} recorded")
    total = 0.0
    for doc, d in sorted(data.items()):
        secs = d.get("runtime")
        total += secs or 0.0
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(d["mtime"])) if d.get("mtime") else "?"
        secs_s = f"{secs:8.1f}" if isinstance(secs, (int, float)) else f"{'?':>8s}"
        print(f"{doc:50s} {secs_s}  {d.get('method', '?')!s:8s} "
              f"{'yes' if d.get('succeeded') else 'NO':3s} {when}")
    print(f"{'total':50s} {total:8.1f}")
    print("(a 'cache' method with an old date means the chapter was not re-executed in that build:"
          " the time is that of the run that filled the cache)")


def cold_build() -> bool:
    """Time a full build with execution into a temporary folder (nothing cached)."""
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    out = Path(tempfile.mkdtemp(prefix="ctxembed-cold-build-"))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    print(f"\n=== cold full build into {out} (execution included, empty cache)", flush=True)
    start = time.perf_counter()
    proc = subprocess.run([jb, "build", str(REPO), "--path-output", str(out), "-W", "-n",
                           "--keep-going"], cwd=REPO, env=env, capture_output=True, text=True,
                          check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
    print(f"--- cold build: {'ok' if proc.returncode == 0 else 'FAILED'} in {took:.0f} s "
          f"({took / 60:.1f} min)")
    shutil.rmtree(out, ignore_errors=True)
    return proc.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Run every benchmarks/bench_*.py")
    parser.add_argument("-k", dest="pattern", help="only benchmarks whose file name contains this")
    parser.add_argument("--cold-build", action="store_true",
                        help="also time a cold full build of the book (several minutes)")
    parser.add_argument("--no-bench", action="store_true", help="skip the bench_*.py scripts")
    args = parser.parse_args()
    failed = [] if args.no_bench else run_benchmarks(args.pattern)
    print_execution_times()
    if args.cold_build and not cold_build():
        failed.append("cold build")
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
