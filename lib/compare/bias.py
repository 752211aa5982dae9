"""Social bias in embeddings, measured with association tests (chapter 5).

**WEAT** (Caliskan, Bryson & Narayanan 2017) asks whether two sets of *target* words (e.g.
male and female names) differ in how close they are to two sets of *attribute* words (e.g.
career and family words). For a word ``w``,

    s(w, A, B) = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b)

and the **effect size** is ``(mean_{x in X} s(x) - mean_{y in Y} s(y)) / std_{w in X u Y} s(w)``,
Cohen's d in the units of the spread of ``s``. The **p-value** is a one-sided permutation test:
how often a random re-split of ``X u Y`` into two sets of the same sizes gives a difference at
least as large (``scipy.stats.permutation_test``, exact when the re-splits are few enough).

**SEAT** (May et al. 2019) is the same test for sentence encoders: each word is put into
semantically empty templates ("This is a rose.") and the sentences' vectors stand in for the
word. :data:`WEAT_TESTS` holds four of Caliskan et al.'s tests (their word lists), starting
with the non-social baseline (flowers and insects against pleasant and unpleasant words).

What such a test does and does not show is said in chapter 5: an association in the vectors'
geometry, on short word lists, which need not predict biased behaviour in a downstream task.

Example
-------
>>> import numpy as np
>>> vectors = {"x1": [1, 0], "x2": [1, 0.1], "y1": [0, 1], "y2": [0.1, 1],
...            "a": [1, 0], "b": [0, 1]}
>>> result = weat(lambda words: np.array([vectors[w] for w in words], float),
...               ("x1", "x2"), ("y1", "y2"), ("a",), ("b",))
>>> round(result.effect_size, 2)
1.73
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..core.similarity import unit_vectors


@dataclass(frozen=True)
class AssociationTest:
    """Two target sets and two attribute sets, by name, as in Caliskan et al. (2017)."""

    name: str
    x_name: str
    x_words: tuple[str, ...]
    y_name: str
    y_words: tuple[str, ...]
    a_name: str
    a_words: tuple[str, ...]
    b_name: str
    b_words: tuple[str, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Word lists of Caliskan et al. (2017), Science 356(6334), supplementary material.
PLEASANT = _words("caress freedom health love peace cheer friend heaven loyal pleasure diamond "
                  "gentle honest lucky rainbow diploma gift honor miracle sunrise family happy "
                  "laughter paradise vacation")
UNPLEASANT = _words("abuse crash filth murder sickness accident death grief poison stink assault "
                    "disaster hatred pollute tragedy divorce jail poverty ugly cancer kill rotten "
                    "vomit agony prison")
WEAT_TESTS = (
    AssociationTest(
        "WEAT 1: flowers / insects", "flowers",
        _words("aster clover hyacinth marigold poppy azalea crocus iris orchid rose bluebell "
               "daffodil lilac pansy tulip buttercup daisy lily peony violet carnation gladiola "
               "magnolia petunia zinnia"),
        "insects",
        _words("ant caterpillar flea locust spider bedbug centipede fly maggot tarantula bee "
               "cockroach gnat mosquito termite beetle cricket hornet moth wasp blackfly "
               "dragonfly horsefly roach weevil"),
        "pleasant", PLEASANT, "unpleasant", UNPLEASANT),
    AssociationTest(
        "WEAT 6: names / career, family", "male names",
        _words("john paul mike kevin steve greg jeff bill"),
        "female names", _words("amy joan lisa sarah diana kate ann donna"),
        "career", _words("executive management professional corporation salary office business "
                         "career"),
        "family", _words("home parents children family cousins marriage wedding relatives")),
    AssociationTest(
        "WEAT 7: maths, arts / gender", "maths",
        _words("math algebra geometry calculus equations computation numbers addition"),
        "arts", _words("poetry art dance literature novel symphony drama sculpture"),
        "male terms", _words("male man boy brother he him his son"),
        "female terms", _words("female woman girl sister she her hers daughter")),
    AssociationTest(
        "WEAT 8: science, arts / gender", "science",
        _words("science technology physics chemistry einstein nasa experiment astronomy"),
        "arts", _words("poetry art shakespeare dance literature novel symphony drama"),
        "male terms", _words("brother father uncle grandfather son he his him"),
        "female terms", _words("sister mother aunt grandmother daughter she hers her")),
)

#: Semantically empty sentence templates for SEAT (after May et al. 2019).
TEMPLATES = ("This is {}.", "That is {}.", "There is {}.", "Here is {}.", "{} is here.",
             "{} is there.")


@dataclass(frozen=True)
class AssociationResult:
    """One test on one model: effect size, p-value and the words it could use."""

    test: str
    effect_size: float
    p_value: float
    n_x: int
    n_y: int
    missing: tuple[str, ...]          # words the model has no vector for, left out


def association_scores(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``s(w, A, B)`` for each row ``w`` of ``x``: mean cosine to ``a`` minus mean cosine to ``b``."""
    x, a, b = unit_vectors(x), unit_vectors(a), unit_vectors(b)
    return (x @ a.T).mean(axis=1) - (x @ b.T).mean(axis=1)


