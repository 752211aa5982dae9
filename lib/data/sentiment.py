"""Human-rated sentences for sentiment classification (Hutto & Gilbert, 2014).

The source archive of ``vaderSentiment==3.3.2`` on PyPI carries the data of
the VADER paper: 10,605 sentences from Pang & Lee's (2004) movie reviews, each
rated from -4 (extremely negative) to +4 (extremely positive) by at least 20
people, plus tweets, New York Times editorial sentences and Amazon review
sentences rated the same way. Only the sentences with a clear mean rating
(``|rating| >= 0.5``) are kept, labelled negative (0) or positive (1).

The movie sentences are split once, with a fixed seed, into train / dev / test;
the other three sources are test sets for a change of domain.

Example
-------
>>> splits = movie_review_splits()
>>> {k: len(v) for k, v in splits.items()}
{'train': 7072, 'dev': 1000, 'test': 2000}
>>> first = splits["train"][0]
>>> first.text, round(first.rating, 2), first.label
('Robin Williams has thankfully ditched the saccharine sentimentality of Bicentennial Man in favour of an altogether darker side.', 1.74, 1)
"""

from __future__ import annotations

import functools
import io
import tarfile
from dataclasses import dataclass

import numpy as np

from .downloads import pypi_archive

SDIST = "vaderSentiment==3.3.2"
LABELS = ("negative", "positive")
SOURCES = {
    "movies": "movieReviewSnippets_GroundTruth.txt",
    "tweets": "tweets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
}
CITATION = ("C. J. Hutto and E. Gilbert (2014). VADER: A Parsimonious Rule-based Model for "
            "Sentiment Analysis of Social Media Text. ICWSM-14. Movie sentences from B. Pang and "
            "L. Lee (2004), A Sentimental Education, ACL.")


@dataclass(frozen=True)
class RatedSentence:
    """One sentence: ``label`` 0 (negative) / 1 (positive), ``rating`` the mean human rating (-4..4)."""

    id: str
    text: str
    rating: float
    label: int


@functools.lru_cache(maxsize=1)
def _raw_files() -> dict[str, str]:
    archive = pypi_archive(SDIST, sdist=True)
    with tarfile.open(archive) as outer:
        inner = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
        data = outer.extractfile(inner).read()
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            name = m.name.rsplit("/", 1)[-1]
            if name in SOURCES.values():
                out[name] = tar.extractfile(m).read().decode("utf-8", errors="replace")
    return out


def load_rated_sentences(source: str = "movies", min_abs_rating: float = 0.5) -> list[RatedSentence]:
    """All sentences of one source with ``|rating| >= min_abs_rating``, in file order.

    Parameters
    ----------
    source : {"movies", "tweets", "nyt", "amazon"}
    min_abs_rating : float
        Sentences rated closer to neutral than this are dropped (they have no clear label).
    """
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}: choose one of {sorted(SOURCES)}.")
    rows = []
    for line in _raw_files()[SOURCES[source]].splitlines():
        parts = line.rstrip("\r").split("\t")
        if len(parts) < 3:
            continue
        rating = float(parts[1])
        if abs(rating) >= min_abs_rating:
            rows.append(RatedSentence(parts[0], "\t".join(parts[2:]).strip(), rating, int(rating > 0)))
    return rows


def movie_review_splits(seed: int = 0, n_dev: int = 1000, n_test: int = 2000
                        ) -> dict[str, list[RatedSentence]]:
    """Fixed, seeded train / dev / test splits of the movie-review sentences.

    Returns
    -------
    dict
        ``{"train": [...], "dev": [...], "test": [...]}``; with the defaults
        7,072 / 1,000 / 2,000 sentences. Choices (learning rate, epochs, layer)
        are made on ``dev``; ``test`` is only reported.
    """
    rows = load_rated_sentences("movies")
    order = np.random.RandomState(seed).permutation(len(rows))
    test = [rows[i] for i in order[:n_test]]
    dev = [rows[i] for i in order[n_test:n_test + n_dev]]
    train = [rows[i] for i in order[n_test + n_dev:]]
    return {"train": train, "dev": dev, "test": test}


DOMAINS = ("tweets", "nyt", "amazon")


def domain_test_sets(n: int = 500, seed: int = 0) -> dict[str, list[RatedSentence]]:
    """A fixed, seeded sample of ``n`` rated sentences from each other source.

    Tweets, New York Times editorial snippets and Amazon review snippets, rated
    the same way as the movie sentences: test sets for a model trained on movie
    reviews (a change of domain). Never used for training or for choices.
    """
    out = {}
    for i, source in enumerate(DOMAINS):
        rows = load_rated_sentences(source)
        order = np.random.RandomState(seed + 10 + i).permutation(len(rows))
        out[source] = [rows[j] for j in order[:n]]
    return out
