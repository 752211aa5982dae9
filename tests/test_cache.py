"""The course's one cache folder and its keys: what a reader relies on when a result is read
back from ``~/.cache/ctxembed`` instead of computed, namely that it is the result the code and
data installed now would compute."""

import gzip
import importlib
import json
import shutil

import pytest

from ctxembed.core import cache
from ctxembed.data import corpus, senses, wordnet


@pytest.fixture
def course_cache(tmp_path, monkeypatch):
    """An empty course cache folder for this test (NLTK's WordNet stays where it is installed)."""
    monkeypatch.setenv("CTXEMBED_NLTK_DATA", str(wordnet.nltk_data_dir()))
    monkeypatch.setenv(cache.ENV, str(tmp_path / "course-cache"))
    yield tmp_path / "course-cache"
    cache.code_version.cache_clear()
    cache.files_version.cache_clear()


def test_a_modules_imports_are_found_in_every_spelling():
    """``from . import lemmas``, ``from ..data.wordnet import x`` and a function's late import."""
    from ctxembed.core.cache import covered_modules

    inventory = covered_modules(("ctxembed.wsd.inventory",))
    assert {"ctxembed.wsd.lemmas", "ctxembed.data.wordnet", "ctxembed.data.senses",
            "ctxembed.data.polysemy"} <= set(inventory)
    assert "ctxembed.core.cache" not in inventory            # where results live: exempt
    assert "ctxembed.wsd" not in inventory                    # a package's re-exports are not code


def test_every_cache_of_the_course_lives_under_the_one_folder(course_cache, monkeypatch):
    from ctxembed.core.models import compiled_encoder_path
    from ctxembed.data.downloads import downloads_dir
    from ctxembed.wsd.caching import ENV as WSD_ENV
    from ctxembed.wsd.caching import cache_dir as wsd_cache_dir

    monkeypatch.delenv(WSD_ENV, raising=False)
    paths = [corpus._cache_path(), _usages_path(monkeypatch), downloads_dir(), wsd_cache_dir(),
             compiled_encoder_path()]
    monkeypatch.delenv("CTXEMBED_NLTK_DATA")
    paths.append(wordnet.nltk_data_dir())
    for path in paths:
        assert path.is_relative_to(course_cache), path


def test_code_version_changes_with_the_code_not_its_documentation(tmp_path, monkeypatch):
    module = tmp_path / "cache_probe_module.py"
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()

    def version(source):
        module.write_text(source)
        cache.code_version.cache_clear()
        return cache.code_version(("cache_probe_module",))

    try:
        first = version('"""A module."""\ndef f(x):\n    """Twice x."""\n    return 2 * x\n')
        assert version('"""Doubling."""\ndef f(x):  # note\n    """2x."""\n\n    return 2 * x\n') == first
        assert version('"""A module."""\ndef f(x):\n    """Twice x."""\n    return 3 * x\n') != first
    finally:
        cache.code_version.cache_clear()


def test_the_wordnet_version_changes_with_the_wordnet_files(tmp_path, monkeypatch):
    copy = shutil.copytree(wordnet.install_wordnet(quiet=True), tmp_path / "wordnet")
    monkeypatch.setattr(wordnet, "install_wordnet", lambda *a, **k: copy)
    cache.files_version.cache_clear()
    before = wordnet.wordnet_version()
    with open(copy / "index.sense", "a", encoding="utf-8") as fh:
        fh.write("bark%1:20:00:: 99999999 9 9\n")
    cache.files_version.cache_clear()
    try:
        assert wordnet.wordnet_version() != before
    finally:
        cache.files_version.cache_clear()


@pytest.mark.parametrize("module", ["ctxembed.data.corpus", "ctxembed.data.wordnet"])
def test_the_corpus_cache_is_not_read_for_changed_code(course_cache, edited, module):
    before = corpus._cache_path()
    edited(module)
    assert corpus._cache_path() != before


class _Stop(Exception):
    pass


def _usages_path(monkeypatch):
    """The file :func:`wordnet_usages` looks for, without scanning WordNet."""
    seen = []
    real = senses.cached_file
    monkeypatch.setattr(senses, "cached_file", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    monkeypatch.setattr(senses, "synset_texts", lambda *a: (_ for _ in ()).throw(_Stop()))
    with pytest.raises(_Stop):
        senses.wordnet_usages()
    return seen[-1]


@pytest.mark.parametrize("module", ["ctxembed.data.senses", "ctxembed.data.corpus", "ctxembed.data.wordnet"])
def test_the_sense_scans_are_not_read_for_changed_code(course_cache, edited, monkeypatch, module):
    before = _usages_path(monkeypatch)
    edited(module)
    assert _usages_path(monkeypatch) != before


def test_the_sense_scans_are_not_read_for_other_wordnet_files(course_cache, monkeypatch):
    before = _usages_path(monkeypatch)
    monkeypatch.setattr(senses, "wordnet_version", lambda: "other WordNet")
    assert _usages_path(monkeypatch) != before


def test_a_cached_corpus_is_the_corpus_and_a_second_load_reads_it(course_cache, monkeypatch):
    fresh = corpus.load_corpus()
    path = corpus._cache_path()
    assert path.parent == course_cache / "data" and path.is_file()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        assert json.load(fh)["valid"] == fresh.valid
    monkeypatch.setattr(corpus, "build_corpus", lambda: pytest.fail("the cache was not read"))
    assert corpus.load_corpus().train == fresh.train


def test_the_sense_examples_cache_is_keyed_on_its_options(course_cache):
    few = senses.sense_labelled_dataset(min_senses=2, min_examples=2)
    more = senses.sense_labelled_dataset(min_senses=3, min_examples=3)
    assert len(few) > len(more) > 0
    assert len(list((course_cache / "data").glob("wordnet_senses-*.json"))) == 2


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "result.json"
    path.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        cache.write_atomic(path, broken)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"], "no partial file is left"


def test_the_tokenised_mlm_corpus_is_keyed_on_the_tokenizer_itself(course_cache):
    from transformers import AutoTokenizer

    from ctxembed.bert.mlm import corpus_token_ids
    from ctxembed.core.models import load_encoder

    texts = ["The bank opened.", "A river bank."]
    uncased = load_encoder().tokenizer
    ids = corpus_token_ids(uncased, texts)
    assert len(list((course_cache / "mlm").glob("*.npz"))) == 1
    # the same vocabulary with another normaliser (no lower-casing) is another cache entry
    cased = AutoTokenizer.from_pretrained(uncased.name_or_path, do_lower_case=False)
    if cased.backend_tokenizer.to_str() == uncased.backend_tokenizer.to_str():
        pytest.skip("this tokenizer ignores do_lower_case")
    corpus_token_ids(cased, texts)
    assert len(list((course_cache / "mlm").glob("*.npz"))) == 2
    assert [a.tolist() for a in corpus_token_ids(uncased, texts)] == [a.tolist() for a in ids]
