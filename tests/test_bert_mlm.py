"""Masked-language-model pieces: the 80/10/10 rule, the corpus, the shipped checkpoint."""

import numpy as np
import pytest
import torch

from ctxembed.bert.mlm import (
    CHECKPOINT,
    IGNORE,
    KEPT,
    MASKED,
    RANDOM,
    CompactTokenizer,
    corpus_token_ids,
    default_tokenizer,
    evaluate,
    fill_mask,
    load_checkpoint,
    mask_tokens,
    masking_statistics,
    new_model,
    split_corpus,
    wordnet_texts,
)

SPECIAL = [0, 100, 101, 102, 103]   # [PAD] [UNK] [CLS] [SEP] [MASK]
MASK_ID, VOCAB = 103, 30522


def fake_batch(batch=400, width=64, seed=0):
    """Random sentences with [CLS] ... [SEP] and padding of varying lengths."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, VOCAB, (batch, width), generator=g)
    lengths = torch.randint(5, width + 1, (batch,), generator=g)
    mask = (torch.arange(width)[None, :] < lengths[:, None]).long()
    ids[:, 0] = 101
    ids[torch.arange(batch), lengths - 1] = 102
    ids[mask == 0] = 0
    return ids, mask


@pytest.fixture(scope="module")
def masked():
    ids, mask = fake_batch()
    g = torch.Generator().manual_seed(42)
    mb = mask_tokens(ids, mask_token_id=MASK_ID, special_ids=SPECIAL, vocab_size=VOCAB,
                     attention_mask=mask, generator=g)
    return ids, mask, mb


def test_fifteen_percent_and_80_10_10(masked):
    _, mask, mb = masked
    stats = masking_statistics(mb, mask, SPECIAL)
    assert stats["eligible tokens"] > 10_000
    assert stats["selected"] == pytest.approx(0.15, abs=0.01)
    assert stats["masked"] == pytest.approx(0.80, abs=0.02)
    assert stats["random"] == pytest.approx(0.10, abs=0.02)
    assert stats["kept"] == pytest.approx(0.10, abs=0.02)


def test_80_10_10_read_from_the_corrupted_input_itself():
    """The rule measured from what the model is given, not from the ``action`` bookkeeping:
    of the eligible tokens 15% carry a label; of those, 80% read [MASK], 10% another token
    (drawn across the vocabulary) and 10% are unchanged. Tolerances are about 3.5 standard
    errors for ~70k eligible tokens."""
    ids, mask = fake_batch(batch=2000, seed=3)
    mb = mask_tokens(ids, mask_token_id=MASK_ID, special_ids=SPECIAL, vocab_size=VOCAB,
                     attention_mask=mask, generator=torch.Generator().manual_seed(7))
    eligible = (mask == 1) & ~torch.isin(ids, torch.tensor(SPECIAL))
    selected = mb.labels != IGNORE
    n_eligible, n_selected = int(eligible.sum()), int(selected.sum())
    assert n_eligible > 60_000
    assert n_selected / n_eligible == pytest.approx(0.15, abs=0.005)
    became_mask = selected & (mb.input_ids == MASK_ID)
    unchanged = selected & (mb.input_ids == ids)
    replaced = selected & ~became_mask & ~unchanged
    assert int(became_mask.sum()) / n_selected == pytest.approx(0.80, abs=0.013)
    assert int(replaced.sum()) / n_selected == pytest.approx(0.10, abs=0.01)
    assert int(unchanged.sum()) / n_selected == pytest.approx(0.10, abs=0.01)
    drawn = mb.input_ids[replaced]
    assert not torch.isin(drawn, torch.tensor(SPECIAL)).any()
    assert len(drawn.unique()) > 0.9 * len(drawn)           # spread over 30k ids, not a few
    assert drawn.min() < VOCAB // 10 and drawn.max() > VOCAB - VOCAB // 10
    # the labels are the original tokens, whatever the input shows
    assert torch.equal(mb.labels[selected], ids[selected])


def test_specials_and_padding_never_selected(masked):
    ids, mask, mb = masked
    special = torch.isin(ids, torch.tensor(SPECIAL))
    assert not (mb.selected & special).any()
    assert not (mb.selected & (mask == 0)).any()
    assert torch.equal(mb.input_ids[special], ids[special])  # specials untouched


def test_labels_and_replacements(masked):
    ids, _, mb = masked
    sel = mb.selected
    assert (mb.labels[~sel] == IGNORE).all()
    assert torch.equal(mb.labels[sel], ids[sel])
    assert torch.equal(mb.input_ids[~sel], ids[~sel])           # nothing else changes
    assert (mb.input_ids[mb.action == MASKED] == MASK_ID).all()
    assert torch.equal(mb.input_ids[mb.action == KEPT], ids[mb.action == KEPT])
    rand = mb.input_ids[mb.action == RANDOM]
    assert not torch.isin(rand, torch.tensor(SPECIAL)).any()
    assert ((mb.action != 0) == sel).all()


def test_masking_is_seeded(masked):
    ids, mask, mb = masked
    again = mask_tokens(ids, mask_token_id=MASK_ID, special_ids=SPECIAL, vocab_size=VOCAB,
                        attention_mask=mask, generator=torch.Generator().manual_seed(42))
    assert torch.equal(again.input_ids, mb.input_ids) and torch.equal(again.labels, mb.labels)


def test_wordnet_corpus_is_real_text():
    texts = wordnet_texts()
    assert len(texts) > 150_000
    assert len(set(texts)) == len(texts)
    assert any("financial institution" in t for t in texts)


def test_compact_tokenizer_round_trip():
    base = default_tokenizer()
    seqs = [np.array(base("the bank of the river")["input_ids"])]
    tok = CompactTokenizer.from_corpus(base, seqs, size=10)
    out = tok(["the river flows"], return_tensors="pt")["input_ids"][0]
    assert tok.convert_ids_to_tokens(out.tolist()) == ["[CLS]", "the", "river", "[UNK]", "[SEP]"]  # "flows" is not kept
    assert tok.mask_token_id in tok.all_special_ids and len(tok) == 5 + 4  # specials + 4 pieces


@pytest.fixture(scope="module")
def shipped():
    if not CHECKPOINT.exists():
        pytest.fail(f"{CHECKPOINT} is missing: run `python -m ctxembed.bert train`")
    return load_checkpoint()


def test_checkpoint_is_small_and_loads(shipped):
    model, tokenizer, meta = shipped
    assert CHECKPOINT.stat().st_size < 20e6
    assert model.config.vocab_size == len(tokenizer)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    for key in ("seed", "steps", "train_seconds", "eval_loss_before", "eval_loss_after", "curve"):
        assert key in meta


@pytest.fixture(scope="module")
def held_out(shipped):
    """The recorded run's held-out WordNet texts (the same seeded split as ``prepare_corpus``),
    in the shipped compact vocabulary."""
    _, tokenizer, meta = shipped
    _, texts = split_corpus(wordnet_texts(), n_eval=meta["corpus"]["eval_texts"], seed=meta["seed"])
    return [tokenizer.compact(x) for x in corpus_token_ids(tokenizer.base, texts, use_cache=False)]


def unigram_entropy(sequences, special_ids):
    """Entropy (nats) of the held-out tokens' own frequencies: no unigram model, even one fitted
    to these very tokens, predicts them with a lower cross-entropy."""
    flat = np.concatenate(sequences)
    counts = np.bincount(flat[~np.isin(flat, special_ids)]).astype(float)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def test_checkpoint_learned_something(shipped, held_out):
    """On held-out text the shipped model's masked-token loss is far below a randomly
    initialised model of the same configuration and below the unigram-entropy baseline, and
    both losses are the ones the record holds."""
    model, tokenizer, meta = shipped
    trained = evaluate(model, held_out, tokenizer)
    untrained = evaluate(new_model(model.config, seed=meta["seed"]), held_out, tokenizer)
    unigram = unigram_entropy(held_out, tokenizer.all_special_ids)
    assert untrained == pytest.approx(meta["eval_loss_before"], abs=0.1)
    assert untrained > 0.95 * np.log(len(tokenizer))        # a random model: about uniform
    assert trained == pytest.approx(meta["eval_loss_after"], abs=0.05)
    assert trained < untrained - 3.0, (trained, untrained)
    assert trained < unigram - 1.0, (trained, unigram)
    for probe, [recorded] in meta["guesses_after"].items():   # the chapter prints these
        [guesses] = fill_mask(model, tokenizer, probe, top_k=5)
        assert len(guesses) == 5 and all(0 <= p <= 1 for _, p in guesses)
        assert guesses[0][0] == recorded[0][0], (probe, guesses, recorded)


@pytest.mark.slow
def test_shipped_eval_loss_reproduces(shipped):
    """The recorded eval loss is what the shipped (float16-stored) weights give."""
    from ctxembed.bert.mlm import prepare_corpus

    model, tokenizer, meta = shipped
    _, _, eval_seqs, _ = prepare_corpus(seed=meta["seed"])
    assert evaluate(model, eval_seqs, tokenizer) == pytest.approx(meta["eval_loss_after"], abs=0.05)
