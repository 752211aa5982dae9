"""The course's curated sense-labelled sentences for seven ambiguous words.

Written for this course: everyday sentences for bank, apple, key, light, run, bark and
spring, two to four senses each, eight or nine uses per sense, stored in
``polysemy_sentences.tsv`` beside this module. Chapters 1, 2 and 5 read them.

Example
-------
>>> data = polysemy_sentences()
>>> sorted(data.word.unique()) == sorted(SHOWCASE_WORDS)
True
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

SHOWCASE_WORDS = ("bank", "apple", "key", "light", "run", "bark", "spring")


def polysemy_sentences() -> pd.DataFrame:
    """The course's curated sense-labelled sentences (written for this course).

    Seven ambiguous words (bank, apple, key, light, run, bark, spring) with two
    to four senses each (four for light and run) and eight or nine everyday
    sentences per sense. Lines starting with ``#`` in the file are comments.

    Returns
    -------
    pandas.DataFrame with columns ``word``, ``sense``, ``form`` (the word as
    written in the sentence, e.g. ``"Apple"``) and ``sentence``.
    """
    path = files("ctxembed.data") / "polysemy_sentences.tsv"
    with path.open(encoding="utf-8") as fh:
        return pd.read_csv(fh, sep="\t", comment="#")


def per_sense_range(data: pd.DataFrame, by: tuple[str, ...] = ("word", "sense")) -> str:
    """How many rows each group of ``by`` has, as the pages say it: ``"8"`` or ``"8 to 9"``.

    >>> per_sense_range(pd.DataFrame({"word": ["a"] * 3, "sense": ["x", "x", "y"]}))
    '1 to 2'
    """
    sizes = data.groupby(list(by)).size()
    if sizes.empty:
        raise ValueError("No rows: nothing to count.")
    low, high = int(sizes.min()), int(sizes.max())
    return str(low) if low == high else f"{low} to {high}"
