"""Sense-labelled sentences from WordNet: its example sentences, each labelled with
the sense (synset) it illustrates.

That makes them a small, real, sense-annotated corpus: the idea the Word-in-Context
benchmark (Pilehvar & Camacho-Collados, 2019) was built on. Everything here is made
from the fast reader :func:`ctxembed.data.wordnet.synset_texts`, with NLTK's
``morphy`` to recognise inflected forms (``banks`` for ``bank``).

Example
-------
>>> ex = sense_examples("bank")
>>> ex[0].sentence, ex[0].form, ex[0].sense
('they pulled the canoe up on the bank', 'bank', 'bank.n.01')
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import asdict, dataclass

from ..core.cache import cached_file, write_atomic
from .corpus import tokenize
from .wordnet import load_wordnet, synset_texts, wordnet_version

#: The code the cached scans depend on (their file names carry a hash of it and of WordNet's files).
SENSES_CODE = ("ctxembed.data.senses", "ctxembed.data.corpus", "ctxembed.data.wordnet")


@dataclass(frozen=True)
class SenseExample:
    """A WordNet example sentence, labelled with the sense of ``lemma`` it shows.

    ``form`` is the word as written in the sentence (``"banks"`` for lemma ``"bank"``).
    """

    sentence: str
    lemma: str
    form: str
    sense: str        # synset name, e.g. "bank.n.01"
    definition: str


_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def _find_form(sentence: str, lemma: str, pos: str, wn) -> str | None:
    for token in _WORD.findall(sentence):
        low = token.lower()
        if low == lemma or wn.morphy(low, pos) == lemma:
            return token
    return None


def sense_examples(lemma: str, pos: str | None = None) -> list[SenseExample]:
    """All WordNet example sentences in which ``lemma`` is used, with their sense.

    Parameters
    ----------
    lemma : str
        A single word, e.g. ``"bank"``.
    pos : {"n", "v", "a", "r"}, optional
        Restrict to one part of speech.
    """
    wn = load_wordnet()
    lemma = lemma.strip().lower()
    out = []
    for synset in wn.synsets(lemma, pos=pos):
        if lemma not in {name.lower() for name in synset.lemma_names()}:
            continue
        for sentence in synset.examples():
            form = _find_form(sentence, lemma, synset.pos() if synset.pos() != "s" else "a", wn)
            if form:
                out.append(SenseExample(sentence, lemma, form, synset.name(), synset.definition()))
    return out


def sense_labelled_dataset(min_senses: int = 2, min_examples: int = 2) -> list[SenseExample]:
    """Sense-labelled examples of every ambiguous single-word noun or verb lemma.

    Each example sentence is collected under every single-word lemma of its
    synset that it actually uses. A lemma is kept when at least ``min_senses``
    of its senses have at least ``min_examples`` examples each (only those
    senses are kept), so every instance has same-sense neighbours to be
    classified by. Takes a few seconds; cached in the course's cache folder.

    Returns
    -------
    list[SenseExample], grouped by lemma (sorted), then by sense.
    """
    cache = cached_file("data", "wordnet_senses", ".json", code=SENSES_CODE,
                        inputs=[wordnet_version(), min_senses, min_examples])
    if cache.exists():
        return [SenseExample(**row) for row in json.loads(cache.read_text())]
    wn = load_wordnet()
    by_lemma: dict[tuple[str, str], dict[str, list[SenseExample]]] = {}
    for pos in ("n", "v"):
        for synset in synset_texts(pos):
            if not synset.examples:
                continue
            for name in {n.lower() for n in synset.lemmas if n.isalpha()}:
                for sentence in synset.examples:
                    form = _find_form(sentence, name, pos, wn)
                    if form:
                        ex = SenseExample(sentence, name, form, synset.name, synset.definition)
                        by_lemma.setdefault((name, pos), {}).setdefault(synset.name, []).append(ex)
    data = []
    for key in sorted(by_lemma):
        kept = [exs for exs in by_lemma[key].values() if len(exs) >= min_examples]
        if len(kept) >= min_senses:
            for exs in kept:
                data.extend(exs)
    write_atomic(cache, lambda tmp: tmp.write_text(json.dumps([asdict(ex) for ex in data])))
    return data


@dataclass(frozen=True)
class Usage:
    """A WordNet example sentence and the word in it that illustrates ``synset``."""

    sentence: str
    form: str       # single token as :func:`ctxembed.data.corpus.tokenize` writes it
    lemma: str
    synset: str
    pos: str        # n / v / a / r  (satellite adjectives "s" count as "a")


def wordnet_usages(cache: bool = True) -> list[Usage]:
    """Every (example sentence, illustrated single-word lemma) pair in WordNet (~43k).

    Of a synset's single-word lemmas, the first that the sentence uses (inflected
    forms included) is the one it illustrates. Cached in the course's cache folder.
    """
    path = cached_file("data", "wordnet_usages", ".json.gz", code=SENSES_CODE, inputs=wordnet_version())
    if cache and path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return [Usage(*row) for row in json.load(fh)]
    wn = load_wordnet()
    morphy_cache: dict = {}

    def morphy(token, pos):
        key = (token, pos)
        if key not in morphy_cache:
            morphy_cache[key] = wn.morphy(token, pos)
        return morphy_cache[key]

    out = []
    for synset in synset_texts():
        pos = "a" if synset.pos == "s" else synset.pos
        lemmas = [n.lower() for n in synset.lemmas if n.isalpha()]
        for sentence in synset.examples:
            tokens = tokenize(sentence)
            for lemma in lemmas:
                # cheap filter first: an inflected form shares its first two letters with the lemma
                form = next((t for t in tokens if t == lemma or (t[:2] == lemma[:2] and morphy(t, pos) == lemma)),
                            None)
                if form:
                    out.append(Usage(sentence, form, lemma, synset.name, pos))
                    break
    if cache:
        def write(tmp):
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                json.dump([[u.sentence, u.form, u.lemma, u.synset, u.pos] for u in out], fh)

        write_atomic(path, write)
    return out
