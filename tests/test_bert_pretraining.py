"""Chapter 3's tokenizer comparison, static vs dynamic masking and next-sentence prediction."""

import numpy as np
import pytest
import torch

from ctxembed.bert import nsp, subwords
from ctxembed.bert.mlm import masking_coverage
from ctxembed.data.brown_pos import brown_documents
from ctxembed.evaluation import split_dev_test

TEXTS = ["the bank of the river was steep", "the banks approved the loans quickly",
         "she was running along the river bank", "a bank is a financial institution"] * 40


@pytest.fixture(scope="module")
def trained():
    return {a: subwords.train_tokenizer(a, TEXTS, 120) for a in subwords.ALGORITHMS}


# --------------------------------------------------------------------------- tokenizers
def test_each_algorithm_marks_word_starts_its_own_way(trained):
    assert subwords.pieces(trained["bpe"], "bank")[0].startswith("Ġ")
    assert subwords.pieces(trained["unigram"], "bank")[0].startswith("▁")
    assert any(p.startswith("##") for p in subwords.pieces(trained["wordpiece"], "riverside"))


def test_only_byte_level_bpe_spells_out_unseen_characters(trained):
    for algorithm, tokenizer in trained.items():
        unknown = subwords.UNK in subwords.pieces(tokenizer, "東京 🙂")
        assert unknown == (algorithm != "bpe"), algorithm


def test_uncased_cannot_tell_capitals_and_cased_can():
    uncased = subwords.train_tokenizer("wordpiece", TEXTS, 120)
    cased = subwords.train_tokenizer("wordpiece", TEXTS, 120, lowercase=False)
    assert subwords.pieces(uncased, "Bank") == subwords.pieces(uncased, "bank")
    assert subwords.pieces(cased, "Bank") != subwords.pieces(cased, "bank")


def test_statistics_count_words_and_pieces_as_a_reader_would():
    tokenizer = subwords.train_tokenizer("wordpiece", TEXTS, 120)
    stats = subwords.segmentation_statistics(tokenizer, ["the bank, the river!", "🙂 bank"])
    # punctuation is not a word; the emoji is a word (it has no letter) -> not counted either
    assert list(stats.text_words) == [4, 1]
    assert stats.words == 5 and stats.pieces >= 5
    whole = subwords.segmentation_statistics(tokenizer, ["the bank"])
    assert whole.pieces_per_word == 1.0 and whole.split_rate == 0.0
    assert whole.pieces_per_text == 2.0
    unknown = subwords.segmentation_statistics(tokenizer, ["東 bank"])
    assert unknown.unknown_words == 1 and unknown.unknown_rate == 0.5


def test_a_bigger_vocabulary_cuts_fewer_pieces():
    per_word = [subwords.segmentation_statistics(subwords.train_tokenizer("wordpiece", TEXTS, v),
                                                 TEXTS[:4]).pieces_per_word
                for v in (40, 80, 160)]
    assert per_word[0] > per_word[1] > per_word[2]


def test_ordering_sentence_says_less_only_when_the_difference_is_real():
    fine = subwords.train_tokenizer("wordpiece", TEXTS, 200)
    coarse = subwords.train_tokenizer("wordpiece", TEXTS, 40)
    stats = {"coarse": subwords.segmentation_statistics(coarse, TEXTS),
             "fine": subwords.segmentation_statistics(fine, TEXTS)}
    sentence = subwords.pieces_ordering_sentence(stats)
    assert sentence.startswith("fine ") and " < coarse " in sentence
    same = {"a": stats["fine"], "b": stats["fine"]}
    assert " ≈ " in subwords.pieces_ordering_sentence(same)
    with pytest.raises(ValueError, match="different texts"):
        subwords.pieces_ordering_sentence(
            {"a": stats["fine"], "b": subwords.segmentation_statistics(fine, TEXTS[:3])})


