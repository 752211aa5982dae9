"""ctxembed.book: what the chapters rely on to stay true and to run anywhere."""

from __future__ import annotations

import sys

import pytest

from ctxembed import book


def test_glue_works_without_myst_nb(monkeypatch, capsys):
    # On Colab myst-nb is not installed: glue must not fail, and shows the value if asked.
    monkeypatch.setitem(sys.modules, "myst_nb", None)        # makes `import myst_nb` fail
    book.glue("answer", 42, display=False)
    assert book.GLUED["answer"] == 42
    book.glue("shown", 0.5)                                   # display=True: printed
    assert "0.5" in capsys.readouterr().out


def test_claim_fails_with_the_sentence_to_rewrite():
    book.claim(len("two") > 1, "'two' has more than one letter")
    with pytest.raises(book.ClaimError, match="the river bank is closest"):
        book.claim(False, "the river bank is closest")


def test_questions_for_the_self_check():
    q = book.mc("2 + 2?", {"4": "Right.", "5": "No."})          # first answer correct
    assert q["type"] == "multiple_choice"
    assert {a["answer"]: (a["correct"], a["feedback"]) for a in q["answers"]} == {
        "4": (True, "Right."), "5": (False, "No.")}
    assert book.mc("?", {"a": "", "b": "", "c": ""}, correct=["a", 2])["type"] == "many_choice"
    with pytest.raises(ValueError, match="not among the answers"):
        book.mc("?", {"a": ""}, correct="b")
    n = book.numeric("1/3?", 1 / 3, 0.01, "Right.")
    lo, hi = n["answers"][0]["range"]
    assert lo < 1 / 3 < hi and n["answers"][1]["type"] == "default"


def test_the_right_choice_is_not_always_shown_first():
    """Authors write the right answer first; a reader must not learn that the first choice
    is the answer. The order is drawn from the question, the same on every build."""
    choices = {"right": "Yes.", "wrong a": "No.", "wrong b": "No.", "wrong c": "No."}
    positions = []
    for k in range(40):
        shown = [a["answer"] for a in book.mc(f"Question {k}?", choices)["answers"]]
        assert sorted(shown) == sorted(choices)
        assert shown == [a["answer"] for a in book.mc(f"Question {k}?", choices)["answers"]]
        positions.append(shown.index("right"))
    assert set(positions) == {0, 1, 2, 3}
    assert positions.count(0) < 20


@pytest.fixture
def ipython_shell():
    """An IPython shell for the duration of one test, cleared afterwards.

    A shell left behind is global: later tests that check behaviour *outside* IPython
    (``ctxembed.viz.alt.install``) would see it.
    """
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_quiz_embeds_questions_and_answers_in_the_output(ipython_shell):
    from IPython.utils.capture import capture_output

    with capture_output() as out:
        book.quiz([book.mc("Static vectors per word?", {"one": "Right.", "many": "No."})])
    data = [o.data for o in out.outputs]
    assert any("text/html" in d for d in data)
    page = next(d["text/html"] for d in data if "text/html" in d)
    assert "Static vectors per word?" in page            # questions travel with the page
    with pytest.raises(ValueError):
        book.quiz([])


def quiz_html(questions) -> str:
    from IPython.utils.capture import capture_output

    with capture_output() as out:
        book.quiz(questions)
    return next(o.data["text/html"] for o in out.outputs if "text/html" in o.data)


def test_quiz_renders_markdown_and_states_each_verdict_once(ipython_shell):
    page = quiz_html([
        book.mc("What does *bank* mean in `the river bank`?",
                {"the *side* of a river": "Right: the river's edge.",
                 "a <b>firm</b>": "No: that is the other sense."}),
        book.numeric("Cosine of a vector with itself?", 1.0, 1e-6, "Right: always exactly 1."),
        book.numeric("A third, as a fraction?", 1 / 3, 0.01, "Right: one chance in three."),
    ])
    assert "<em>bank</em>" in page and "<code>the river bank</code>" in page
    assert "*bank*" not in page and "`" not in page
    assert "<b>firm</b>" not in page and "&lt;b&gt;firm&lt;/b&gt;" in page   # no raw HTML
    assert "Right. Right" not in page and "Right:" not in page and "No:" not in page
    assert "<strong>Right.</strong> The river" in page
    assert "Between 1 and 1" not in page and "<p>1. Always exactly 1.</p>" in page
    assert "0.3333 (anything from 0.323 to 0.343 counts)" in page


def test_quiz_never_loads_mathjax_from_a_cdn(ipython_shell):
    """The site works offline: the self-check must not fetch MathJax from jsdelivr."""
    from IPython.utils.capture import capture_output

    from ctxembed.book import mc, quiz

    with capture_output() as shown:
        quiz([mc("2 + 2?", {"4": "Right.", "5": "No."}, correct="4")])
    page = "".join(v for out in shown.outputs for v in out.data.values() if isinstance(v, str))
    assert "<details>" in page and "Right." in page and "<script" not in page
    assert "cdn.jsdelivr.net" not in page
