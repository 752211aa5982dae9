"""What fine-tuning changed inside the encoder: linear CKA and the shipped tuned encoders."""

import numpy as np
import pytest

import ctxembed
from ctxembed.finetune.representations import (
    cka_by_layer,
    fine_tuned_encoder,
    linear_cka,
)


def test_cka_ignores_rotation_scale_and_shift_but_not_a_new_geometry():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 16))
    rotation, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    assert linear_cka(x, 5 * x @ rotation + 3) == pytest.approx(1.0)
    assert linear_cka(x, x[:, :8]) < 0.9                    # half the directions lost
    assert linear_cka(x, rng.normal(size=(200, 16))) < 0.2  # unrelated vectors
    assert linear_cka(x, x[:, :4]) == pytest.approx(linear_cka(x[:, :4], x))


def test_cka_by_layer_compares_each_layer_with_itself():
    rng = np.random.default_rng(1)
    before = rng.normal(size=(100, 3, 8))
    after = before.copy()
    after[:, 2] = rng.normal(size=(100, 8))
    scores = cka_by_layer(before, after)
    assert scores[:2] == pytest.approx([1.0, 1.0]) and scores[2] < 0.3


def test_mismatched_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="same n"):
        linear_cka(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="same inputs"):
        cka_by_layer(np.zeros((5, 3, 2)), np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match="lora"):
        fine_tuned_encoder("pos", "full")


@pytest.mark.slow
def test_a_tuned_encoder_keeps_its_embeddings_and_changes_its_top_layer():
    sentences = ["The bank raised its rates.", "We sat on the bank of the river.",
                 "She will bank on his help.", "The key is under the mat.",
                 "Press any key to go on.", "The key to success is work."]
    forms = ["bank", "bank", "bank", "key", "key", "key"]
    tuned = fine_tuned_encoder("pos")
    assert tuned.name != ctxembed.load_encoder().name          # never served from the cache
    before = ctxembed.word_vectors(sentences, forms, layers="all")
    after = ctxembed.word_vectors(sentences, forms, layers="all", encoder=tuned)
    assert np.allclose(before[:, 0], after[:, 0], atol=1e-5)  # LoRA leaves the embeddings
    assert not np.allclose(before[:, -1], after[:, -1], atol=1e-2)


def test_a_tuned_encoder_is_named_after_its_adapter_file(tmp_path):
    from ctxembed.finetune.tasks import ARTEFACTS, artefact_digest

    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.write_bytes(b"one adapter")
    b.write_bytes(b"another adapter")
    assert artefact_digest(a) != artefact_digest(b) and len(artefact_digest(a)) == 8
    digest = artefact_digest(ARTEFACTS / "pos-lora.safetensors")
    assert fine_tuned_encoder("pos").name.endswith(f"+pos-lora-{digest}")


@pytest.mark.slow
def test_wsd_forgetting_scores_every_encoder_on_the_same_uses():
    from ctxembed.finetune.representations import wsd_forgetting
    from ctxembed.wsd.evaluation import evaluate_wordnet

    scores = wsd_forgetting(tasks=("pos",))
    assert list(scores) == ["pretrained", "pos"]
    shipped = evaluate_wordnet().predictions
    chapter5 = shipped.loc[shipped.method == "centroid", "correct"].to_numpy(float)
    np.testing.assert_array_equal(scores["pretrained"], chapter5)   # chapter 5's own row
    assert scores["pos"].shape == chapter5.shape
    assert set(np.unique(scores["pos"])) <= {0.0, 1.0}
    assert not np.array_equal(scores["pos"], chapter5)             # another encoder's result