@pytest.mark.parametrize("call, message", [
    (lambda: subwords.train_tokenizer("sentencepiece", TEXTS, 100), "unknown subword algorithm"),
    (lambda: subwords.train_tokenizer("bpe", ["", " "], 100), "non-empty texts"),
    (lambda: subwords.train_tokenizer("bpe", TEXTS, 3), "no room"),
])
def test_bad_input_says_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- masking
class FakeTokenizer:
    """What masking needs of a tokenizer: 4 special ids ([MASK] is 3) in 1,000."""

    all_special_ids = (0, 1, 2, 3)
    mask_token_id = 3

    def __len__(self):
        return 1000


def test_static_masking_stops_learning_new_targets_and_dynamic_does_not():
    ids = torch.randint(10, 1000, (400, 30), generator=torch.Generator().manual_seed(0))
    ids[:, 0], ids[:, -1] = 1, 2
    one = masking_coverage(ids, FakeTokenizer(), epochs=20, masked_copies=1)
    ten = masking_coverage(ids, FakeTokenizer(), epochs=20, masked_copies=10)
    fresh = masking_coverage(ids, FakeTokenizer(), epochs=20, masked_copies=None)
    assert np.allclose(one, one[0]) and abs(one[0] - 0.15) < 0.01
    assert np.allclose(ten[9:], ten[9]) and abs(ten[9] - (1 - 0.85 ** 10)) < 0.01
    assert np.all(np.diff(fresh) > 0) and abs(fresh[-1] - (1 - 0.85 ** 20)) < 0.01
    with pytest.raises(ValueError, match="masked_copies"):
        masking_coverage(ids, FakeTokenizer(), epochs=2, masked_copies=0)


# --------------------------------------------------------------------------- NSP
DOCS = {d: [f"{d} sentence {k} about {d}" for k in range(12)] for d in ("rivers", "banks", "loans")}


@pytest.mark.parametrize("negatives", nsp.NEGATIVES)
def test_next_sentence_pairs_follow_the_rule(negatives):
    pairs = nsp.next_sentence_pairs(DOCS, 200, negatives=negatives, seed=1)
    assert sum(p.is_next for p in pairs) == 100
    for p in pairs:
        doc = DOCS[p.document]
        assert doc[p.position] == p.first
        if p.is_next:
            assert p.second == doc[p.position + 1]
        elif negatives == "random document":
            assert p.second not in doc
        else:
            assert p.second in doc and abs(doc.index(p.second) - p.position) >= nsp.MIN_GAP


def test_both_kinds_of_negative_share_first_sentences_and_labels():
    a, b = (nsp.next_sentence_pairs(DOCS, 60, negatives=n, seed=3) for n in nsp.NEGATIVES)
    assert [(p.first, p.is_next) for p in a] == [(p.first, p.is_next) for p in b]
    assert [p.second for p in a if not p.is_next] != [p.second for p in b if not p.is_next]


def test_topic_cue_finds_random_document_negatives_and_threshold_is_chosen_on_dev():
    pairs = nsp.next_sentence_pairs(DOCS, 200, negatives="random document", seed=0)
    similarity = nsp.tfidf_similarity(pairs)
    split = split_dev_test(range(len(pairs)), seed=0)
    threshold, correct = nsp.dev_threshold_accuracy(similarity, pairs, split)
    assert similarity.min() <= threshold <= similarity.max()
    assert len(correct) == len(split.test) and correct.mean() > 0.9
    # a cue that knows nothing: about chance
    _, blind = nsp.dev_threshold_accuracy(np.zeros(len(pairs)), pairs, split)
    assert blind.mean() == pytest.approx(0.5, abs=0.1)


def test_bad_nsp_requests_say_what_to_do():
    with pytest.raises(ValueError, match="negatives="):
        nsp.next_sentence_pairs(DOCS, 10, negatives="shuffled")
    with pytest.raises(ValueError, match="two documents"):
        nsp.next_sentence_pairs({"only": DOCS["rivers"]}, 10)


def test_brown_documents_are_the_corpus_in_order():
    documents = brown_documents()
    assert len(documents) == 500
    assert documents["ca01"][0].startswith("The Fulton County Grand Jury said")
    assert all(len(s.split()) >= 4 for d in documents.values() for s in d)
