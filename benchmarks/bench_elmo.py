"""Training throughput of ctxembed.elmo's loop vs the source lessons' style.

Same model (the shipped sizes: vocab 12k, embed 256, two 256-unit LSTM layers per
direction, shared adaptive softmax), same sentences, same loss and optimizer, same
number of torch threads. What differs:

- library: length-bucketed batches (~800 tokens incl. padding), packed sequences,
  softmax only over real targets;
- seed style: every sentence padded (or cut) to 50 tokens, random batches of 16
  (= 800 token slots), the LSTMs run over the padding, each direction's whole padded
  sequence flipped, softmax over every position and padding masked afterwards.

Throughput counts real (non-padding) target tokens per second. Run:
``python benchmarks/bench_elmo.py [--seconds 40] [--threads 1]``
"""

import argparse
import random
import time

import torch

from ctxembed import elmo
from ctxembed.data.corpus import load_corpus


def seed_style_step(model, ids, opt):
    """One update the way the source sketch trains (fixed 50-token padding, no packing)."""
    emb = model.embed(ids)
    f = emb
    for lstm in model.fwd:
        f, _ = lstm(f)
    b = torch.flip(emb, [1])
    for lstm in model.bwd:
        b, _ = lstm(b)
    b = torch.flip(b, [1])
    H = model.config.hidden_dim
    h = torch.cat([f[:, :-1].reshape(-1, H), b[:, 1:].reshape(-1, H)])
    y = torch.cat([ids[:, 1:].reshape(-1), ids[:, :-1].reshape(-1)])
    nll = -model.softmax(h, y).output          # computed for padding too ...
    mask = y != elmo.PAD_ID
    loss = nll[mask].mean()                    # ... and thrown away here
    opt.zero_grad()
    loss.backward()
    opt.step()
    return int(mask.sum()) // 2


def run(seconds: float, threads: int, n_sentences: int = 20000):
    torch.set_num_threads(threads)
    corpus = load_corpus()
    vocab = elmo.Vocab.build(corpus.train, max_size=12000)
    rng = random.Random(0)
    sents = rng.sample(corpus.train, n_sentences)
    encoded = elmo.encode_corpus(sents, vocab)

    torch.manual_seed(0)
    model = elmo.build_model(vocab)
    res = elmo.train(model, encoded, epochs=1, max_tokens=800, time_budget=seconds, progress=False)
    lib_tps = res.tokens_per_second

    torch.manual_seed(0)
    model = elmo.build_model(vocab).train()
    opt = torch.optim.Adam(model.parameters(), lr=4e-3)
    fixed = [(s + [elmo.PAD_ID] * 50)[:50] for s in encoded]
    order = list(range(len(fixed)))
    rng.shuffle(order)
    tokens, start, k = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds and k < len(order):
        ids = torch.tensor([fixed[i] for i in order[k: k + 16]])
        tokens += seed_style_step(model, ids, opt)
        k += 16
    seed_tps = tokens / (time.perf_counter() - start)
    real = sum(len(s) for s in encoded)
    print(f"threads={threads}, {seconds:.0f} s per loop, {n_sentences} WordNet training sentences "
          f"(padding to 50 makes {50 * n_sentences / real:.1f}x the real tokens)")
    print(f"library loop (bucketed, packed):   {lib_tps:8.0f} tokens/s")
    print(f"seed style (pad to 50, no buckets): {seed_tps:8.0f} tokens/s")
    print(f"speed-up: {lib_tps / seed_tps:.1f}x")
    return lib_tps, seed_tps


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    run(a.seconds, a.threads)
