"""How much do dynamic padding and length bucketing speed up fine-tuning on a CPU?

Trains the sequence-classification head of the packaged MiniLM on real
movie-review sentences (chapter 4's data) with the library's loop
(:func:`ctxembed.finetune.train`) in two settings that differ only in batching:

1. the library's default: length-bucketed batches, each padded to its own longest sentence;
2. a plain loop: random batches, every batch padded to the longest sentence of the data set.

Same model, optimiser, learning-rate schedule, batch size, examples and
``torch.set_num_threads``; each figure is the median of interleaved rounds (the
machine is shared, so single runs are noisy). Prints training examples per
second, the share of computed positions that are padding, and the ratio
(target: >= 1.5x). Run: ``.venv/bin/python benchmarks/bench_finetune.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

from ctxembed.finetune import (
    TrainConfig,
    tasks,
    train,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    tok, model = tasks.build_model("sentiment", "full")
    rows = tasks.task_data("sentiment")["train"]
    feats, _ = tasks.features("sentiment", tok, rows)
    longest = max(len(f["input_ids"]) for f in feats)
    settings = {"library (bucketed, dynamic padding)": {"bucket": True, "pad_to": None},
                f"plain (random batches, padded to {longest})": {"bucket": False, "pad_to": longest}}
    speed = {k: [] for k in settings}
    padding = {}
    for r in range(args.rounds):
        for name, s in settings.items():
            cfg = TrainConfig(max_steps=args.steps, batch_size=args.batch_size, seed=r, lr=2e-5,
                              bucket=s["bucket"], log_every=args.steps)
            log = train(model, feats, tasks.collator("sentiment", tok, pad_to=s["pad_to"]), cfg)
            speed[name].append(log.examples_per_second)
            padding[name] = 1 - log.real_tokens / log.padded_tokens
    print(f"{len(feats)} movie-review sentences (mean {sum(len(f['input_ids']) for f in feats) / len(feats):.1f}"
          f" pieces, longest {longest}); {args.steps} steps x batch {args.batch_size}, "
          f"{args.threads} thread(s), median of {args.rounds} rounds")
    med = {k: statistics.median(v) for k, v in speed.items()}
    for name in settings:
        print(f"  {name:45s} {med[name]:7.1f} examples/s   padding {100 * padding[name]:4.1f}% of positions")
    lib, plain = med.values()
    print(f"  speed-up: {lib / plain:.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
