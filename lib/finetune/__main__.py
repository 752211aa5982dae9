"""``python -m ctxembed.finetune train [--task sentiment|pos|qa|all] [--threads 1]``.

Seeded: trains chapter 4's frozen-encoder head (QA), LoRA adapters and full
fine-tuning runs, and writes the small artefacts and ``artefacts/record.json``.
"""

from __future__ import annotations

import argparse

from .tasks import HEAD_KIND, main_train


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m ctxembed.finetune")
    p.add_argument("command", choices=["train"])
    p.add_argument("--task", default="all", choices=["all", *HEAD_KIND])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ways", nargs="*", choices=["frozen", "lora", "full", "curve"],
                   help="only these ways (default: all); 'curve' is sentiment's runs on fewer "
                        "examples; runs of different ways share the record")
    args = p.parse_args(argv)
    tasks = list(HEAD_KIND) if args.task == "all" else [args.task]
    main_train(tasks, threads=args.threads, seed=args.seed, ways=args.ways)


if __name__ == "__main__":
    main()
