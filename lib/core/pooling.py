"""Pooling token vectors into one sentence vector, padding ignored."""

from __future__ import annotations

import torch

POOLING_CHOICES = ("cls", "mean", "max")


def pool_tokens(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str = "mean") -> torch.Tensor:
    """Pool token vectors into one vector per sequence.

    Parameters
    ----------
    hidden : torch.Tensor, shape (batch, seq, H)
        Token vectors, e.g. a model's ``last_hidden_state``.
    attention_mask : torch.Tensor, shape (batch, seq)
        1 for tokens to pool over, 0 for padding (and for anything else to skip).
    pooling : {"cls", "mean", "max"}
        The same ``pooling`` as :func:`~ctxembed.core.embeddings.sentence_vectors`
        (``pieces=`` is the other pooling of the course: a word's WordPiece vectors into one).
        ``"cls"`` takes position 0 (the ``[CLS]`` token); ``"mean"`` averages the
        unmasked tokens; ``"max"`` takes the per-dimension maximum over them.

    Returns
    -------
    torch.Tensor, shape (batch, H)

    Example
    -------
    >>> h = torch.tensor([[[1., 2.], [3., 4.], [100., 100.]]])
    >>> pool_tokens(h, torch.tensor([[1, 1, 0]]), "mean")
    tensor([[2., 3.]])
    """
    if hidden.ndim != 3 or attention_mask.shape != hidden.shape[:2]:
        raise ValueError(
            f"Expected hidden (batch, seq, H) and mask (batch, seq); got {tuple(hidden.shape)} "
            f"and {tuple(attention_mask.shape)}."
        )
    if pooling == "cls":
        return hidden[:, 0]
    mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
    if pooling == "mean":
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    if pooling == "max":
        filled = hidden.masked_fill(mask == 0, torch.finfo(hidden.dtype).min)
        return filled.max(dim=1).values
    raise ValueError(f"pooling={pooling!r}: use one of {', '.join(POOLING_CHOICES)}.")
