"""The from-scratch BERT in ctxembed.bert.internals computes what the real model computes."""

import numpy as np
import pytest
import torch

from ctxembed import load_encoder
from ctxembed.bert.internals import (
    additive_mask,
    attention_entropy,
    attention_maps,
    embedding_output,
    encode,
    layer_norm,
    max_diff_per_layer,
    random_numpy_attention,
    scaled_dot_product_attention,
)

TOL = 1e-5
SENTENCES = [
    "The river bank.",
    "I live near the bank of America, and the bank is open on Sundays.",
    "Unbelievably, the hippopotamus swam.",
]


@pytest.fixture(scope="module")
def enc():
    return load_encoder()


@pytest.fixture(scope="module")
def padded(enc):
    return enc.tokenizer(SENTENCES, padding=True, return_tensors="pt")


def test_batch_really_is_padded(padded):
    lengths = padded["attention_mask"].sum(1)
    assert lengths.min() < lengths.max()


def test_embeddings_equal_model_embedding_output(enc):
    batch = enc.tokenizer(["Where is the bank?"], ["By the river."], return_tensors="pt")
    assert batch["token_type_ids"].max() == 1  # a real sentence pair, with segment B
    ours = embedding_output(enc.model, batch["input_ids"], batch["token_type_ids"])
    with torch.no_grad():
        theirs = enc.model.embeddings(input_ids=batch["input_ids"],
                                      token_type_ids=batch["token_type_ids"])
    assert ours.shape == theirs.shape
    assert (ours - theirs).abs().max() < TOL


def test_layer_norm_matches_torch():
    x = torch.randn(4, 7, 16)
    ln = torch.nn.LayerNorm(16, eps=1e-12)
    torch.nn.init.normal_(ln.weight)
    torch.nn.init.normal_(ln.bias)
    with torch.no_grad():
        assert (layer_norm(x, ln.weight, ln.bias, 1e-12) - ln(x)).abs().max() < 1e-5


def test_every_layer_equals_the_model_on_a_padded_batch(enc, padded):
    with torch.no_grad():
        real = enc.model(**padded, output_hidden_states=True).hidden_states
    ours = encode(enc.model, padded["input_ids"], padded["attention_mask"],
                  padded["token_type_ids"]).hidden_states
    assert len(ours) == len(real) == enc.num_layers + 1
    keep = padded["attention_mask"].bool()
    for i, (r, o) in enumerate(zip(real, ours)):
        assert o.shape == r.shape
        assert (r[keep] - o[keep]).abs().max() < TOL, f"hidden state {i} differs"


def test_padding_does_not_change_a_sentence(enc, padded):
    """A sentence's states in a padded batch equal its states alone."""
    alone = enc.tokenizer([SENTENCES[0]], return_tensors="pt")
    solo = encode(enc.model, alone["input_ids"]).hidden_states[-1][0]
    batch = encode(enc.model, padded["input_ids"], padded["attention_mask"]).hidden_states[-1][0]
    n = solo.shape[0]
    assert (solo - batch[:n]).abs().max() < TOL


def test_max_diff_per_layer_helper(enc):
    diffs = max_diff_per_layer(SENTENCES, enc)
    assert len(diffs) == enc.num_layers + 1 and max(diffs) < TOL
    pairs = max_diff_per_layer([("Where is the bank?", "By the river."), ("Hi.", "A longer one here.")])
    assert max(pairs) < TOL


def test_attention_probs_equal_eager_model_and_ignore_padding(enc, padded):
    from transformers import BertModel

    from ctxembed.core.models import packaged_model_path

    eager = BertModel.from_pretrained(str(packaged_model_path()), attn_implementation="eager").eval()
    with torch.no_grad():
        real = eager(**padded, output_attentions=True).attentions
    ours = encode(enc.model, padded["input_ids"], padded["attention_mask"]).attentions
    mask = padded["attention_mask"].bool()
    for r, o in zip(real, ours):
        assert o.shape == r.shape  # (B, A, T, T)
        for b in range(len(SENTENCES)):
            n = int(mask[b].sum())
            assert (r[b, :, :n, :n] - o[b, :, :n, :n]).abs().max() < TOL
        assert torch.allclose(o.sum(-1), torch.ones_like(o.sum(-1)), atol=1e-5)
        pad_cols = ~mask[:, None, None, :].expand_as(o)
        assert o[pad_cols].abs().max() == 0  # nobody attends to padding


def test_scaled_dot_product_attention_by_hand():
    q = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])        # (1, 1, 2, 2)
    k = q.clone()
    v = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    ctx, probs = scaled_dot_product_attention(q, k, v)
    e = np.exp(1 / np.sqrt(2))
    assert probs[0, 0, 0, 0].item() == pytest.approx(e / (e + 1), rel=1e-6)
    ctx, probs = scaled_dot_product_attention(q, k, v, torch.tensor([[1, 0]]))
    assert probs[0, 0, :, 1].abs().max() == 0
    assert torch.allclose(ctx[0, 0], torch.tensor([[1.0, 2.0], [1.0, 2.0]]))
    assert additive_mask(torch.tensor([[1, 0]])).shape == (1, 1, 1, 2)


def test_attention_maps_shape_and_rows(enc):
    tokens, probs = attention_maps("The bank approved my loan.", enc)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert probs.shape == (enc.num_layers, enc.model.config.num_attention_heads, len(tokens), len(tokens))
    assert np.allclose(probs.sum(-1), 1, atol=1e-5)


def test_random_weights_attend_almost_uniformly_unlike_the_trained_model(enc):
    """The source lessons' random-weight attention is nearly uniform: nothing is learned."""
    tokens, real = attention_maps("The bank approved my loan.", enc)
    ids = enc.tokenizer(["The bank approved my loan."], return_tensors="pt")["input_ids"]
    x = embedding_output(enc.model, ids)[0].numpy()
    rand = random_numpy_attention(x, num_heads=12, seed=0)
    assert rand.shape == (12, len(tokens), len(tokens))
    assert attention_entropy(rand) > 0.99
    assert attention_entropy(real) < 0.9


def test_attention_explorer_shows_every_head_and_is_linked_for_the_static_site(enc):
    """Views are precomputed in Stacks switched by client-side links (no kernel needed):
    per layer a grid of all heads, and each head enlarged as a table with its tokens."""
    import ipywidgets as widgets

    from ctxembed.bert.attention_views import attention_explorer

    box = attention_explorer(["The bank approved my loan."], encoder=enc)
    heads = enc.model.config.num_attention_heads
    (grids,), (enlarged,) = box.grid_stacks, box.head_stacks
    assert isinstance(grids, widgets.Stack) and len(grids.children) == enc.num_layers
    assert len(enlarged.children) == enc.num_layers
    assert all(len(s.children) == heads for s in enlarged.children)
    table = enlarged.children[0].children[0].value
    n_tokens = len(enc.tokenizer("The bank approved my loan.")["input_ids"])
    assert "approved" in table and table.count("<td") == n_tokens ** 2
    # one link per layer's head stack, the grid and enlarged stacks, the sentence stack
    assert len(box.links) == enc.num_layers + 3
    assert {(l.source[1], l.target[1]) for l in box.links} == {("index", "selected_index")}
