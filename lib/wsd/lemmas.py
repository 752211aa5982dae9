"""A word's dictionary forms: the one morphology rule of the WSD package (standard library only).

:func:`candidate_lemmas` is used by both sense inventories: WordNet read in full
(:mod:`ctxembed.wsd.inventory`) and the compact table of fitted senses
(:mod:`ctxembed.wsd.sense_table`), so a form maps to the same word either way.

Example
-------
>>> known = {"bark", "spring", "bank"}.__contains__
>>> candidate_lemmas("Barked", known, {})
['bark']
>>> candidate_lemmas("sprang", known, {"sprang": ["spring"]})
['spring']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

#: Regular endings and what replaces them (``"ies"`` -> ``"y"``: ``"berries"`` -> ``"berry"``).
SUFFIXES = (("ies", "y"), ("ied", "y"), ("ves", "f"), ("sses", "ss"), ("es", ""), ("s", ""),
            ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("er", ""), ("est", ""))


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


def candidate_lemmas(word: str, known: Callable[[str], bool],
                     irregular: Mapping[str, Sequence[str]]) -> list[str]:
    """Possible dictionary forms of ``word`` that ``known`` accepts: the word itself, its
    irregular lemmas (``irregular``: WordNet's exception lists, ``"sprang"`` -> ``["spring"]``),
    then the regular endings of :data:`SUFFIXES` (``"barked"`` -> ``"bark"``), a doubled
    final consonant undone (``"running"`` -> ``"run"``)."""
    low = normal_form(word)
    out = [low] if known(low) else []
    out += [c for c in irregular.get(low, []) if known(c) and c not in out]
    for suffix, repl in SUFFIXES:
        if low.endswith(suffix) and len(low) > len(suffix) + 1:
            stem = low[: -len(suffix)] + repl
            for cand in (stem, stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else None):
                if cand and known(cand) and cand not in out:
                    out.append(cand)
    return out
