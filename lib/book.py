"""Page helpers for the chapters: glue values into prose, guard claims, self-check quizzes.

Three small tools that keep a chapter's text true and make it work wherever it is opened:

- :func:`glue` is myst-nb's ``glue`` during a book build; anywhere else (Colab, Binder,
  plain Jupyter, where myst-nb may be missing) it stores the value and, when asked to
  display, shows it. So a chapter's ``from ctxembed.book import glue`` never fails.
- :func:`claim` asserts at build time that a sentence on the page is still true of the
  result (the build fails instead of publishing a false sentence).
- :func:`quiz` shows a self-check with `jupyterquiz <https://pypi.org/project/jupyterquiz/>`_:
  the questions and their JavaScript are embedded in the cell's output, so the quiz works on
  the static site with no kernel and no network.

Example
-------
>>> from ctxembed.book import claim, glue, quiz
>>> glue("answer", 42, display=False)
>>> claim(0.53 > 0.38, "the contextual classifier beats chance")
>>> quiz([mc("2 + 2?", {"4": "Right.", "5": "No."}, correct="4")])   # doctest: +SKIP
>>> mc("2 + 2?", {"5": "No.", "4": "Right."}, correct=1)["answers"][1]["correct"]
True
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

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
    by text or by position (default: the first; several make it "choose all that apply").
    """
    names = list(answers)
    picks = [correct] if isinstance(correct, (int, str)) else list(correct)
    right = {names[c] if isinstance(c, int) else c for c in picks}
    unknown = right - set(answers)
    if unknown:
        raise ValueError(f"correct choice(s) {sorted(unknown)} are not among the answers")
    return {"question": question, "type": "many_choice" if len(right) > 1 else "multiple_choice",
            "answers": [{"answer": a, "correct": a in right, "feedback": fb}
                        for a, fb in answers.items()]}


def numeric(question: str, value: float, tolerance: float, feedback: str,
            wrong: str = "Not quite: recompute it from the numbers above.") -> dict:
    """A numeric question for :func:`quiz`: right within ``value +- tolerance``."""
    lo, hi = float(value) - tolerance, float(value) + tolerance
    return {"question": question, "type": "numeric",
            "answers": [{"type": "range", "range": [lo, hi], "correct": True,
                         "feedback": feedback},
                        {"type": "default", "feedback": wrong}]}


def quiz(questions: Sequence[dict]) -> None:
    """Display a self-check (jupyterquiz) that runs in the page's browser, no kernel needed.

    ``questions``: dicts made by :func:`mc` and :func:`numeric`. The answers are kept
    in the order given (no shuffling), so the page is the same on every build.
    """
    if not questions:
        raise ValueError("quiz() needs at least one question")
    from IPython.display import display
    from IPython.utils.capture import capture_output
    from jupyterquiz import display_quiz

    with capture_output(stdout=False, stderr=False) as shown:
        display_quiz(list(questions), shuffle_answers=False, colors="fdsp", max_width=760)
    for out in shown.outputs:
        data = {kind: _no_mathjax_cdn(v) if isinstance(v, str) else v for kind, v in out.data.items()}
        display(data, raw=True, metadata=out.metadata)


# jupyterquiz force-loads MathJax from a CDN when the page's MathJax has not finished
# loading yet (the site loads it lazily). The site must work offline, so that load is
# dropped: the page's own MathJax, already on its way, typesets the page.
_MATHJAX_CDN = "script.src = 'https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js';"
_MATHJAX_PAGE = "return;  // the page loads its own MathJax (offline site)"


def _no_mathjax_cdn(text: str) -> str:
    return text.replace(_MATHJAX_CDN, _MATHJAX_PAGE)
