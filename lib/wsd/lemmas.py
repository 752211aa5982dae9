"""A reader's word and its dictionary forms: WordNet's morphology for every part of speech.

:func:`candidate_lemmas` is used by both sense inventories: WordNet read in full
(:mod:`ctxembed.wsd.inventory`) and the compact table of fitted senses
(:mod:`ctxembed.wsd.sense_table`), so a form maps to the same word either way. The forms
come from :func:`ctxembed.data.wordnet.base_forms`, the rule the sense-labelled sentences
are read with too; a reader's word comes without a part of speech, so each one is tried,
with its own endings and its own words: ``"barked"`` is a verb form of *bark*,
``"banker"`` is no form of *bank*.

Example
-------
>>> known = {("bark", "n"), ("bark", "v"), ("spring", "v"), ("bank", "n")}
>>> def is_word(lemma, pos): return (lemma, pos) in known
>>> candidate_lemmas("Barked", is_word, lambda form, pos: ())
['bark']
>>> candidate_lemmas("sprang", is_word, lambda form, pos: ("spring",) if pos == "v" else ())
['spring']
>>> candidate_lemmas("banker", is_word, lambda form, pos: ())
[]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..data.wordnet import PARTS_OF_SPEECH, base_forms


def part_of_speech(synset: str) -> str:
    """The part of speech of a synset name as the endings know it: ``"bank.n.01"`` -> ``"n"``;
    satellite adjectives (``"s"``) are adjectives (``"a"``)."""
    pos = synset.rsplit(".", 2)[-2]
    return "a" if pos == "s" else pos


EMPTY_WORD = "The word to disambiguate is empty: pass e.g. word='bark'."


def unknown_word_message(word: str, close: Sequence[str]) -> str:
    """What to say about a word no inventory knows, with close words that it does know."""
    hint = f" Close WordNet words: {', '.join(close)}." if close else ""
    return (f"{word!r} has no senses in WordNet, so there is nothing to disambiguate it "
            f"between.{hint} Check the spelling, or fit a WSDSystem on your own "
            "sense-labelled sentences for it.")


def normal_form(word: str) -> str:
    """How the inventories spell a word: lower case, spaces as underscores."""
    return word.strip().lower().replace(" ", "_")


def candidate_lemmas(word: str, known: Callable[[str, str], bool],
                     irregular: Callable[[str, str], Sequence[str]]) -> list[str]:
    """Possible dictionary forms of ``word``, each one a word that ``known(lemma, pos)``
    accepts: the word itself, then for each part of speech the forms of
    :func:`~ctxembed.data.wordnet.base_forms` (its irregular lemmas ``irregular(form, pos)``,
    WordNet's exception lists: ``"sprang"`` -> ``("spring",)``; else its regular endings
    undone: ``"barked"`` -> ``"bark"``)."""
    low = normal_form(word)
    out = [low] if any(known(low, pos) for pos in PARTS_OF_SPEECH) else []
    for pos in PARTS_OF_SPEECH:
        for form in base_forms(low, pos, irregular(low, pos)):
            if form not in out and known(form, pos):
                out.append(form)
    return out


def likeliest_lemma(found: Sequence[str], tagged: Mapping[str, int]) -> str:
    """Which of a word's candidate lemmas ``found`` (:func:`candidate_lemmas`, not empty) it
    is: the one SemCor tagged most often (``tagged`` maps each candidate to its count), so
    ``"banks"`` is *bank*, not the botanist Banks; on a tie, the first (the word itself
    when it is a lemma)."""
    return max(found, key=lambda lemma: tagged[lemma])
