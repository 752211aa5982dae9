"""Chapter 4, section 10: the in-batch-negatives loss, the retrieval test, and the shipped adapters."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from ctxembed.finetune import contrastive


def test_loss_is_cross_entropy_of_picking_the_own_key_by_scaled_cosine():
    gen = torch.Generator().manual_seed(0)
    q, k = torch.randn(5, 8, generator=gen), torch.randn(5, 8, generator=gen)
    cos = torch.nn.functional.cosine_similarity(q[:, None], k[None], dim=-1)   # (5, 5)
    by_hand = -torch.log_softmax(20 * cos, dim=1).diagonal().mean()
    assert torch.isclose(contrastive.in_batch_negatives_loss(q, k, scale=20), by_hand)


def test_loss_falls_as_pairs_align_and_ignores_vector_length():
    gen = torch.Generator().manual_seed(1)
    q, noise = torch.randn(8, 16, generator=gen), torch.randn(8, 16, generator=gen)
    losses = [float(contrastive.in_batch_negatives_loss(q, q + s * noise)) for s in (2, 1, 0.3, 0)]
    assert losses == sorted(losses, reverse=True)
    assert losses[-1] < 0.01           # orthogonal-ish random rows: own key wins by far
    scaled = contrastive.in_batch_negatives_loss(3 * q, 0.5 * (q + noise))
    assert torch.isclose(scaled, contrastive.in_batch_negatives_loss(q, q + noise))
    with pytest.raises(ValueError, match="batch, hidden"):
        contrastive.in_batch_negatives_loss(q, q[:4])


def test_retrieval_counts_a_query_right_only_when_its_own_key_is_strictly_nearest():
    keys = np.eye(3)
    assert contrastive.retrieval_correct(keys * 5, keys).tolist() == [1, 1, 1]
    swapped = keys[[1, 0, 2]]
    assert contrastive.retrieval_correct(swapped, keys).tolist() == [0, 0, 1]
    tie = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert contrastive.retrieval_correct(tie, keys)[0] == 0      # a tie is a miss
    with pytest.raises(ValueError, match="one key per query"):
        contrastive.retrieval_correct(keys, keys[:2])


def test_split_is_by_synset_seeded_and_every_synset_has_an_example():
    split = contrastive.gloss_example_split(n_dev=50, n_test=60)
    assert (len(split.dev), len(split.test)) == (50, 60)
    names = [{s.name for s in part} for part in (split.train, split.dev, split.test)]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert all(s.examples and s.definition for part in (split.dev, split.test) for s in part)
    assert len({s.pos for s in split.test}) >= 3       # a random draw, not one file's run
    assert contrastive.gloss_example_split(n_dev=50, n_test=60) == split
    queries, keys = contrastive.retrieval_texts(split.test)
    assert queries[0] == split.test[0].examples[0] and keys[0] == split.test[0].definition
    with pytest.raises(ValueError, match="leave"):
        contrastive.gloss_example_split(n_dev=10**6)


def test_pairs_are_one_per_synset_and_pad_into_the_wrapper_inputs():
    from ctxembed.core.models import load_encoder

    tokenizer = load_encoder().tokenizer
    synsets = contrastive.gloss_example_split(n_dev=5, n_test=5).dev
    features = contrastive.pair_features(tokenizer, synsets, seed=0)
    assert len(features) == len(synsets)
    for f, s in zip(features, synsets):
        assert f["key_input_ids"] == tokenizer(s.definition)["input_ids"]
        assert f["input_ids"] in [tokenizer(e)["input_ids"] for e in s.examples]
    batch = contrastive.pair_collator(tokenizer)(features)
    assert batch["input_ids"].shape[0] == batch["key_input_ids"].shape[0] == len(synsets)
    lengths = batch["key_attention_mask"].sum(1).tolist()
    assert lengths == [len(f["key_input_ids"]) for f in features]


@pytest.mark.slow
def test_wrapper_pools_padding_out_and_returns_a_loss():
    tokenizer, model = contrastive.new_contrastive_model(seed=0)
    model.eval()
    texts = ["A bank loan.", "The committee met for a long time to discuss the new rules."]
    batch = contrastive.pair_collator(tokenizer)(
        [{"input_ids": ids, "key_input_ids": ids}
         for ids in tokenizer(texts)["input_ids"]])
    with torch.no_grad():
        padded = model.embed(batch["input_ids"], batch["attention_mask"])[0]
        alone = tokenizer(texts[:1], return_tensors="pt")
        single = model.embed(alone["input_ids"], alone["attention_mask"])[0]
        loss = model(**batch).loss
    assert torch.allclose(padded, single, atol=1e-5)
    assert loss.ndim == 0 and float(loss) >= 0
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)     # only the adapters train


@pytest.mark.slow
def test_shipped_adapter_changes_the_encoder_and_matches_the_training_pooling():
    import ctxembed

    tuned = contrastive.contrastive_encoder(seed=0)
    assert re.fullmatch(r".+\+gloss-contrastive-s0-[0-9a-f]{8}", tuned.name)
    texts = ["the pilot flew the plane", "a financial institution that accepts deposits"]
    tuned_vectors = ctxembed.sentence_vectors(texts, encoder=tuned)
    assert not np.allclose(tuned_vectors, ctxembed.sentence_vectors(texts), atol=1e-3)
    batch = tuned.tokenizer(texts, padding=True, return_tensors="pt")
    wrapper = contrastive.InBatchNegatives(tuned.model)
    with torch.no_grad():
        trained_view = wrapper.embed(batch["input_ids"], batch["attention_mask"]).numpy()
    np.testing.assert_allclose(tuned_vectors, trained_view, atol=1e-4)


def test_record_holds_the_dev_choice_and_every_seed():
    record = contrastive.load_record()
    dev = record["dev_by_lr"]
    assert float(max(dev, key=dev.get)) == record["lr"]      # the best dev score chose the rate
    assert sorted(record["runs"]) == [str(s) for s in contrastive.SEEDS]
    assert all(len(r["test_scores"]) == record["pairs"]["test"] for r in record["runs"].values())
    shipped = sorted(p.name for p in contrastive.ARTEFACTS.glob("gloss-contrastive*"))
    assert shipped == ["gloss-contrastive-s0.safetensors", "gloss-contrastive-s1.safetensors",
                       "gloss-contrastive-s2.safetensors", "gloss-contrastive.json"]
    assert all((contrastive.ARTEFACTS / name).stat().st_size < 1_000_000 for name in shipped)


def test_a_missing_adapter_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m ctxembed.finetune contrastive"):
        contrastive.contrastive_encoder(seed=7, folder=tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m ctxembed.finetune contrastive"):
        contrastive.load_record(tmp_path)


@pytest.mark.slow
def test_training_command_writes_adapters_and_record(tmp_path):
    from ctxembed.finetune.__main__ import main

    main(["contrastive", "--out", str(tmp_path), "--max-steps", "2", "--n-eval", "8",
          "--seeds", "0", "1", "--lrs", "1e-3", "2e-3", "--threads", "1"])
    record = contrastive.load_record(tmp_path)
    assert set(record["dev_by_lr"]) == {"0.001", "0.002"} and record["steps"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gloss-contrastive-s0.safetensors", "gloss-contrastive-s1.safetensors",
        "gloss-contrastive.json"]
    tuned = contrastive.contrastive_encoder(seed=1, folder=tmp_path)
    assert "-s1-" in tuned.name
