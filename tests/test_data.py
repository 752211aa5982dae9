"""The WordNet corpus: tokenizer and a split that never changes."""

from ctxembed.data.corpus import is_validation, tokenize


def test_tokenize_keeps_hyphenated_words_and_splits_clitics():
    assert tokenize("Don't bank on the river-side bank's 3.5 m.") == [
        "do", "n't", "bank", "on", "the", "river-side", "bank", "'s", "3.5", "m", "."]


def test_split_is_fixed_by_synset_name():
    names = [f"word{i}.n.01" for i in range(2000)]
    valid = [n for n in names if is_validation(n)]
    assert 0.03 < len(valid) / len(names) < 0.07
    assert valid == [n for n in names if is_validation(n)]


# --------------------------------------------------------------------------- the fast reader
import pytest

from ctxembed.data.corpus import load_corpus
from ctxembed.data.senses import sense_labelled_dataset, wordnet_usages
from ctxembed.data.wordnet import load_wordnet, synset_texts, wordnet_texts


@pytest.mark.slow
def test_fast_reader_gives_what_nltk_gives():
    """Same order, names, lemmas, definitions and examples as NLTK's synsets (every 40th, all POS)."""
    wn = load_wordnet()
    texts = synset_texts()
    assert len(texts) == 117_659
    for pos in ("a", "r", "n", "v"):
        ours = synset_texts(pos)
        theirs = list(wn.all_synsets(pos)) if pos == "r" else None
        if theirs is not None:   # adverbs are few: compare every one, in order
            assert [t.name for t in ours] == [s.name() for s in theirs]
    for text in texts[::40]:
        synset = wn.synset(text.name)
        assert (text.pos, list(text.lemmas), text.definition, list(text.examples)) == (
            synset.pos(), synset.lemma_names(), synset.definition(), synset.examples())


def test_satellite_adjectives_are_numbered_among_satellites():
    names = {t.name for t in synset_texts("a")}
    assert "parturient.s.01" in names and "parturient.s.02" not in names


def test_reader_rejects_an_unknown_part_of_speech():
    with pytest.raises(ValueError, match="pos must be one of"):
        synset_texts("x")


def test_the_three_uses_of_the_reader_agree():
    """The LM corpus, the masked-LM texts and the sense-labelled sentences come from one reader."""
    corpus = load_corpus()
    texts = set(wordnet_texts())
    assert corpus.num_tokens("train") > 1_400_000
    assert len(texts) > 160_000
    for example in sense_labelled_dataset()[::50]:
        assert example.sentence.strip() in texts
        assert example.form.lower() in tokenize(example.sentence) or "-" in example.form
    usages = wordnet_usages()
    assert len(usages) > 40_000 and all(u.sentence.strip() in texts for u in usages[::200])
