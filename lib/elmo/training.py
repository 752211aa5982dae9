"""The seeded command that trains the shipped ELMo checkpoint (``lib/elmo/elmo_wordnet.pt``).

Run ``python -m ctxembed.elmo train`` (``--help`` lists the options). It builds the
WordNet corpus and vocabulary, trains :class:`ctxembed.elmo.BiLM` on the training split,
measures validation perplexity of both directions and of two count baselines, and
saves an fp16 checkpoint plus a JSON record of what happened (time, tokens/s, perplexities).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from ..data.corpus import load_corpus
from . import model as elmo
from .ngram import KneserNeyBigramLM, UnigramLM


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=elmo.DEFAULT_CHECKPOINT)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vocab-size", type=int, default=12000)
    p.add_argument("--embed-dim", type=int, default=256)
    p.add_argument("--hidden-dim", type=int, default=256)
    p.add_argument("--max-tokens", type=int, default=800, help="tokens per batch, padding included")
    p.add_argument("--lr", type=float, default=4e-3)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many batches")
    p.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--train-sentences", type=int, default=None,
                   help="train on only the first N training sentences (a quick trial run)")
    p.add_argument("--valid-sentences", type=int, default=None,
                   help="measure perplexity on only the first N validation sentences")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1 is fastest on a busy shared 2-core machine)")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from ..core.models import set_seed

    set_seed(args.seed)
    corpus = load_corpus()
    train_sentences = corpus.train[: args.train_sentences]
    valid_sentences = corpus.valid[: args.valid_sentences]
    vocab = elmo.Vocab.build(train_sentences, max_size=args.vocab_size)
    train_ids = elmo.encode_corpus(train_sentences, vocab)
    valid_ids = elmo.encode_corpus(valid_sentences, vocab)
    model = elmo.build_model(vocab, embed_dim=args.embed_dim, hidden_dim=args.hidden_dim)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"corpus: {len(train_ids):,} train / {len(valid_ids):,} valid sentences; "
          f"vocab {len(vocab):,}; {n_params / 1e6:.2f}M parameters")
    t0 = time.perf_counter()
    result = elmo.train(model, train_ids, epochs=args.epochs, max_tokens=args.max_tokens, lr=args.lr,
                        seed=args.seed, time_budget=args.time_budget, max_steps=args.max_steps,
                        progress=not args.no_progress)
    wall = time.perf_counter() - t0
    ppl = elmo.perplexity(model, valid_ids)
    uni = UnigramLM(train_ids, len(vocab)).perplexity(valid_ids)
    kn = KneserNeyBigramLM(train_ids, len(vocab)).perplexity(valid_ids)
    meta = {
        "command": "python -m ctxembed.elmo train " + " ".join(argv if argv is not None else []),
        "args": {k: (v.name if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "steps": result.steps,
        "train_seconds": round(result.seconds, 1),
        "wall_seconds_incl_setup": round(wall, 1),
        "tokens_trained": result.tokens,
        "tokens_per_second": round(result.tokens_per_second, 1),
        "epochs_seen": round(result.tokens / sum(len(s) - 1 for s in train_ids), 3),
        "valid_perplexity": {k: round(v, 2) for k, v in ppl.items() if k != "tokens"},
        "valid_targets": ppl["tokens"],
        "baselines": {"unigram_add1": round(uni, 2), "kneser_ney_bigram": round(kn, 2)},
        "loss_curve": [round(x, 4) for x in result.losses],
        "parameters": n_params,
        "torch": str(torch.__version__),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s)",
        "date": time.strftime("%Y-%m-%d"),
    }
    path = elmo.save_checkpoint(model, vocab, args.out, meta)
    record = {k: v for k, v in meta.items() if k != "loss_curve"}
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    print(f"saved {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return meta


if __name__ == "__main__":
    main()
