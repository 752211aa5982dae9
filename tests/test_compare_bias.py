"""Chapter 5's association tests (WEAT/SEAT) and the encoder's listed training data."""

import json

import numpy as np
import pytest

from ctxembed.compare import bias, contamination


def table_embedder(table):
    return lambda words: np.array([table[w] for w in words], dtype=float)


TOY = {"x1": [1, 0], "x2": [1, 0.2], "x3": [0.9, 0.1], "y1": [0, 1], "y2": [0.2, 1],
       "y3": [0.1, 0.9], "a": [1, 0], "b": [0, 1]}


def test_effect_size_sign_follows_which_targets_sit_nearer_a():
    embed = table_embedder(TOY)
    forward = bias.weat(embed, ("x1", "x2", "x3"), ("y1", "y2", "y3"), ("a",), ("b",))
    backward = bias.weat(embed, ("y1", "y2", "y3"), ("x1", "x2", "x3"), ("a",), ("b",))
    assert forward.effect_size > 1.5
    assert backward.effect_size == pytest.approx(-forward.effect_size)
    assert backward.p_value > 0.9


def test_p_value_is_the_exact_permutation_test_when_re_splits_are_few():
    # 3 + 3 targets: 20 equal-size re-splits, and only the observed one is this extreme
    result = bias.weat(table_embedder(TOY), ("x1", "x2", "x3"), ("y1", "y2", "y3"),
                       ("a",), ("b",))
    assert result.p_value == pytest.approx(1 / 20)


def test_unrelated_targets_show_no_association():
    rng = np.random.default_rng(0)
    table = {f"w{i}": rng.normal(size=20) for i in range(44)}
    words = list(table)
    result = bias.weat(table_embedder(table), words[:20], words[20:40], words[40:42],
                       words[42:44], seed=1)
    assert abs(result.effect_size) < 0.8 and result.p_value > 0.05


def test_run_test_leaves_out_unknown_words_and_says_which():
    test = bias.AssociationTest("toy", "X", ("x1", "x2", "x3", "xx"), "Y", ("y1", "y2", "y3"),
                                "A", ("a",), "B", ("b", "bb"))
    result = bias.run_test(test, table_embedder(TOY), known=lambda w: w in TOY)
    assert result.missing == ("xx", "bb") and (result.n_x, result.n_y) == (3, 3)


def test_the_four_tests_have_the_papers_list_sizes():
    sizes = [(len(t.x_words), len(t.y_words), len(t.a_words), len(t.b_words))
             for t in bias.WEAT_TESTS]
    assert sizes == [(25, 25, 25, 25), (8, 8, 8, 8), (8, 8, 8, 8), (8, 8, 8, 8)]
    assert all(w == w.lower() for t in bias.WEAT_TESTS for w in t.x_words + t.a_words)


def test_seat_averages_each_words_template_sentences():
    seen = []

    def sentence_vectors(sentences):
        seen.extend(sentences)
        return np.array([[1.0, 0.0] if "rose" in s.lower() else [0.0, 1.0] for s in sentences])

    embed = bias.seat_embedder(sentence_vectors, templates=("This is {}.", "{} is here."))
    vectors = embed(["rose", "ant"])
    assert seen == ["This is rose.", "Rose is here.", "This is ant.", "Ant is here."]
    assert vectors.shape == (2, 2) and np.allclose(vectors, [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="'{}'"):
        bias.seat_embedder(sentence_vectors, templates=("no slot",))


def test_too_few_targets_say_what_to_check():
    with pytest.raises(ValueError, match="knows the words"):
        bias.weat(table_embedder(TOY), ("x1",), ("y1", "y2"), ("a",), ("b",))


def test_training_sets_are_read_from_the_models_own_file(tmp_path):
    (tmp_path / "data_config.json").write_text(json.dumps(
        [{"name": "squad_pairs.jsonl.gz", "lines": 87599, "weight": 22},
         {"name": "reddit.jsonl.gz", "lines": 10, "weight": 1}]))
    sets = contamination.training_sets(tmp_path)
    assert [(s.name, s.pairs) for s in sets] == [("squad_pairs.jsonl.gz", 87599),
                                                  ("reddit.jsonl.gz", 10)]
    assert contamination.sets_named(sets, "SQuAD") == sets[:1]
    with pytest.raises(FileNotFoundError, match="does not list its training data"):
        contamination.training_sets(tmp_path / "elsewhere")


def test_the_packaged_encoder_lists_squad_training_pairs():
    squad = contamination.sets_named(contamination.training_sets(), "squad")
    assert [s.pairs for s in squad] == [87_599]
