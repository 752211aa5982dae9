"""Which word is a form of which lemma: one rule (WordNet's morphology, ``base_forms``) for
the sense-labelled sentences, with their part of speech, and for a reader's word, with
every part of speech; both read one WordNet."""

import pytest

from ctxembed.data.senses import (
    find_form,
    sense_examples,
    sense_labelled_dataset,
    wordnet_usages,
)
from ctxembed.data.wordnet import (
    PARTS_OF_SPEECH,
    REGULAR_ENDINGS,
    base_forms,
    exception_forms,
    load_wordnet,
    sense_counts,
    synsets_of,
)
from ctxembed.wsd import lemmas
from ctxembed.wsd.inventory import candidate_lemmas, lemma_of


def test_the_endings_are_wordnets_morphy_table_as_nltk_has_it():
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    nltk_table = WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS
    assert {pos: list(rules) for pos, rules in REGULAR_ENDINGS.items()} == {
        pos: nltk_table[pos] for pos in PARTS_OF_SPEECH}


def test_base_forms_are_what_nltks_morphy_tries():
    """Every base form NLTK's morphy accepts for these words is among ours."""
    wn = load_wordnet()
    for word, pos in [("banks", "n"), ("barked", "v"), ("ran", "v"), ("geese", "n"), ("teeth", "n"),
                      ("bigger", "a"), ("fields", "n"), ("women", "n"), ("applied", "v")]:
        assert set(wn._morphy(word, pos)) <= set(base_forms(word, pos)), (word, pos)


def test_an_ending_is_undone_only_for_its_own_part_of_speech():
    known = {("bark", "n"), ("bark", "v"), ("bank", "n"), ("teach", "v"), ("be", "v"), ("bed", "n")}

    def candidates(word):
        return lemmas.candidate_lemmas(word, lambda w, p: (w, p) in known, lambda f, p: ())

    assert candidates("Barked") == ["bark"]
    # "-er" is an adjective's comparative: no noun or verb loses it
    assert candidates("banker") == [] and candidates("teacher") == []
    # two letters of the word stay before an ending: "bed" is no form of "be"
    assert candidates("bed") == ["bed"]


def test_readers_words_map_to_their_wordnet_lemmas():
    assert [lemma_of(w) for w in ("barked", "banks", "ran", "sprang", "running", "geese")] == [
        "bark", "bank", "run", "spring", "run", "goose"]
    # each part of speech has its own irregular forms: "lives" is a form of the noun
    # "life" and of the verb "live" (SemCor's commoner word, "life", is the answer)
    assert {"life", "live"} <= set(candidate_lemmas("lives")) and lemma_of("lives") == "life"
    # nouns that end like an inflection are words of their own
    assert [lemma_of(w) for w in ("news", "teacher", "letter", "manner")] == [
        "news", "teacher", "letter", "manner"]


def test_a_sentence_uses_a_lemma_through_its_inflected_and_irregular_forms():
    assert find_form("They walked along the Banks of the river", "bank", "n") == "Banks"
    assert find_form("She ran 10 miles that day", "run", "v") == "ran"
    assert find_form("the treaty had no teeth in it", "tooth", "n") == "teeth"
    assert find_form("The banking system failed", "bank", "n") is None
    # a word before n't is an auxiliary, not a use of the verb
    assert find_form("A 'B' grade doesn't suffice", "do", "v") is None
    assert find_form("What makes her do this way?", "do", "v") == "do"


@pytest.mark.slow
def test_a_lemmas_synsets_are_nltks_in_nltks_order():
    wn = load_wordnet()
    for word in ("bank", "bark", "light", "run", "spring", "fair", "key"):
        theirs = [s.name() for s in wn.synsets(word) if word in {n.lower() for n in s.lemma_names()}]
        assert [s.name for s in synsets_of(word)] == theirs, word


@pytest.mark.slow
def test_uses_through_irregular_and_lemma_like_forms_are_sense_labelled():
    """WordNet's examples that use a lemma only through an irregular form ("ran") or a
    plural that is a lemma itself ("fields", the botanist "Banks") are found."""
    usages = wordnet_usages()
    assert any(u.form == "ran" and u.lemma == "run" for u in usages)
    assert any(u.form == "rang" and u.lemma == "ring" for u in usages)
    assert {"fields"} <= {e.form for e in sense_examples("field")}
    # the chapters' labelled sentences keep the sentence's own spelling of the form
    assert any(ex.form != ex.form.lower() for ex in sense_labelled_dataset())


def test_wordnet_files_are_read_in_one_place():
    assert exception_forms("v")["sprang"] == ("spring",)
    assert sense_counts()["bank", "bank.n.01"] > 0
    with pytest.raises(ValueError, match="pos must be one of"):
        exception_forms("x")
