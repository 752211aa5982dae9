"""Page helpers for the chapters: glue values into prose, guard claims, self-check quizzes.

Three small tools that keep a chapter's text true and make it work wherever it is opened:

- :func:`glue` is myst-nb's ``glue`` during a book build; anywhere else (Colab, Binder,
  plain Jupyter, where myst-nb may be missing) it stores the value and, when asked to
  display, shows it. So a chapter's ``from ctxembed.book import glue`` never fails.
- :func:`claim` asserts at build time that a sentence on the page is still true of the
  result (the build fails instead of publishing a false sentence).
- :func:`quiz` shows a self-check as plain HTML (each answer's verdict in a ``<details>``
  element), so it works on the static site with no kernel, no script and no network.

Example
-------
>>> from ctxembed.book import claim, glue, mc, quiz
>>> glue("answer", 42, display=False)
>>> claim(0.53 > 0.38, "the contextual classifier beats chance")
>>> quiz([mc("2 + 2?", {"4": "Right.", "5": "No."}, correct="4")])   # HTML in a notebook
<IPython.core.display.HTML object>
>>> [a["answer"] for a in mc("2 + 2?", {"5": "No.", "4": "Right."}, correct=1)["answers"]
...  if a["correct"]]
['4']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

GLUED: dict[str, Any] = {}   # every value glued in this kernel, also when myst-nb is absent


def glue(name: str, value: Any, display: bool = True) -> None:
    """Store ``value`` under ``name`` for ``{glue:text}`name``` in the page's prose.

    During a book build this is :func:`myst_nb.glue`. Outside one (myst-nb not installed)
    the value is kept in :data:`GLUED` and, with ``display=True``, shown as the cell output.
    """
    GLUED[name] = value
    try:
        from myst_nb import glue as _glue
    except ImportError:
        if display:
            from IPython.display import display as _display

            _display(value)
        return
    _glue(name, value, display=display)


class ClaimError(AssertionError):
    """A sentence on the page is no longer true of the computed result."""


def claim(condition: bool, sentence: str) -> None:
    """Fail loudly when ``condition`` is false: ``sentence`` states it on the page.

    Raises
    ------
    ClaimError
        Saying which sentence to rewrite (the build stops on it).
    """
    if not bool(condition):
        raise ClaimError(f"The page says: {sentence!r}, but the computed result no longer "
                         "supports it. Rewrite that sentence (or glue the value) and rebuild.")


def mc(question: str, answers: Mapping[str, str],
       correct: int | str | Sequence[int | str] = 0) -> dict:
    """A multiple-choice question for :func:`quiz`.

    ``answers`` maps each choice to its feedback; ``correct`` names the right choice(s),
    by text or by position in ``answers`` (default: the first; several make it "choose all
    that apply"). The choices are shown in an order drawn from the question's text, so the
    right one is not always where the author wrote it, and every build shows the same order.
    """
    import random
    import zlib

    names = list(answers)
    picks = [correct] if isinstance(correct, (int, str)) else list(correct)
    right = {names[c] if isinstance(c, int) else c for c in picks}
    unknown = right - set(answers)
    if unknown:
        raise ValueError(f"correct choice(s) {sorted(unknown)} are not among the answers")
    random.Random(zlib.crc32(question.encode("utf-8"))).shuffle(names)
    return {"question": question, "type": "many_choice" if len(right) > 1 else "multiple_choice",
            "answers": [{"answer": a, "correct": a in right, "feedback": answers[a]}
                        for a in names]}


def numeric(question: str, value: float, tolerance: float, feedback: str,
            wrong: str = "Not quite: recompute it from the numbers above.") -> dict:
    """A numeric question for :func:`quiz`: right within ``value +- tolerance``."""
    lo, hi = float(value) - tolerance, float(value) + tolerance
    return {"question": question, "type": "numeric",
            "answers": [{"type": "range", "range": [lo, hi], "correct": True,
                         "feedback": feedback},
                        {"type": "default", "feedback": wrong}]}


def _inline(text: str) -> str:
    """A question's or answer's Markdown (``*bank*``, backticks) as inline HTML; raw HTML in
    the text is escaped, not passed through."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).renderInline(text)


def _feedback(text: str) -> str:
    """Feedback without a verdict of its own ("Right: ..."): the quiz states the verdict."""
    import re

    rest = re.sub(r"^(right|correct|yes|no|not quite|wrong)\s*[.:,;!]\s*", "", text,
                  flags=re.IGNORECASE)
    return rest[:1].upper() + rest[1:]


def quiz(questions: Sequence[dict]) -> None:
    """Display a self-check that works on the static site: no kernel, no script, no network.

    ``questions``: dicts made by :func:`mc` and :func:`numeric`. Each choice's verdict and
    feedback (or a numeric answer) sit in a ``<details>`` element the reader opens after
    deciding, which keyboards and screen readers handle natively. Questions, choices and
    feedback may use inline Markdown (emphasis, code).
    """
    from IPython.display import HTML, display

    from .viz.html import Markup, render

    if not questions:
        raise ValueError("quiz() needs at least one question")
    shown = []
    for q in questions:
        item = {"question": Markup(_inline(q["question"])), "numeric": q["type"] == "numeric"}
        if item["numeric"]:
            right = next(a for a in q["answers"] if a.get("correct"))
            lo, hi = right["range"]
            item["answer"] = f"{(lo + hi) / 2:.4g}"
            if f"{lo:.3g}" != f"{hi:.3g}":
                item["answer"] += f" (anything from {lo:.3g} to {hi:.3g} counts)"
            item["feedback"] = Markup(_inline(_feedback(right["feedback"])))
        else:
            item["choices"] = [(Markup(_inline(a["answer"])), a["correct"],
                                Markup(_inline(_feedback(a["feedback"])))) for a in q["answers"]]
        shown.append(item)
    display(HTML(render(_QUIZ, questions=shown)))


# Question, choices and feedback arrive as HTML made by _inline (their Markdown, raw HTML escaped).
_QUIZ = """
<section class="ctxembed-quiz" aria-label="Self-check">
{% for q in questions %}
<p><strong>Question {{ loop.index }}.</strong> {{ q.question }}</p>
{% if q.numeric %}
<details><summary>Show the answer</summary><p>{{ q.answer }}. {{ q.feedback }}</p></details>
{% else %}
<ul>
{% for choice, correct, feedback in q.choices %}
<li><details><summary>{{ choice }}</summary><p><strong>{{ "Right." if correct else "Not this one." }}</strong> {{ feedback }}</p></details></li>
{% endfor %}
</ul>
{% endif %}
{% endfor %}
</section>
"""
