"""Masked-language-model pretraining, small enough to run on a laptop CPU.

BERT learns by filling in blanks: 15% of the (non-special) tokens of each
sequence are *selected*; of those, 80% are replaced by ``[MASK]``, 10% by a
random token and 10% left as they are, and the model is trained to predict the
original token at every selected position (and nowhere else).

This module holds that masking rule (:func:`mask_tokens`), a real corpus to
train on (WordNet 3.0's glosses and example sentences, ~165k texts, ~1.46M
words, tokenised with MiniLM's WordPiece vocabulary), a tiny ``BertForMaskedLM``
(:func:`small_config`), a seeded training loop (:func:`train`), fill-mask
(:func:`fill_mask`) and the shipped checkpoint that ``python -m ctxembed.bert train``
writes (:func:`load_checkpoint`).

Why train our own? No English BERT with a good MLM head installs from a
package registry (see the course's notes on offline assets); online,
``pipeline("fill-mask", model="bert-base-uncased")`` is the real thing.

Example
-------
>>> from ctxembed.bert.mlm import load_checkpoint, fill_mask
>>> model, tokenizer, meta = load_checkpoint()
>>> fill_mask(model, tokenizer, "a large body of [MASK]", top_k=3)   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..core.batching import length_order, pad_right, token_budget_batches
from ..core.cache import cached_file, write_atomic
from ..data.wordnet import wordnet_texts

CHECKPOINT = Path(__file__).parent / "mini_mlm.pt"
IGNORE = -100  # label of positions that are not predicted (PyTorch's cross-entropy default)

# Outcome codes of :class:`MaskedBatch.action`
NOT_SELECTED, MASKED, RANDOM, KEPT = 0, 1, 2, 3


# --------------------------------------------------------------------------- #
# 1. The masking rule
# --------------------------------------------------------------------------- #
@dataclass
class MaskedBatch:
    """The result of :func:`mask_tokens`; all tensors (B, T).

    input_ids : the corrupted input the model sees.
    labels : the original id at selected positions, ``-100`` everywhere else.
    action : what happened at each position (0 not selected, 1 -> [MASK],
        2 -> random token, 3 -> kept unchanged).
    """

    input_ids: torch.Tensor
    labels: torch.Tensor
    action: torch.Tensor

    @property
    def selected(self) -> torch.Tensor:
        return self.labels != IGNORE


def mask_tokens(
    input_ids: torch.Tensor,
    *,
    mask_token_id: int,
    special_ids: Sequence[int],
    vocab_size: int,
    attention_mask: torch.Tensor | None = None,
    probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> MaskedBatch:
    """BERT's 15% selection with 80/10/10 replacement.

    Parameters
    ----------
    input_ids : (B, T) long
    mask_token_id : id of ``[MASK]``
    special_ids : ids never selected ([CLS], [SEP], [PAD], ...)
    vocab_size : random replacements are drawn uniformly from ``range(vocab_size)``
        minus ``special_ids``
    attention_mask : (B, T), optional; positions with 0 (padding) are never selected
    probability : chance that each eligible token is selected (0.15)
    generator : a seeded ``torch.Generator`` for reproducible masks

    Returns
    -------
    MaskedBatch

    Example
    -------
    >>> g = torch.Generator().manual_seed(0)
    >>> ids = torch.tensor([[101, 7592, 2088, 102, 0]])
    >>> mb = mask_tokens(ids, mask_token_id=103, special_ids=[0, 100, 101, 102, 103],
    ...                  vocab_size=30522, generator=g, probability=0.5)
    >>> mb.labels.shape
    torch.Size([1, 5])
    """
    ids = input_ids.clone()
    special = torch.isin(ids, torch.as_tensor(list(special_ids), dtype=ids.dtype))
    eligible = ~special
    if attention_mask is not None:
        eligible &= attention_mask.bool()

    u = torch.rand(ids.shape, generator=generator)
    selected = eligible & (u < probability)
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, IGNORE))

    # One more uniform number per position decides what a selected token becomes.
    r = torch.rand(ids.shape, generator=generator)
    to_mask = selected & (r < 0.8)
    to_random = selected & (r >= 0.8) & (r < 0.9)
    kept = selected & (r >= 0.9)

    candidates = torch.tensor(sorted(set(range(vocab_size)) - set(special_ids)), dtype=ids.dtype)
    random_ids = candidates[torch.randint(len(candidates), ids.shape, generator=generator)]
    ids[to_mask] = mask_token_id
    ids[to_random] = random_ids[to_random]

    action = torch.zeros_like(ids)
    action[to_mask], action[to_random], action[kept] = MASKED, RANDOM, KEPT
    return MaskedBatch(ids, labels, action)


def mask_for_tokenizer(input_ids, tokenizer, **kwargs) -> MaskedBatch:
    """:func:`mask_tokens` with the special ids, [MASK] id and vocabulary size taken from ``tokenizer``."""
    return mask_tokens(input_ids, mask_token_id=tokenizer.mask_token_id,
                       special_ids=tokenizer.all_special_ids, vocab_size=len(tokenizer), **kwargs)


def masking_statistics(batch: MaskedBatch, attention_mask: torch.Tensor | None = None,
                       special_ids: Sequence[int] = ()) -> dict[str, float]:
    """Fractions a reader can check against 15% and 80/10/10.

    ``selected`` is over eligible tokens (not special, not padding); ``masked``,
    ``random``, ``kept`` are over selected tokens.
    """
    original = torch.where(batch.selected, batch.labels, batch.input_ids)
    eligible = ~torch.isin(original, torch.as_tensor(list(special_ids), dtype=original.dtype))
    if attention_mask is not None:
        eligible &= attention_mask.bool()
    n_sel = int(batch.selected.sum())
    return {
        "eligible tokens": int(eligible.sum()),
        "selected": n_sel / max(int(eligible.sum()), 1),
        "masked": int((batch.action == MASKED).sum()) / max(n_sel, 1),
        "random": int((batch.action == RANDOM).sum()) / max(n_sel, 1),
        "kept": int((batch.action == KEPT).sum()) / max(n_sel, 1),
        "selected outside eligible": int((batch.selected & ~eligible).sum()),
    }


def masking_coverage(input_ids: torch.Tensor, tokenizer, *, epochs: int,
                     masked_copies: int | None, attention_mask: torch.Tensor | None = None,
                     probability: float = 0.15, seed: int = 0) -> np.ndarray:
    """Share of eligible tokens that have been a prediction target, after each epoch.

    **Static masking** masks each sequence ``masked_copies`` times before training and cycles
    through those copies, one per epoch (BERT made 10 copies and trained for 40 epochs, so
    each copy was seen 4 times). **Dynamic masking** (``masked_copies=None``, RoBERTa) draws a
    fresh mask every time a sequence is fed to the model. A token never selected is never
    learned from as a target, so the curve shows how much of the corpus each scheme teaches.

    Parameters
    ----------
    input_ids : (B, T) long
        The sequences, as :func:`pad_batch` returns them.
    tokenizer
        Gives the special ids, ``[MASK]`` and the vocabulary size (:func:`mask_for_tokenizer`).
    epochs : int
        Passes over the sequences.
    masked_copies : int or None
        Masked copies made up front (static), or None for a new mask per epoch (dynamic).
    attention_mask : (B, T), optional
        Padding (0) is never eligible.
    probability, seed
        The selection rate (0.15) and the seed of the first mask (copy ``k`` uses ``seed + k``).

    Returns
    -------
    numpy.ndarray, shape (epochs,)
        After epoch ``e`` (index ``e - 1``), the fraction of eligible tokens selected at least
        once. With ``k`` copies its expectation is ``1 - (1 - probability) ** min(e, k)``.
    """
    if int(epochs) < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}.")
    if masked_copies is not None and int(masked_copies) < 1:
        raise ValueError(f"masked_copies must be at least 1 (static) or None (dynamic), "
                         f"got {masked_copies}.")
    n_masks = int(epochs) if masked_copies is None else min(int(masked_copies), int(epochs))
    eligible = ~torch.isin(input_ids, torch.as_tensor(tokenizer.all_special_ids,
                                                      dtype=input_ids.dtype))
    if attention_mask is not None:
        eligible &= attention_mask.bool()
    masks = [mask_for_tokenizer(input_ids, tokenizer, attention_mask=attention_mask,
                                probability=probability,
                                generator=torch.Generator().manual_seed(seed + k)).selected
             for k in range(n_masks)]
    seen = torch.zeros_like(eligible)
    coverage = []
    for epoch in range(int(epochs)):
        seen |= masks[epoch % n_masks]
        coverage.append(float(seen[eligible].float().mean()))
    return np.asarray(coverage)


# --------------------------------------------------------------------------- #
# 2. The corpus: WordNet glosses and example sentences
# --------------------------------------------------------------------------- #
def corpus_token_ids(tokenizer, texts: Sequence[str] | None = None, max_length: int = 64,
                     use_cache: bool = True) -> list[np.ndarray]:
    """Tokenise ``texts`` (default: all of :func:`ctxembed.data.wordnet.wordnet_texts`) with [CLS]/[SEP], truncated to ``max_length``.

    Returns one int32 array per text. Cached on disk in the course's cache folder (``mlm/``),
    named by a hash of the texts, the tokenizer's whole definition (normaliser, vocabulary,
    special tokens), ``max_length`` and the tokenizer libraries' versions, because tokenising
    165k texts takes a while on 2 cores.
    """
    texts = list(wordnet_texts() if texts is None else texts)
    definition = (tokenizer.backend_tokenizer.to_str() if getattr(tokenizer, "is_fast", False)
                  else json.dumps([type(tokenizer).__name__, sorted(tokenizer.get_vocab().items())]))
    inputs = [hashlib.sha256("\n".join(texts).encode()).hexdigest(),
              hashlib.sha256(definition.encode()).hexdigest(), max_length]
    path = cached_file("mlm", "wordnet_ids", ".npz", code=(), libraries=("tokenizers", "transformers"),
                       inputs=inputs)
    if use_cache and path.exists():
        data = np.load(path)
        return np.split(data["ids"], data["ends"][:-1])
    enc = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    arrays = [np.asarray(x, dtype=np.int32) for x in enc]
    if use_cache:
        write_atomic(path, lambda tmp: np.savez(tmp, ids=np.concatenate(arrays),
                                                 ends=np.cumsum([len(a) for a in arrays])))
    return arrays


def split_corpus(sequences: list[np.ndarray], n_eval: int = 2000, seed: int = 0):
    """A seeded (train, eval) split of tokenised texts."""
    order = np.random.default_rng(seed).permutation(len(sequences))
    eval_idx, train_idx = order[:n_eval], order[n_eval:]
    return [sequences[i] for i in train_idx], [sequences[i] for i in eval_idx]


def pad_batch(sequences: Sequence[np.ndarray], pad_id: int = 0):
    """Pad to the longest: returns ``input_ids`` (B, T) and ``attention_mask`` (B, T)."""
    return pad_right(sequences, pad_id)


def length_batches(sequences: Sequence[np.ndarray], tokens_per_batch: int, rng: np.random.Generator):
    """Batches of texts of similar length (little padding), in a random order."""
    lengths = [len(s) for s in sequences]
    batches = token_budget_batches(length_order(lengths), lengths, tokens_per_batch)
    rng.shuffle(batches)
    return batches


class CompactTokenizer:
    """MiniLM's WordPiece tokenizer restricted to the pieces a small corpus actually uses.

    A 30,522-way output layer costs most of a tiny model's compute; WordNet's
    text uses far fewer pieces often. This keeps the special tokens and the
    ``size`` most frequent pieces; any other piece becomes ``[UNK]``. It behaves
    like a Hugging Face tokenizer where this module needs one (``__call__``,
    ``convert_ids_to_tokens``, ``mask_token_id``, ``all_special_ids``, ``len``).

    Attributes
    ----------
    base : the full MiniLM tokenizer
    vocab_ids : np.ndarray (K,), the base ids kept; compact id ``i`` is base id ``vocab_ids[i]``
    """

    def __init__(self, base, vocab_ids: Sequence[int]):
        self.base = base
        self.vocab_ids = np.asarray(vocab_ids, dtype=np.int64)
        unk = int(np.flatnonzero(self.vocab_ids == base.unk_token_id)[0])
        self._to_compact = np.full(len(base), unk, dtype=np.int64)
        self._to_compact[self.vocab_ids] = np.arange(len(self.vocab_ids))
        for name in ("pad", "unk", "cls", "sep", "mask"):
            setattr(self, f"{name}_token", getattr(base, f"{name}_token"))
            setattr(self, f"{name}_token_id", int(self._to_compact[getattr(base, f"{name}_token_id")]))
        self.all_special_ids = sorted({int(self._to_compact[i]) for i in base.all_special_ids})

    @classmethod
    def from_corpus(cls, base, sequences: Sequence[np.ndarray], size: int = 8192) -> CompactTokenizer:
        """Keep the specials plus the ``size`` most frequent base ids in ``sequences``."""
        counts = np.bincount(np.concatenate(sequences), minlength=len(base))
        counts[base.all_special_ids] = 0
        top = np.argsort(-counts, kind="stable")[:size]
        return cls(base, sorted(set(base.all_special_ids)) + sorted(int(i) for i in top if counts[i] > 0))

    def __len__(self) -> int:
        return len(self.vocab_ids)

    def compact(self, ids):
        """Map base ids (array or list) to compact ids."""
        return self._to_compact[np.asarray(ids, dtype=np.int64)]

    def __call__(self, texts, return_tensors=None, **kwargs):
        out = self.base(texts, **kwargs)
        ids = out["input_ids"]
        if return_tensors == "pt":
            return {"input_ids": torch.from_numpy(self.compact(ids)),
                    "attention_mask": torch.as_tensor(out["attention_mask"])}
        return {"input_ids": [self.compact(x).tolist() for x in ids],
                "attention_mask": out["attention_mask"]}

    def convert_ids_to_tokens(self, ids):
        if isinstance(ids, (int, np.integer)):
            return self.base.convert_ids_to_tokens(int(self.vocab_ids[ids]))
        return self.base.convert_ids_to_tokens([int(self.vocab_ids[i]) for i in ids])

    def coverage(self, sequences: Sequence[np.ndarray]) -> float:
        """Fraction of the (base-id) tokens in ``sequences`` that are kept, not turned into [UNK]."""
        flat = np.concatenate(sequences)
        base_unk = flat == self.base.unk_token_id
        kept = self.vocab_ids[self._to_compact[flat]] == flat
        return float((kept | base_unk).mean())


# --------------------------------------------------------------------------- #
# 3. The model, its loss, training
# --------------------------------------------------------------------------- #
def small_config(vocab_size: int = 8197, hidden: int = 128, layers: int = 2, heads: int = 2,
                 intermediate: int = 512, max_length: int = 64):
    """A tiny BERT configuration: 2 layers, hidden 128, 2 heads (about 1.5M parameters with 8k pieces)."""
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=intermediate,
                      max_position_embeddings=max_length, type_vocab_size=2, pad_token_id=0)


def new_model(config=None, seed: int = 0):
    """A randomly initialised ``BertForMaskedLM`` (seeded)."""
    from transformers import BertForMaskedLM

    torch.manual_seed(seed)
    return BertForMaskedLM(config or small_config())


def mlm_loss(model, batch: MaskedBatch, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the selected positions only.

    The vocabulary projection (the expensive part: H x 30522) is applied only
    where there is something to predict, ~15% of the tokens.
    """
    hidden = model.bert(input_ids=batch.input_ids, attention_mask=attention_mask).last_hidden_state
    sel = batch.selected
    logits = model.cls(hidden[sel])                                  # (n_selected, V)
    return torch.nn.functional.cross_entropy(logits, batch.labels[sel])


