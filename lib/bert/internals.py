"""BERT taken apart: every step of the encoder written out, run with a real model's weights.

Nothing here is a new model. Each function is one piece of the computation a
Hugging Face ``BertModel`` performs, written with plain tensor operations so it
can be read line by line, and fed with the weights of a trained model (the
packaged all-MiniLM-L6-v2 offline, ``bert-base-uncased`` where the hub is
reachable). :func:`encode` chains the pieces; the tests check that its output
equals the real model's hidden states at every layer.

Shapes use ``B`` = batch, ``T`` = sequence length, ``H`` = hidden size,
``A`` = number of heads, ``d = H / A`` = size of one head, ``F`` = feed-forward size.

Example
-------
>>> from ctxembed import load_encoder
>>> from ctxembed.bert.internals import encode, max_diff_per_layer
>>> enc = load_encoder()
>>> batch = enc.tokenizer(["The river bank."], return_tensors="pt")
>>> out = encode(enc.model, batch["input_ids"], batch["attention_mask"])
>>> len(out.hidden_states), out.hidden_states[-1].shape
(7, torch.Size([1, 6, 384]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..core.models import Encoder, load_encoder

__all__ = [
    "EncoderOutput",
    "LayerWeights",
    "add_and_norm",
    "additive_mask",
    "attention_entropy",
    "attention_maps",
    "embedding_output",
    "embedding_parts",
    "encode",
    "encoder_layer",
    "feed_forward",
    "gelu",
    "hub_available",
    "layer_norm",
    "layer_weights",
    "max_diff_per_layer",
    "multi_head_self_attention",
    "random_numpy_attention",
    "scaled_dot_product_attention",
]


# --------------------------------------------------------------------------- #
# 1. Input representation
# --------------------------------------------------------------------------- #
def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
               eps: float = 1e-12) -> torch.Tensor:
    """Normalise each vector to mean 0 and variance 1, then scale and shift.

    ``x``: (..., H); ``weight``, ``bias``: (H,). Returns (..., H).
    The variance is the biased one (divide by H), as in ``torch.nn.LayerNorm``.
    """
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


@torch.no_grad()
def embedding_parts(model, input_ids: torch.Tensor,
                    token_type_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The three embeddings BERT adds up, looked up in ``model``'s own tables.

    Parameters
    ----------
    model : transformers.BertModel
    input_ids : (B, T) token ids
    token_type_ids : (B, T), optional
        Segment ids: 0 for sentence A, 1 for sentence B (default all 0).

    Returns
    -------
    dict with ``"token"``, ``"position"``, ``"segment"``, each (B, T, H) (position
    broadcast over the batch).
    """
    emb = model.embeddings
    seq_len = input_ids.shape[1]
    if token_type_ids is None:
        token_type_ids = torch.zeros_like(input_ids)
    positions = torch.arange(seq_len, device=input_ids.device)
    return {
        "token": emb.word_embeddings.weight[input_ids],                        # (B, T, H)
        "position": emb.position_embeddings.weight[positions].expand(           # (B, T, H)
            input_ids.shape[0], -1, -1),
        "segment": emb.token_type_embeddings.weight[token_type_ids],          # (B, T, H)
    }


@torch.no_grad()
def embedding_output(model, input_ids: torch.Tensor,
                     token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
    """Token + position + segment embeddings, then LayerNorm: hidden state 0, (B, T, H).

    Example
    -------
    >>> enc = load_encoder()
    >>> ids = enc.tokenizer(["A bank."], return_tensors="pt")["input_ids"]
    >>> embedding_output(enc.model, ids).shape
    torch.Size([1, 5, 384])
    """
    parts = embedding_parts(model, input_ids, token_type_ids)
    summed = parts["token"] + parts["position"] + parts["segment"]
    ln = model.embeddings.LayerNorm
    return layer_norm(summed, ln.weight, ln.bias, ln.eps)


# --------------------------------------------------------------------------- #
# 2. Self-attention
# --------------------------------------------------------------------------- #
def additive_mask(attention_mask: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
    """Turn a (B, T) 1/0 padding mask into a (B, 1, 1, T) mask added to attention scores.

    Real tokens get 0, padding gets the most negative number the dtype holds, so
    after the softmax no query attends to padding (its weight is exactly 0).
    """
    mask = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - mask) * torch.finfo(dtype).min


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 attention_mask: torch.Tensor | None = None):
    """softmax(q k^T / sqrt(d) + mask) v, for every head at once.

    Parameters
    ----------
    q, k, v : (B, A, T, d)
    attention_mask : (B, T) with 1 for real tokens and 0 for padding, optional

    Returns
    -------
    context : (B, A, T, d)
        For each query position, the attention-weighted average of the values.
    probs : (B, A, T, T)
        The attention weights; row ``i`` says how much query ``i`` takes from each key.
    """
    d = q.shape[-1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)            # (B, A, T, T)
    if attention_mask is not None:
        scores = scores + additive_mask(attention_mask, scores.dtype)
    probs = torch.softmax(scores, dim=-1)
    return probs @ v, probs


