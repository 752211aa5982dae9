"""How fast does the library turn sentences into word vectors?

On 1,000 real sentences (WordNet 3.0 example sentences, each with the word whose
sense it illustrates) this prints:

1. the library, cold: ``ctxembed.word_vectors(sentences, words)`` after
   ``ctxembed.clear_cache()``;
2. a raw, length-sorted, batched forward pass of the same model (fast tokenizer
   with offsets, padded batches, mean of the word's pieces): the floor the
   library's bookkeeping is measured against (target: library >= 0.9x raw);
3. the source lessons' style: one sentence per forward pass, the word found with
   ``tokenizer.convert_tokens_to_ids(word)`` and ``(ids == id).nonzero()``
   (target: library >= 1.5x this loop), and how often that search fails;
4. tokens per second, and a repeated call on the same sentences served from the
   library's cache.

Same model, batch size and ``torch.set_num_threads`` for every contender; each
timing is the median of a few interleaved rounds (the machine is shared, so
single runs are noisy). Run: ``.venv/bin/python benchmarks/bench_embeddings.py``
(``--help`` for options). Prepare WordNet first: ``.venv/bin/python -m ctxembed.data.wordnet``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

import ctxembed
from ctxembed.data.wordnet import load_wordnet

_TOKEN = re.compile(r"[A-Za-z]+")


def wordnet_sentences(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` distinct WordNet example sentences, each with a word it contains.

    The word is the synset's lemma as it appears in its example (inflected forms
    found with WordNet's own ``morphy``), e.g. ("the bank refused the loan", "bank").
    A seeded sample over all parts of speech, so lengths and words are varied.
    """
    wn = load_wordnet()
    candidates, seen = [], set()
    for synset in wn.all_synsets():
        lemmas = sorted({name.lower() for name in synset.lemma_names() if name.isalpha()})
        for sentence in synset.examples():
            if lemmas and sentence not in seen:
                seen.add(sentence)
                candidates.append((sentence, lemmas, "a" if synset.pos() == "s" else synset.pos()))
    random.Random(seed).shuffle(candidates)
    sentences, words = [], []
    for sentence, lemmas, pos in candidates:
        tokens = _TOKEN.findall(sentence)
        word = next((t for t in tokens if t.lower() in lemmas), None)
        if word is None:  # an inflected form: "banks", "deposited"
            word = next((t for t in tokens if wn.morphy(t.lower(), pos) in lemmas), None)
        if word is not None:
            sentences.append(sentence)
            words.append(word)
            if len(sentences) == n:
                return sentences, words
    raise SystemExit(f"only {len(sentences)} usable WordNet sentences, asked for {n}")


# --------------------------------------------------------------------------- #
# The contenders
# --------------------------------------------------------------------------- #
def run_library(sentences, words, batch_size):
    ctxembed.clear_cache()
    return ctxembed.word_vectors(sentences, words, batch_size=batch_size)


def run_library_cached(sentences, words, batch_size):
    return ctxembed.word_vectors(sentences, words, batch_size=batch_size)


_LETTER = re.compile(r"[^\W_]")


def first_whole_word(sentence: str, word: str) -> tuple[int, int]:
    """Span of the first whole-word, case-blind occurrence (plain str.find, no regex per word)."""
    low, target = sentence.lower(), word.lower()
    i = low.find(target)
    while i != -1:
        j = i + len(target)
        if not (i and _LETTER.match(low, i - 1)) and not (j < len(low) and _LETTER.match(low, j)):
            return i, j
        i = low.find(target, i + 1)
    raise ValueError(f"{word!r} not in {sentence!r}")


