"""Sense-labelled sentences from WordNet: its example sentences, each labelled with
the sense (synset) it illustrates.

That makes them a small, real, sense-annotated corpus: the idea the Word-in-Context
benchmark (Pilehvar & Camacho-Collados, 2019) was built on. Everything here is made
from the fast reader :func:`ctxembed.data.wordnet.synset_texts` and one rule for which
word of a sentence is a use of a lemma (:func:`find_form`: the sentence's tokens, and
WordNet's morphology for inflected forms, ``banks`` for ``bank``, ``ran`` for ``run``).
The three views below differ only in what they keep:

- :func:`sense_examples`: one word's examples, sense by sense (chapter 3);
- :func:`sense_labelled_dataset`: every ambiguous noun and verb with enough examples per
  sense (chapters 1, 4 and 5);
- :func:`wordnet_usages`: each example sentence once, with the lemma it illustrates
  (chapter 2's probes and the WSD system).

Example
-------
>>> ex = sense_examples("bank")
>>> ex[0].sentence, ex[0].form, ex[0].sense
('they pulled the canoe up on the bank', 'bank', 'bank.n.01')
>>> find_form("She ran 10 miles that day", "run", "v")
'ran'
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import asdict, dataclass

from ..core.cache import cached_file, write_atomic
from .corpus import tokenize
from .wordnet import SynsetText, base_forms, synset_texts, synsets_of, wordnet_version

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


@functools.lru_cache(maxsize=1 << 18)
def _lemmas_of(token: str, pos: str) -> frozenset[str]:
    return frozenset(base_forms(token, pos))


def find_form(sentence: str | list[str], lemma: str, pos: str) -> str | None:
    """The first word of ``sentence`` that is a form of ``lemma`` as part of speech ``pos``
    (``n``, ``v``, ``a`` or ``r``), as the sentence writes it; None when there is none.

    The sentence is split by :func:`ctxembed.data.corpus.tokenize` (or given as its tokens);
    a token is a form of ``lemma`` when WordNet's morphology gives ``lemma`` among its base
    forms (:func:`~ctxembed.data.wordnet.base_forms`): ``"Banks"`` and ``"bank"`` for
    *bank*, ``"ran"`` for *run* (WordNet's exception lists), ``"teeth"`` for *tooth*, never
    ``"banking"`` for the noun. A word before ``n't`` is an auxiliary (``"doesn't suffice"``
    is no use of *do*), so it is skipped.
    """
    tokens = tokenize(sentence, keep_case=True) if isinstance(sentence, str) else sentence
    for token, after in zip(tokens, [*tokens[1:], ""]):
        if after.lower() == "n't":
            continue        # an auxiliary ("doesn't suffice"), not a use of the verb's sense
        if lemma in _lemmas_of(token.lower(), pos):
            return token
    return None


def _uses(synset: SynsetText, lemmas=None, *, first_only: bool = False):
    """``(sentence, lemma, form)`` for each example sentence of ``synset`` and each of its
    single-word lemmas (or of ``lemmas``) that the sentence uses, in the synset's order;
    with ``first_only``, the sentence's first such lemma only."""
    pos = "a" if synset.pos == "s" else synset.pos
    if lemmas is None:
        lemmas = dict.fromkeys(n.lower() for n in synset.lemmas if n.isalpha())
    for sentence in synset.examples:
        tokens = tokenize(sentence, keep_case=True)
        for lemma in lemmas:
            form = find_form(tokens, lemma, pos)
            if form:
                yield sentence, lemma, form
                if first_only:
                    break


def sense_examples(lemma: str, pos: str | None = None) -> list[SenseExample]:
    """All WordNet example sentences in which ``lemma`` is used, with their sense.

    Parameters
    ----------
    lemma : str
        A single word, e.g. ``"bank"``.
    pos : {"n", "v", "a", "r"}, optional
        Restrict to one part of speech.
    """
    lemma = lemma.strip().lower()
    return [SenseExample(sentence, lemma, form, synset.name, synset.definition)
            for synset in synsets_of(lemma, pos)
            for sentence, _, form in _uses(synset, [lemma])]


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
    by_lemma: dict[tuple[str, str], dict[str, list[SenseExample]]] = {}
    for pos in ("n", "v"):
        for synset in synset_texts(pos):
            for sentence, lemma, form in _uses(synset):
                ex = SenseExample(sentence, lemma, form, synset.name, synset.definition)
                by_lemma.setdefault((lemma, pos), {}).setdefault(synset.name, []).append(ex)
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

    Of a synset's single-word lemmas, the first that the sentence uses (:func:`find_form`)
    is the one it illustrates; ``form`` is lower case, as the ELMo vocabulary spells words.
    Cached in the course's cache folder.
    """
    path = cached_file("data", "wordnet_usages", ".json.gz", code=SENSES_CODE, inputs=wordnet_version())
    if cache and path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return [Usage(*row) for row in json.load(fh)]
    out = []
    for synset in synset_texts():
        pos = "a" if synset.pos == "s" else synset.pos
        out += [Usage(sentence, form.lower(), lemma, synset.name, pos)
                for sentence, lemma, form in _uses(synset, first_only=True)]
    if cache:
        def write(tmp):
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                json.dump([[u.sentence, u.form, u.lemma, u.synset, u.pos] for u in out], fh)

        write_atomic(path, write)
    return out
