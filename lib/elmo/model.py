"""A small ELMo: a bidirectional LSTM language model and its contextual vectors.

ELMo (Peters et al., 2018, "Deep contextualized word representations") trains two
language models over one shared token representation:

- the **forward** LM reads ``x_0 .. x_t`` and predicts ``x_{t+1}``;
- the **backward** LM reads ``x_t .. x_n`` (right to left) and predicts ``x_{t-1}``.

Each sentence is wrapped as ``[<bos>, w_1, ..., w_n, <eos>]``. The forward state at
position ``t`` has seen ``x_0..x_t``; the backward state at ``t`` has seen ``x_t..x_{n+1}``.
So the forward targets are the inputs shifted left by one and the backward targets are
the inputs shifted **right** by one. Using the inputs themselves as backward targets
(as a common sketch does) lets the backward LM read its own target: it learns to copy.

A word's ELMo representation has three layers, each of size ``2 * hidden``:
layer 0 is the token embedding (context-free, repeated twice, as in ELMo), layers 1
and 2 are ``[forward_j ; backward_j]`` at the word's position. A downstream task mixes
them with :class:`ScalarMix`.

This model is word-level (ELMo proper uses a character CNN), with an adaptive softmax
(Grave et al., 2017) shared by both directions, so that it trains on two CPU cores.

Example
-------
>>> model, vocab = load_elmo()                       # the shipped checkpoint
>>> v = layer_vectors(model, vocab, "I sat on the bank of the river", "bank")
>>> v.shape                                          # (layers, 2 * hidden)
(3, 512)
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..data.corpus import tokenize

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
DEFAULT_CHECKPOINT = Path(__file__).parent / "elmo_wordnet.pt"


# --------------------------------------------------------------------------- vocabulary
class Vocab:
    """Word <-> id mapping with ``<pad>=0, <unk>=1, <bos>=2, <eos>=3``.

    Example
    -------
    >>> vocab = Vocab.build([["the", "bank"], ["the", "river"]], max_size=10, min_count=1)
    >>> vocab.encode(["the", "bank", "zebra"])                # <bos> the bank <unk> <eos>
    [2, 4, 5, 1, 3]
    """

    def __init__(self, itos: Sequence[str]):
        self.itos = list(itos)
        if tuple(self.itos[:4]) != SPECIALS:
            raise ValueError(f"the first four entries must be {SPECIALS}")
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], max_size: int = 16000,
              min_count: int = 2) -> Vocab:
        """The ``max_size - 4`` most frequent words seen at least ``min_count`` times."""
        counts: Counter = Counter()
        for s in sentences:
            counts.update(s)
        words = [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                 if c >= min_count and w not in SPECIALS]
        return cls(list(SPECIALS) + words[: max_size - len(SPECIALS)])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self.stoi

    def encode(self, tokens: Sequence[str], wrap: bool = True) -> list[int]:
        """Token ids, with ``<bos>`` and ``<eos>`` around them when ``wrap``."""
        ids = [self.stoi.get(t, UNK_ID) for t in tokens]
        return [BOS_ID, *ids, EOS_ID] if wrap else ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[i] for i in ids]


# --------------------------------------------------------------------------- the model
@dataclass
class ELMoConfig:
    """Sizes of :class:`BiLM`. ``cutoffs`` split the vocabulary for the adaptive softmax."""

    vocab_size: int
    embed_dim: int = 256
    hidden_dim: int = 256
    num_layers: int = 2
    dropout: float = 0.0
    cutoffs: tuple[int, ...] = (1000, 4000)
    div_value: float = 4.0


class BiLM(nn.Module):
    """Forward and backward LSTM language models over a shared word embedding.

    Parameters
    ----------
    config : ELMoConfig

    Shapes
    ------
    ``ids``: (batch, seq) int64, right-padded with 0, each row ``[<bos>, w.., <eos>]``;
    ``lengths``: (batch,) true lengths including ``<bos>``/``<eos>``.
    :meth:`layers` returns (num_layers + 1, batch, seq, 2 * hidden).
    """

    def __init__(self, config: ELMoConfig):
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_ID)
        self.fwd = nn.ModuleList()
        self.bwd = nn.ModuleList()
        for j in range(c.num_layers):
            d_in = c.embed_dim if j == 0 else c.hidden_dim
            self.fwd.append(nn.LSTM(d_in, c.hidden_dim, batch_first=True))
            self.bwd.append(nn.LSTM(d_in, c.hidden_dim, batch_first=True))
        self.drop = nn.Dropout(c.dropout)
        # One softmax for both directions, as in ELMo.
        self.softmax = nn.AdaptiveLogSoftmaxWithLoss(
            c.hidden_dim, c.vocab_size, cutoffs=list(c.cutoffs), div_value=c.div_value)

    # ----- running the two LMs
    @staticmethod
    def _reverse_index(lengths: torch.Tensor, seq: int) -> torch.Tensor:
        """(batch, seq) index that reverses each row within its own length (pads stay put)."""
        pos = torch.arange(seq).unsqueeze(0)
        rev = lengths.unsqueeze(1) - 1 - pos
        return torch.where(rev >= 0, rev, pos)

    def _run(self, lstms: nn.ModuleList, x: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
        """Run stacked LSTMs on packed input; returns each layer's (batch, seq, hidden)."""
        outs = []
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        for j, lstm in enumerate(lstms):
            if j > 0:
                packed = packed._replace(data=self.drop(packed.data))
            packed, _ = lstm(packed)
            out, _ = pad_packed_sequence(packed, batch_first=True, total_length=x.size(1))
            outs.append(out)
        return outs

    def states(self, ids: torch.Tensor, lengths: torch.Tensor):
        """Embeddings and per-layer states of both directions, aligned to input positions.

        Returns
        -------
        emb : (batch, seq, embed_dim)
        fwd : list of (batch, seq, hidden); ``fwd[j][:, t]`` has seen ``ids[:, :t+1]``
        bwd : list of (batch, seq, hidden); ``bwd[j][:, t]`` has seen ``ids[:, t:length]``
        """
        emb = self.embed(ids)
        x = self.drop(emb)
        fwd = self._run(self.fwd, x, lengths)
        rev = self._reverse_index(lengths, ids.size(1)).to(ids.device)
        gather = rev.unsqueeze(-1).expand(-1, -1, x.size(-1))
        bwd_rev = self._run(self.bwd, x.gather(1, gather), lengths)
        gather_h = rev.unsqueeze(-1).expand(-1, -1, self.config.hidden_dim)
        bwd = [h.gather(1, gather_h) for h in bwd_rev]
        return emb, fwd, bwd

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> dict:
        """Summed negative log-likelihoods of both LMs over real (non-pad) targets.

        Returns a dict with ``fwd_nll``, ``bwd_nll`` (scalar sums) and ``num_targets``
        (targets per direction: ``sum(lengths - 1)``). The training loss is
        ``(fwd_nll + bwd_nll) / (2 * num_targets)``.
        """
        _, fwd, bwd = self.states(ids, lengths)
        top_f, top_b = self.drop(fwd[-1]), self.drop(bwd[-1])
        valid = torch.arange(ids.size(1), device=ids.device).unsqueeze(0) < lengths.unsqueeze(1)
        m = valid[:, 1:]                                       # (batch, seq - 1)
        # forward: state t predicts ids[t+1], for t = 0 .. length-2
        f_logp = self.softmax(top_f[:, :-1][m], ids[:, 1:][m]).output
        # backward: state t predicts ids[t-1], for t = 1 .. length-1
        b_logp = self.softmax(top_b[:, 1:][m], ids[:, :-1][m]).output
        return {"fwd_nll": -f_logp.sum(), "bwd_nll": -b_logp.sum(), "num_targets": int(m.sum())}

    def loss(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean per-token NLL of the two LMs (what training minimises)."""
        out = self(ids, lengths)
        return (out["fwd_nll"] + out["bwd_nll"]) / (2 * out["num_targets"])

    def predictions(self, ids: torch.Tensor, lengths: torch.Tensor):
        """Log-probabilities each direction assigns to every position's token.

        Returns
        -------
        fwd_logp, bwd_logp : (batch, seq, vocab)
            ``fwd_logp[:, t]`` is the forward LM's distribution for token ``t`` (computed
            from state ``t-1``; row 0 is NaN); ``bwd_logp[:, t]`` the backward LM's for
            token ``t`` (from state ``t+1``; the last real position is NaN).
        """
        _, fwd, bwd = self.states(ids, lengths)
        b, s = ids.shape
        nan = torch.full((b, 1, self.config.vocab_size), float("nan"))
        lp_f = self.softmax.log_prob(fwd[-1].reshape(b * s, -1)).view(b, s, -1)
        lp_b = self.softmax.log_prob(bwd[-1].reshape(b * s, -1)).view(b, s, -1)
        fwd_logp = torch.cat([nan, lp_f[:, :-1]], 1)
        bwd_logp = torch.cat([lp_b[:, 1:], nan], 1)
        return fwd_logp, bwd_logp

    def layers(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ELMo's layer representations, (num_layers + 1, batch, seq, 2 * hidden).

        Layer 0 is the token embedding repeated twice (``embed_dim`` must equal
        ``hidden_dim``); layer j >= 1 is ``[fwd_j ; bwd_j]``.
        """
        emb, fwd, bwd = self.states(ids, lengths)
        out = [torch.cat([emb, emb], -1)]
        out += [torch.cat([f, b], -1) for f, b in zip(fwd, bwd)]
        return torch.stack(out)


