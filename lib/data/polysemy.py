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

#: The part of speech of each sense's uses in the sentences ("PROPN": a name). Senses
#: that differ in part of speech can be told apart by syntax alone, without meaning.
SENSE_POS = {
    ("bank", "finance"): "NOUN", ("bank", "river"): "NOUN",
    ("apple", "fruit"): "NOUN", ("apple", "company"): "PROPN",
    ("key", "lock"): "NOUN", ("key", "crucial"): "ADJ",   # "a key role" (and "the key to ...")
    ("light", "illumination"): "NOUN", ("light", "weight"): "ADJ",
    ("light", "pale"): "ADJ", ("light", "ignite"): "VERB",
    ("run", "move"): "VERB", ("run", "manage"): "VERB", ("run", "operate"): "VERB",
    ("run", "flow"): "VERB",
    ("bark", "dog"): "NOUN", ("bark", "tree"): "NOUN",
    ("spring", "coil"): "NOUN", ("spring", "season"): "NOUN", ("spring", "water"): "NOUN",
}


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


def same_part_of_speech(data: pd.DataFrame) -> pd.DataFrame:
    """The rows whose senses share a part of speech with another sense of their word, so that
    only meaning, not syntax or a name, tells them apart: for each word, the senses of its
    commonest part of speech among the common ones (NOUN, VERB, ADJ), if that part of speech
    has two senses or more. Adds a ``pos`` column.

    >>> kept = same_part_of_speech(polysemy_sentences())
    >>> sorted(kept.groupby("word").sense.unique().map(sorted).items())[:2]
    [('bank', ['finance', 'river']), ('bark', ['dog', 'tree'])]
    """
    pos = [SENSE_POS[w, s] for w, s in zip(data.word, data.sense)]
    data = data.assign(pos=pos)
    keep = []
    for _, rows in data[data.pos.isin(["NOUN", "VERB", "ADJ"])].groupby("word", sort=False):
        senses_per_pos = rows.groupby("pos").sense.nunique()
        best = senses_per_pos.idxmax()
        if senses_per_pos[best] >= 2:
            keep.append(rows[rows.pos == best])
    return pd.concat(keep).sort_index() if keep else data.iloc[:0]


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
