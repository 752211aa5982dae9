"""The WordNet corpus: tokenizer and a split that never changes."""

from ctxembed.corpus import is_validation, tokenize


def test_tokenize_keeps_hyphenated_words_and_splits_clitics():
    assert tokenize("Don't bank on the river-side bank's 3.5 m.") == [
        "do", "n't", "bank", "on", "the", "river-side", "bank", "'s", "3.5", "m", "."]


def test_split_is_fixed_by_synset_name():
    names = [f"word{i}.n.01" for i in range(2000)]
    valid = [n for n in names if is_validation(n)]
    assert 0.03 < len(valid) / len(names) < 0.07
    assert valid == [n for n in names if is_validation(n)]