# --------------------------------------------------------------------------- scalar mix
class ScalarMix(nn.Module):
    """ELMo's task-specific layer mix: ``E = gamma * sum_j softmax(s)_j * h_j``.

    ``s`` (one scalar per layer) and ``gamma`` are :class:`torch.nn.Parameter` s,
    learned together with the downstream model.

    Parameters
    ----------
    num_layers : int
        Number of layers mixed (3 for this ELMo: token layer + two LSTM layers).

    Shapes
    ------
    input: (num_layers, ..., dim) -> output: (..., dim)

    Example
    -------
    >>> mix = ScalarMix(3)
    >>> mix(torch.ones(3, 4, 512)).shape
    torch.Size([4, 512])
    >>> mix.weights()
    tensor([0.3333, 0.3333, 0.3333], grad_fn=<SoftmaxBackward0>)
    """

    def __init__(self, num_layers: int = 3):
        super().__init__()
        self.s = nn.Parameter(torch.zeros(num_layers))
        self.gamma = nn.Parameter(torch.ones(()))

    def weights(self) -> torch.Tensor:
        """softmax(s): the layer weights, (num_layers,), summing to 1."""
        return torch.softmax(self.s, dim=0)

    def forward(self, layers: torch.Tensor) -> torch.Tensor:
        w = self.weights().view(-1, *([1] * (layers.dim() - 1)))
        return self.gamma * (w * layers).sum(0)


