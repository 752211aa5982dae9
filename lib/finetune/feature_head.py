"""Feature-based extractive QA: a two-layer span head on the frozen encoder's states.

Fine-tuning changes the encoder; the *feature-based* way keeps it frozen and trains a real
model on top of its vectors, as ELMo's systems and BERT's feature-based NER did (Devlin
et al., 2019, Table 7: a BiLSTM on frozen layers came within 0.3 F1 of fine-tuning).

1. The frozen encoder reads each window (question and context as a pair, exactly the
   windows fine-tuning sees) once; the sum of its last four layers is kept
   (:func:`frozen_states`).
2. The head: a convolution three pieces wide (each piece sees its neighbours), GELU, and a
   linear layer giving every piece a start score and an end score (:class:`SpanHead`).
   A BiLSTM is the classic choice, but on a 2-core CPU one epoch of it takes about twenty
   times as long, too long for a learning-rate grid and three seeds.
3. Only the head trains (Adam, cross-entropy on the gold start and end pieces), for
   :data:`EPOCHS` epochs; the epoch with the best dev F1 is kept (:func:`train_head`).
   Answers are decoded as for fine-tuning (:func:`ctxembed.finetune.qa.decode_answers`).

Because the encoder runs once, not once per step, the head can afford several epochs.

Example
-------
>>> head = load_head(tasks.ARTEFACTS / ARTEFACT)                             # doctest: +SKIP
>>> evaluate_examples(head, tasks.task_data("qa")["test"])["f1"]             # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from .training import frozen_batches

LAYERS = 4                      # the encoder's last four layers, summed
HEAD = {"hidden": 256, "kernel": 3, "dropout": 0.1}
EPOCHS = 12                     # each epoch has about as many steps as one fine-tuning epoch
BATCH_SIZE = 16                 # as fine-tuning's batches
LR_GRID = (5e-4, 1e-3, 2e-3)    # Adam's learning rate, chosen on dev with the first seed
ARTEFACT = "qa-feature.safetensors"


def frozen_encoder(name: str | None = None):
    """The tokenizer and frozen encoder (no task head) that the span head reads, in eval mode."""
    from .heads import load_task_model
    tokenizer, model = load_task_model("qa", name=name)
    encoder = model.base_model.eval()
    for p in encoder.parameters():
        p.requires_grad_(False)
    return tokenizer, encoder


def frozen_states(encoder, tokenizer, features: Sequence[dict], *, layers: int = LAYERS,
                  batch_size: int = 32) -> list[torch.Tensor]:
    """Per window, the sum of the encoder's last ``layers`` layers: ``(pieces, width)``, float16.

    ``features``: QA windows from :func:`ctxembed.finetune.qa.prepare_qa_features` (or
    ``tasks.features("qa", ...)``). Windows are batched by length, so little padding is computed.
    """
    from transformers import DataCollatorWithPadding
    if not features:
        raise ValueError("No QA windows given: nothing to encode.")
    n_layers = encoder.config.num_hidden_layers
    if not 1 <= layers <= n_layers:
        raise ValueError(f"layers must be between 1 and the encoder's {n_layers}, got {layers}.")
    collate = DataCollatorWithPadding(tokenizer, return_tensors="pt")
    states: list[torch.Tensor | None] = [None] * len(features)
    for idx, _, out in frozen_batches(encoder, features, collate, batch_size,
                                      output_hidden_states=True):
        summed = torch.stack(out.hidden_states[-layers:]).sum(0)
        for row, j in enumerate(idx):
            states[j] = summed[row, :len(features[j]["input_ids"])].to(torch.float16)
    return states


class SpanHead(nn.Module):
    """Two layers over a window's states: a convolution that lets each piece see its
    neighbours (``kernel`` pieces wide), GELU, then a linear layer to (start, end) scores."""

    def __init__(self, width: int = 384, hidden: int = HEAD["hidden"], kernel: int = HEAD["kernel"],
                 dropout: float = HEAD["dropout"]):
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"kernel must be an odd number of pieces, got {kernel}.")
        self.config = {"width": width, "hidden": hidden, "kernel": kernel, "dropout": dropout}
        self.drop = nn.Dropout(dropout)
        self.mix = nn.Conv1d(width, hidden, kernel, padding=kernel // 2)
        self.out = nn.Linear(hidden, 2)

    def forward(self, states: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``states`` ``(batch, pieces, width)``, ``lengths`` ``(batch,)`` → start and end scores
        ``(batch, pieces)``; padding scores -1e4, so no answer is ever placed there."""
        pad = torch.arange(states.shape[1])[None, :] >= lengths[:, None]
        x = self.drop(states.masked_fill(pad[..., None], 0.0)).transpose(1, 2)
        h = nn.functional.gelu(self.mix(x)).transpose(1, 2)
        start, end = self.out(self.drop(h)).unbind(-1)
        return start.masked_fill(pad, -1e4), end.masked_fill(pad, -1e4)


