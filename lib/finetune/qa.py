"""Extractive question answering: from (question, context) to an answer span and back.

Training features: the question and the context are tokenized as a pair; a
context longer than ``max_length`` pieces is cut into overlapping windows
(``stride`` pieces shared between neighbours). The answer's character span is
mapped, with the pieces' character offsets, to a start piece and an end piece;
a window that does not contain the whole answer points at ``[CLS]`` (position 0).

Prediction: the head gives every piece a start score and an end score; the
answer is the context span ``i <= j`` (at most ``max_answer_pieces`` long)
with the largest ``start[i] + end[j]``, over every window of the context, and
the offsets turn it back into the exact characters of the context.

Example
-------
>>> feats, meta = prepare_qa_features(tok, examples)                  # doctest: +SKIP
>>> start, end, score = best_span(s_logits, e_logits, meta[0]["offsets"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# the windows chapter 4's QA models are trained and evaluated on (pieces; question included)
QA_WINDOW = {"max_length": 192, "stride": 64}


class AnswerNotInContextError(ValueError):
    """The answer text is not found at its stated place in the context."""


def check_answer(context: str, answer: str, answer_start: int) -> None:
    """Raise :class:`AnswerNotInContextError` unless ``context[answer_start:...] == answer``."""
    if not answer:
        raise AnswerNotInContextError("The answer is empty: extractive QA needs a span of the context.")
    if context[answer_start:answer_start + len(answer)] != answer:
        where = context.find(answer)
        hint = (f" It does occur at character {where}: fix answer_start." if where >= 0
                else " It does not occur in the context at all.")
        raise AnswerNotInContextError(
            f"Answer {answer!r} is not at character {answer_start} of the context "
            f"(found {context[answer_start:answer_start + len(answer)]!r}).{hint}")


def prepare_qa_features(tokenizer, examples: Sequence, *, max_length: int = 256, stride: int = 64,
                        with_answers: bool = True) -> tuple[list[dict], list[dict]]:
    """Tokenize QA examples into model features (one or more windows per example).

    Parameters
    ----------
    examples : sequence of objects with ``question``, ``context`` and (when
        ``with_answers``) ``answer``, ``answer_start``; e.g. ``ctxembed.data.squad.QAExample``.
    max_length, stride : int
        Window size in pieces (question included) and overlap between windows.

    Returns
    -------
    features : list of dict
        ``input_ids``, ``token_type_ids``, ``attention_mask`` and, with answers,
        ``start_positions``/``end_positions`` (piece indices; 0 = not in this window).
    meta : list of dict
        Per feature: ``example`` (index into ``examples``) and ``offsets``, the
        character span of each piece in the context (``None`` for question and
        special pieces).
    """
    if not examples:
        raise ValueError("No QA examples given.")
    if with_answers:
        for ex in examples:
            check_answer(ex.context, ex.answer, ex.answer_start)
    enc = tokenizer([e.question for e in examples], [e.context for e in examples],
                    truncation="only_second", max_length=max_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True)
    features, meta = [], []
    for i in range(len(enc["input_ids"])):
        k = enc["overflow_to_sample_mapping"][i]
        seq = enc.sequence_ids(i)
        offsets = [tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][i], seq)]
        feat = {key: enc[key][i] for key in ("input_ids", "token_type_ids", "attention_mask") if key in enc}
        if with_answers:
            ex = examples[k]
            a, b = ex.answer_start, ex.answer_start + len(ex.answer)
            inside = [j for j, o in enumerate(offsets) if o is not None]
            start = end = 0
            if offsets[inside[0]][0] <= a and offsets[inside[-1]][1] >= b:
                start = next(j for j in inside if offsets[j][1] > a)
                end = max(j for j in inside if offsets[j][0] < b)
            feat["start_positions"], feat["end_positions"] = start, end
        features.append(feat)
        meta.append({"example": k, "offsets": offsets})
    return features, meta


def best_span(start_logits, end_logits, offsets, max_answer_pieces: int = 30) -> tuple[int, int, float]:
    """The best valid span of one window: ``(start_piece, end_piece, score)``.

    Valid: both pieces in the context (``offsets[i] is not None``), ``start <= end``,
    at most ``max_answer_pieces`` pieces. Score: ``start_logits[i] + end_logits[j]``.

    Example
    -------
    >>> best_span([0, 5, 1, 0], [0, 0, 2, 9], [None, (0, 3), (4, 6), (7, 9)])
    (1, 3, 14.0)
    """
    s, e = np.asarray(start_logits, dtype=float), np.asarray(end_logits, dtype=float)
    if not (len(s) == len(e) == len(offsets)):
        raise ValueError(f"start ({len(s)}), end ({len(e)}) and offsets ({len(offsets)}) differ in length.")
    valid = np.array([o is not None for o in offsets])
    if not valid.any():
        raise ValueError("No context piece in this window: nothing to pick an answer from.")
    scores = s[:, None] + e[None, :]
    i, j = np.indices(scores.shape)
    ok = valid[:, None] & valid[None, :] & (j >= i) & (j - i < max_answer_pieces)
    scores = np.where(ok, scores, -np.inf)
    best = int(np.argmax(scores))
    a, b = divmod(best, scores.shape[1])
    return a, b, float(scores[a, b])


@dataclass
class Answer:
    """A predicted answer: its text and character span in the context, and its score."""

    text: str
    start: int
    end: int
    score: float


def decode_answers(outputs: Sequence[dict], meta: Sequence[dict], examples: Sequence,
                   max_answer_pieces: int = 30) -> list[Answer]:
    """The best span of each example over all its windows, as context characters.

    ``outputs``: per feature, ``start_logits`` and ``end_logits`` (e.g. from
    :func:`ctxembed.finetune.training.predict`).
    """
    best: dict[int, Answer] = {}
    for out, m in zip(outputs, meta):
        i, j, score = best_span(out["start_logits"], out["end_logits"], m["offsets"], max_answer_pieces)
        k = m["example"]
        if k not in best or score > best[k].score:
            a, b = m["offsets"][i][0], m["offsets"][j][1]
            best[k] = Answer(examples[k].context[a:b], a, b, score)
    return [best[k] for k in range(len(examples))]
