"""The WSD system as a scikit-learn classifier, its one tie rule, and method="auto": the
configuration chosen on the training data by cross-validation, never on test data."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

from ctxembed.core.errors import UnknownWordError
from ctxembed.data.polysemy import polysemy_sentences
from ctxembed.evaluation import expected_calibration_error
from ctxembed.wsd import WSDSystem
from ctxembed.wsd.caching import cache_folder
from ctxembed.wsd.selection import (
    choose_configuration,
    cross_validated_predictions,
    fit_temperature,
    fold_of_each_use,
)


@pytest.fixture(scope="module", autouse=True)
def fresh_wsd_cache(tmp_path_factory):
    with cache_folder(tmp_path_factory.getbasetemp() / "wsd-selection-cache") as folder:
        yield folder


def _uses(word):
    data = polysemy_sentences()
    data = data[data.word == word].reset_index(drop=True)
    return data.assign(lemma=data.word, word=data.form)[["sentence", "word", "lemma"]], data.sense


def _blobs(rng, centres, n, noise):
    """n noisy unit-ish vectors around each centre, and the centre's label."""
    X = np.concatenate([rng.normal(c, noise, (n, len(c))) for c in centres])
    return X, np.repeat(np.arange(len(centres)), n)


def test_it_is_a_scikit_learn_classifier():
    uses, senses = _uses("bank")
    wsd = WSDSystem("centroid")
    assert clone(wsd).get_params() == wsd.get_params()
    scores = cross_val_score(WSDSystem("centroid"), uses, senses, cv=3)
    assert len(scores) == 3 and scores.mean() > 0.8          # bank's senses are easy for MiniLM
    search = GridSearchCV(WSDSystem("knn"), {"k": [1, 3]}, cv=3).fit(uses, senses)
    assert search.best_params_["k"] in (1, 3) and search.score(uses, senses) > 0.8
    pairs = list(zip(uses.sentence, uses.word))
    fitted = WSDSystem().fit(pairs, senses)
    assert fitted.predict(pairs[:3]) == fitted.predict(uses.iloc[:3]) \
        == fitted.predict(list(uses.sentence[:3]), list(uses.word[:3]))


def test_fit_starts_from_scratch():
    bank, bank_senses = _uses("bank")
    bark, bark_senses = _uses("bark")
    wsd = WSDSystem().fit(bank, bank_senses).fit(bark, bark_senses)
    assert wsd.words_ == ["bark"]
    with pytest.raises(UnknownWordError, match="no senses in this system"):
        wsd.predict(bank.iloc[:1])
    with pytest.raises(RuntimeError, match="fit"):
        WSDSystem().predict(bank.iloc[:1])
    with pytest.raises(ValueError, match="'sentence', 'word'|lacks the column"):
        WSDSystem().fit(bank[["sentence"]], bank_senses)


@pytest.mark.parametrize("method", ["knn", "logreg", "centroid"])
def test_every_method_breaks_ties_by_a_seeded_draw_not_by_name(method):
    # 40 words whose two senses have the same training vectors: every prediction is a tie
    X = np.tile([[1.0, 0.0], [1.0, 0.0]], (40, 1))
    lemmas = np.repeat([f"w{i}" for i in range(40)], 2)
    senses = ["a", "b"] * 40
    wsd = WSDSystem(method, k=2).fit_vectors(X, lemmas, senses)
    picks = [p.sense for p in wsd._predict_vectors(np.array([[1.0, 0.0]] * 40),
                                                   [f"w{i}" for i in range(40)])]
    assert 10 < picks.count("a") < 30                      # not always the first name
    again = [p.sense for p in wsd._predict_vectors(np.array([[1.0, 0.0]] * 40),
                                                   [f"w{i}" for i in range(40)])]
    assert picks == again                                   # seeded: the same draws each time
    alone = wsd._predict_vectors(np.array([[1.0, 0.0]]), ["w7"])[0].sense
    assert alone == picks[7]                                # the same for a word on its own


def test_folds_spread_each_sense_and_keep_glosses_in_training():
    lemmas, senses = ["w"] * 6, ["a", "a", "b", "b", "b", "b"]
    fold = fold_of_each_use(lemmas, senses, holdout=[True] * 5 + [False], folds=2, seed=0)
    assert fold[5] == -1                                     # never held out
    assert sorted(fold[:2]) == [0, 1]                        # a's two uses in different folds
    cv = cross_validated_predictions(np.eye(6), lemmas, senses, WSDSystem,
                                     holdout=[True] * 5 + [False], folds=2)
    assert set(cv["index"]) <= set(range(5))


