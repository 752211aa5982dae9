"""QA's feature-based way: a span head trained on cached states of the frozen encoder.

What a reader relies on: the states are the encoder's own (the sum of its last four layers,
one row per piece of each window), the head never answers from padding, it keeps the epoch
that is best on dev, it learns a span that its input marks, and a saved head gives the
same answers when loaded.
"""

import pytest
import torch

from ctxembed.data.squad import QAExample
from ctxembed.finetune import feature_head as fh
from ctxembed.finetune import tasks


@pytest.fixture(scope="module")
def encoder():
    return fh.frozen_encoder()


def test_frozen_states_are_the_sum_of_the_encoders_last_four_layers(encoder):
    tok, enc = encoder
    rows = tasks.task_data("qa", sizes={"test": 3})["test"]
    feats, _ = tasks.features("qa", tok, rows)
    states = fh.frozen_states(enc, tok, feats, batch_size=2)
    assert len(states) == len(feats)
    for f, s in zip(feats, states):
        assert s.dtype == torch.float16 and s.shape == (len(f["input_ids"]), enc.config.hidden_size)
    one = {k: torch.tensor([feats[0][k]]) for k in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        hidden = enc(**one, output_hidden_states=True).hidden_states
    expected = sum(hidden[-4:])[0]
    assert torch.allclose(states[0].float(), expected, atol=0.05 * expected.abs().max().item())
    with pytest.raises(ValueError, match="layers"):
        fh.frozen_states(enc, tok, feats, layers=99)


def test_the_head_never_scores_padding_above_a_real_piece():
    head = fh.SpanHead(width=8, hidden=4).eval()
    states = torch.randn(2, 6, 8)
    start, end = head(states, torch.tensor([6, 3]))
    assert start.shape == end.shape == (2, 6)
    assert (start[1, 3:] <= -1e3).all() and (end[1, 3:] <= -1e3).all()
    assert (start[1, :3] > -1e3).all()
    # what sits in the padding does not change the real pieces' scores
    states[1, 3:] = 100.0
    start2, _ = head(states, torch.tensor([6, 3]))
    assert torch.allclose(start[1, :3], start2[1, :3])


def _marked_windows(n, width=8, length=12, seed=0):
    """Windows whose states mark the answer's first and last piece (dimensions 0 and 1)."""
    g = torch.Generator().manual_seed(seed)
    states, feats, meta, examples = [], [], [], []
    words = [f"w{i}" for i in range(length - 1)]
    context = " ".join(words)
    starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
    for k in range(n):
        s = int(torch.randint(1, length - 3, (1,), generator=g))
        e = s + int(torch.randint(0, 2, (1,), generator=g))
        x = 0.1 * torch.randn(length, width, generator=g)
        x[s, 0] += 3.0
        x[e, 1] += 3.0
        states.append(x.half())
        feats.append({"input_ids": [0] * length, "start_positions": s, "end_positions": e})
        offsets = [None] + [(a, a + len(w)) for a, w in zip(starts, words)]
        meta.append({"example": k, "offsets": offsets})
        answer = context[starts[s - 1]:starts[e - 1] + len(words[e - 1])]
        examples.append(QAExample(id=str(k), title="t", context=context, question="q?",
                                  answers=(answer,), answer_starts=(starts[s - 1],)))
    return states, feats, meta, examples


def test_the_head_learns_a_span_that_its_input_marks():
    states, feats, _, _ = _marked_windows(96)
    dstates, _, dmeta, dex = _marked_windows(24, seed=1)
    head, log = fh.train_head(states, feats, (dstates, dmeta, dex), lr=1e-2, epochs=3)
    assert log["steps"] == 3 * 6
    tstates, _, tmeta, tex = _marked_windows(24, seed=2)       # windows it never saw
    assert fh.evaluate_head(head, tstates, tmeta, tex)["exact_match"] >= 90, log["dev_by_epoch"]


def test_the_epoch_kept_is_the_best_on_dev(monkeypatch):
    states, feats, meta, ex = _marked_windows(32)
    scripted = iter([20.0, 50.0, 30.0])
    kept = {}

    def fake_dev(head, *dev):
        kept[len(kept)] = {k: v.clone() for k, v in head.state_dict().items()}
        return {"exact_match": 0.0, "f1": next(scripted), "pred": []}

    monkeypatch.setattr(fh, "evaluate_head", fake_dev)
    head, log = fh.train_head(states, feats, (states, meta, ex), lr=1e-2, epochs=3)
    assert log["best_epoch"] == 2 and log["dev"]["f1"] == 50.0
    assert [d["f1"] for d in log["dev_by_epoch"]] == [20.0, 50.0, 30.0]
    for k, v in head.state_dict().items():
        assert torch.equal(v, kept[1][k])


def test_a_saved_head_gives_the_same_answers_when_loaded(tmp_path):
    states, feats, meta, ex = _marked_windows(48)
    head, _ = fh.train_head(states, feats, (states, meta, ex), lr=1e-2, epochs=2)
    path = fh.save_head(head, tmp_path / "sub" / fh.ARTEFACT)
    loaded = fh.load_head(path)
    assert loaded.config == head.config
    assert fh.evaluate_head(loaded, states, meta, ex)["pred"] == fh.evaluate_head(head, states, meta, ex)["pred"]
    with pytest.raises(FileNotFoundError, match="--ways feature"):
        fh.load_head(tmp_path / "missing.safetensors")
