"""``python -m ctxembed.bert train``: train the course's small masked language model.

The seeded recipe behind the shipped checkpoint ``mini_mlm.pt`` (see
:func:`ctxembed.bert.mlm.run_training`); its record (time, losses, guesses) is saved in
``mini_mlm.json`` beside it.
"""

from __future__ import annotations

import argparse
from typing import Sequence

from .mlm import CHECKPOINT, run_training


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ctxembed.bert",
                                     description="Train the course's small masked language model.")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train from scratch on WordNet and save the checkpoint")
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--tokens-per-batch", type=int, default=2048)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--out", default=str(CHECKPOINT))
    args = parser.parse_args(argv)
    run_training(steps=args.steps, seed=args.seed, out=args.out,
                 tokens_per_batch=args.tokens_per_batch, lr=args.lr, threads=args.threads)


if __name__ == "__main__":
    main()
