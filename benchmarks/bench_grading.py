"""Grading throughput and how long one bad submission can hold the run.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_grading.py [--n 20] [--workers 2]

1. Grades N copies of the chapter-1 reference solution with W workers (forkserver isolation,
   the default without Docker) and prints submissions per minute (start-up of the forkserver,
   which imports torch and loads the encoder once, is printed separately).
2. Grades one infinite-loop submission with a 20 s limit alongside 4 solutions, and prints how
   long the bad one held its worker (bounded by the limit) and the whole run's time.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import nbformat

from ctxembed.grading import Grader

ROOT = Path(__file__).resolve().parent.parent
NAME = "ch01_static_vs_contextual"
ZIP = ROOT / "instructor" / "dist" / f"{NAME}-autograder.zip"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args()
    if not ZIP.exists():
        raise SystemExit(f"{ZIP} missing: run tools/build_exercises.py first")

    solution = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = []
        for i in range(args.n):
            p = tmp / f"student{i:03d}.ipynb"
            nbformat.write(solution, p)
            files.append(p)

        grader = Grader(ZIP, timeout=args.timeout, workers=args.workers, isolation="forkserver")
        t0 = time.monotonic()
        grader.warm_up()
        warm = time.monotonic() - t0
        t0 = time.monotonic()
        results = grader.grade_many(files)
        took = time.monotonic() - t0
        full = sum(r.total == r.possible for r in results)
        print(f"forkserver start-up (torch, transformers, encoder, GloVe; once per run): {warm:.1f} s")
        print(f"graded {args.n} reference solutions with {args.workers} workers in {took:.1f} s: "
              f"{60 * args.n / took:.1f} submissions/minute ({full}/{args.n} full marks; "
              f"median {sorted(r.seconds for r in results)[len(results) // 2]:.2f} s each)")

        loop = copy.deepcopy(solution)
        loop.cells.insert(2, nbformat.v4.new_code_cell("while True:\n    pass"))
        bad = tmp / "zz_infinite_loop.ipynb"
        nbformat.write(loop, bad)
        t0 = time.monotonic()
        results = grader.grade_many([bad, *files[:4]])
        took = time.monotonic() - t0
        print(f"one infinite-loop submission (limit {args.timeout:g} s) held its worker for "
              f"{results[0].seconds:.1f} s [{results[0].status}]; run of 1 bad + 4 good took {took:.1f} s")


if __name__ == "__main__":
    main()
