"""Finding a word in a sentence: whole words, case-blind, with errors that say what to do.

This module needs nothing but the standard library, so a command can refuse a sentence
that lacks its word before it loads a model (``ctxembed-wsd`` does).

Example
-------
>>> find_word("The bank by the Bank.", "bank", occurrence=-1)
(16, 20)
"""

from __future__ import annotations

import difflib
import functools
import re

from .errors import EmptyInputError, WordNotFoundError

#: A word character: letters and digits (apostrophes, hyphens and underscores split words).
WORD_CHARS = r"[^\W_]"


@functools.lru_cache(maxsize=8192)
def word_pattern(word: str) -> re.Pattern[str]:
    """Whole-word, case-blind pattern of ``word``, compiled once (re's own cache holds 512)."""
    return re.compile(rf"(?<!{WORD_CHARS}){re.escape(word)}(?!{WORD_CHARS})", re.IGNORECASE)


def find_word(sentence: str, word: str, occurrence: int = 0) -> tuple[int, int]:
    """Character span ``(start, end)`` of a whole-word occurrence of ``word``.

    Matching ignores case and needs word boundaries: ``"bank"`` matches
    ``"Bank,"`` but not ``"banks"``. ``occurrence`` picks among repeats
    (0 = first, -1 = last). Multi-word phrases (``"New York"``) work too.

    Raises
    ------
    WordNotFoundError
        With the words the sentence does contain, and a close match if any.

    Example
    -------
    >>> find_word("The bank by the bank.", "bank", occurrence=1)
    (16, 20)
    """
    if not isinstance(word, str) or not word.strip():
        raise EmptyInputError("The word to look up is empty: pass e.g. word='bank'.")
    if not isinstance(sentence, str) or not sentence.strip():
        raise EmptyInputError("The sentence is empty: pass the text the word occurs in.")
    word = word.strip()
    spans = [m.span() for m in word_pattern(word).finditer(sentence)]
    if not spans:
        words = re.findall(rf"{WORD_CHARS}+", sentence)
        close = difflib.get_close_matches(word.lower(), [w.lower() for w in words], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise WordNotFoundError(
            f"{word!r} does not occur as a whole word in {sentence!r}.{hint} "
            f"Words in the sentence: {', '.join(words)}."
        )
    if not -len(spans) <= occurrence < len(spans):
        raise WordNotFoundError(
            f"{word!r} occurs {len(spans)} time(s) in {sentence!r}; occurrence={occurrence} "
            f"is out of range (use 0..{len(spans) - 1}, or -1 for the last)."
        )
    return spans[occurrence]