def _batch(states: Sequence[torch.Tensor], idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    rows = [states[j].float() for j in idx]
    return pad_sequence(rows, batch_first=True), torch.tensor([len(r) for r in rows])


def head_outputs(head: SpanHead, states: Sequence[torch.Tensor], batch_size: int = 64) -> list[dict]:
    """Per window, numpy ``start_logits`` and ``end_logits`` (what ``decode_answers`` reads)."""
    head.eval()
    out: list[dict] = []
    with torch.no_grad():
        for i in range(0, len(states), batch_size):
            idx = range(i, min(i + batch_size, len(states)))
            x, lengths = _batch(states, idx)
            start, end = head(x, lengths)
            out += [{"start_logits": start[r, :n].numpy(), "end_logits": end[r, :n].numpy()}
                    for r, n in enumerate(lengths.tolist())]
    return out


def evaluate_head(head: SpanHead, states, meta, examples) -> dict:
    """Exact match and F1 (%) of the head's answers, with ``pred`` (answer texts)."""
    from ..data.squad import squad_metrics
    from .qa import decode_answers
    answers = [a.text for a in decode_answers(head_outputs(head, states), meta, examples)]
    return {**squad_metrics(answers, examples), "pred": answers}


def evaluate_examples(head: SpanHead, examples, tokenizer=None, encoder=None,
                      layers: int = LAYERS) -> dict:
    """From QA examples to the head's exact match, F1 (%) and answers: windows, the frozen
    encoder's states (``tokenizer``/``encoder`` default to :func:`frozen_encoder`'s), spans."""
    from .qa import QA_WINDOW, prepare_qa_features
    if encoder is None:
        tokenizer, encoder = frozen_encoder()
    feats, meta = prepare_qa_features(tokenizer, examples, **QA_WINDOW)
    return evaluate_head(head, frozen_states(encoder, tokenizer, feats, layers=layers), meta, examples)


def train_head(states, features, dev: tuple, *, lr: float, seed: int = 0, epochs: int = EPOCHS,
               batch_size: int = BATCH_SIZE, max_steps: int | None = None,
               progress: bool = False) -> tuple[SpanHead, dict]:
    """Train a :class:`SpanHead` on cached ``states`` (one per window of ``features``).

    ``dev`` is ``(states, meta, examples)``: F1 is measured after every epoch and the head
    of the best epoch is returned (the test set plays no part). ``max_steps`` stops the
    training after that many batches (a quick trial). Returns ``(head, log)``;
    ``log`` holds ``dev`` (the best epoch's metrics), ``dev_by_epoch``, ``best_epoch``,
    ``steps``, ``train_seconds``, ``losses`` (mean per epoch).
    """
    if len(states) != len(features):
        raise ValueError(f"{len(states)} cached windows for {len(features)} features.")
    torch.manual_seed(seed)
    head = SpanHead(width=states[0].shape[-1])
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    starts = torch.tensor([f["start_positions"] for f in features])
    ends = torch.tensor([f["end_positions"] for f in features])
    gen = torch.Generator().manual_seed(seed)
    log = {"dev_by_epoch": [], "losses": [], "steps": 0}
    best, best_state = -1.0, None
    t = time.perf_counter()
    for epoch in range(epochs):
        head.train()
        perm = torch.randperm(len(states), generator=gen).tolist()
        total, n_batches = 0.0, 0
        for i in range(0, len(perm), batch_size):
            if max_steps is not None and log["steps"] >= max_steps:
                break
            idx = perm[i:i + batch_size]
            x, lengths = _batch(states, idx)
            s, e = head(x, lengths)
            loss = (loss_fn(s, starts[idx]) + loss_fn(e, ends[idx])) / 2
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(head.parameters(), 1.0)
            opt.step()
            total += loss.item()
            n_batches += 1
            log["steps"] += 1
        metrics = {k: v for k, v in evaluate_head(head, *dev).items() if k != "pred"}
        log["dev_by_epoch"].append(metrics)
        log["losses"].append(total / max(n_batches, 1))
        if progress:
            print(f"  epoch {epoch + 1}: loss {log['losses'][-1]:.3f}, dev F1 {metrics['f1']:.1f}",
                  flush=True)
        if metrics["f1"] > best:
            best = metrics["f1"]
            best_state = {k: v.clone() for k, v in head.state_dict().items()}
            log["best_epoch"], log["dev"] = epoch + 1, metrics
    head.load_state_dict(best_state)
    log["train_seconds"] = time.perf_counter() - t
    return head.eval(), log


def save_head(head: SpanHead, path: Path) -> Path:
    """The head's weights (float16) and its sizes, as safetensors."""
    from safetensors.torch import save_file
    state = {k: v.to(torch.float16).contiguous() for k, v in head.state_dict().items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata={k: str(v) for k, v in head.config.items()})
    Path(path).chmod(0o644)         # safetensors writes through a private temporary file
    return Path(path)


def load_head(path: Path) -> SpanHead:
    """A saved :class:`SpanHead` (the shipped one: ``tasks.ARTEFACTS / ARTEFACT``), in eval mode."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m ctxembed.finetune train --task qa "
                                "--ways feature`.")
    with safe_open(str(path), "pt") as f:
        cfg = f.metadata()
    head = SpanHead(width=int(cfg["width"]), hidden=int(cfg["hidden"]), kernel=int(cfg["kernel"]),
                    dropout=float(cfg["dropout"]))
    head.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    return head.eval()