# --------------------------------------------------------------------------- batching
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
    order = [i for _, _, i in sorted(keys)]
    batches, current, longest = [], [], 0
    for i in order:
        n = lengths[i]
        if current and max(longest, n) * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, n)
    if current:
        batches.append(current)
    if shuffle:
        rng.shuffle(batches)
    return batches


def collate(encoded: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists with 0: returns ids (batch, max_len) and lengths (batch,)."""
    lengths = torch.tensor([len(s) for s in encoded])
    ids = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(encoded):
        ids[i, : len(s)] = torch.tensor(s)
    return ids, lengths


def encode_corpus(sentences: Sequence[Sequence[str]], vocab: Vocab, max_len: int = 64) -> list[list[int]]:
    """Ids with ``<bos>``/``<eos>``, sentences cut to ``max_len`` words."""
    return [vocab.encode(s[:max_len]) for s in sentences]


# --------------------------------------------------------------------------- training
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
        nn.utils.clip_grad_norm_(model.parameters(), clip)
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


# --------------------------------------------------------------------------- save / load
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


# --------------------------------------------------------------------------- vectors
def _find(tokens: list[str], word: str, occurrence: int) -> int:
    from ..core.errors import WordNotFoundError

    target = tokenize(word)
    if len(target) != 1:
        raise ValueError(f"{word!r} is not a single word token")
    hits = [i for i, t in enumerate(tokens) if t == target[0]]
    if len(hits) <= occurrence:
        raise WordNotFoundError(
            f"{word!r} (occurrence {occurrence}) not found in tokens {tokens}")
    return hits[occurrence]


@torch.no_grad()
def sentence_layers(model: BiLM, vocab: Vocab, sentences: Sequence[str],
                    batch_size: int = 64) -> list[tuple[list[str], np.ndarray]]:
    """Every token's ELMo layers for each sentence.

    Returns
    -------
    list of (tokens, array (num_layers + 1, len(tokens), 2 * hidden)) ; ``<bos>``/``<eos>`` dropped.
    """
    model.eval()
    toks = [tokenize(s) for s in sentences]
    out = []
    for i in range(0, len(toks), batch_size):
        chunk = toks[i: i + batch_size]
        ids, lens = collate([vocab.encode(t) for t in chunk])
        layers = model.layers(ids, lens).numpy()
        for k, t in enumerate(chunk):
            out.append((t, layers[:, k, 1: 1 + len(t)]))
    return out


def word_layer_vectors(model: BiLM, vocab: Vocab, sentences: Sequence[str],
                       words: Sequence[str] | str, occurrences: Sequence[int] | int = 0,
                       batch_size: int = 64) -> np.ndarray:
    """ELMo layers of one word in each sentence: (n, num_layers + 1, 2 * hidden) float32.

    Example
    -------
    >>> model, vocab = load_elmo()
    >>> X = word_layer_vectors(model, vocab, ["the river bank", "the bank loan"], "bank")
    >>> X.shape
    (2, 3, 512)
    """
    n = len(sentences)
    words = [words] * n if isinstance(words, str) else list(words)
    occurrences = [occurrences] * n if isinstance(occurrences, int) else list(occurrences)
    per = sentence_layers(model, vocab, sentences, batch_size)
    return np.stack([layers[:, _find(tokens, w, o)] for (tokens, layers), w, o
                     in zip(per, words, occurrences)]).astype(np.float32)


def layer_vectors(model: BiLM, vocab: Vocab, sentence: str, word: str, occurrence: int = 0) -> np.ndarray:
    """ELMo layers of ``word`` in ``sentence``: (num_layers + 1, 2 * hidden).

    Row 0: token embedding (the same in every sentence); rows 1, 2: ``[forward ; backward]``
    LSTM states at the word. Raises ``WordNotFoundError`` if the word is absent.
    """
    return word_layer_vectors(model, vocab, [sentence], word, occurrence)[0]


def build_model(vocab: Vocab, **sizes) -> BiLM:
    """A fresh :class:`BiLM` for ``vocab`` with the default (shipped) sizes unless overridden.

    The adaptive softmax's default ``cutoffs`` are kept where they fit a small vocabulary
    (each must be below ``len(vocab) - 1``).
    """
    if "cutoffs" not in sizes:
        fitting = tuple(c for c in ELMoConfig.cutoffs if c < len(vocab) - 1)
        sizes["cutoffs"] = fitting or (max(1, len(vocab) // 2),)
    return BiLM(ELMoConfig(vocab_size=len(vocab), **sizes))
