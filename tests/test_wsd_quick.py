"""The command line's quick path: the TorchScript encoder, the table of every word's fitted
senses, and ``QuickWSD`` answering what ``default_system()`` answers.

The table is built for a handful of words in a WSD cache folder of this test module (the
real one, every WordNet word, is built by ``python -m ctxembed.wsd prepare``)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ctxembed.core.embeddings import token_states
from ctxembed.core.models import RUNTIMES, compiled_encoder_path, load_encoder
from ctxembed.wsd import sense_table, wordnet_system
from ctxembed.wsd.caching import cache_folder
from ctxembed.wsd.cli import main as cli_main
from ctxembed.wsd.sense_table import (
    QuickWSD,
    SenseTable,
    build_sense_table,
    sense_table_path,
)
from ctxembed.wsd.wordnet_system import WordNetWSD

WORDS = ["bark", "bank", "key", "spring", "run"]
QUESTIONS = [
    ("The dog's bark woke the baby.", "bark", 0),
    ("The bark sailed across the ocean at dawn.", "bark", 0),
    ("Moss grew on the bark, and the dog's bark echoed.", "bark", 1),
    ("She paid the cheque into her account at the bank.", "BANK", 0),
    ("We sat on the grassy bank and watched the river.", "bank", 0),
    ("I left the key to the front door under the mat.", "key", 0),
    ("The song moves from the key of C to G minor.", "key", 0),
    ("A broken spring in the mattress kept poking me.", "spring", 0),
    ("The water sprang from the rocks.", "sprang", 0),
    ("He was running late for the train.", "running", 0),
]
SENTENCES = [
    "The river bank.",
    "Ünïcödé café: naïve résumés, 3.5 kg — bank's!",
    "bank",
    "Tabs\tand  double  spaces\nand a newline by the bank.",
    "A long sentence about the bank of the river " * 70,          # past 512 pieces: truncated
]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    with cache_folder(tmp_path_factory.mktemp("wsd-quick")):
        path = build_sense_table(sense_table_path(), words=WORDS, progress=False)
        wordnet_system._default_system.cache_clear()
        yield SenseTable.open(path)
        wordnet_system._default_system.cache_clear()


def test_the_torchscript_encoder_gives_the_models_hidden_states_on_unseen_shapes():
    """Traced on two sentences, it must hold for other batch sizes, lengths and padding."""
    assert "torchscript" in RUNTIMES
    reference, quick = load_encoder(), load_encoder(runtime="torchscript")
    assert compiled_encoder_path().exists() and quick.source == "packaged (TorchScript)"
    assert (quick.num_layers, quick.hidden_size, quick.max_length) == \
        (reference.num_layers, reference.hidden_size, reference.max_length)
    with pytest.warns(UserWarning, match="truncated"):
        a = token_states(SENTENCES, encoder=reference, layers="all", use_cache=False)
    with pytest.warns(UserWarning, match="truncated"):
        b = token_states(SENTENCES, encoder=quick, layers="all", use_cache=False)
    for x, y in zip(a, b):
        assert x.tokens == y.tokens and np.array_equal(x.offsets, y.offsets)
        assert x.truncated == y.truncated
        assert np.abs(x.states - y.states).max() < 1e-4, x.text


def test_the_quick_tokenizer_is_the_models_fast_tokenizer():
    reference, quick = load_encoder().tokenizer, load_encoder(runtime="torchscript").tokenizer
    for text in SENTENCES:
        a = reference(text, return_offsets_mapping=True)
        b = quick(text, return_offsets_mapping=True)
        assert a["input_ids"] == b["input_ids"]
        assert [tuple(o) for o in a["offset_mapping"]] == [tuple(o) for o in b["offset_mapping"]]
    assert quick.pad_token_id == reference.pad_token_id
    ids = reference("The bank.")["input_ids"]
    assert quick.convert_ids_to_tokens(ids) == reference.convert_ids_to_tokens(ids)


def test_the_torchscript_runtime_says_what_it_cannot_do():
    with pytest.raises(ValueError, match="packaged default only"):
        load_encoder("bert-base-uncased", runtime="torchscript")
    with pytest.raises(ValueError, match="runs on the CPU"):
        load_encoder(runtime="torchscript", device="cuda")
    with pytest.raises(ValueError, match="runtime='onnx'"):
        load_encoder(runtime="onnx")


def test_the_table_holds_each_words_training_vectors_senses_and_forms(table):
    X, labels, glosses = table.word("bark")
    rows = wordnet_system.training_sentences("bark")
    assert X.shape == (len(rows), 384) and labels == list(rows.sense)
    assert glosses["bark.n.03"].startswith("a sailing ship")
    assert table.lemma_of("Barked") == "bark" and table.lemma_of("sprang") == "spring"
    assert table.lemma_of("running") == "run" and sorted(table.words()) == sorted(WORDS)
    system = WordNetWSD(cache=False)               # its own fp32 vectors, not the table's
    expected = system.vectors(list(rows.sentence), list(rows.word))
    assert np.abs(X - expected).max() < 5e-3        # float16 storage


def test_quick_answers_are_the_full_systems_answers(table):
    """Same sense, confidence, similarity, unknown flag and ranking as ``WordNetWSD`` fitted
    on its own fp32 vectors (the table stores float16: equal to 1e-3)."""
    quick, full = QuickWSD(table), WordNetWSD(cache=False, unknown_threshold=table.meta[
        "unknown_threshold"])
    for sentence, word, occurrence in QUESTIONS:
        a = quick.disambiguate(sentence, word, occurrence)
        b = full.disambiguate(sentence, word, occurrence)
        assert (a.sense, a.lemma, a.gloss, a.unknown, a.word) == \
            (b.sense, b.lemma, b.gloss, b.unknown, b.word), sentence
        assert a.confidence == pytest.approx(b.confidence, abs=1e-3)
        assert a.similarity == pytest.approx(b.similarity, abs=1e-3)
        assert [s for s, _ in a.alternatives] == [s for s, _ in b.alternatives]


def test_the_ready_made_system_fits_words_from_the_table(table, monkeypatch):
    """``default_system()`` reads a word's row instead of encoding its training sentences."""
    encoded = []
    real = wordnet_system.WordNetWSD.vectors
    monkeypatch.setattr(wordnet_system.WordNetWSD, "vectors",
                        lambda self, s, w, o=0, **kw: encoded.append(len(s)) or real(self, s, w, o, **kw))
    system = WordNetWSD(unknown_threshold=table.meta["unknown_threshold"])
    system.fit_words(["bark", "key"])
    assert encoded == []
    quick = QuickWSD(table, encoder=load_encoder())      # the same encoder: equal answers
    for sentence, word, occurrence in QUESTIONS[:3]:
        assert system.disambiguate(sentence, word, occurrence) == \
            quick.disambiguate(sentence, word, occurrence)
    system.fit_words(["plant"])                     # not in this small table: encoded as usual
    assert encoded and "plant" in system.words_


