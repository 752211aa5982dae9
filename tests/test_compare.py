"""ctxembed.compare: the measurements of chapter 5 behave as the chapter says."""

from contextlib import nullcontext

import numpy as np
import pandas as pd
import pytest

import ctxembed
from ctxembed.compare import contextuality as C
from ctxembed.compare import models as M
from ctxembed.compare import polysemy as P
from ctxembed.compare import summary as S
from ctxembed.core.errors import UnknownWordError, WordNotFoundError
from ctxembed.data.polysemy import polysemy_sentences


# ---------------------------------------------------------------- polysemy
def test_effect_sizes_by_hand():
    assert P.cohens_d([1.0, 3.0], [0.0, 2.0]) == pytest.approx(1 / np.sqrt(2))
    assert P.auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert P.auc([0.5, 0.5], [0.5, 0.5]) == 0.5          # ties count half
    assert P.cohens_d([1, 1, 1], [1, 1]) == 0.0            # constant and equal: no effect


def test_a_static_model_separates_nothing_by_construction():
    data = polysemy_sentences()
    bank = data[data.word == "bank"]
    glove = M.Static(ctxembed.load_glove(), "GloVe")
    X = glove.use_layers(list(bank.sentence), list(bank.form), list(bank.word))[:, 0]
    sep = P.sense_separation(X, bank.sense)
    assert sep["gap"] == pytest.approx(0, abs=1e-6) and sep["d"] == 0 and sep["auc"] == 0.5


def test_minilm_puts_same_sense_uses_of_bank_closer_with_a_large_effect():
    data = polysemy_sentences()
    bank = data[data.word == "bank"]
    X = M.Transformer().use_layers(list(bank.sentence), list(bank.form), list(bank.word))
    assert X.shape == (len(bank), 7, 384)
    top = P.sense_separation(X[:, -1], bank.sense)
    assert top["same"] > top["different"] and top["d"] > 0.8 and top["auc"] > 0.8


def test_light_and_run_have_the_four_senses_of_the_comparison():
    data = polysemy_sentences()
    assert set(data[data.word == "light"].sense) == {"illumination", "weight", "ignite", "pale"}
    assert set(data[data.word == "run"].sense) == {"move", "manage", "operate", "flow"}
    for word in ("light", "run"):          # chapter 2's ELMo looks the word up by its lemma
        assert (data[data.word == word].form == word).all()


def test_separation_needs_two_senses_and_same_sense_pairs():
    with pytest.raises(ValueError, match="two senses"):
        P.pair_similarities(np.eye(3), ["a", "a", "a"])
    with pytest.raises(ValueError, match="same-sense pair"):
        P.pair_similarities(np.eye(3), ["a", "b", "c"])


def test_static_unknown_word_says_what_to_do():
    glove = M.Static(ctxembed.load_glove(), "GloVe")
    with pytest.raises(UnknownWordError, match="pick another word"):
        glove.use_layers(["A qwzxqv here."], ["qwzxqv"], ["qwzxqv"])


# ---------------------------------------------------------------- contextuality
def occurrences(vectors, words, sids):
    v = np.asarray(vectors, dtype=np.float32)
    return C.Occurrences(np.array(words), np.array(sids), v[:, None, :], ("L0",))


def test_static_vectors_have_self_similarity_and_mev_one():
    rng = np.random.default_rng(0)
    table = {w: rng.normal(size=16) for w in "abc"}
    words = [w for _ in range(6) for w in "abc"]
    sids = [s for s in range(6) for _ in "abc"]
    occ = occurrences([table[w] for w in words], words, sids)
    assert np.allclose(C.self_similarity(occ).to_numpy(), 1.0, atol=1e-6)
    assert np.allclose(C.max_explainable_variance(occ).to_numpy(), 1.0, atol=1e-6)


