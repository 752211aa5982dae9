"""``ctxembed-wsd "sentence" word`` and ``python -m ctxembed.wsd``: options, output, errors.

Run in-process (the console script once, in a subprocess), on a WSD cache folder of this
test session."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctxembed.wsd import evaluation, sense_table, threshold, wordnet_system
from ctxembed.wsd.__main__ import main as module_main
from ctxembed.wsd.caching import cache_folder
from ctxembed.wsd.cli import main as cli_main
from ctxembed.wsd.wordnet_system import default_system

TWO_BARKS = "The dog's bark was loud, but the bark of the oak was rough."
SHIP = "The bark sailed across the ocean."


@pytest.fixture(scope="module", autouse=True)
def fresh_wsd_cache(tmp_path_factory):
    with cache_folder(tmp_path_factory.getbasetemp() / "wsd-cache") as folder:
        yield folder


def _run(capsys, *argv, main=cli_main):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_prints_the_sense_its_gloss_confidence_and_the_next_senses(capsys):
    code, out, _ = _run(capsys, SHIP, "bark")
    expected = default_system().disambiguate(SHIP, "bark")
    assert code == 0 and expected.sense == "bark.n.03"
    assert f"sense:      {expected.sense}" in out and "sailing ship" in out
    assert f"confidence: {expected.confidence:.2f}" in out
    assert f"(cosine to the sense: {expected.similarity:.2f})" in out
    others = [s for s, _ in expected.alternatives if s != expected.sense][:2]    # --top 3
    next_line = next(line for line in out.splitlines() if line.strip().startswith("next:"))
    assert [part.split(" (")[0] for part in next_line.split("next:")[1].strip().split("; ")] == others


@pytest.mark.parametrize("top, listed", [(1, 0), (2, 1), (5, 4)])
def test_top_sets_how_many_senses_are_listed(capsys, top, listed):
    code, out, _ = _run(capsys, SHIP, "bark", "--top", str(top))
    assert code == 0
    lines = [line for line in out.splitlines() if line.strip().startswith("next:")]
    assert len(lines) == (1 if listed else 0)
    if listed:
        assert lines[0].count(";") == listed - 1


def test_json_is_the_whole_prediction(capsys):
    code, out, _ = _run(capsys, SHIP, "bark", "--json")
    got = json.loads(out)
    assert code == 0 and got == default_system().disambiguate(SHIP, "bark").to_dict()
    assert set(got) == {"sentence", "word", "lemma", "sense", "gloss", "confidence", "similarity",
                        "unknown", "alternatives"}


def test_occurrence_picks_which_use_of_a_repeated_word(capsys):
    answers = {}
    for occurrence in ("0", "1", "-1"):
        code, out, _ = _run(capsys, TWO_BARKS, "bark", "--occurrence", occurrence, "--json")
        assert code == 0
        answers[occurrence] = json.loads(out)
    wsd = default_system()
    assert answers["0"] == wsd.disambiguate(TWO_BARKS, "bark", 0).to_dict()
    assert answers["1"] == wsd.disambiguate(TWO_BARKS, "bark", 1).to_dict() == answers["-1"]
    assert answers["0"]["sense"] == "bark.n.04" != answers["1"]["sense"]     # the dog, then the oak


def test_an_occurrence_the_sentence_does_not_have_is_a_clear_error(capsys):
    code, out, err = _run(capsys, SHIP, "bark", "--occurrence", "3")
    assert code == 2 and not out and err.startswith("ctxembed-wsd: error:") and "bark" in err


def test_method_chooses_the_classifier(capsys):
    """1-NN's confidence is its single vote (1.0); the centroids' is a softmax (< 1)."""
    code, out, _ = _run(capsys, SHIP, "bark", "--method", "knn", "--json")
    knn = json.loads(out)
    assert code == 0 and knn == default_system("knn").disambiguate(SHIP, "bark").to_dict()
    assert knn["confidence"] == 1.0
    _, out, _ = _run(capsys, SHIP, "bark", "--json")
    assert json.loads(out)["confidence"] < 1.0
    with pytest.raises(SystemExit) as exc:
        cli_main([SHIP, "bark", "--method", "svm"])
    assert exc.value.code == 2 and "invalid choice: 'svm'" in capsys.readouterr().err


@pytest.mark.parametrize("threshold, noted", [(1.01, True), (-1.0, False)])
def test_the_unknown_sense_note(capsys, monkeypatch, threshold, noted):
    """The note says the use matches no known sense well, exactly when the system flags it."""
    monkeypatch.setattr(default_system(), "unknown_threshold", threshold)
    code, out, _ = _run(capsys, SHIP, "bark")
    assert code == 0
    assert ("note:       this use matches none of the known senses well" in out) == noted
    _, out, _ = _run(capsys, SHIP, "bark", "--json")
    assert json.loads(out)["unknown"] is noted


def test_errors_say_what_to_do(capsys):
    code, out, err = _run(capsys, "The dog growled.", "bark")
    assert code == 2 and not out and "does not occur" in err
    code, _, err = _run(capsys, "The blorptastic gizmo.", "blorptastic")
    assert code == 2 and "no senses in WordNet" in err
    code, _, err = _run(capsys, "", "bark")
    assert code == 2 and "empty" in err
    with pytest.raises(SystemExit) as exc:
        cli_main(["Only a sentence."])
    assert exc.value.code == 2 and "word" in capsys.readouterr().err


def test_python_m_ctxembed_wsd_answers_like_the_command(capsys):
    assert _run(capsys, SHIP, "bark", "--json", main=module_main) == \
        _run(capsys, SHIP, "bark", "--json")


def test_prepare_calibrates_once_and_force_recalibrates(capsys, monkeypatch):
    """``python -m ctxembed.wsd prepare``: the threshold is chosen when it is not cached (or
    with --force); without --no-eval it fills the evaluations chapter 5 reads."""
    calls = []

    def calibrate():
        calls.append("calibrate")
        path = threshold.threshold_file()
        path.write_text(json.dumps({"threshold": 0.25, "precision": 0.5, "recall": 0.5}))
        return 0.25

    class Overall:
        overall = evaluation.pd.DataFrame({"method": ["centroid"], "layers": ["last"],
                                           "pieces": ["mean"], "accuracy": [0.6]})

    monkeypatch.setattr(evaluation, "calibrate_default_threshold", calibrate)
    monkeypatch.setattr(sense_table, "build_sense_table",
                        lambda progress: calls.append("table") or Path("senses.sqlite"))
    monkeypatch.setattr(evaluation, "evaluate_wordnet", lambda: calls.append("eval") or Overall)
    monkeypatch.setattr(evaluation, "evaluate_layers", lambda: calls.append("layers"))
    try:
        code, out, _ = _run(capsys, "prepare", "--no-eval", main=module_main)
        assert code == 0 and calls == ["calibrate", "table"]
        assert "WordNet sense inventory:" in out and "threshold" in out and "0.250" in out
        assert "every word's fitted senses: senses.sqlite" in out
        _run(capsys, "prepare", "--no-eval", main=module_main)
        assert calls == ["calibrate", "table", "table"]      # cached: not chosen again
        code, out, _ = _run(capsys, "prepare", "--force", main=module_main)
        assert code == 0 and calls == ["calibrate", "table", "table", "calibrate", "table",
                                       "eval", "layers"]
        assert "centroid" in out and "0.6" in out
    finally:
        threshold.threshold_file().unlink(missing_ok=True)
        wordnet_system._default_system.cache_clear()


def _ctxembed_wsd():
    exe = Path(sys.executable).with_name("ctxembed-wsd")
    return [str(exe)] if exe.exists() else [shutil.which("ctxembed-wsd") or "ctxembed-wsd"]


@pytest.mark.slow
def test_the_console_script_prints_sense_gloss_and_confidence():
    out = subprocess.run([*_ctxembed_wsd(), SHIP, "bark"], capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert "bark.n.03" in out.stdout and "sailing ship" in out.stdout and "confidence" in out.stdout
