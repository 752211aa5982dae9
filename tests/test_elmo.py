"""Behaviour of the small ELMo (ctxembed.elmo) that the chapter relies on."""

import math

import numpy as np
import pytest
import torch

from ctxembed import elmo
from ctxembed.core.errors import WordNotFoundError

V = 40


def tiny(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return elmo.BiLM(elmo.ELMoConfig(vocab_size=V, embed_dim=16, hidden_dim=16, dropout=dropout,
                                     cutoffs=(10, 20))).eval()


def batch(seed=0, lengths=(9, 6, 4)):
    g = torch.Generator().manual_seed(seed)
    seqs = []
    for n in lengths:
        words = torch.randint(4, V, (n - 2,), generator=g).tolist()
        seqs.append([elmo.BOS_ID, *words, elmo.EOS_ID])
    return elmo.collate(seqs)


# ---------------------------------------------------------------- no prediction sees its target
@pytest.mark.parametrize("t", [1, 3, 5])
def test_changing_a_target_leaves_both_predictions_for_it_unchanged(t):
    model = tiny()
    ids, lens = batch()
    with torch.no_grad():
        f1, b1 = model.predictions(ids, lens)
        changed = ids.clone()
        changed[0, t] = (ids[0, t] - 4 + 1) % (V - 4) + 4      # another real word
        f2, b2 = model.predictions(changed, lens)
    # forward: everything up to and including position t is predicted without token t
    torch.testing.assert_close(f1[0, 1: t + 1], f2[0, 1: t + 1])
    # backward: everything from position t on is predicted without token t
    n = int(lens[0])
    torch.testing.assert_close(b1[0, t: n - 1], b2[0, t: n - 1])
    # ... and the token does matter elsewhere (the test is not vacuous)
    assert not torch.allclose(f1[0, t + 1], f2[0, t + 1])
    assert not torch.allclose(b1[0, t - 1], b2[0, t - 1])


def leaky_backward_prediction(model, ids, lens):
    """The source sketch's pairing: backward state t is scored against target ids[t]."""
    _, _, bwd = model.states(ids, lens)
    b, s = ids.shape
    return model.softmax.log_prob(bwd[-1].reshape(b * s, -1)).view(b, s, -1)


def test_the_seed_copy_leak_fails_the_same_check():
    model = tiny()
    ids, lens = batch()
    t = 3
    assert torch.equal(elmo.leaky_backward_targets(ids), ids)  # targets == inputs
    with torch.no_grad():
        changed = ids.clone()
        changed[0, t] = (ids[0, t] - 4 + 1) % (V - 4) + 4
        p1 = leaky_backward_prediction(model, ids, lens)[0, t]
        p2 = leaky_backward_prediction(model, changed, lens)[0, t]
    # the prediction for target t changes with target t: it can see it
    assert not torch.allclose(p1, p2)


def backward_loss(model, ids, lens, leaky):
    _, _, bwd = model.states(ids, lens)
    if leaky:   # state t scored against ids[t] (its own input)
        h, y = bwd[-1][:, 1:-1].reshape(-1, 16), elmo.leaky_backward_targets(ids)[:, 1:-1].reshape(-1)
    else:       # state t+1 scored against ids[t]
        h, y = bwd[-1][:, 2:].reshape(-1, 16), ids[:, 1:-1].reshape(-1)
    return model.softmax(h, y).loss


def test_the_leak_lets_the_backward_lm_copy_while_the_fixed_one_cannot():
    """Trained on random words, the leaky backward LM scores far below chance on *new*
    random sentences (it copies); the correct one cannot beat chance, log(#words)."""
    train_ids, lens = batch(seed=1, lengths=[12] * 32)
    test_ids, _ = batch(seed=2, lengths=[12] * 32)
    results = {}
    for leaky in (False, True):
        model = tiny(seed=0).train()
        opt = torch.optim.Adam(model.parameters(), lr=0.03)
        for _ in range(100):
            loss = backward_loss(model, train_ids, lens, leaky)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            results[leaky] = backward_loss(model.eval(), test_ids, lens, leaky).item()
    chance = math.log(V - 4)
    assert results[True] < 0.5 * chance, results
    assert results[False] > 0.9 * chance, results


# ---------------------------------------------------------------- padding
def test_padding_changes_neither_losses_nor_vectors():
    model = tiny()
    ids, lens = batch(lengths=(9, 4))
    with torch.no_grad():
        both = model(ids, lens)
        alone = [model(ids[i: i + 1, : lens[i]], lens[i: i + 1]) for i in range(2)]
        for key in ("fwd_nll", "bwd_nll"):
            torch.testing.assert_close(both[key], alone[0][key] + alone[1][key])
        assert both["num_targets"] == int((lens - 1).sum())
        layers_batch = model.layers(ids, lens)[:, 1, :4]
        layers_alone = model.layers(ids[1:2, :4], lens[1:2])[:, 0]
        torch.testing.assert_close(layers_batch, layers_alone)


# ---------------------------------------------------------------- scalar mix
def test_scalar_mix_weights_sum_to_one_and_are_learned():
    mix = elmo.ScalarMix(3)
    assert isinstance(mix.s, torch.nn.Parameter) and isinstance(mix.gamma, torch.nn.Parameter)
    torch.testing.assert_close(mix.weights().sum(), torch.tensor(1.0))
    layers = torch.randn(3, 5, 8)
    expected = mix.gamma * sum(w * h for w, h in zip(torch.softmax(mix.s, 0), layers))
    torch.testing.assert_close(mix(layers), expected)
    # a task where only layer 2 carries the signal: the mix learns to favour it
    opt = torch.optim.Adam(mix.parameters(), lr=0.1)
    target = 2.0 * layers[2]
    for _ in range(200):
        loss = ((mix(layers) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    w = mix.weights().detach()
    torch.testing.assert_close(w.sum(), torch.tensor(1.0))
    assert w[2] > 0.9 and abs(mix.gamma.item() - 2.0) < 0.2


# ---------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip(tmp_path):
    model = tiny()
    vocab = elmo.Vocab(list(elmo.SPECIALS) + [f"w{i}" for i in range(V - 4)])
    path = elmo.save_checkpoint(model, vocab, tmp_path / "m.pt", {"note": "x"})
    loaded, vocab2, meta = elmo.load_checkpoint(path)
    assert vocab2.itos == vocab.itos and meta == {"note": "x"}
    assert loaded.config == model.config
    ids, lens = batch()
    with torch.no_grad():
        torch.testing.assert_close(loaded.layers(ids, lens), model.layers(ids, lens), atol=2e-3, rtol=1e-2)
    assert all(v.dtype == torch.float16 for v in torch.load(path)["state_dict"].values()
               if v.is_floating_point())


# ---------------------------------------------------------------- bucketing
def test_bucketing_covers_everything_once_within_budget_and_saves_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, 2000).tolist()
    batches = elmo.bucket_batches(lengths, max_tokens=1000, seed=1)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(2000))
    for b in batches:
        assert max(lengths[i] for i in b) * len(b) <= 1000 or len(b) == 1
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    assert padded < 1.1 * sum(lengths)           # near-zero padding
    assert elmo.bucket_batches(lengths, 1000, seed=1) == batches          # seeded
    assert elmo.bucket_batches(lengths, 1000, seed=2) != batches


def test_vocab_and_encoding():
    vocab = elmo.Vocab.build([["the", "bank"], ["the", "river"]], max_size=10, min_count=1)
    assert vocab.itos[:4] == list(elmo.SPECIALS)
    assert vocab.encode(["the", "zebra"]) == [elmo.BOS_ID, vocab.stoi["the"], elmo.UNK_ID, elmo.EOS_ID]


# ---------------------------------------------------------------- the shipped model
@pytest.fixture(scope="module")
def shipped():
    if not elmo.DEFAULT_CHECKPOINT.exists():
        pytest.skip("no shipped checkpoint")
    model, vocab, meta = elmo.load_checkpoint()
    return model, vocab, meta


def test_shipped_checkpoint_is_small_and_beats_the_unigram_baseline(shipped):
    _, vocab, meta = shipped
    assert elmo.DEFAULT_CHECKPOINT.stat().st_size < 15e6
    assert 10_000 <= len(vocab) <= 20_000
    assert meta["valid_perplexity"]["forward"] < meta["baselines"]["unigram_add1"] / 2


def test_layer_vectors_layer0_is_context_free_and_layers_1_2_are_not(shipped):
    model, vocab, _ = shipped
    a = elmo.layer_vectors(model, vocab, "she deposited the cheque at the bank", "bank")
    b = elmo.layer_vectors(model, vocab, "they fished from the grassy bank of the river", "bank")
    assert a.shape == (3, 2 * model.config.hidden_dim)
    np.testing.assert_allclose(a[0], b[0])
    assert not np.allclose(a[1], b[1]) and not np.allclose(a[2], b[2])
    with pytest.raises(WordNotFoundError):
        elmo.layer_vectors(model, vocab, "no such word here", "bank")
