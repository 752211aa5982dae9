"""Sense inventories and sense-labelled training sentences for the WSD system.

A word's *senses* are its WordNet 3.0 synsets. Each sense gets training sentences
from three stated sources, every row carrying its ``source``:

- ``"wordnet-example"``: WordNet's own example sentences that use the word
  (:func:`ctxembed.data.senses.wordnet_usages`);
- ``"wordnet-gloss"``: the sense's definition written as ``"<word>: <definition>"``
  (``"bark: a sailing ship with 3 (or more) masts"``), so that every sense, even one
  with no example sentence, has at least one use of the word to learn from;
- ``"course-sentences"`` and ``"written-for-course"``: the course's curated sentences
  (:func:`ctxembed.data.polysemy.polysemy_sentences`, mapped to synsets by
  :data:`COURSE_SENSE_SYNSETS`) and ``extra_sense_sentences.tsv`` beside this module,
  written for this course for senses the other sources lack (bark the ship, spring
  the jump: WordNet has no example sentence that uses the word for them).

Most-frequent-sense counts are WordNet's ``Lemma.count()`` (tagged SemCor occurrences).

Example
-------
>>> [s.name for s in wordnet_senses("bark")][:3]
['bark.n.01', 'bark.n.02', 'bark.n.03']
>>> rows = training_sentences("bark")
>>> sorted(set(rows.source))
['course-sentences', 'wordnet-example', 'wordnet-gloss', 'written-for-course']
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pandas as pd

from ..core.errors import EmptyInputError, UnknownWordError
from ..data.wordnet import exception_forms, sense_counts, synset_texts
from . import lemmas
from .caching import cache_dir, code_version, digest, store, wordnet_version

INVENTORY_CODE = ("ctxembed.wsd.inventory", "ctxembed.data.wordnet")
POS_ORDER = {"n": 0, "v": 1, "a": 2, "s": 2, "r": 3}

# The course's curated senses (ctxembed.data.polysemy) and the WordNet synset each one is.
COURSE_SENSE_SYNSETS = {
    ("bank", "finance"): "depository_financial_institution.n.01",
    ("bank", "river"): "bank.n.01",
    ("key", "lock"): "key.n.01",
    ("bark", "dog"): "bark.n.04",
    ("bark", "tree"): "bark.n.01",
    ("spring", "season"): "spring.n.01",
    ("spring", "coil"): "spring.n.02",
    ("spring", "water"): "spring.n.03",
}
# Only senses that are one synset unambiguously are mapped (apple the company is no
# WordNet sense; "light" and "run" sentences mix several fine-grained synsets).


@dataclass(frozen=True)
class SenseInfo:
    """One sense of a word: a WordNet synset and how often SemCor tagged the word with it.

    Attributes
    ----------
    name : str        synset name, e.g. ``"bark.n.03"``
    lemma : str       the word (lower case) whose sense this is
    pos : str         ``n``, ``v``, ``a``, ``s`` or ``r``
    definition : str  the WordNet gloss
    count : int       ``Lemma.count()``: tagged occurrences in SemCor (0 for most senses)
    """

    name: str
    lemma: str
    pos: str
    definition: str
    count: int


def inventory_cache_path() -> Path:
    """The cached inventory's file, named by the WordNet files and the code that read them."""
    key = digest([code_version(INVENTORY_CODE), wordnet_version()])
    return cache_dir() / f"inventory-{key}.json.gz"


def _build_inventory() -> dict[str, list]:
    """``lemma -> [[synset, pos, definition, count], ...]`` read from WordNet (seconds)."""
    counts = sense_counts()
    raw: dict[str, list] = {}
    for syn in synset_texts():
        for name in dict.fromkeys(n.lower() for n in syn.lemmas):
            if re.fullmatch(r"[a-z]+(?:-[a-z]+)*", name):
                raw.setdefault(name, []).append(
                    [syn.name, syn.pos, syn.definition, counts.get((name, syn.name), 0)])
    for senses in raw.values():
        senses.sort(key=lambda s: (POS_ORDER[s[1]], -s[3], s[0]))
    return raw


def _read_inventory(path: Path) -> dict[str, list]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@functools.lru_cache(maxsize=1)
def wordnet_inventory() -> dict[str, tuple[SenseInfo, ...]]:
    """Every WordNet word (lower case, single words and hyphenated) -> its senses.

    Senses are ordered by part of speech (noun, verb, adjective, adverb), then by
    SemCor count (most frequent first), then by synset name. Built once from the
    fast WordNet reader (:func:`~ctxembed.data.wordnet.synset_texts`) and WordNet's sense
    counts (:func:`~ctxembed.data.wordnet.sense_counts`), then cached (:func:`inventory_cache_path`; loads in about a second).
    """
    path = inventory_cache_path()
    if path.exists():
        raw = _read_inventory(path)
    else:
        raw = _build_inventory()

        def write(tmp):
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                json.dump(raw, fh)

        store(path, write)
    return {lemma: tuple(SenseInfo(n, lemma, p, d, c) for n, p, d, c in senses)
            for lemma, senses in raw.items()}


def wordnet_senses(word: str) -> tuple[SenseInfo, ...]:
    """The WordNet senses of ``word`` (see :func:`wordnet_inventory` for the order).

    Inflected forms are looked up by their lemma (``"barked"`` -> ``"bark"``).

    Raises
    ------
    EmptyInputError        for an empty word
    UnknownWordError       when WordNet has no sense of the word, naming close words
    """
    lemma = lemma_of(word)
    return wordnet_inventory()[lemma]


