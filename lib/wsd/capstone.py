"""The capstone exercise's data: a fixed sample of WordNet's sense-labelled sentences.

Exercise 5 is graded in a sandbox that sees only the installed package (no WordNet
folder, no cache), so its sentences ship with the package as ``capstone_sentences.tsv``:
120 words of :func:`ctxembed.wsd.evaluation.wordnet_wsd_data` with their train/test
split (by sentence), each sense's SemCor count and its place in WordNet's list of the
word's senses. Half the words (``part ==
"exercise"``) are the ones students work with; the other half (``part == "held-out"``)
only the hidden tests use. :func:`build_capstone_data` regenerates the file.

Example
-------
>>> data = capstone_data()
>>> data[data.part == "exercise"].groupby("split").size()
split
test     196
train    265
dtype: int64
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pandas as pd

FILE = "capstone_sentences.tsv"
N_WORDS = 60


def capstone_data() -> pd.DataFrame:
    """Columns ``part`` (exercise / held-out), ``split`` (train / test), ``lemma``, ``word``,
    ``sense`` (synset), ``count`` (SemCor count of that sense of the lemma), ``rank`` (its
    place in WordNet's list of the lemma's senses, 1 = first), ``sentence``."""
    with (files("ctxembed.wsd") / FILE).open(encoding="utf-8") as fh:
        return pd.read_csv(fh, sep="\t", keep_default_na=False)


def sense_counts(data: pd.DataFrame | None = None) -> dict[str, dict[str, int]]:
    """``{lemma: {sense: SemCor count}}`` for the senses in the capstone data."""
    data = capstone_data() if data is None else data
    return {l: dict(zip(g.sense, g["count"])) for l, g in data.groupby("lemma")}


def wordnet_ranks(data: pd.DataFrame | None = None) -> dict[str, dict[str, int]]:
    """``{lemma: {sense: place in WordNet's list of the lemma's senses}}`` (1 = listed first:
    WordNet lists a word's senses from the most frequent in SemCor down, so the first listed
    is the standard most-frequent-sense baseline)."""
    data = capstone_data() if data is None else data
    return {l: dict(zip(g.sense, g["rank"])) for l, g in data.groupby("lemma")}


def build_capstone_data(path: Path | None = None) -> Path:
    """Write the capstone file from WordNet (every 10th word of the evaluation data, then every
    10th word from the 6th on, :data:`N_WORDS` each)."""
    from .evaluation import wordnet_wsd_data
    from .inventory import wordnet_inventory

    data = wordnet_wsd_data()
    lemmas = sorted(data.lemma.unique())
    parts = {**{l: "exercise" for l in lemmas[::10][:N_WORDS]},
             **{l: "held-out" for l in lemmas[5::10][:N_WORDS]}}
    sub = data[data.lemma.isin(parts)].copy()
    inventory = wordnet_inventory()
    from ..data.wordnet import load_wordnet

    counts = {(l, s.name): s.count for l in parts for s in inventory[l]}
    ranks = {(l, s.name()): k for l in parts
             for k, s in enumerate(load_wordnet().synsets(l), start=1)}
    sub.insert(0, "part", [parts[l] for l in sub.lemma])
    sub["count"] = [counts[l, s] for l, s in zip(sub.lemma, sub.sense)]
    sub["rank"] = [ranks[l, s] for l, s in zip(sub.lemma, sub.sense)]
    sub = sub[["part", "split", "lemma", "word", "sense", "count", "rank", "sentence"]]
    path = Path(path) if path else Path(str(files("ctxembed.wsd") / FILE))
    sub.to_csv(path, sep="\t", index=False)
    return path
