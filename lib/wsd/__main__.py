"""``python -m ctxembed.wsd``: ``serve`` (HTTP on 127.0.0.1), ``prepare`` (build the caches),
or a question: ``python -m ctxembed.wsd "sentence" word`` (like ``ctxembed-wsd``)."""

from __future__ import annotations

import argparse
import os
import sys

SUBCOMMANDS = ("serve", "prepare")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ctxembed.wsd",
        description="The course's word-sense disambiguation system. Ask it a question with "
                    '`python -m ctxembed.wsd "sentence" word` (options: ctxembed-wsd --help), '
                    "or run one of the commands below.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{serve,prepare}")
    serve = commands.add_parser("serve", help="serve the system over HTTP on this machine only",
                                description="Serve the WSD system over HTTP on this machine only.")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    serve.add_argument("--method", default="centroid", choices=("centroid", "knn", "logreg"))
    serve.add_argument("--no-batching", action="store_true",
                       help="answer each question on its own forward pass (by default the "
                            "questions waiting while one batch is encoded form the next)")
    serve.add_argument("--batch-window-ms", type=float, default=0.0,
                       help="how long a batch waits for more questions (default 0)")
    serve.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                       help="the encoder's arithmetic (bf16: faster on CPUs that have it, "
                            "slightly less accurate; see make bench)")
    prepare = commands.add_parser(
        "prepare", help="build the caches: sense inventory, threshold, sense table, evaluations",
        description="Build what the command line, the service and chapter 5 read: the WordNet "
                    "sense inventory, the unknown-sense threshold, the compiled encoder, every "
                    "word's fitted senses, and the evaluations chapter 5 shows.")
    prepare.add_argument("--force", action="store_true",
                         help="choose the unknown-sense threshold again even if one is cached")
    prepare.add_argument("--no-eval", action="store_true",
                         help="skip the evaluations (the command line and service do not need them)")
    return parser


def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.batch_window_ms < 0:
        parser.error("--batch-window-ms must be 0 or more")
    from .server import check_loopback, check_port, serve

    try:
        check_loopback(args.host)
        check_port(args.port)
        import torch

        from .wordnet_system import default_system

        torch.set_num_threads(min(2, torch.get_num_threads()))
        serve(default_system(args.method, precision=args.precision), host=args.host,
              port=args.port, batching=not args.no_batching,
              batch_window=args.batch_window_ms / 1000)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from .evaluation import calibrate_default_threshold
    from .inventory import wordnet_inventory
    from .threshold import calibrated_unknown_threshold, threshold_file

    print(f"WordNet sense inventory: {len(wordnet_inventory()):,} words")
    if args.force or not threshold_file().exists():
        import torch

        torch.set_num_threads(min(2, torch.get_num_threads()))
        calibrate_default_threshold()
    print(f"unknown-sense threshold (chosen on held-out WordNet senses): "
          f"{calibrated_unknown_threshold():.3f}")
    from ..core.models import compile_encoder
    from .sense_table import build_sense_table

    print(f"TorchScript encoder for the command line: {compile_encoder()}")
    print(f"every word's fitted senses: {build_sense_table(progress=sys.stderr.isatty())}")
    if not args.no_eval:       # fill the caches chapter 5 reads
        from .evaluation import (
            evaluate_layers,
            evaluate_wordnet,
            wordnet_configuration,
        )

        overall = evaluate_wordnet().overall
        print(overall[["method", "layers", "pieces", "accuracy"]].to_string(index=False))
        evaluate_layers()
        choice = wordnet_configuration()
        print(f"configuration chosen on the training sentences: {choice.method} "
              f"{choice.options or ''}, layers={choice.layers!r}, pieces={choice.pieces!r}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if argv[:1] and argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help"):
        from .cli import main as cli_main  # a question: "sentence" word [options]

        return cli_main(argv)
    parser = _parser()
    args = parser.parse_args(argv)
    return _serve(parser, args) if args.command == "serve" else _prepare(args)


if __name__ == "__main__":
    sys.exit(main())
