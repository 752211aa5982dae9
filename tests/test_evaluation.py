"""ctxembed.evaluation: the intervals, paired comparisons and sentences the chapters print."""

import math
import re

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import f1_score

from ctxembed.evaluation import (
    Interval,
    SeedRuns,
    binomial_interval,
    binomial_standard_error,
    bootstrap_interval,
    bootstrap_metric_interval,
    compare_sentence,
    compare_systems,
    difference_sentence,
    format_interval,
    format_seed_mean,
    mcnemar_test,
    paired_bootstrap_difference,
    paired_metric_difference,
    select_on_dev,
    select_then_seeds,
    split_dev_test,
)

# --------------------------------------------------------------------------- #
# One system's interval
# --------------------------------------------------------------------------- #


def test_bootstrap_interval_covers_the_true_accuracy_at_about_the_nominal_rate():
    """200 test sets of 100 items from a system that is right 70% of the time."""
    rng = np.random.default_rng(12345)
    true_accuracy, covered = 0.7, 0
    for simulation in range(200):
        correct = rng.random(100) < true_accuracy
        interval = bootstrap_interval(correct, seed=simulation, n_resamples=1000)
        covered += interval.low <= true_accuracy <= interval.high
    assert 0.90 <= covered / 200 <= 0.99, f"coverage {covered / 200:.3f} for a 95% interval"


def test_bootstrap_interval_is_seeded_and_centred_on_the_mean():
    f1_per_question = np.random.default_rng(0).random(100)     # graded scores: no ties
    first = bootstrap_interval(f1_per_question, seed=3)
    assert first == bootstrap_interval(f1_per_question, seed=3)
    assert first != bootstrap_interval(f1_per_question, seed=4)
    assert first.estimate == pytest.approx(f1_per_question.mean())
    assert first.low < first.estimate < first.high
    assert first.confidence == 0.95 and first.n == 100
    narrower = bootstrap_interval(f1_per_question, 0.80, seed=3)
    assert first.method == "BCa"
    assert bootstrap_interval(np.tile(f1_per_question, 30)).method == "percentile"   # n=3000
    assert first.low < narrower.low and narrower.high < first.high


def test_bootstrap_interval_of_identical_scores_is_the_score_itself():
    interval = bootstrap_interval(np.ones(50))
    assert (interval.low, interval.estimate, interval.high) == (1.0, 1.0, 1.0)
    assert interval.method == "degenerate"


def test_metric_interval_resamples_examples_like_the_mean_interval():
    """A mean given as a function of indices gets the same interval as the scores themselves:
    the metric path draws the same resamples of the same examples."""
    scores = np.random.default_rng(0).random(80)
    by_indices = bootstrap_metric_interval(lambda idx: scores[idx].mean(), len(scores), seed=5,
                                           n_resamples=500)
    by_scores = bootstrap_interval(scores, seed=5, n_resamples=500)
    assert by_indices.estimate == pytest.approx(by_scores.estimate)
    assert by_indices.low == pytest.approx(by_scores.low)
    assert by_indices.high == pytest.approx(by_scores.high)


def test_metric_interval_of_macro_f1():
    gold = np.array([0, 1, 2] * 30)
    predicted = np.where(np.arange(90) % 4 == 0, (gold + 1) % 3, gold)
    interval = bootstrap_metric_interval(
        lambda idx: f1_score(gold[idx], predicted[idx], average="macro"), len(gold),
        method="percentile", n_resamples=200)
    assert interval.estimate == pytest.approx(f1_score(gold, predicted, average="macro"))
    assert interval.low < interval.estimate < interval.high < 1.0


def test_binomial_interval_is_scipys_wilson_interval():
    """Chapter 3's case: an accuracy on 254 items."""
    for right in (0, 37, 152, 254):
        ours = binomial_interval(right / 254, 254)
        theirs = stats.binomtest(right, 254).proportion_ci(method="wilson")
        assert (ours.low, ours.high) == pytest.approx((theirs.low, theirs.high), abs=1e-12)


def test_binomial_standard_error():
    assert binomial_standard_error(0.5, 100) == pytest.approx(0.05)
    assert binomial_standard_error(0.9, 400) == pytest.approx(0.015)
    assert binomial_standard_error(1.0, 30) == 0.0
    # about 1.96 standard errors either side make the 95% interval at this size
    half_width = binomial_interval(0.6, 254).width / 2
    assert half_width == pytest.approx(1.96 * binomial_standard_error(0.6, 254), rel=0.02)