@dataclass
class LayerWeights:
    """The weights of one encoder layer (``torch.nn.Linear`` convention: y = x W^T + b)."""

    wq: torch.Tensor; bq: torch.Tensor      # (H, H), (H,)
    wk: torch.Tensor; bk: torch.Tensor
    wv: torch.Tensor; bv: torch.Tensor
    wo: torch.Tensor; bo: torch.Tensor      # attention output projection
    ln1_w: torch.Tensor; ln1_b: torch.Tensor
    w1: torch.Tensor; b1: torch.Tensor      # (F, H), (F,)
    w2: torch.Tensor; b2: torch.Tensor      # (H, F), (H,)
    ln2_w: torch.Tensor; ln2_b: torch.Tensor
    num_heads: int
    eps: float = 1e-12
    activation: str = "gelu"


def layer_weights(model, index: int) -> LayerWeights:
    """Pull layer ``index`` (0-based) out of a Hugging Face ``BertModel``."""
    layer = model.encoder.layer[index]
    att, out = layer.attention, layer.output
    cfg = model.config
    return LayerWeights(
        wq=att.self.query.weight, bq=att.self.query.bias,
        wk=att.self.key.weight, bk=att.self.key.bias,
        wv=att.self.value.weight, bv=att.self.value.bias,
        wo=att.output.dense.weight, bo=att.output.dense.bias,
        ln1_w=att.output.LayerNorm.weight, ln1_b=att.output.LayerNorm.bias,
        w1=layer.intermediate.dense.weight, b1=layer.intermediate.dense.bias,
        w2=out.dense.weight, b2=out.dense.bias,
        ln2_w=out.LayerNorm.weight, ln2_b=out.LayerNorm.bias,
        num_heads=int(cfg.num_attention_heads), eps=float(cfg.layer_norm_eps),
        activation=str(cfg.hidden_act),
    )


def multi_head_self_attention(x: torch.Tensor, w: LayerWeights,
                              attention_mask: torch.Tensor | None = None):
    """Project to queries, keys and values, attend in ``A`` heads, project back.

    ``x``: (B, T, H). Returns ``(out (B, T, H), probs (B, A, T, T))``; ``out`` is
    before the residual connection.
    """
    B, T, H = x.shape
    A = w.num_heads
    d = H // A

    def split_heads(t):                                         # (B, T, H) -> (B, A, T, d)
        return t.view(B, T, A, d).transpose(1, 2)

    q = split_heads(x @ w.wq.T + w.bq)
    k = split_heads(x @ w.wk.T + w.bk)
    v = split_heads(x @ w.wv.T + w.bv)
    context, probs = scaled_dot_product_attention(q, k, v, attention_mask)
    context = context.transpose(1, 2).reshape(B, T, H)          # concatenate the heads
    return context @ w.wo.T + w.bo, probs