@torch.no_grad()
def evaluate(model, sequences: Sequence[np.ndarray], tokenizer, seed: int = 1234,
             tokens_per_batch: int = 4096) -> float:
    """MLM loss on ``sequences`` with a fixed masking seed (the same masks every call)."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    total, count = 0.0, 0
    for idx in length_batches(sequences, tokens_per_batch, np.random.default_rng(0)):
        ids, mask = pad_batch([sequences[i] for i in idx], tokenizer.pad_token_id)
        mb = mask_for_tokenizer(ids, tokenizer, attention_mask=mask, generator=g)
        n = int(mb.selected.sum())
        if n:
            total += float(mlm_loss(model, mb, mask)) * n
            count += n
    return total / max(count, 1)


@dataclass
class TrainLog:
    """What :func:`train` records."""

    steps: list = field(default_factory=list)         # step numbers of the logged train losses
    train_loss: list = field(default_factory=list)    # mean train loss since the previous log
    eval_steps: list = field(default_factory=list)
    eval_loss: list = field(default_factory=list)
    seconds: float = 0.0
    tokens_seen: int = 0


def train(model, train_seqs: Sequence[np.ndarray], tokenizer, *, steps: int,
          eval_seqs: Sequence[np.ndarray] | None = None, tokens_per_batch: int = 2048,
          lr: float = 1e-3, warmup: float = 0.05, weight_decay: float = 0.01, seed: int = 0,
          log_every: int = 50, eval_every: int | None = None, progress: bool = False) -> TrainLog:
    """Train ``model`` with MLM for ``steps`` updates (AdamW, linear warm-up then linear decay).

    Batches hold about ``tokens_per_batch`` tokens of similar-length texts;
    masks are drawn fresh every epoch from a generator seeded with ``seed``.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    n_warm = max(1, int(warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / n_warm, max(0.0, (steps - s) / max(1, steps - n_warm))))
    log = TrainLog()
    batches: list = []
    running, running_n = 0.0, 0
    start = time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        if not batches:
            batches = length_batches(train_seqs, tokens_per_batch, rng)
        ids, mask = pad_batch([train_seqs[i] for i in batches.pop()], tokenizer.pad_token_id)
        mb = mask_for_tokenizer(ids, tokenizer, attention_mask=mask, generator=g)
        if not mb.selected.any():
            continue
        loss = mlm_loss(model, mb, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += float(loss.detach())
        running_n += 1
        log.tokens_seen += int(mask.sum())
        if step % log_every == 0 or step == steps:
            log.steps.append(step)
            log.train_loss.append(running / running_n)
            running, running_n = 0.0, 0
            if progress:
                print(f"step {step:5d}  loss {log.train_loss[-1]:.3f}  "
                      f"{time.perf_counter() - start:6.0f} s", flush=True)
        if eval_seqs is not None and eval_every and (step % eval_every == 0 or step == steps):
            log.eval_steps.append(step)
            log.eval_loss.append(evaluate(model, eval_seqs, tokenizer))
    log.seconds = time.perf_counter() - start
    model.eval()
    return log


# --------------------------------------------------------------------------- #
# 4. Fill-mask
# --------------------------------------------------------------------------- #
@torch.no_grad()
def fill_mask(model, tokenizer, text: str, top_k: int = 5) -> list[list[tuple[str, float]]]:
    """Top-``top_k`` guesses (token, probability) for each ``[MASK]`` in ``text``.

    Example
    -------
    >>> model, tokenizer, meta = load_checkpoint()
    >>> [guesses] = fill_mask(model, tokenizer, "a large body of [MASK]", top_k=3)
    >>> [token for token, prob in guesses]                     # doctest: +SKIP
    ['water', ...]
    """
    if tokenizer.mask_token not in text:
        raise ValueError(f"No {tokenizer.mask_token} in {text!r}: put one where the model should guess.")
    model.eval()
    batch = tokenizer([text], return_tensors="pt")
    logits = model(**{k: v for k, v in batch.items() if k in ("input_ids", "attention_mask")}).logits[0]
    where = (batch["input_ids"][0] == tokenizer.mask_token_id).nonzero().flatten()
    out = []
    for pos in where.tolist():
        probs = torch.softmax(logits[pos].float(), dim=-1)
        top = probs.topk(top_k)
        out.append([(tokenizer.convert_ids_to_tokens(int(i)), float(p))
                    for p, i in zip(top.values, top.indices)])
    return out


def default_tokenizer():
    """MiniLM's WordPiece tokenizer (uncased, 30,522 pieces): the vocabulary of the small MLM."""
    from ..core.models import load_encoder

    return load_encoder().tokenizer


# --------------------------------------------------------------------------- #
# 5. The shipped checkpoint
# --------------------------------------------------------------------------- #
def save_checkpoint(model, tokenizer: CompactTokenizer, meta: dict,
                    path: Path | str = CHECKPOINT) -> Path:
    """Save weights in float16 (tied output weights stored once), config, vocabulary and ``meta``."""
    path = Path(path)
    tied = set(getattr(model, "_tied_weights_keys", {}) or {})
    state = {k: v.detach().to(torch.float16).clone() for k, v in model.state_dict().items()
             if k not in tied}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.config.to_dict(), "state_dict": state, "meta": meta,
                "vocab_ids": torch.from_numpy(tokenizer.vocab_ids)}, path)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return path


