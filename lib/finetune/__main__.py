"""``python -m ctxembed.finetune train [--task sentiment|pos|qa|all] [--seeds 0 1 2] [--threads 1]``
and ``python -m ctxembed.finetune contrastive [--seeds 0 1 2] [--threads 2]``;
``python -m ctxembed.finetune prepare`` (run by the set-up) caches chapter 5's WSD system
measured with each tuned encoder (:func:`ctxembed.finetune.representations.wsd_forgetting`).

Seeded: trains chapter 4's frozen-encoder head (QA), LoRA adapters and full
fine-tuning runs, and writes the small artefacts and ``artefacts/record.json``.
Each way's learning rate is chosen on dev from a small grid with the first seed;
the other seeds are trained at it.
A quick trial that leaves the shipped files alone:
``python -m ctxembed.finetune train --out /tmp/ft --max-steps 2 --n-train 16 --n-eval 8 --seeds 0 --lrs 1e-4``.

``contrastive`` trains section 10's LoRA adapters on (WordNet example, definition) pairs
with in-batch negatives (:mod:`ctxembed.finetune.contrastive`); it reads ``--seeds``,
``--lrs``, ``--threads``, ``--out``, ``--max-steps`` (steps per run) and ``--n-eval``
(dev and test synsets).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .tasks import ARTEFACTS, SEEDS, TASKS, main_train


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m ctxembed.finetune")
    p.add_argument("command", choices=["train", "contrastive", "prepare"])
    p.add_argument("--task", default="all", choices=["all", *TASKS])
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: 1 for train, 2 for contrastive)")
    p.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                   help="training seeds (default: 0 1 2); the first one chooses the learning rate")
    p.add_argument("--lrs", type=float, nargs="+", default=None,
                   help="learning rates to choose from on dev, for every way asked (default: "
                        "each way's grid in ctxembed.finetune.tasks.TASKS)")
    p.add_argument("--ways", nargs="*", choices=["frozen", "lora", "full", "feature", "curve"],
                   help="only these ways (default: all); 'feature' is QA's two-layer head on frozen "
                        "states; 'curve' is sentiment's runs on fewer examples; runs of "
                        "different ways share the record")
    p.add_argument("--out", type=Path, default=ARTEFACTS,
                   help="folder for the artefacts and record.json (default: the shipped ones)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop each run after this many batches (a quick trial run)")
    p.add_argument("--n-train", type=int, default=None, help="use the first N training examples")
    p.add_argument("--n-eval", type=int, default=None,
                   help="use the first N dev, test and change-of-domain examples")
    args = p.parse_args(argv)
    for flag in ("max_steps", "n_train", "n_eval"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.command == "prepare":
        from .representations import wsd_forgetting
        for name, correct in wsd_forgetting().items():
            print(f"WSD with the {name} encoder: {correct.mean():.1%} of {len(correct)} uses")
        return
    if args.command == "contrastive":
        from . import contrastive
        n_eval = args.n_eval or contrastive.N_DEV
        contrastive.main_contrastive(args.seeds, tuple(args.lrs or contrastive.LR_GRID),
                                     steps=args.max_steps or contrastive.STEPS,
                                     threads=args.threads or 2, out=args.out,
                                     n_dev=n_eval, n_test=n_eval)
        return
    tasks = list(TASKS) if args.task == "all" else [args.task]
    if len(set(args.seeds)) != len(args.seeds):
        p.error("--seeds must be distinct")
    if args.lrs and min(args.lrs) <= 0:
        p.error("--lrs must be positive")
    lrs = {w: tuple(args.lrs) for w in ("frozen", "lora", "full", "feature")} if args.lrs else None
    main_train(tasks, threads=args.threads or 1, seeds=args.seeds, ways=args.ways, out=args.out,
               max_steps=args.max_steps, n_train=args.n_train, n_eval=args.n_eval, lrs=lrs)


if __name__ == "__main__":
    main()