def effect_size_and_p(x_scores: np.ndarray, y_scores: np.ndarray, *, n_resamples: int = 9999,
                      seed: int = 0) -> tuple[float, float]:
    """WEAT's effect size and its one-sided permutation p-value, from the ``s`` of each target."""
    from scipy import stats

    x_scores, y_scores = np.asarray(x_scores, float), np.asarray(y_scores, float)
    if len(x_scores) < 2 or len(y_scores) < 2:
        raise ValueError("an association test needs at least two target items on each side; "
                         "check that the model knows the words.")
    spread = np.concatenate([x_scores, y_scores]).std(ddof=1)
    effect = (x_scores.mean() - y_scores.mean()) / spread
    result = stats.permutation_test(
        (x_scores, y_scores), lambda p, q, axis: p.mean(axis=axis) - q.mean(axis=axis),
        permutation_type="independent", alternative="greater", vectorized=True,
        n_resamples=n_resamples, random_state=seed)
    return float(effect), float(result.pvalue)


def weat(embed: Callable[[Sequence[str]], np.ndarray], x_words: Sequence[str],
         y_words: Sequence[str], a_words: Sequence[str], b_words: Sequence[str], *,
         name: str = "", seed: int = 0) -> AssociationResult:
    """One association test with any ``embed(items) -> (n, dim) array``.

    ``embed`` receives a list of items and returns one vector per item: static word vectors
    for WEAT, or (:func:`seat_embedder`) the mean of an encoder's vectors of the word's
    template sentences for SEAT.
    """
    x, y, a, b = (embed(list(words)) for words in (x_words, y_words, a_words, b_words))
    sx, sy = association_scores(x, a, b), association_scores(y, a, b)
    effect, p = effect_size_and_p(sx, sy, seed=seed)
    return AssociationResult(name, effect, p, len(sx), len(sy), ())


def run_test(test: AssociationTest, embed: Callable[[Sequence[str]], np.ndarray],
             known: Callable[[str], bool] = lambda word: True, *, seed: int = 0
             ) -> AssociationResult:
    """:func:`weat` on one of :data:`WEAT_TESTS`, leaving out the words ``known`` rejects."""
    sets = [test.x_words, test.y_words, test.a_words, test.b_words]
    missing = tuple(w for words in sets for w in words if not known(w))
    kept = [[w for w in words if known(w)] for words in sets]
    return replace(weat(embed, *kept, name=test.name, seed=seed), missing=missing)


def seat_embedder(sentence_vectors: Callable[[Sequence[str]], np.ndarray],
                  templates: Sequence[str] = TEMPLATES) -> Callable[[Sequence[str]], np.ndarray]:
    """SEAT's stand-in for a word: the mean of its template sentences' vectors.

    ``sentence_vectors(sentences) -> (n, dim)`` is any sentence encoder, e.g.
    ``lambda s: ctxembed.sentence_vectors(s, normalize=True)``. A template that starts
    with the word gets it capitalised ("Rose is here.").
    """
    templates = tuple(templates)
    if not templates or any("{}" not in t for t in templates):
        raise ValueError("each template needs a '{}' where the word goes, e.g. 'This is {}.'.")

    def fill(template: str, word: str) -> str:
        text = template.format(word)
        return text[0].upper() + text[1:]

    def embed(words: Sequence[str]) -> np.ndarray:
        sentences = [fill(t, w) for w in words for t in templates]
        vectors = unit_vectors(sentence_vectors(sentences))
        return vectors.reshape(len(words), len(templates), -1).mean(axis=1)

    return embed