def test_auto_chooses_the_centroid_with_few_noisy_uses_per_sense():
    rng = np.random.default_rng(0)
    X, y, lemmas = [], [], []
    for w in range(60):                                       # 60 words, 3 uses per sense
        centres = rng.normal(0, 1, (3, 20))
        Xw, yw = _blobs(rng, centres, 3, 1.2)
        X.append(Xw), y.extend(f"s{c}" for c in yw), lemmas.extend([f"w{w}"] * len(yw))
    wsd = WSDSystem("auto").fit_vectors(np.concatenate(X), lemmas, y)
    table = wsd.selection_.scores.set_index(["method", "options"]).accuracy
    assert wsd.method_ == "centroid" and wsd.options_ == {}
    assert table["centroid", ""] >= table["knn", "k=1"]


def test_auto_chooses_a_neighbour_when_a_sense_has_several_groups_of_uses():
    rng = np.random.default_rng(1)
    # sense "x" is used in two opposite contexts, sense "y" in two others: one centroid per
    # sense sits near the origin and tells them apart badly, a nearest neighbour does not
    centres = np.array([[4, 0], [-4, 0], [0, 4], [0, -4]], float)
    X, groups = _blobs(rng, centres, 150, 0.8)
    senses = np.where(groups < 2, "x", "y")
    wsd = WSDSystem("auto").fit_vectors(X, ["w"] * len(X), senses)
    table = wsd.selection_.scores.set_index(["method", "options"]).accuracy
    assert wsd.method_ == "knn", table
    assert table["knn", "k=1"] > table["centroid", ""] + 0.2


def test_auto_on_sentences_chooses_layers_and_pooling_then_predicts():
    uses, senses = _uses("spring")
    wsd = WSDSystem("auto").fit(uses, senses)
    scores = wsd.selection_.scores
    assert len(scores) == 6 * 2 * 2 and scores.n.nunique() == 1
    chosen = scores[(scores.method == wsd.method_) & (scores.layers == str(wsd.layers_))
                    & (scores.pieces == wsd.pieces_) & scores.chosen]
    assert chosen.chosen.all() and scores.chosen.sum() == 1
    # the first candidate tried that the best one does not beat by a paired interval
    assert chosen.index[0] == scores.index[scores.behind_low <= 0][0]
    assert scores.behind_best.min() == 0 and (scores.behind_low <= scores.behind_best).all()
    assert wsd.predict(uses.iloc[:2]) and wsd.temperature_ > 0


def test_temperature_scaling_calibrates_an_over_confident_softmax():
    rng = np.random.default_rng(2)
    n = 400
    cos = rng.normal(0, 0.05, (n, 3))
    gold = rng.integers(0, 3, n)
    cos[np.arange(n), gold] += 0.05                          # right more often than chance
    held = pd.DataFrame({"cosines": list(cos), "gold_position": gold})
    t = fit_temperature(held)

    def softmax_conf(temp):
        z = np.exp((cos - cos.max(1, keepdims=True)) / temp)
        p = z / z.sum(1, keepdims=True)
        return p.max(1), p.argmax(1) == gold

    assert expected_calibration_error(*softmax_conf(t)) < expected_calibration_error(
        *softmax_conf(0.005)) / 2


def test_choose_configuration_never_sees_more_than_it_is_given():
    rng = np.random.default_rng(3)
    X, groups = _blobs(rng, np.eye(3) * 3, 10, 0.5)
    seen = []

    def vectors(layers, pieces):
        seen.append((layers, pieces))
        return X

    choice = choose_configuration(vectors, ["w"] * len(X), [f"s{g}" for g in groups], WSDSystem,
                                  layers=("last", 3), pieces=("mean",))
    assert seen == [("last", "mean"), (3, "mean")] and len(choice.scores) == 2 * 6


def test_auto_chooses_options_too_and_uses_them():
    rng = np.random.default_rng(4)
    # each sense in two opposite groups (one centroid per sense fails, a linear model too),
    # and one label in five flipped: one nearest neighbour copies the noise, five outvote it
    centres = np.array([[4, 0], [-4, 0], [0, 4], [0, -4]], float)
    X, groups = _blobs(rng, centres, 100, 0.8)
    senses = np.where(groups < 2, "x", "y")
    flip = rng.random(len(senses)) < 0.2
    senses[flip] = np.where(senses[flip] == "x", "y", "x")
    wsd = WSDSystem("auto").fit_vectors(X, ["w"] * len(X), senses)
    assert (wsd.method_, wsd.options_) == ("knn", {"k": 5}), wsd.selection_.scores
    assert wsd._model_for("w").estimator.n_neighbors == 5          # the choice is what predicts
