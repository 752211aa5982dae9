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
>>> from ctxembed.elmo import layer_vectors, load_elmo
>>> model, vocab = load_elmo()                       # the shipped checkpoint
>>> v = layer_vectors(model, vocab, "I sat on the bank of the river", "bank")
>>> v.shape                                          # (layers, 2 * hidden)
(3, 512)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .vocab import PAD_ID, Vocab


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


def build_model(vocab: Vocab, **sizes) -> BiLM:
    """A fresh :class:`BiLM` for ``vocab`` with the default (shipped) sizes unless overridden.

    The adaptive softmax's default ``cutoffs`` are kept where they fit a small vocabulary
    (each must be below ``len(vocab) - 1``).
    """
    if "cutoffs" not in sizes:
        fitting = tuple(c for c in ELMoConfig.cutoffs if c < len(vocab) - 1)
        sizes["cutoffs"] = fitting or (max(1, len(vocab) // 2),)
    return BiLM(ELMoConfig(vocab_size=len(vocab), **sizes))
