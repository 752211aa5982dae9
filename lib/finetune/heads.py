"""Task heads on a pretrained encoder: transformers' ``AutoModelFor...`` classes.

Each head is a small layer added on top of the encoder:

- ``"sequence"``: :class:`~transformers.AutoModelForSequenceClassification`, a
  linear layer ``(hidden, num_labels)`` on the pooled ``[CLS]`` vector;
- ``"token"``: :class:`~transformers.AutoModelForTokenClassification`, a linear
  layer ``(hidden, num_labels)`` applied to every piece;
- ``"qa"``: :class:`~transformers.AutoModelForQuestionAnswering`, a linear
  layer ``(hidden, 2)`` giving every piece a start score and an end score.

The encoder is the course's packaged MiniLM offline (or any hub name online);
the head starts from random weights (seeded) and is trained by fine-tuning.

Example
-------
>>> tok, model = load_task_model("sequence", labels=("negative", "positive"))
>>> {k: tuple(v.shape) for k, v in head_parameters(model).items()}
{'classifier.weight': (2, 384), 'classifier.bias': (2,)}
"""

from __future__ import annotations

import torch
from transformers import (
    AutoModel,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)
from transformers.utils import logging as hf_logging

from ..core.errors import ModelUnavailableError
from ..core.models import DEFAULT_MODEL, hub_reachable, resolve_model_name

HEADS = {"sequence": AutoModelForSequenceClassification,
         "token": AutoModelForTokenClassification,
         "qa": AutoModelForQuestionAnswering,
         "encoder": AutoModel}     # no head: the encoder alone (contrastive training)


def load_task_model(task: str, labels=None, name: str | None = None, seed: int = 0):
    """A fresh tokenizer and ``AutoModelFor<task>`` on a pretrained encoder.

    Parameters
    ----------
    task : {"sequence", "token", "qa", "encoder"}
    labels : sequence of str
        The label names (``"sequence"`` and ``"token"``; not used for ``"qa"``).
    name : str, optional
        Encoder: ``None`` = packaged MiniLM, a folder, or a hub name online.
    seed : int
        Seeds the head's random initialisation.

    Returns
    -------
    (tokenizer, model)
        ``model`` in train mode, head randomly initialised, all parameters trainable.
    """
    if task not in HEADS:
        raise ValueError(f"Unknown task {task!r}: choose one of {sorted(HEADS)}.")
    kwargs = {}
    if task in ("sequence", "token"):
        if not labels:
            raise ValueError(f"A {task!r} head needs its label names, e.g. labels=('negative', 'positive').")
        kwargs = {"num_labels": len(labels), "id2label": dict(enumerate(labels)),
                  "label2id": {l: i for i, l in enumerate(labels)}}
    target, source = resolve_model_name(name or DEFAULT_MODEL)
    hf_logging.disable_progress_bar()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()      # "some weights newly initialised" is expected: the head
    try:
        torch.manual_seed(seed)
        local = source is not None or not hub_reachable()
        try:
            tokenizer = AutoTokenizer.from_pretrained(target, local_files_only=local)
            model = HEADS[task].from_pretrained(target, local_files_only=local, **kwargs)
        except OSError as exc:
            raise ModelUnavailableError(
                f"Cannot load {name!r} here: {exc}. Offline, use the packaged default (name=None) "
                "or a folder holding a saved model.") from exc
    finally:
        hf_logging.set_verbosity(verbosity)
    return tokenizer, model


def head_parameters(model) -> dict[str, torch.Tensor]:
    """The parameters the head adds: everything outside the encoder (``model.base_model``)."""
    base = {id(p) for p in model.base_model.parameters()}
    return {n: p for n, p in model.named_parameters() if id(p) not in base}


def count_parameters(model, trainable_only: bool = False) -> int:
    """Number of parameters (only those with ``requires_grad`` when ``trainable_only``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def freeze_encoder(model):
    """Freeze the encoder, leaving only the head trainable (feature extraction). Returns ``model``."""
    for p in model.base_model.parameters():
        p.requires_grad_(False)
    return model
