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


def test_forward_states_see_only_the_past_and_backward_states_only_the_future():
    """The model's own states: forward state t depends on ids[0..t] only, backward state t on
    ids[t..length-1] only, in every layer; and each does depend on its own token t."""
    model = tiny()
    ids, lens = batch(lengths=(9, 7))
    n = int(lens[0])
    with torch.no_grad():
        _, fwd, bwd = model.states(ids, lens)
        for p in range(1, n - 1):
            changed = ids.clone()
            changed[0, p] = (ids[0, p] - 4 + 1) % (V - 4) + 4      # another real word
            _, fwd2, bwd2 = model.states(changed, lens)
            for j in range(model.config.num_layers):
                torch.testing.assert_close(fwd2[j][0, :p], fwd[j][0, :p])         # t < p
                torch.testing.assert_close(bwd2[j][0, p + 1: n], bwd[j][0, p + 1: n])  # t > p
                assert not torch.allclose(fwd2[j][0, p], fwd[j][0, p])
                assert not torch.allclose(bwd2[j][0, p], bwd[j][0, p])
            torch.testing.assert_close(fwd2[-1][1], fwd[-1][1])   # other sentences untouched
            torch.testing.assert_close(bwd2[-1][1], bwd[-1][1])


def nll_on_shifted_targets(model, ids, lens):
    """The biLM's loss spelled out one position at a time: the forward state at t is scored
    on token t+1, the backward state at t on token t-1, within each sentence's length."""
    _, fwd, bwd = model.states(ids, lens)
    f = b = 0.0
    count = 0
    for row, n in enumerate(lens.tolist()):
        logp_f = model.softmax.log_prob(fwd[-1][row, :n])
        logp_b = model.softmax.log_prob(bwd[-1][row, :n])
        for t in range(n - 1):
            f -= logp_f[t, ids[row, t + 1]]
            b -= logp_b[t + 1, ids[row, t]]
            count += 1
    return f, b, count


def test_the_models_loss_scores_each_direction_on_the_next_token_in_its_direction():
    model = tiny()
    ids, lens = batch(lengths=(9, 6, 4))
    with torch.no_grad():
        out = model(ids, lens)
        f, b, count = nll_on_shifted_targets(model, ids, lens)
        torch.testing.assert_close(out["fwd_nll"], f)
        torch.testing.assert_close(out["bwd_nll"], b)
        assert out["num_targets"] == count == int((lens - 1).sum())
        torch.testing.assert_close(model.loss(ids, lens), (f + b) / (2 * count))


def test_predictions_agree_with_the_loss():
    """``predictions`` (what the chapter plots) gives each target the log-probability the loss
    charges for it."""
    model = tiny()
    ids, lens = batch(lengths=(9, 6, 4))
    with torch.no_grad():
        fwd_logp, bwd_logp = model.predictions(ids, lens)
        out = model(ids, lens)
    f = b = 0.0
    for row, n in enumerate(lens.tolist()):
        f -= sum(fwd_logp[row, t, ids[row, t]] for t in range(1, n))
        b -= sum(bwd_logp[row, t, ids[row, t]] for t in range(n - 1))
    torch.testing.assert_close(out["fwd_nll"], f)
    torch.testing.assert_close(out["bwd_nll"], b)


def random_sentences(n, seed, lengths=(8, 14)):
    g = torch.Generator().manual_seed(seed)
    sizes = torch.randint(lengths[0], lengths[1] + 1, (n,), generator=g).tolist()
    return [[elmo.BOS_ID, *torch.randint(4, V, (k,), generator=g).tolist(), elmo.EOS_ID]
            for k in sizes]


def test_training_on_random_words_lowers_held_out_perplexity_but_cannot_copy():
    """The real training loop on random words: held-out perplexity falls (the model learns which
    ids are words), yet neither direction can beat chance on the words, because no state sees
    the token it is scored on. A leak (e.g. backward targets on the states' own inputs) lets a
    direction copy its target: its held-out perplexity collapses towards 1."""
    torch.set_num_threads(1)
    train_ids, held_out = random_sentences(400, seed=1), random_sentences(100, seed=2)
    model = tiny(seed=0)
    before = elmo.perplexity(model, held_out)
    run = elmo.train(model, train_ids, epochs=6, max_tokens=300, lr=0.02, seed=0,
                     progress=False)
    after = elmo.perplexity(model, held_out)
    assert run.steps > 50 and run.losses[-1] < run.losses[0]
    # the floor: random words cost log(V - 4) each; <eos> / <bos> at most a few nats in total
    words = sum(len(s) - 2 for s in held_out)
    floor = math.exp(words * math.log(V - 4) / after["tokens"] - 0.2)
    for direction in ("forward", "backward"):
        assert after[direction] < before[direction], (before, after)
        assert after[direction] > floor, (direction, after, floor)


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
    assert elmo.DEFAULT_CHECKPOINT.exists(), (
        f"{elmo.DEFAULT_CHECKPOINT} is missing: it ships with the course (git checkout it, or "
        "retrain with `python -m ctxembed.elmo train --epochs 2 --time-budget 1500`)")
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
