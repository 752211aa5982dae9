"""Grading throughput with the sandbox on and off, and how long one bad submission can hold a worker.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_grading.py [--n 12] [--workers 2] [--timeout 20]

1. Grades N copies of the chapter-1 reference solution with W workers, once with the bubblewrap
   sandbox (``isolation="bwrap"``, when bubblewrap works here) and once with it off
   (``"forkserver"``: same preloading server, in-process guard only), and prints submissions per
   minute for each and the sandbox's cost. Start-up (the servers import torch and load the
   encoder once per worker) is printed separately.
2. Grades a set of bad submissions (infinite loop, memory bomb, fork bomb, thread bomb, output
   flood) alongside good ones in the default mode, and prints how long each bad one held its
   worker; the longest is bounded by the time limit plus the kill.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import nbformat

from ctxembed_instructor.grading import Grader
from ctxembed_instructor.grading.sandbox import bwrap_works

ROOT = Path(__file__).resolve().parent.parent
NAME = "ch01_static_vs_contextual"
ZIP = ROOT / "instructor" / "dist" / f"{NAME}-autograder.zip"

BAD = {
    "infinite_loop": "while True:\n    pass",
    "memory_bomb": "hog = []\nwhile True:\n    hog.append(bytearray(100 * 2**20))",
    "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except Exception:\n        break",
    "thread_bomb": ("import threading, time\nfor _ in range(10000):\n    try:\n"
                    "        threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\n"
                    "    except Exception:\n        break"),
    "output_flood": "import sys\nfor _ in range(100_000):\n    print('spam ' * 40)",
}


def throughput(mode: str, files, workers: int, timeout: float) -> tuple[float, float, int]:
    """(start-up seconds, submissions per minute, full marks) for one isolation mode."""
    grader = Grader(ZIP, timeout=timeout, workers=workers, isolation=mode)
    try:
        t0 = time.monotonic()
        grader.warm_up()
        warm = time.monotonic() - t0
        t0 = time.monotonic()
        results = grader.grade_many(files)
        took = time.monotonic() - t0
    finally:
        grader.close()
    return warm, 60 * len(files) / took, sum(r.total == r.possible for r in results)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args()
    if not ZIP.exists():
        raise SystemExit(f"{ZIP} missing: run ctxembed-exercises (or ctxembed-grade grade once)")

    solution = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = []
        for i in range(args.n):
            p = tmp / f"student{i:03d}.ipynb"
            nbformat.write(solution, p)
            files.append(p)

        modes = (["bwrap"] if bwrap_works() else []) + ["forkserver"]
        rates = {}
        for mode in modes:
            warm, rate, full = throughput(mode, files, args.workers, args.timeout)
            rates[mode] = rate
            print(f"{mode:10s}: start-up {warm:.1f} s; {args.n} reference solutions, {args.workers} workers: "
                  f"{rate:.1f} submissions/minute ({full}/{args.n} full marks)")
        if "bwrap" in rates:
            cost = 1 - rates["bwrap"] / rates["forkserver"]
            print(f"sandbox cost: {100 * cost:.0f}% of throughput (bwrap vs forkserver; target <= 20%)")
        else:
            print("bubblewrap does not work here: no sandbox-on figure (install bubblewrap)")

        bad_files = []
        for name, src in BAD.items():
            nb = copy.deepcopy(solution)
            nb.cells.insert(2, nbformat.v4.new_code_cell(src))
            p = tmp / f"zz_{name}.ipynb"
            nbformat.write(nb, p)
            bad_files.append(p)
        grader = Grader(ZIP, timeout=args.timeout, workers=args.workers, isolation="auto")
        try:
            grader.warm_up()
            t0 = time.monotonic()
            results = grader.grade_many([*bad_files, *files[:4]])
            took = time.monotonic() - t0
        finally:
            grader.close()
        for r in results[:len(bad_files)]:
            print(f"  {Path(r.file).stem[3:]:14s} held its worker {r.seconds:5.1f} s [{r.status}]")
        worst = max(results[:len(bad_files)], key=lambda r: r.seconds)
        print(f"longest hold by one bad submission ({grader.isolation}, limit {args.timeout:g} s): "
              f"{worst.seconds:.1f} s ({Path(worst.file).stem[3:]}); {len(bad_files)} bad + 4 good took {took:.1f} s")


if __name__ == "__main__":
    main()