# --------------------------------------------------------------------------- #
# 3. Feed-forward, residuals, LayerNorm, the layer
# --------------------------------------------------------------------------- #
def gelu(x: torch.Tensor) -> torch.Tensor:
    """The exact GELU BERT uses: x * Phi(x), with Phi the standard normal CDF."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def feed_forward(x: torch.Tensor, w: LayerWeights) -> torch.Tensor:
    """Position-wise feed-forward network: Linear(H->F), GELU, Linear(F->H). (B, T, H) -> (B, T, H)."""
    if w.activation not in {"gelu", "gelu_python"}:
        raise NotImplementedError(f"activation {w.activation!r}: only BERT's exact GELU is written out")
    return gelu(x @ w.w1.T + w.b1) @ w.w2.T + w.b2


def add_and_norm(residual: torch.Tensor, sublayer_out: torch.Tensor,
                 weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """Residual connection then LayerNorm (BERT is "post-LN"): LN(residual + sublayer_out)."""
    return layer_norm(residual + sublayer_out, weight, bias, eps)


def encoder_layer(x: torch.Tensor, w: LayerWeights,
                  attention_mask: torch.Tensor | None = None):
    """One transformer encoder layer. (B, T, H) -> ((B, T, H), attention probs (B, A, T, T))."""
    attended, probs = multi_head_self_attention(x, w, attention_mask)
    x = add_and_norm(x, attended, w.ln1_w, w.ln1_b, w.eps)
    x = add_and_norm(x, feed_forward(x, w), w.ln2_w, w.ln2_b, w.eps)
    return x, probs


@dataclass
class EncoderOutput:
    """What :func:`encode` returns.

    hidden_states : list of L+1 tensors (B, T, H): the embedding output, then each layer.
    attentions : list of L tensors (B, A, T, T): each layer's attention weights.
    """

    hidden_states: list
    attentions: list


@torch.no_grad()
def encode(model, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
           token_type_ids: torch.Tensor | None = None) -> EncoderOutput:
    """Run the from-scratch encoder with ``model``'s weights.

    Parameters
    ----------
    model : transformers.BertModel (e.g. ``load_encoder().model``)
    input_ids : (B, T)
    attention_mask : (B, T), 1 = token, 0 = padding (default: all 1)
    token_type_ids : (B, T), segment ids (default: all 0)

    Returns
    -------
    EncoderOutput
        ``hidden_states[i]`` corresponds to the model's ``hidden_states[i]``.
    """
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    x = embedding_output(model, input_ids, token_type_ids)
    hidden, attentions = [x], []
    for i in range(model.config.num_hidden_layers):
        x, probs = encoder_layer(x, layer_weights(model, i), attention_mask)
        hidden.append(x)
        attentions.append(probs)
    return EncoderOutput(hidden, attentions)


@torch.no_grad()
def max_diff_per_layer(sentences: Sequence[str] | Sequence[tuple[str, str]],
                       encoder: Encoder | str | None = None) -> list[float]:
    """Largest absolute difference between :func:`encode` and the real model, per hidden state.

    ``sentences`` are run as one padded batch (pairs ``(a, b)`` are encoded as
    sentence pairs with segment ids). Only real tokens are compared: what a
    model writes at padded positions is never used. Returns L+1 floats, entry 0
    for the embedding output.
    """
    enc = load_encoder(encoder)
    pairs = [s for s in sentences if isinstance(s, tuple)]
    if pairs and len(pairs) != len(sentences):
        raise ValueError("Pass either all single sentences or all (sentence_a, sentence_b) pairs.")
    if pairs:
        batch = enc.tokenizer([a for a, _ in pairs], [b for _, b in pairs],
                              padding=True, return_tensors="pt")
    else:
        batch = enc.tokenizer(list(sentences), padding=True, return_tensors="pt")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    types = batch.get("token_type_ids")
    real = enc.model(input_ids=ids, attention_mask=mask, token_type_ids=types,
                     output_hidden_states=True).hidden_states
    ours = encode(enc.model, ids, mask, types).hidden_states
    keep = mask.bool()
    return [float((r[keep] - o[keep]).abs().max()) for r, o in zip(real, ours)]


# --------------------------------------------------------------------------- #
# 4. Attention maps
# --------------------------------------------------------------------------- #
@torch.no_grad()
def attention_maps(sentence: str, encoder: Encoder | str | None = None):
    """Attention weights of every layer and head for one sentence.

    Computed by :func:`encode` (which equals the real model).

    Returns
    -------
    tokens : list of str, length T ([CLS] and [SEP] included)
    probs : np.ndarray, shape (L, A, T, T)
        ``probs[l, h, i, j]``: how much token ``i`` attends to token ``j`` in
        head ``h`` of layer ``l + 1``; each row sums to 1.
    """
    enc = load_encoder(encoder)
    batch = enc.tokenizer([sentence], return_tensors="pt")
    out = encode(enc.model, batch["input_ids"], batch["attention_mask"])
    tokens = enc.tokenizer.convert_ids_to_tokens(batch["input_ids"][0])
    probs = torch.stack([a[0] for a in out.attentions]).numpy()
    return tokens, probs


def random_numpy_attention(x: np.ndarray, num_heads: int, seed: int = 0, scale: float = 0.02):
    """Multi-head self-attention in NumPy with *random* weight matrices (nothing learned).

    The same arithmetic as :func:`multi_head_self_attention` (scores, scaling,
    softmax, weighted sum), but W_q, W_k, W_v are drawn from N(0, scale^2) the
    way an untrained model starts.

    ``x``: (T, H). Returns attention probs (A, T, T).
    """
    rng = np.random.default_rng(seed)
    T, H = x.shape
    d = H // num_heads
    wq, wk = (rng.normal(0, scale, (H, H)) for _ in range(2))
    q = (x @ wq).reshape(T, num_heads, d).transpose(1, 0, 2)       # (A, T, d)
    k = (x @ wk).reshape(T, num_heads, d).transpose(1, 0, 2)
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)                  # (A, T, T)
    scores -= scores.max(axis=-1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)


def attention_entropy(probs: np.ndarray) -> float:
    """Mean entropy of attention rows as a fraction of the uniform row's (1 = uniform, 0 = one-hot).

    ``probs``: (..., T, T) rows summing to 1.
    """
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    ent = -(p * np.log(p)).sum(axis=-1)
    return float(ent.mean() / np.log(p.shape[-1]))


# --------------------------------------------------------------------------- #
# 5. Online or not
# --------------------------------------------------------------------------- #
def hub_available() -> bool:
    """True when the Hugging Face hub can be reached (False at once under ``HF_HUB_OFFLINE=1``)."""
    from ..core.models import hub_reachable

    return hub_reachable()