def test_anisotropy_is_near_zero_for_random_directions_and_grows_with_a_shared_one():
    rng = np.random.default_rng(0)
    n = 3000
    noise = rng.normal(size=(n, 64))
    words, sids = [f"w{i % 50}" for i in range(n)], [i // 5 for i in range(n)]
    iso = C.anisotropy(occurrences(noise, words, sids)).iloc[0]
    cone = C.anisotropy(occurrences(noise + 3.0, words, sids)).iloc[0]
    assert abs(iso) < 0.03 and cone > 0.8
    report = C.contextuality_by_layer(occurrences(noise + 3.0, words, sids))
    assert report.self_similarity_adj.iloc[0] == pytest.approx(
        report.self_similarity.iloc[0] - report.anisotropy.iloc[0])


def test_intra_sentence_similarity_is_one_when_a_sentence_repeats_one_vector():
    v = np.ones((4, 8))
    occ = occurrences(np.vstack([v, np.eye(8)[:4]]), list("abcdabcd"), [0] * 4 + [1] * 4)
    intra = C.intra_sentence_similarity(occ)
    assert intra.loc[0, "L0"] == pytest.approx(1.0)
    assert intra.loc[1, "L0"] == pytest.approx(0.5)      # 4 orthogonal unit vectors vs their mean


def test_mev_is_at_least_the_squared_length_of_the_mean_share():
    """The bound the chapter uses: MEV >= |mean v|^2 / mean |v|^2 (so MEV < 5% needs tiny self-similarity)."""
    rng = np.random.default_rng(1)
    base = rng.normal(size=32)
    vecs = base + 0.7 * rng.normal(size=(10, 32))
    occ = occurrences(vecs, ["w"] * 10, range(10))
    mev = C.max_explainable_variance(occ).iloc[0, 0]
    bound = np.linalg.norm(vecs.mean(0)) ** 2 / np.mean(np.linalg.norm(vecs, axis=1) ** 2)
    assert mev >= bound - 1e-9 and bound > 0.5


def test_adjusted_mev_is_zero_when_a_words_uses_are_as_scattered_as_random_words():
    """Ethayarajh's "under 5%" is MEV minus that of random words: in an anisotropic cone
    (every vector shares a direction, so the raw MEV is large) a word whose vectors are as
    scattered as random words' gets about 0, and a static word keeps a large share."""
    rng = np.random.default_rng(2)
    n_words, k = 40, 8
    words = [f"w{i}" for i in range(n_words) for _ in range(k)]
    sids = [j for _ in range(n_words) for j in range(k)]      # sentence j holds every word once
    cone = rng.normal(size=(n_words * k, 32)) + 2.0
    raw = C.max_explainable_variance(occurrences(cone, words, sids))
    adjusted = C.adjusted_max_explainable_variance(occurrences(cone, words, sids))
    assert raw.mean().iloc[0] > 0.5                       # raw: the shared direction
    assert abs(adjusted.mean().iloc[0]) < 0.03            # corrected: nothing a static vector adds
    static = np.repeat(rng.normal(size=(n_words, 32)) + 2.0, k, axis=0)
    fixed = C.adjusted_max_explainable_variance(occurrences(static, words, sids))
    base = C.random_word_mev(occurrences(static, words, sids), k)
    assert np.allclose(fixed.to_numpy(), 1.0 - base[0], atol=0.02) and (fixed.to_numpy() > 0.1).all()
    report = C.contextuality_by_layer(occurrences(cone, words, sids))
    assert report.mev_adj.iloc[0] == pytest.approx(adjusted.mean().iloc[0], abs=0.01)


def test_the_mev_baseline_uses_as_many_random_tokens_as_the_word_has_contexts():
    rng = np.random.default_rng(3)
    occ = occurrences(rng.normal(size=(400, 32)), [f"w{i % 40}" for i in range(400)], range(400))
    few, many = C.random_word_mev(occ, 3)[0], C.random_word_mev(occ, 25)[0]
    assert few > many                      # fewer vectors: the first component explains more
    with pytest.raises(ValueError, match="at least 2"):
        C.random_word_mev(occ, 1)


def test_self_similarity_needs_words_in_enough_sentences():
    occ = occurrences(np.eye(3), ["a", "b", "c"], [0, 1, 2])
    with pytest.raises(ValueError, match="5 or more sentences"):
        C.self_similarity(occ)


def test_elmo_layer0_is_static_and_the_model_layers_agree_with_use_layers():
    elmo = M.ELMo()
    sents = [["the", "bank", "of", "the", "river"], ["a", "bank", "loan", "was", "approved"],
             ["she", "works", "at", "the", "bank"], ["the", "muddy", "bank", "was", "steep"],
             ["the", "bank", "closed", "early", "today"]]
    occ = M.corpus_occurrences(elmo, sents, keep=lambda w: w == "bank")
    sim = C.self_similarity(occ)
    assert sim.loc["bank", "L0"] == pytest.approx(1.0, abs=1e-5)
    assert sim.loc["bank", "L2"] < 0.99
    direct = elmo.use_layers([" ".join(s) for s in sents], ["bank"] * 5, ["bank"] * 5)
    np.testing.assert_allclose(occ.vectors, direct, atol=1e-5)


def test_transformer_token_layers_agree_with_word_vectors():
    minilm = M.Transformer()
    tokens = [["we", "sat", "on", "the", "river", "bank"]]
    [layers] = minilm.token_layers(tokens)
    direct = minilm.use_layers(["we sat on the river bank"], ["bank"], ["bank"])[0]
    np.testing.assert_allclose(layers[:, 5], direct, atol=1e-5)


@pytest.mark.parametrize("embedder", ["small BERT", "MiniLM"])
def test_a_word_truncated_away_is_an_error_that_says_so_not_a_nan_vector(embedder):
    """Every BERT-family embedder finds a word's pieces as core.embeddings does: a sentence
    longer than the model takes loses its last words, and asking for them says why."""
    model = M.SmallBERT() if embedder == "small BERT" else M.Transformer()
    tokens = ["bank"] * 600
    with pytest.warns(UserWarning, match="truncated") if embedder == "MiniLM" else nullcontext(), \
            pytest.raises(WordNotFoundError, match="truncated away"):
        model.token_layers([tokens])
    first_words = model.token_layers([tokens[:20]])[0]
    assert first_words.shape[1] == 20 and not np.isnan(first_words).any()


def test_findings_report_each_finding_with_evidence():
    rng = np.random.default_rng(0)
    words = [f"w{i % 20}" for i in range(400)]
    sids = [i // 8 for i in range(400)]
    base = {w: rng.normal(size=16) for w in set(words)}
    layers = np.stack([np.stack([base[w] for w in words]),
                       np.stack([base[w] + 0.5 * rng.normal(size=16) + 2 for w in words]),
                       np.stack([base[w] + 1.5 * rng.normal(size=16) + 2 for w in words])], axis=1)
    occ = C.Occurrences(np.array(words), np.array(sids), layers.astype(np.float32), ("L0", "L1", "L2"))
    report = C.contextuality_by_layer(occ)
    gap = C.stopword_gap(C.self_similarity(occ), ["w0", "w1"])
    found = C.ethayarajh_findings(report, gap, "bert")
    assert list(found.index) == list(C.FINDINGS)
    assert found.loc["upper layers more context-specific", "holds"]
    assert found.loc["anisotropic in every layer above the input", "holds"]
    with pytest.raises(ValueError, match="family"):
        C.ethayarajh_findings(report, gap, "gpt")


# ---------------------------------------------------------------- summary
def facts(name, acc, speed, oov, ctx=True, params=1_000_000):
    cell = S.Cell("x", "test")
    return S.ModelFacts(name=name, family="BERT" if ctx else "static", layer="L1",
                        self_similarity=0.5 if ctx else None, sense_accuracy=acc, chance=0.3,
                        sense_gap=0.1, oov_rate=oov, words_per_second=speed, parameters=params,
                        training_data=cell, architecture=cell, fine_tuning=cell)


def test_recommendations_follow_the_numbers():
    fs = {"A": facts("A", 0.45, 1_000, 0.0), "B": facts("B", 0.30, 100_000, 0.02, ctx=False)}
    recs = {need: who for need, who, _ in S.recommend(fs)}
    assert recs["meaning in context (senses, sentence-dependent meaning)"] == "A"
    assert recs["huge volumes, word-type questions (similar words, analogies)"] == "B"
    fs["B"].sense_accuracy = 0.60           # change a measurement: the advice changes
    assert S.recommend(fs)[0][1] == "B"


def test_a_small_model_reads_context_only_when_its_interval_clears_chance():
    fs = {"big": facts("big", 0.60, 1_000, 0.0, params=9_000_000),
          "small": facts("small", 0.40, 2_000, 0.0, params=1_000_000)}
    fs["big"].above_chance = (0.25, 0.35)
    fs["small"].above_chance = (-0.01, 0.21)     # 10 points up, but the interval includes 0
    needs = {need: who for need, who, _ in S.recommend(fs)}
    assert "a small model that still reads context" not in needs
    fs["small"].above_chance = (0.02, 0.18)
    needs = {need: (who, why) for need, who, why in S.recommend(fs)}
    who, why = needs["a small model that still reads context"]
    assert who == "small" and "+2.0 to +18.0 points" in why


def test_summary_table_has_every_row_with_a_source():
    fs = {"A": facts("A", 0.45, 1_000, 0.0), "B": facts("B", 0.30, 100_000, 0.02, ctx=False),
          "C": facts("C", 0.40, 500, 0.05, params=9_000_000)}
    table = S.summary_table(fs)
    assert list(table.values.index) == list(S.ROWS) and list(table.values.columns) == ["A", "B", "C"]
    assert (table.sources != "").all().all()
    assert table.values.loc["best use", "C"].startswith("none here")   # dominated by A
    assert "<table" in table.to_html()


class _TimedEmbedder(M.Embedder):
    """token_layers takes ``seconds`` per pass; the passes listed in ``slow_passes`` take 20x."""

    def __init__(self, seconds, slow_passes=()):
        self.seconds, self.slow_passes, self.calls = seconds, set(slow_passes), 0

    def token_layers(self, token_lists):
        import time

        self.calls += 1
        time.sleep(self.seconds * (20 if self.calls in self.slow_passes else 1))
        return [np.zeros((1, len(t), 2)) for t in token_lists]


def test_words_per_second_times_fast_models_over_many_passes_and_keeps_the_best_run():
    words = [["the", "bank"], ["a", "river", "bank"]]                  # 5 words
    fast = _TimedEmbedder(0.005)
    speed = M.words_per_second(fast, words, repeats=3, min_seconds=0.1)
    assert fast.calls > 1 + 3 * 5       # warm-up, then passes until 0.1 s (one pass: 5 ms+)
    assert 5 / 0.005 * 0.6 < speed <= 5 / 0.005     # sleep overshoots, never undershoots
    # a run slowed by other work on the machine (its first pass 20x longer) does not count
    disturbed = _TimedEmbedder(0.05, slow_passes={2})
    speed = M.words_per_second(disturbed, words, repeats=3, min_seconds=0.05)
    assert 5 / 0.05 * 0.6 < speed <= 5 / 0.05


def test_sense_heatmaps_share_one_colour_scale_with_a_colour_bar():
    import matplotlib
    matplotlib.use("Agg")
    from ctxembed.compare import plots
    narrow = pd.DataFrame([[0.94, 0.90], [0.90, 0.93]], index=["a", "b"], columns=["a", "b"])
    wide = pd.DataFrame([[0.80, 0.20], [0.20, 0.70]], index=["a", "b"], columns=["a", "b"])
    fig = plots.sense_matrices({"narrow": narrow, "wide": wide})
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    assert {im.get_clim() for im in images} == {(0.2, 0.94)}
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)


# ---------------------------------------------------------------- figures and noise
def test_tradeoff_labels_stay_inside_the_figure_and_do_not_overlap():
    from ctxembed.compare import plots

    points = pd.DataFrame({"speed": [900_000, 1_100_000, 2_000, 20_000, 3_000],
                           "accuracy": [0.372, 0.372, 0.40, 0.41, 0.61]},
                          index=["GloVe", "word2vec", "ELMo", "small BERT", "MiniLM"])
    fig = plots.tradeoff(points, "speed", "accuracy", xlabel="x", ylabel="y", chance=0.372)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    frame = fig.bbox
    assert len(boxes) == 5
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (fig.axes[0].texts[i].get_text(),
                                                     fig.axes[0].texts[j].get_text())


def test_separation_intervals_are_paired_and_ties_are_named_as_ties():
    data = polysemy_sentences()
    bank = data[data.word.isin(["bank", "bark"])].reset_index(drop=True)
    rng = np.random.default_rng(0)
    signal = np.where(bank.sense.isin(["finance", "dog"]).to_numpy()[:, None], 1.0, -1.0)
    strong = signal * np.ones((1, 8)) + rng.normal(0, 0.5, (len(bank), 8))
    weak = signal * np.ones((1, 8)) * 0.2 + rng.normal(0, 1.0, (len(bank), 8))
    weak_twin = weak + rng.normal(0, 0.01, weak.shape)         # the same model, all but
    static = np.ones((len(bank), 8))
    table, draws = P.bootstrap_separation({"strong": strong, "weak": weak, "twin": weak_twin,
                                           "static": static}, bank.word, bank.sense,
                                          n_resamples=300)
    assert (table.low <= table.d).all() and (table.d <= table.high).all()
    assert table.loc["static", ["d", "low", "high"]].tolist() == [0.0, 0.0, 0.0]
    groups = P.ordered_with_ties(table, draws)
    assert groups[0] == ["strong"] and {"weak", "twin"} <= set(groups[1])
    assert "cannot order" in P.ordering_sentence(table.drop("static"), draws)
