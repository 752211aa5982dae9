"""``python -m ctxembed.wsd``: ``serve`` (HTTP on 127.0.0.1), ``prepare`` (build the caches),
or a question: ``python -m ctxembed.wsd "sentence" word`` (like ``ctxembed-wsd``)."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if argv[:1] == ["serve"]:
        p = argparse.ArgumentParser(prog="python -m ctxembed.wsd serve",
                                    description="Serve the WSD system over HTTP on this machine only.")
        p.add_argument("--port", type=int, default=8765)
        p.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
        p.add_argument("--method", default="centroid", choices=("centroid", "knn", "logreg"))
        p.add_argument("--no-batching", action="store_true",
                       help="answer each question on its own forward pass (by default the "
                            "questions waiting while one batch is encoded form the next)")
        p.add_argument("--batch-window-ms", type=float, default=0.0,
                       help="how long a batch waits for more questions (default 0)")
        p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                       help="the encoder's arithmetic (bf16: faster on CPUs that have it, "
                            "slightly less accurate; see make bench)")
        args = p.parse_args(argv[1:])
        if args.batch_window_ms < 0:
            p.error("--batch-window-ms must be 0 or more")
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
    if argv[:1] == ["prepare"]:
        from .evaluation import calibrate_default_threshold
        from .inventory import wordnet_inventory
        from .threshold import calibrated_unknown_threshold, threshold_file

        print(f"WordNet sense inventory: {len(wordnet_inventory()):,} words")
        if "--force" in argv or not threshold_file().exists():
            import torch

            torch.set_num_threads(min(2, torch.get_num_threads()))
            calibrate_default_threshold()
        print(f"unknown-sense threshold (chosen on held-out WordNet senses): "
              f"{calibrated_unknown_threshold():.3f}")
        from ..core.models import compile_encoder
        from .sense_table import build_sense_table

        print(f"TorchScript encoder for the command line: {compile_encoder()}")
        print(f"every word's fitted senses: {build_sense_table(progress=sys.stderr.isatty())}")
        if "--no-eval" not in argv:       # fill the caches chapter 5 reads
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
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