def test_the_command_line_takes_the_quick_path_and_prints_the_same_answer(table, capsys):
    assert cli_main(["The bark sailed across the ocean at dawn.", "bark", "--json"]) == 0
    out = capsys.readouterr()
    expected = QuickWSD(table).disambiguate("The bark sailed across the ocean at dawn.", "bark")
    assert json.loads(out.out) == expected.to_dict() and "not built" not in out.err


def _cli_in_a_fresh_process(calls: str, timeout: int = 300):
    """Run ``calls`` (Python lines using ``main``, the command) in a new interpreter, then
    print which heavy modules got imported; returns (stdout, stderr)."""
    script = ("import sys\nfrom ctxembed.wsd.cli import main\n" + calls
              + "\nprint(sorted(m for m in ('torch', 'transformers.modeling_utils', 'sklearn', "
              "'pandas') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=timeout, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout, out.stderr


def test_refusals_and_help_answer_without_loading_torch(table):
    """--help, a word the sentence lacks, a word WordNet lacks and an empty sentence are
    answered (exit status 0 / 2, a clear message) before torch loads."""
    out, err = _cli_in_a_fresh_process(
        "codes = [main(['The dog growled.', 'bark']), main(['The blorf.', 'blorf']),"
        " main(['', 'bark'])]\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    codes.append(e.code)\n"
        "print(codes)")
    assert out.strip().splitlines()[-2:] == ["[2, 2, 2, 0]", "[]"]
    assert "does not occur" in err and "no senses in WordNet" in err
    assert "empty" in err and "usage: ctxembed-wsd" in out


def test_the_quick_path_loads_neither_transformers_models_nor_sklearn(table):
    out, _ = _cli_in_a_fresh_process("assert main(['The dog barked all night.', 'barked']) == 0")
    assert "sense:      bark.v.0" in out and out.strip().endswith("['torch']")


def test_without_the_table_the_command_says_so_and_still_answers(tmp_path, capsys):
    with cache_folder(tmp_path):
        wordnet_system._default_system.cache_clear()
        assert not sense_table.table_ready()
        assert cli_main(["The bark sailed across the ocean at dawn.", "bark"]) == 0
        out = capsys.readouterr()
        assert "bark.n.03" in out.out and "python -m ctxembed.wsd prepare" in out.err
    wordnet_system._default_system.cache_clear()
