"""The seeded command that trains the shipped ELMo checkpoint (``lib/elmo/elmo_wordnet.pt``).

Run ``python -m ctxembed.elmo train`` (``--help`` lists the options). It builds the
WordNet corpus and vocabulary, trains :class:`ctxembed.elmo.BiLM` on the training split,
measures validation perplexity of both directions and of two count baselines, and
saves an fp16 checkpoint plus a JSON record of what happened (time, tokens/s, perplexities).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core.batching import token_budget_batches
from ..data.corpus import load_corpus
from .checkpoint import DEFAULT_CHECKPOINT, save_checkpoint
from .model import BiLM, build_model
from .ngram import KneserNeyBigramLM, UnigramLM
from .vocab import Vocab, collate, encode_corpus


def bucket_batches(lengths: Sequence[int], max_tokens: int = 4000, seed: int = 0,
                   shuffle: bool = True, bucket_width: int = 1) -> list[list[int]]:
    """Group sentence indices into batches of similar length.

    Sentences are sorted by length (ties broken randomly), cut into batches holding
    at most ``max_tokens`` tokens *including padding*, and the batch order is shuffled.

    Returns
    -------
    list of list of int : indices into ``lengths``; every index appears exactly once.

    Example
    -------
    >>> bucket_batches([3, 10, 4, 11], max_tokens=22, shuffle=False)
    [[0, 2], [1, 3]]
    """
    rng = random.Random(seed)
    keys = [(n // bucket_width, rng.random() if shuffle else 0.0, i) for i, n in enumerate(lengths)]
    batches = token_budget_batches([i for _, _, i in sorted(keys)], lengths, max_tokens)
    if shuffle:
        rng.shuffle(batches)
    return batches


@dataclass
class TrainResult:
    """What :func:`train` did: losses per logged step, tokens, seconds."""

    losses: list[float] = field(default_factory=list)
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def train(model: BiLM, encoded: Sequence[Sequence[int]], *, epochs: float = 1.0,
          max_tokens: int = 4000, lr: float = 2e-3, seed: int = 0, time_budget: float | None = None,
          clip: float = 1.0, progress: bool = True, log_every: int = 10,
          max_steps: int | None = None) -> TrainResult:
    """Train both LMs with Adam on length-bucketed batches.

    Parameters
    ----------
    encoded : list of list of int
        Sentences from :func:`encode_corpus`.
    epochs : float
        Passes over the data (fractions allowed).
    max_tokens : int
        Tokens per batch, padding included.
    time_budget : float, optional
        Stop after this many seconds (the learning rate decays over the budget).
    max_steps : int, optional
        Stop after this many batches (the learning rate decays over them).

    Returns
    -------
    TrainResult ; ``losses`` holds the running (smoothed) loss every ``log_every`` steps;
    ``tokens`` counts the predicted targets of both directions / 2
    (i.e. words + one ``<eos>`` per sentence).
    """
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    lengths = [len(s) for s in encoded]
    plan = []
    for epoch in range(math.ceil(epochs)):
        batches = bucket_batches(lengths, max_tokens, seed=seed + epoch)
        if epoch + 1 > epochs:
            batches = batches[: int(len(batches) * (epochs - epoch))]
        plan.extend(batches)
    if max_steps is not None:
        plan = plan[:max_steps]
    total_steps = len(plan)
    warm = max(1, min(100, total_steps // 20))
    result = TrainResult()
    model.train()
    start = time.perf_counter()
    bar = tqdm(plan, desc="training biLM", disable=not progress, mininterval=2.0)
    running = None
    for step, batch in enumerate(bar):
        # linear warm-up, then linear decay to 10% over the steps or the time budget
        elapsed = time.perf_counter() - start
        frac = step / total_steps
        if time_budget:
            frac = max(frac, elapsed / time_budget)
        for group in opt.param_groups:
            group["lr"] = lr * min((step + 1) / warm, max(0.1, 1.0 - frac))
        ids, lens = collate([encoded[i] for i in batch])
        loss = model.loss(ids, lens)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        result.tokens += int((lens - 1).sum())
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % log_every == 0:
            result.losses.append(running)
            bar.set_postfix(loss=f"{running:.3f}", ppl=f"{math.exp(running):.0f}")
        result.steps = step + 1
        if time_budget is not None and time.perf_counter() - start > time_budget:
            break
    result.seconds = time.perf_counter() - start
    bar.close()
    model.eval()
    return result


@torch.no_grad()
def perplexity(model: BiLM, encoded: Sequence[Sequence[int]], max_tokens: int = 8000) -> dict:
    """Validation perplexity of each direction, exact (full normalised softmax).

    Every word and each sentence's ``<eos>`` (forward) / ``<bos>`` (backward) is a target.

    Returns
    -------
    dict with ``forward``, ``backward``, ``mean`` (geometric mean of the two) and ``tokens``.
    """
    was = model.training
    model.eval()
    f = b = 0.0
    n = 0
    for batch in bucket_batches([len(s) for s in encoded], max_tokens, shuffle=False):
        ids, lens = collate([encoded[i] for i in batch])
        out = model(ids, lens)
        f += out["fwd_nll"].item()
        b += out["bwd_nll"].item()
        n += out["num_targets"]
    model.train(was)
    return {"forward": math.exp(f / n), "backward": math.exp(b / n),
            "mean": math.exp((f + b) / (2 * n)), "tokens": n}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
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
    vocab = Vocab.build(train_sentences, max_size=args.vocab_size)
    train_ids = encode_corpus(train_sentences, vocab)
    valid_ids = encode_corpus(valid_sentences, vocab)
    model = build_model(vocab, embed_dim=args.embed_dim, hidden_dim=args.hidden_dim)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"corpus: {len(train_ids):,} train / {len(valid_ids):,} valid sentences; "
          f"vocab {len(vocab):,}; {n_params / 1e6:.2f}M parameters")
    t0 = time.perf_counter()
    result = train(model, train_ids, epochs=args.epochs, max_tokens=args.max_tokens, lr=args.lr,
                        seed=args.seed, time_budget=args.time_budget, max_steps=args.max_steps,
                        progress=not args.no_progress)
    wall = time.perf_counter() - t0
    ppl = perplexity(model, valid_ids)
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
    path = save_checkpoint(model, vocab, args.out, meta)
    record = {k: v for k, v in meta.items() if k != "loss_curve"}
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    print(f"saved {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return meta


if __name__ == "__main__":
    main()
