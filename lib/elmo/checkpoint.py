"""The ELMo checkpoint: saving, loading, and the shipped one (``elmo_wordnet.pt``)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from .model import BiLM, ELMoConfig
from .vocab import Vocab

DEFAULT_CHECKPOINT = Path(__file__).parent / "elmo_wordnet.pt"


def save_checkpoint(model: BiLM, vocab: Vocab, path: str | Path, meta: dict | None = None) -> Path:
    """Save config, vocab and an fp16 state dict (about 2 bytes per parameter)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    import json

    meta = json.loads(json.dumps(meta or {}, default=str))   # plain types only
    torch.save({"config": asdict(model.config), "vocab": vocab.itos, "state_dict": state,
                "meta": meta}, path)
    return path


def load_checkpoint(path: str | Path = DEFAULT_CHECKPOINT) -> tuple[BiLM, Vocab, dict]:
    """Load a checkpoint written by :func:`save_checkpoint` (weights back in fp32, eval mode).

    Returns
    -------
    model, vocab, meta
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `python -m ctxembed.elmo train` to create it.")
    from torch.torch_version import TorchVersion  # a str subclass some records contain

    with torch.serialization.safe_globals([TorchVersion]):
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cfg = dict(ckpt["config"])
    cfg["cutoffs"] = tuple(cfg["cutoffs"])
    model = BiLM(ELMoConfig(**cfg))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in ckpt["state_dict"].items()})
    model.eval()
    return model, Vocab(ckpt["vocab"]), ckpt.get("meta", {})


def load_elmo(path: str | Path = DEFAULT_CHECKPOINT) -> tuple[BiLM, Vocab]:
    """The shipped ELMo (trained by ``python -m ctxembed.elmo train``) and its vocabulary."""
    model, vocab, _ = load_checkpoint(path)
    return model, vocab
