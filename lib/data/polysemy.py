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