def candidate_lemmas(word: str) -> list[str]:
    """Possible dictionary forms of ``word`` that WordNet knows (see
    :func:`ctxembed.wsd.lemmas.candidate_lemmas`: the word, its irregular lemmas from
    WordNet's exception lists, then each part of speech's regular endings):
    ``"barked"`` -> ``["bark"]``."""
    return lemmas.candidate_lemmas(word, _is_word_as, _irregular)


@functools.lru_cache(maxsize=1)
def _words_by_part_of_speech() -> frozenset[tuple[str, str]]:
    return frozenset((lemma, lemmas.part_of_speech(s.name))
                     for lemma, senses in wordnet_inventory().items() for s in senses)


def _irregular(form: str, pos: str) -> tuple[str, ...]:
    return exception_forms(pos).get(form, ())


def _is_word_as(lemma: str, pos: str) -> bool:
    """Whether WordNet has ``lemma`` as part of speech ``pos`` (``n``, ``v``, ``a``, ``r``)."""
    return (lemma, pos) in _words_by_part_of_speech()


def lemma_of(word: str) -> str:
    """The WordNet lemma ``word`` is a form of; a clear error when there is none.

    When several fit (``"banks"``: the botanist Banks, or a form of ``"bank"``), the one
    SemCor tagged most often wins (:func:`~ctxembed.wsd.lemmas.likeliest_lemma`); on a
    tie, the word itself.
    """
    if not isinstance(word, str) or not word.strip():
        raise EmptyInputError(lemmas.EMPTY_WORD)
    found = candidate_lemmas(word)
    if not found:
        import difflib

        close = difflib.get_close_matches(word.strip().lower(), list(wordnet_inventory()), n=3)
        raise UnknownWordError(lemmas.unknown_word_message(word, close))
    inventory = wordnet_inventory()
    return lemmas.likeliest_lemma(found, {lemma: sum(s.count for s in inventory[lemma]) for lemma in found})


@functools.lru_cache(maxsize=1)
def _usages_by_lemma() -> dict[str, list]:
    from ..data.senses import wordnet_usages

    out: dict[str, list] = {}
    for u in wordnet_usages():
        out.setdefault(u.lemma, []).append(u)
    return out


def extra_sense_sentences() -> pd.DataFrame:
    """Sentences written for this course for senses WordNet gives no usable example of.

    Columns ``lemma``, ``sense`` (synset), ``form``, ``sentence``.
    """
    path = files("ctxembed.wsd") / "extra_sense_sentences.tsv"
    with path.open(encoding="utf-8") as fh:
        return pd.read_csv(fh, sep="\t", comment="#")


@functools.lru_cache(maxsize=1)
def _course_rows() -> pd.DataFrame:
    from ..data.polysemy import polysemy_sentences

    data = polysemy_sentences()
    rows = []
    for r in data.itertuples():
        synset = COURSE_SENSE_SYNSETS.get((r.word, r.sense))
        if synset:
            rows.append((r.sentence, r.form, r.word, synset, "course-sentences"))
    extra = extra_sense_sentences()
    rows += [(r.sentence, r.form, r.lemma, r.sense, "written-for-course") for r in extra.itertuples()]
    return pd.DataFrame(rows, columns=["sentence", "word", "lemma", "sense", "source"])


def gloss_sentence(sense: SenseInfo) -> str:
    """A sense's definition as a use of its word: ``"bark: a sailing ship with 3 (or more) masts"``."""
    return f"{sense.lemma.replace('_', ' ')}: {sense.definition}"


def training_sentences(words, *, examples: bool = True, glosses: bool = True,
                       course: bool = True, exclude_sentences=()) -> pd.DataFrame:
    """Sense-labelled sentences for ``words`` (a word or a list) from the stated sources.

    Parameters
    ----------
    words : str or list of str
        Words (any form, e.g. ``"barked"``); their lemmas are looked up in WordNet.
    examples, glosses, course : bool
        Which sources to use (see the module docstring).
    exclude_sentences : collection of str
        Sentences never to use (an evaluation's test sentences).

    Returns
    -------
    pandas.DataFrame with columns ``sentence``, ``word`` (as written in the
    sentence), ``lemma``, ``sense`` (synset name) and ``source``; one row per use.
    """
    words = [words] if isinstance(words, str) else list(words)
    exclude = set(exclude_sentences)
    rows = []
    course_rows = _course_rows() if course else None
    for lemma in dict.fromkeys(lemma_of(w) for w in words):
        senses = wordnet_inventory()[lemma]
        if examples:
            names = {s.name for s in senses}
            for u in _usages_by_lemma().get(lemma, []):
                if u.synset in names and u.sentence not in exclude:
                    rows.append((u.sentence, u.form, lemma, u.synset, "wordnet-example"))
        if glosses:
            rows += [(gloss_sentence(s), lemma.replace("_", " "), lemma, s.name, "wordnet-gloss")
                     for s in senses]
        if course:
            mine = course_rows[course_rows.lemma == lemma]
            rows += [tuple(r) for r in mine[~mine.sentence.isin(exclude)].itertuples(index=False)]
    from ..core.embeddings import find_word

    def usable(sentence, word):       # a form the word finder splits differently is left out
        try:
            find_word(sentence, word)
            return True
        except ValueError:
            return False

    rows = [r for r in rows if usable(r[0], r[1])]
    return pd.DataFrame(rows, columns=["sentence", "word", "lemma", "sense", "source"])

