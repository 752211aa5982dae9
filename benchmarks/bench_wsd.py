"""How fast is the WSD system, from the command line, over HTTP, and to fit?

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_wsd.py [--requests 40] [--cli-runs 3] [--no-full-fit]

1. ``ctxembed-wsd "sentence" word``: wall time of whole command runs (a fresh process each:
   imports, model load, the cached sense vectors), median of ``--cli-runs``.
2. ``python -m ctxembed.wsd serve`` started on a free 127.0.0.1 port: latency of
   ``POST /disambiguate`` per request (median and 90th percentile over ``--requests``
   requests on varied sentences, after one warm-up request per word), and the same
   question answered in-process (``default_system().disambiguate``) for comparison.
3. Time to fit a :class:`~ctxembed.wsd.WSDSystem` on *all* WordNet example sentences
   (every (sentence, word) use of :func:`ctxembed.data.senses.wordnet_usages`), vectors
   computed cold (no cache), split into embedding and classifier fitting.

Printed figures only; the machine is shared, so single runs are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

from ctxembed.wsd import WSDSystem, default_system

QUESTIONS = [
    ("The dog's bark woke the whole street.", "bark"),
    ("Moss grew thick on the bark of the pine.", "bark"),
    ("The old bark creaked as it left port under sail.", "bark"),
    ("The meadow is full of flowers in spring.", "spring"),
    ("The mattress spring squeaked all night.", "spring"),
    ("They drank from a cold spring in the hills.", "spring"),
    ("She deposited her wages at the bank.", "bank"),
    ("We walked along the bank of the river.", "bank"),
    ("He lost the key to the front door.", "key"),
    ("Patience is the key to success.", "key"),
]


def _exe(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    return str(path) if path.exists() else name


def bench_cli(runs: int) -> None:
    times = []
    for i in range(runs):
        sentence, word = QUESTIONS[i % len(QUESTIONS)]
        start = time.perf_counter()
        out = subprocess.run([_exe("ctxembed-wsd"), sentence, word], capture_output=True, text=True,
                             check=False)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            raise SystemExit(out.stderr)
    print(f"CLI  ctxembed-wsd, whole command (fresh process): median {statistics.median(times):.2f} s "
          f"over {runs} runs (min {min(times):.2f} s)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, sentence: str, word: str) -> dict:
    req = urllib.request.Request(url, json.dumps({"sentence": sentence, "word": word}).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)


def bench_http(requests: int) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ctxembed.wsd", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        start = time.perf_counter()
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(proc.stderr.read().decode())
                if time.perf_counter() - start > 300:
                    raise SystemExit("the service did not start within 300 s")
                time.sleep(0.2)
        print(f"HTTP service up in {time.perf_counter() - start:.1f} s")
        for sentence, word in QUESTIONS:          # warm-up: each word fitted once
            _post(f"{base}/disambiguate", sentence, word)
        lat = []
        for i in range(requests):
            sentence, word = QUESTIONS[i % len(QUESTIONS)]
            sentence = sentence.replace(".", f" (take {i}).")   # a new sentence: no cache hit
            t = time.perf_counter()
            _post(f"{base}/disambiguate", sentence, word)
            lat.append(time.perf_counter() - t)
        lat.sort()
        print(f"HTTP POST /disambiguate: median {1000 * statistics.median(lat):.1f} ms, "
              f"p90 {1000 * lat[int(0.9 * (len(lat) - 1))]:.1f} ms over {requests} requests")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    wsd = default_system()
    for sentence, word in QUESTIONS:
        wsd.disambiguate(sentence, word)
    lat = []
    for i in range(requests):
        sentence, word = QUESTIONS[i % len(QUESTIONS)]
        t = time.perf_counter()
        wsd.disambiguate(sentence.replace(".", f" (again {i})."), word)
        lat.append(time.perf_counter() - t)
    print(f"in-process default_system().disambiguate: median {1000 * statistics.median(lat):.1f} ms")


def bench_full_fit() -> None:
    from ctxembed.data.senses import wordnet_usages
    from ctxembed.wsd.vectors import use_vectors

    usages = wordnet_usages()
    ok = []
    import ctxembed

    for u in usages:
        try:
            ctxembed.find_word(u.sentence, u.form)
            ok.append(u)
        except ValueError:
            pass
    sentences = [u.sentence for u in ok]
    start = time.perf_counter()
    X = use_vectors(sentences, [u.form for u in ok], cache=False)
    embed = time.perf_counter() - start
    start = time.perf_counter()
    wsd = WSDSystem().fit_vectors(X, [u.lemma for u in ok], [u.synset for u in ok])
    fit = time.perf_counter() - start
    print(f"fit on all WordNet examples: {len(ok):,} uses of {len(wsd.words_):,} words "
          f"({len(usages) - len(ok)} skipped): embedding {embed:.1f} s + centroids {fit:.1f} s "
          f"= {embed + fit:.1f} s on {torch.get_num_threads()} thread(s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--cli-runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-full-fit", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    default_system().fit_words(sorted({w for _, w in QUESTIONS}))   # sense vectors cached first
    bench_cli(args.cli_runs)
    bench_http(args.requests)
    if not args.no_full_fit:
        bench_full_fit()


if __name__ == "__main__":
    main()
