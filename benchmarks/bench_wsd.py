"""How fast is the WSD system: in batches, from the command line, over HTTP, in bfloat16?

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_wsd.py [--sentences 256] [--cli-runs 5]
        [--clients 1 8 32] [--requests 256] [--no-bf16-accuracy]

1. **Throughput**: ``predict_details`` of the ready-made system and ``word_vectors`` on the
   same new sentences (WordNet test sentences, words fitted beforehand), side by side, in
   one run; and ``word_vectors`` with the encoder in bfloat16 (``load_encoder(precision="bf16")``).
2. **Command line**: a fresh ``ctxembed-wsd "sentence" word`` process (cold: imports, the
   TorchScript encoder, one word's row of the sense table), against a bare
   ``python -c "import torch, transformers"`` on the same machine; ``--help`` and a refused
   input; the second question in the same process (warm).
3. **HTTP** (``python -m ctxembed.wsd serve``): 1, 8 and 32 concurrent clients (an asyncio
   load generator over httpx), each sending new sentences one after the other: requests/s,
   p50 and p99 latency, with micro-batching (the default; and with a 5 ms window) and without
   (``--no-batching``), and the service's peak memory.
4. **bfloat16's cost in accuracy**: the course's WSD evaluation (held-out WordNet sentences,
   centroid, last layer, mean of pieces) with the fp32 and the bf16 encoder, and their
   paired difference.

Printed figures only: the machine may be shared, so each figure is a median of repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

from ctxembed.core.embeddings import clear_cache, word_vectors
from ctxembed.core.models import load_encoder
from ctxembed.wsd import default_system, wordnet_wsd_data

QUESTION = ("The old bark creaked as it left port under sail.", "bark")


def _exe(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    return str(path) if path.exists() else (shutil.which(name) or name)


def test_sentences(n: int) -> tuple[list[str], list[str], list[str]]:
    """``n`` held-out WordNet sentences (sentence, word as written, lemma)."""
    data = wordnet_wsd_data()
    test = data[data.split == "test"].drop_duplicates("sentence").head(n)
    return list(test.sentence), list(test.word), list(test.lemma)


def bench_throughput(n: int, repeats: int = 3) -> None:
    """Each repeat takes its own ``n`` sentences, and each contender sees them fresh (no
    LRU hit, and ``predict`` writes its vectors into an empty WSD cache folder)."""
    import tempfile

    from ctxembed.wsd.caching import cache_folder
    from ctxembed.wsd.inventory import wordnet_inventory

    sentences, words, lemmas = test_sentences(n * repeats)
    n = len(sentences) // repeats
    system = default_system()
    system.fit_words(sorted(set(lemmas)))
    fp32, bf16 = load_encoder(), load_encoder(precision="bf16")
    word_vectors(sentences[:16], words[:16], encoder=bf16)          # warm-up
    contenders = {
        "vectors": lambda s, w, l: word_vectors(s, w, encoder=fp32),
        "predict": lambda s, w, l: system.predict_details(s, w, lemmas=l),
        "bf16": lambda s, w, l: word_vectors(s, w, encoder=bf16),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory() as tmp, cache_folder(tmp):
        wordnet_inventory()                 # read into the new folder before any timing
        for r in range(repeats):
            part = slice(r * n, (r + 1) * n)
            for name, run in contenders.items():
                clear_cache()
                start = time.perf_counter()
                run(sentences[part], words[part], lemmas[part])
                times[name].append(time.perf_counter() - start)
    rate = {name: n / statistics.median(t) for name, t in times.items()}
    print(f"throughput on {n} new sentences, {torch.get_num_threads()} threads "
          f"(median of {repeats} sets):")
    print(f"  word_vectors (fp32)          {rate['vectors']:7.0f} sentences/s")
    print(f"  default_system().predict     {rate['predict']:7.0f} sentences/s  "
          f"({rate['predict'] / rate['vectors']:.2f}x word_vectors)")
    print(f"  word_vectors (bf16)          {rate['bf16']:7.0f} sentences/s  "
          f"({rate['bf16'] / rate['vectors']:.2f}x fp32)")


def _wall(argv: list[str], runs: int) -> tuple[float, subprocess.CompletedProcess]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def bench_cli(runs: int) -> None:
    from ctxembed.wsd.sense_table import QuickWSD, table_ready

    if not table_ready():
        print("CLI: the sense table is not built: run `python -m ctxembed.wsd prepare` first")
        return
    bare, _ = _wall([sys.executable, "-c", "import torch, transformers"], runs)
    cold, out = _wall([_exe("ctxembed-wsd"), *QUESTION], runs)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    helped, _ = _wall([_exe("ctxembed-wsd"), "--help"], runs)
    refused, out = _wall([_exe("ctxembed-wsd"), "The dog growled.", "bark"], runs)
    assert out.returncode == 2, out.stderr
    quick = QuickWSD(threads=2)
    quick.disambiguate(*QUESTION)
    start = time.perf_counter()
    for i in range(20):
        quick.disambiguate(f"The bark {i} of the birch peels in strips.", "bark")
    warm = (time.perf_counter() - start) / 20
    print(f"command line, median of {runs} fresh processes:")
    print(f"  python -c 'import torch, transformers'   {bare:5.2f} s")
    print(f"  ctxembed-wsd \"...\" bark (cold)            {cold:5.2f} s  ({cold / bare:.2f}x the "
          "bare import; target <= 1.5x)")
    print(f"  ctxembed-wsd --help                       {helped:5.2f} s")
    print(f"  ctxembed-wsd refusing (word not there)    {refused:5.2f} s")
    print(f"  warm, in the same process                 {1000 * warm:5.1f} ms per question")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_service(options: list[str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ctxembed.wsd", "serve", "--port", str(port),
                             *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    while True:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=2).read()
            return proc, base
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(proc.stderr.read().decode()) from None
            if time.perf_counter() - start > 300:
                raise SystemExit("the service did not start within 300 s") from None
            time.sleep(0.2)


async def _load(base: str, clients: int, questions: list[tuple[str, str]]) -> tuple[float, list]:
    """``clients`` concurrent clients, each posting its share of ``questions`` in turn."""
    import httpx

    latencies: list[float] = []
    queue = list(reversed(questions))

    async def client(http):
        while queue:
            sentence, word = queue.pop()
            start = time.perf_counter()
            reply = await http.post(f"{base}/disambiguate", json={"sentence": sentence, "word": word})
            latencies.append(time.perf_counter() - start)
            reply.raise_for_status()

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return time.perf_counter() - start, latencies


def _peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_http(clients: list[int], requests: int) -> None:
    sentences, words, _ = test_sentences(64 + requests * len(clients))
    pool = list(zip(sentences, words))
    print(f"HTTP POST /disambiguate, {requests} new WordNet test sentences per row, shared "
          "by the clients:")
    print("  batching   clients  requests/s   p50 ms   p99 ms  (largest batch)")
    modes = {"on": [], "5 ms": ["--batch-window-ms", "5"], "off": ["--no-batching"]}
    for mode, options in modes.items():
        proc, base = _start_service(options)
        try:
            for sentence, word in pool[:64]:                      # fit the words first
                urllib.request.urlopen(urllib.request.Request(
                    f"{base}/disambiguate", json.dumps({"sentence": sentence, "word": word}).encode(),
                    {"Content-Type": "application/json"}), timeout=300).read()
            offset = 64
            for n in clients:
                questions = pool[offset:offset + requests]
                offset += len(questions)
                wall, lat = asyncio.run(_load(base, n, questions))
                lat.sort()
                health = json.load(urllib.request.urlopen(f"{base}/health", timeout=30))
                largest = (health["batches"] or {}).get("largest", 1)
                print(f"  {mode:>8} {n:>9} {len(lat) / wall:11.1f} "
                      f"{1000 * lat[len(lat) // 2]:8.1f} {1000 * lat[int(0.99 * (len(lat) - 1))]:8.1f}"
                      f"  ({largest})")
            print(f"  peak memory of the service (batching {mode}): "
                  f"{_peak_memory_mb(proc.pid):.0f} MB")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def bench_bf16_accuracy() -> None:
    from ctxembed.evaluation import compare_sentence
    from ctxembed.wsd import evaluate_wordnet

    options = {"methods": ("centroid",), "baselines": ()}
    start = time.perf_counter()
    fp32 = evaluate_wordnet(**options).predictions
    bf16 = evaluate_wordnet(**options, encoder=load_encoder(precision="bf16")).predictions
    a, b = fp32.correct.to_numpy(float), bf16.correct.to_numpy(float)
    print(f"WSD accuracy on {len(a):,} held-out WordNet uses (centroid, last layer, mean): "
          f"fp32 {100 * a.mean():.1f}%, bf16 {100 * b.mean():.1f}% "
          f"({time.perf_counter() - start:.0f} s)")
    print("  " + compare_sentence("fp32", a, "bf16", b, metric="accuracy"))
    agree = np.mean(fp32.predicted.to_numpy() == bf16.predicted.to_numpy())
    print(f"  the two give the same sense for {100 * agree:.1f}% of the uses")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=256)
    ap.add_argument("--cli-runs", type=int, default=5)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--requests", type=int, default=256, help="HTTP requests per row")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-bf16-accuracy", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bench_throughput(args.sentences)
    bench_cli(args.cli_runs)
    bench_http(args.clients, args.requests)
    if not args.no_bf16_accuracy:
        bench_bf16_accuracy()


if __name__ == "__main__":
    main()
