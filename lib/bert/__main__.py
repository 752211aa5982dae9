"""``python -m ctxembed.bert train``: train the course's small masked language model.

The seeded recipe behind the shipped checkpoint ``mini_mlm.pt`` (see
:func:`ctxembed.bert.mlm.run_training`); its record (time, losses, guesses) is saved in
``mini_mlm.json`` beside it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

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
    t.add_argument("--out", default=str(CHECKPOINT),
                   help="checkpoint path; its record is written beside it (.json)")
    t.add_argument("--texts", type=int, default=None,
                   help="use only the first N WordNet texts (a quick trial run; default: all)")
    t.add_argument("--eval-texts", type=int, default=1000, help="held-out texts")
    t.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.texts is not None and args.eval_texts >= args.texts:
        parser.error(f"--eval-texts ({args.eval_texts}) must be below --texts ({args.texts})")
    run_training(steps=args.steps, seed=args.seed, out=args.out,
                 tokens_per_batch=args.tokens_per_batch, lr=args.lr, threads=args.threads,
                 progress=not args.quiet, limit=args.texts, n_eval=args.eval_texts)


if __name__ == "__main__":
    main()