def load_checkpoint(path: Path | str = CHECKPOINT):
    """Load the small MLM: returns ``(model, CompactTokenizer, meta)`` (float32, eval mode).

    ``meta`` holds how it was trained: seed, steps, seconds, corpus size, the
    loss curve and the eval loss before and after training.
    """
    from transformers import BertConfig, BertForMaskedLM

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}: create it with `python -m ctxembed.bert train`.")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    config = BertConfig.from_dict(blob["config"])
    model = BertForMaskedLM(config)
    missing, unexpected = model.load_state_dict(
        {k: v.float() for k, v in blob["state_dict"].items()}, strict=False)
    tied = set(getattr(model, "_tied_weights_keys", {}) or {})
    if unexpected or set(missing) - tied:
        raise RuntimeError(f"Checkpoint does not fit the model: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    model.eval()
    tokenizer = CompactTokenizer(default_tokenizer(), blob["vocab_ids"].tolist())
    return model, tokenizer, blob["meta"]


def prepare_corpus(seed: int = 0, n_eval: int = 1000, vocab_size: int = 8192, limit: int | None = None):
    """WordNet texts as compact-id arrays: returns ``(tokenizer, train_seqs, eval_seqs, info)``.

    The compact vocabulary is chosen from the training split only.
    """
    base = default_tokenizer()
    texts = wordnet_texts()[:limit]
    seqs = corpus_token_ids(base, texts)
    train_base, eval_base = split_corpus(seqs, n_eval=n_eval, seed=seed)
    tokenizer = CompactTokenizer.from_corpus(base, train_base, size=vocab_size)
    info = {"source": "WordNet 3.0 glosses and example sentences", "texts": len(seqs),
            "train_texts": len(train_base), "eval_texts": len(eval_base),
            "train_tokens": int(sum(len(x) for x in train_base)), "vocab": len(tokenizer),
            "eval_token_coverage": round(tokenizer.coverage(eval_base), 4)}
    return (tokenizer, [tokenizer.compact(x) for x in train_base],
            [tokenizer.compact(x) for x in eval_base], info)


PROBES = ["a large body of [MASK]", "the [MASK] of a river", "a young [MASK] or cat",
          "a person who [MASK] in a hospital", "he deposited the money in the [MASK]",
          "the music was too [MASK]"]


def run_training(steps: int = 2000, seed: int = 0, out: Path | str = CHECKPOINT,
                 tokens_per_batch: int = 2048, lr: float = 1e-3, threads: int | None = None,
                 progress: bool = True, limit: int | None = None, n_eval: int = 1000) -> dict:
    """The full recipe behind the shipped checkpoint; returns its ``meta``.

    ``limit`` (the first ``limit`` WordNet texts) and ``n_eval`` (held-out texts) shrink the
    corpus for a quick trial run; the defaults are the shipped run's.
    """
    if threads:
        torch.set_num_threads(threads)
    t0 = time.perf_counter()
    tokenizer, train_seqs, eval_seqs, info = prepare_corpus(seed=seed, n_eval=n_eval, limit=limit)
    prep_seconds = time.perf_counter() - t0
    model = new_model(small_config(vocab_size=len(tokenizer)), seed=seed)
    before = evaluate(model, eval_seqs, tokenizer)
    guesses_before = {p: fill_mask(model, tokenizer, p) for p in PROBES}
    if progress:
        print(f"{info}; eval loss before {before:.3f}", flush=True)
    log = train(model, train_seqs, tokenizer, steps=steps, eval_seqs=eval_seqs,
                tokens_per_batch=tokens_per_batch, lr=lr, seed=seed, log_every=25,
                eval_every=max(steps // 10, 1), progress=progress)
    meta = {
        "command": f"python -m ctxembed.bert train --steps {steps} --seed {seed}"
                   + (f" --texts {limit} --eval-texts {n_eval}" if limit else ""),
        "seed": seed, "steps": steps, "tokens_per_batch": tokens_per_batch, "lr": lr,
        "train_seconds": round(log.seconds, 1), "corpus_prep_seconds": round(prep_seconds, 1),
        "torch_threads": torch.get_num_threads(), "torch_version": str(torch.__version__),
        "corpus": info, "tokens_seen": log.tokens_seen,
        "params": int(sum(p.numel() for p in model.parameters())),
        "eval_loss_before": before, "eval_loss_after": log.eval_loss[-1],
        "curve": {"steps": log.steps, "train_loss": log.train_loss,
                  "eval_steps": log.eval_steps, "eval_loss": log.eval_loss},
        "guesses_before": guesses_before,
        "guesses_after": {p: fill_mask(model, tokenizer, p) for p in PROBES},
    }
    save_checkpoint(model, tokenizer, meta, out)
    if progress:
        print(f"eval loss {before:.3f} -> {meta['eval_loss_after']:.3f} in {log.seconds:.0f} s; "
              f"saved {out} ({Path(out).stat().st_size / 1e6:.1f} MB)")
    return meta
