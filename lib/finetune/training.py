"""A small, seeded training loop for fine-tuning on a CPU.

It is built from the ecosystem's pieces: :class:`torch.optim.AdamW`,
:func:`transformers.get_linear_schedule_with_warmup` (linear warm-up, then
linear decay to 0), gradient clipping, and transformers' data collators for
**dynamic padding** (each batch is padded to its own longest example). On top
of that it does **length bucketing**: examples are shuffled (seeded), cut into
chunks of 50 batches, sorted by length inside a chunk and batched, and the
batches are shuffled again, so a batch holds examples of similar length and
little padding is computed.

Why not ``transformers.Trainer``? It serves large runs well, but here the loop
is the subject of a chapter and of a benchmark: the page shows these lines
(``inspect.getsource``), the benchmark switches bucketing and padding on and off
in the same loop, and per-step logging, dev evaluations with the task's own
metric (exact match needs span decoding) and timings come back as one plain
record, with no output folders or notebook widgets.

Example
-------
>>> log = train(model, features, collate, TrainConfig(epochs=1, lr=5e-5))   # doctest: +SKIP
>>> log.losses[:3], log.examples_per_second                                # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from ..core.batching import sorted_slices


@dataclass
class TrainConfig:
    """Settings of :func:`train`. ``pad_to=None`` pads each batch to its longest example."""

    epochs: float = 1.0
    max_steps: int | None = None       # overrides epochs when given
    batch_size: int = 32
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    seed: int = 0
    bucket: bool = True                # length bucketing
    pad_to: int | None = None          # pad every batch to this length (the plain loop)
    log_every: int = 10
    eval_every: int | None = None
    threads: int | None = None
    progress: bool = False


@dataclass
class TrainLog:
    """What happened: mean loss every ``log_every`` steps, dev evaluations, time and throughput."""

    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    examples: int = 0
    padded_tokens: int = 0
    real_tokens: int = 0

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds else float("nan")


def batch_order(lengths: Sequence[int], batch_size: int, *, seed: int = 0, bucket: bool = True,
                chunk_batches: int = 50) -> list[list[int]]:
    """One epoch of batches, as lists of example indices (seeded).

    With ``bucket=True`` similar lengths are batched together (see the module
    docstring); with ``bucket=False`` batches are consecutive slices of a random
    permutation.

    Example
    -------
    >>> batch_order([5, 1, 4, 2], 2, seed=0)        # doctest: +SKIP
    [[0, 2], [3, 1]]
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    if bucket:
        size = batch_size * chunk_batches
        chunks = [order[i:i + size] for i in range(0, len(order), size)]
        order = np.concatenate([c[np.argsort([-lengths[j] for j in c], kind="stable")] for c in chunks])
    batches = [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    if bucket:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _decay_groups(model, weight_decay: float):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 or "LayerNorm" in name or "layer_norm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def train(model, features: Sequence[dict], collate: Callable, config: TrainConfig | None = None,
          evaluate: Callable[[object], dict] | None = None) -> TrainLog:
    """Fine-tune ``model`` in place on ``features``.

    Parameters
    ----------
    model : transformers model returning ``.loss`` when given labels
        Only parameters with ``requires_grad`` are trained (a frozen encoder, LoRA...).
    features : list of dict
        One dict per example: ``input_ids`` (list of int) and label keys
        (``labels``, or ``start_positions``/``end_positions``).
    collate : callable
        Turns a list of features into a padded batch of tensors, e.g.
        ``transformers.DataCollatorWithPadding(tokenizer)``.
    config : TrainConfig
    evaluate : callable, optional
        ``evaluate(model) -> dict`` of dev metrics, called every ``eval_every``
        steps and at the end (model in eval mode during the call).

    Returns
    -------
    TrainLog
    """
    config = config or TrainConfig()
    if not features:
        raise ValueError("No training examples: the feature list is empty.")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("The model has no trainable parameters (everything is frozen).")
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    lengths = [len(f["input_ids"]) for f in features]
    per_epoch = math.ceil(len(features) / config.batch_size)
    total = config.max_steps or max(1, round(config.epochs * per_epoch))
    optimizer = torch.optim.AdamW(_decay_groups(model, config.weight_decay), lr=config.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, round(config.warmup_ratio * total), total)
    log, window, step, epoch = TrainLog(), [], 0, 0
    bar = tqdm(total=total, desc="training", disable=not config.progress, leave=False)
    model.train()
    start = time.perf_counter()
    while step < total:
        for idx in batch_order(lengths, config.batch_size, seed=config.seed + epoch, bucket=config.bucket):
            batch = collate([features[i] for i in idx])
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            window.append(loss.item())
            log.examples += len(idx)
            log.padded_tokens += int(batch["input_ids"].numel())
            log.real_tokens += sum(lengths[i] for i in idx)
            bar.update(1)
            if step % config.log_every == 0 or step == total:
                log.steps.append(step)
                log.losses.append(float(np.mean(window)))
                bar.set_postfix(loss=f"{log.losses[-1]:.3f}")
                window = []
            if evaluate and ((config.eval_every and step % config.eval_every == 0) or step == total):
                log.seconds += time.perf_counter() - start
                model.eval()
                with torch.no_grad():
                    log.evals.append(evaluate(model))
                log.eval_steps.append(step)
                model.train()
                start = time.perf_counter()
            if step >= total:
                break
        epoch += 1
    log.seconds += time.perf_counter() - start
    bar.close()
    model.eval()
    return log


def frozen_batches(model, features: Sequence[dict], collate: Callable, batch_size: int = 64,
                   **call):
    """Run a frozen ``model`` over ``features`` in batches of similar length, without gradients.

    Yields ``(indices, batch, output)``: the positions in ``features`` of the batch's rows,
    the collated batch and the model's output (``call`` is passed to the model, e.g.
    ``output_hidden_states=True``). Only the model's inputs are collated (no labels).
    """
    keys = ("input_ids", "attention_mask", "token_type_ids")
    with torch.no_grad():
        for idx in sorted_slices([len(f["input_ids"]) for f in features], batch_size):
            batch = collate([{k: v for k, v in features[j].items() if k in keys} for j in idx])
            yield idx, batch, model(**batch, **call)


@torch.no_grad()
def predict(model, features: Sequence[dict], collate: Callable, batch_size: int = 64) -> list[dict]:
    """Model outputs for each feature, unpadded, in the order of ``features``.

    Returns
    -------
    list of dict
        Per feature, numpy arrays of the model's outputs among ``logits``,
        ``start_logits``, ``end_logits``: ``(num_labels,)`` for a sequence,
        ``(length, ...)`` for outputs per token (padding cut off).
    """
    if not features:
        raise ValueError("No examples to predict: the feature list is empty.")
    model.eval()
    lengths = [len(f["input_ids"]) for f in features]
    out: list[dict | None] = [None] * len(features)
    keys = ("logits", "start_logits", "end_logits")
    for idx in sorted_slices(lengths, batch_size, longest_first=True):
        batch = collate([{k: v for k, v in features[j].items()
                          if k in ("input_ids", "attention_mask", "token_type_ids")} for j in idx])
        result = model(**batch)
        width = batch["input_ids"].shape[1]
        for row, j in enumerate(idx):
            item = {}
            for k in keys:
                v = getattr(result, k, None)
                if v is None:
                    continue
                v = v[row].float().numpy()
                per_token = k != "logits" or v.ndim == 2      # (T,) spans, (T, C) tags; (C,) sentence
                item[k] = v[:lengths[j]] if per_token and v.shape[0] == width else v
            out[j] = item
    return out