def test_format_interval():
    assert format_interval(Interval(0.8142, 0.7891, 0.8383, 0.95, "BCa", 9)) == \
        "81.4 (95% CI 78.9–83.8)"
    assert format_interval(Interval(81.42, 78.91, 83.83, 0.9, "t", 9), scale=1, digits=2) == \
        "81.42 (90% CI 78.91–83.83)"
    assert format_interval(Interval(-0.002, -0.011, 0.007, 0.95, "BCa", 9)) == \
        "−0.2 (95% CI −1.1 to 0.7)"


@pytest.mark.parametrize("scores, message", [
    ([], "empty"),
    ([[1, 0], [0, 1]], "one score per test example"),
    ([1.0, float("nan")], "NaN"),
])
def test_bad_scores_are_refused_with_what_to_do(scores, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_interval(scores)


def test_a_percentage_is_refused_where_a_fraction_is_expected():
    with pytest.raises(ValueError, match="divide a percentage by 100"):
        binomial_interval(81.4, 254)


# --------------------------------------------------------------------------- #
# Two systems on the same test set
# --------------------------------------------------------------------------- #


def _correlated_systems():
    """Two systems right on about 70% of 300 items, B also wrong on 12 items A gets right:
    A is 4 points ahead, and the two share every other outcome."""
    a = np.random.default_rng(7).random(300) < 0.72
    b = a.copy()
    b[np.flatnonzero(a)[:12]] = False
    return a.astype(float), b.astype(float)


def test_paired_bootstrap_sees_a_difference_that_separate_intervals_cannot():
    a, b = _correlated_systems()
    difference = paired_bootstrap_difference(a, b, seed=0)
    assert difference.estimate == pytest.approx(12 / 300)
    assert difference.excludes(0.0), difference
    # each system's own interval is far wider than the gap between them
    assert bootstrap_interval(a, seed=0).low < b.mean() < a.mean()


def test_paired_metric_difference_pairs_the_two_metrics():
    gold = np.random.default_rng(1).integers(0, 3, 300)
    predicted_a = gold.copy()
    predicted_a[:60] = (gold[:60] + 1) % 3
    predicted_b = predicted_a.copy()
    predicted_b[60:72] = (gold[60:72] + 1) % 3                  # 12 more mistakes, same items

    def macro_f1(predicted):
        return lambda idx: f1_score(gold[idx], predicted[idx], average="macro")

    difference = paired_metric_difference(macro_f1(predicted_a), macro_f1(predicted_b),
                                          len(gold), method="percentile", n_resamples=200)
    assert difference.estimate == pytest.approx(
        f1_score(gold, predicted_a, average="macro") - f1_score(gold, predicted_b, average="macro"))
    assert difference.excludes(0.0), difference


def test_mcnemar_p_value_is_the_hand_count():
    """A alone right on 8 items, B alone on 2, both on 5, neither on 3. Under 'same accuracy'
    the 10 discordant items split like fair coins: P(a split at least as uneven as 8-2)
    = 2 * (C(10,0) + C(10,1) + C(10,2)) / 2**10 = 112 / 1024."""
    a = [1] * 8 + [0] * 2 + [1] * 5 + [0] * 3
    b = [0] * 8 + [1] * 2 + [1] * 5 + [0] * 3
    result = mcnemar_test(a, b)
    assert (result.only_a_correct, result.only_b_correct) == (8, 2)
    assert (result.both_correct, result.neither_correct, result.n) == (5, 3, 18)
    assert result.p_value == pytest.approx(112 / 1024)
    assert mcnemar_test(b, a).p_value == pytest.approx(112 / 1024)
    assert mcnemar_test([1, 0, 1], [1, 0, 1]).p_value == 1.0


def test_mcnemar_refuses_graded_scores_and_unpaired_data():
    with pytest.raises(ValueError, match="0/1.*paired_bootstrap_difference"):
        mcnemar_test([1, 0.5, 0], [1, 1, 0])
    with pytest.raises(ValueError, match="same test examples"):
        mcnemar_test([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="empty"):
        mcnemar_test([], [])


def test_paired_comparisons_refuse_mismatched_lengths():
    with pytest.raises(ValueError, match="a_scores has 3 scores and b_scores 2"):
        paired_bootstrap_difference([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="same test examples"):
        compare_sentence("A", [1, 0, 1], "B", [1, 0])


def _interval_in(sentence):
    numbers = re.search(r"paired interval (\S+) to ([^)]+)\)", sentence).groups()
    return tuple(float(n.replace("−", "-")) for n in numbers)


def test_sentence_says_indistinguishable_when_there_is_no_effect():
    """Two systems that are each right with probability 0.8, independently, on 254 items:
    their accuracies differ by chance (here A leads by four items, 1.6 points), and the
    sentence must not call it a win."""
    rng = np.random.default_rng(1)
    a, b = rng.random(254) < 0.8, rng.random(254) < 0.8
    assert a.sum() - b.sum() == 4
    sentence = compare_sentence("full fine-tuning", a, "LoRA", b, metric="accuracy")
    assert sentence.startswith("full fine-tuning and LoRA are indistinguishable here in accuracy")
    assert "ahead" not in sentence
    low, high = _interval_in(sentence)
    assert low < 0 < high


def test_sentence_says_ahead_on_a_clear_difference_and_names_the_leader():
    a, b = _correlated_systems()
    sentence = compare_sentence("full fine-tuning", a, "LoRA", b, metric="accuracy")
    assert sentence.startswith("full fine-tuning is ahead of LoRA in accuracy by 4.0 points")
    low, high = _interval_in(sentence)
    assert 0 < low < 4.0 < high
    flipped = compare_sentence("LoRA", b, "full fine-tuning", a)
    assert flipped.startswith("full fine-tuning is ahead of LoRA by 4.0 points")
    assert _interval_in(flipped) == (low, high)
    comparison = compare_systems("full fine-tuning", a, "LoRA", b)
    assert comparison.leader == "full fine-tuning"
    assert comparison.mcnemar.only_a_correct == 12 and comparison.mcnemar.p_value < 0.001


def test_difference_sentence_wording():
    ahead = Interval(0.012, 0.003, 0.021, 0.95, "BCa", 872)
    assert difference_sentence("full fine-tuning", "LoRA", ahead) == (
        "full fine-tuning is ahead of LoRA by 1.2 points (95% paired interval 0.3 to 2.1)")
    noise = Interval(0.003, -0.009, 0.015, 0.95, "BCa", 872)
    assert difference_sentence("full fine-tuning", "LoRA", noise) == (
        "full fine-tuning and LoRA are indistinguishable here (difference 0.3 points, "
        "95% paired interval −0.9 to 1.5)")
    barely = Interval(0.012, 0.0004, 0.021, 0.95, "BCa", 872)   # must not print "0.0 to 2.1"
    assert "(95% paired interval 0.04 to 2.10)" in difference_sentence("A", "B", barely)


def test_compare_sentence_refuses_percent_scores_at_percent_scale():
    with pytest.raises(ValueError, match="scale=1"):
        compare_sentence("A", [100, 0, 100], "B", [0, 0, 100])
    assert "by" in compare_sentence("A", [100.0] * 20, "B", [0.0] * 20, scale=1)


# --------------------------------------------------------------------------- #
# Several seeds
# --------------------------------------------------------------------------- #


def test_seed_summary_matches_numpy_and_keeps_every_seed():
    values = {0: 87.1, 1: 88.0, 2: 87.7, 5: 86.9}
    runs = SeedRuns(values, metric="accuracy")
    assert runs.values == values and runs.seeds == (0, 1, 2, 5)
    assert runs.mean == pytest.approx(np.mean(list(values.values())))
    assert runs.std == pytest.approx(np.std(list(values.values()), ddof=1))
    interval = runs.interval()
    low, high = stats.t.interval(0.95, 3, loc=runs.mean, scale=stats.sem(list(values.values())))
    assert (interval.low, interval.high) == pytest.approx((low, high))
    assert runs.format() == f"{runs.mean:.1f} ± {runs.std:.1f} over 4 seeds"
    assert format_seed_mean([87.2, 87.6, 88.0]) == "87.6 ± 0.4 over 3 seeds"


def test_one_seed_has_no_spread():
    runs = SeedRuns([87.6])
    assert math.isnan(runs.std)
    assert runs.format() == "87.6 (one seed: no spread measured)"
    with pytest.raises(ValueError, match="at least two seeds"):
        runs.interval()
    with pytest.raises(ValueError, match="at least one"):
        SeedRuns({})


# --------------------------------------------------------------------------- #
# Choose on dev, report on test
# --------------------------------------------------------------------------- #


def test_split_is_disjoint_complete_and_deterministic_given_the_seed():
    examples = [f"sentence {i}" for i in range(101)]
    split = split_dev_test(examples, 0.3, seed=4)
    assert set(split.dev).isdisjoint(split.test)
    assert sorted(split.dev + split.test) == sorted(examples)
    assert len(split.dev) == 30
    again = split_dev_test(examples, 0.3, seed=4)
    assert again.dev == split.dev and np.array_equal(again.test_indices, split.test_indices)
    assert split_dev_test(examples, 0.3, seed=5).dev != split.dev


def test_grouped_split_never_puts_a_word_on_both_sides():
    rng = np.random.default_rng(0)
    words = [f"word{int(k)}" for k in rng.integers(0, 25, 400)]
    examples = list(enumerate(words))
    for seed in range(5):
        split = split_dev_test(examples, 0.5, seed=seed, groups=words)
        dev_words, test_words = {w for _, w in split.dev}, {w for _, w in split.test}
        assert dev_words.isdisjoint(test_words)
        assert dev_words | test_words == set(words)
        assert 0.35 < len(split.dev) / len(examples) < 0.65


def test_stratified_split_keeps_each_labels_share():
    labels = ["positive"] * 90 + ["negative"] * 30
    split = split_dev_test(list(range(120)), 0.5, seed=0, labels=labels)
    dev_labels = [labels[i] for i in split.dev_indices]
    assert dev_labels.count("positive") == 45 and dev_labels.count("negative") == 15


def test_split_refuses_what_cannot_be_split():
    with pytest.raises(ValueError, match="one per example"):
        split_dev_test(range(10), groups=["a"] * 9)
    with pytest.raises(ValueError, match="empty"):
        split_dev_test(range(10), groups=["a"] * 10)
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_dev_test(range(10), 1.5)


def test_select_on_dev_never_scores_a_test_item():
    examples = list(range(200))
    split = split_dev_test(examples, 0.5, seed=0)
    test_items = set(split.test)
    calls = []

    def dev_accuracy(threshold, items):
        calls.append(threshold)
        touched = test_items.intersection(items)
        if touched:
            raise AssertionError(f"the scorer was given {len(touched)} test items")
        return float(np.mean([(x >= threshold) == (x >= 120) for x in items]))

    selection = select_on_dev([50, 100, 120, 150], dev_accuracy, split)
    assert selection.choice == 120 and selection.dev_score == 1.0
    assert calls == [50, 100, 120, 150]
    assert [c for c, _ in selection.dev_scores] == [50, 100, 120, 150]
    assert selection.n_dev == len(split.dev)
    assert selection.table()["chosen"].tolist() == [False, False, True, False]


def test_select_on_dev_order_of_ties_and_losses():
    selection = select_on_dev(["a", "b", "c"], {"a": 0.2, "b": 0.1, "c": 0.1}.get,
                              higher_is_better=False)
    assert selection.choice == "b" and selection.n_dev is None
    with pytest.raises(ValueError, match="NaN"):
        select_on_dev([1, 2], lambda c: float("nan"))
    with pytest.raises(ValueError, match="at least one candidate"):
        select_on_dev([], lambda c: 1.0)


def test_select_then_seeds_tries_the_grid_once_then_the_seeds_at_the_dev_choice():
    calls = []
    dev = {"small": 0.70, "medium": 0.90, "large": 0.80}     # dev prefers "medium"
    test = {"small": 0.99, "medium": 0.50, "large": 0.10}    # test would prefer "small"

    def run(candidate, seed):
        calls.append((candidate, seed))
        return {"dev": dev[candidate], "test": test[candidate] + seed / 100, "seed": seed}

    chosen = select_then_seeds(["small", "medium", "large"], [4, 5, 6], run, lambda r: r["dev"])
    assert chosen.selection.choice == "medium"
    assert chosen.selection.dev_scores == (("small", 0.70), ("medium", 0.90), ("large", 0.80))
    # the grid with the first seed, then only the other seeds at the choice
    assert calls == [("small", 4), ("medium", 4), ("large", 4), ("medium", 5), ("medium", 6)]
    assert {s: r["test"] for s, r in chosen.runs.items()} == {4: 0.54, 5: 0.55, 6: 0.56}
    unhashable = select_then_seeds([{"lr": 1}, {"lr": 2}], [0], lambda c, s: c["lr"], float)
    assert unhashable.selection.choice == {"lr": 2} and unhashable.runs == {0: 2}
    with pytest.raises(ValueError, match="distinct seeds"):
        select_then_seeds(["a"], [0, 0], run, lambda r: r["dev"])