def run_raw(sentences, words, batch_size, enc):
    """Length-sorted padded batches straight through the model; mean of the word's pieces."""
    tok, model = enc.tokenizer, enc.model
    spans = [first_whole_word(s, w) for s, w in zip(sentences, words)]
    encoded = tok(sentences, return_offsets_mapping=True)
    order = sorted(range(len(sentences)), key=lambda i: len(encoded["input_ids"][i]))
    out = np.empty((len(sentences), enc.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            padded = tok.pad({"input_ids": [encoded["input_ids"][i] for i in batch]},
                             return_tensors="pt")
            hidden = model(**padded).last_hidden_state.numpy()
            for row, i in enumerate(batch):
                offs = np.asarray(encoded["offset_mapping"][i])
                a, b = spans[i]
                pieces = np.flatnonzero((offs[:, 1] > offs[:, 0]) & (offs[:, 0] < b) & (offs[:, 1] > a))
                out[i] = hidden[row, pieces].mean(axis=0)
    return out


def run_lesson_loop(sentences, words, enc):
    """The source lessons' way: one sentence per forward pass, token-id search."""
    tok, model = enc.tokenizer, enc.model
    out = np.full((len(sentences), enc.hidden_size), np.nan, dtype=np.float32)
    failures = 0
    with torch.no_grad():
        for i, (sentence, word) in enumerate(zip(sentences, words)):
            inputs = tok(sentence, return_tensors="pt")
            embeddings = model(**inputs).last_hidden_state
            word_id = tok.convert_tokens_to_ids(word.lower())
            try:
                position = (inputs["input_ids"][0] == word_id).nonzero().squeeze().item()
            except (RuntimeError, ValueError):  # word split into pieces ([UNK] id) or repeated
                failures += 1
                continue
            out[i] = embeddings[0, position, :].numpy()
    return out, failures


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int,
                        default=int(os.environ.get("BENCH_THREADS", min(2, os.cpu_count() or 1))),
                        help="torch threads for every contender (default 2, or $BENCH_THREADS); "
                             "on a machine busy with other work 1 thread gives steadier figures")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--loop-rounds", type=int, default=1, help="rounds of the slow loop")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when piped to a file

    torch.set_num_threads(args.threads)
    sentences, words = wordnet_sentences(args.sentences)
    enc = ctxembed.load_encoder()
    n_tokens = sum(len(ids) for ids in enc.tokenizer(sentences)["input_ids"])
    print(f"model {enc.name} ({enc.num_layers} layers, hidden {enc.hidden_size}); "
          f"torch {torch.__version__}, {args.threads} thread(s), batch size {args.batch_size}")
    print(f"data: {len(sentences)} WordNet 3.0 example sentences, {n_tokens:,} WordPiece tokens "
          f"(mean {n_tokens / len(sentences):.1f} per sentence incl. [CLS]/[SEP]); "
          f"e.g. {words[0]!r} in {sentences[0]!r}")

    # Warm-up: first calls pay for lazy initialisation (kernels, allocator, tokenizer).
    run_raw(sentences[:64], words[:64], args.batch_size, enc)
    run_library(sentences[:64], words[:64], args.batch_size)

    lib_t, raw_t, loop_t = [], [], []
    for r in range(args.rounds):
        t, lib_vectors = timed(run_library, sentences, words, args.batch_size)
        lib_t.append(t)
        t, raw_vectors = timed(run_raw, sentences, words, args.batch_size, enc)
        raw_t.append(t)
        print(f"  round {r + 1}: library {lib_t[-1]:.2f}s, raw {raw_t[-1]:.2f}s")
    for r in range(args.loop_rounds):
        t, (loop_vectors, failures) = timed(run_lesson_loop, sentences, words, enc)
        loop_t.append(t)
        print(f"  lessons loop round {r + 1}: {t:.2f}s")
    cached_t = [timed(run_library_cached, sentences, words, args.batch_size)[0] for _ in range(3)]
    info = ctxembed.cache_info()

    lib, raw, loop = (statistics.median(x) for x in (lib_t, raw_t, loop_t))
    cached = statistics.median(cached_t)
    diff = float(np.abs(lib_vectors - raw_vectors).max())
    ok = ~np.isnan(loop_vectors).any(axis=1)
    loop_diff = float(np.abs(lib_vectors[ok] - loop_vectors[ok]).max()) if ok.any() else float("nan")

    def rate(sec):
        return f"{len(sentences) / sec:7.1f} sentences/s {n_tokens / sec:9,.0f} tokens/s"

    print()
    print(f"{'contender':44s} {'time':>8s}   throughput")
    print(f"{'library word_vectors, cold cache':44s} {lib:7.2f}s   {rate(lib)}")
    print(f"{'raw length-sorted batched forward':44s} {raw:7.2f}s   {rate(raw)}")
    print(f"{'lessons: one sentence per pass + id search':44s} {loop:7.2f}s   {rate(loop)}")
    print(f"{'library again, same sentences (cache)':44s} {cached * 1e3:6.1f}ms   "
          f"{len(sentences) / cached:,.0f} sentences/s")
    print()
    print(f"library vs raw batched : {raw / lib:.2f}x  (target >= 0.90x)  "
          f"[{'OK' if raw / lib >= 0.9 else 'BELOW TARGET'}]")
    print(f"library vs lessons loop: {loop / lib:.2f}x  (target >= 1.50x)  "
          f"[{'OK' if loop / lib >= 1.5 else 'BELOW TARGET'}]")
    print(f"cached repeat          : {lib / cached:,.0f}x faster than cold")
    print(f"same vectors: library vs raw max |diff| = {diff:.1e}; vs loop (where its search "
          f"worked) {loop_diff:.1e}")
    print(f"lessons' token-id search failed on {failures} of {len(sentences)} sentences "
          f"(word split into WordPieces or repeated)")
    print(f"cache after the run: {info}")
    print(f"rounds: library {[round(x, 2) for x in lib_t]}, raw {[round(x, 2) for x in raw_t]}, "
          f"loop {[round(x, 2) for x in loop_t]}")


if __name__ == "__main__":
    main()
