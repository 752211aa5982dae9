"""What a reader relies on when taking vectors out of the encoder."""

import warnings

import numpy as np
import pytest
import torch

import ctxembed
from ctxembed import (
    EmptyInputError,
    WordNotFoundError,
    cosine,
    sentence_vectors,
    token_states,
    word_vector,
    word_vectors,
)

MONEY_1 = "I deposited my salary at the bank this morning."
MONEY_2 = "The bank approved our mortgage after a long wait."
RIVER = "We had a picnic on the grassy bank of the river."


def test_sentence_alone_equals_sentence_in_padded_batch(encoder):
    short = "The bank is closed."
    long = "After a very long and tiring walk along the winding river we finally reached the old bank."
    ctxembed.clear_cache()
    [alone] = token_states([short], layers="all", use_cache=False)
    batch = token_states([long, short, "Hi."], layers="all", use_cache=False, batch_size=8)
    assert batch[1].tokens == alone.tokens
    np.testing.assert_allclose(batch[1].states, alone.states, atol=1e-5)
    v_alone = word_vector(short, "bank")
    v_batch = word_vectors([long, short], "bank")[1]
    np.testing.assert_allclose(v_batch, v_alone, atol=1e-5)


def test_library_matches_the_model_run_by_hand(encoder):
    inputs = encoder.tokenizer(MONEY_1, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder.model(**inputs).last_hidden_state[0]
    pieces = [i for i, t in enumerate(inputs.tokens()) if t == "bank"]
    np.testing.assert_allclose(word_vector(MONEY_1, "bank"), hidden[pieces[0]].numpy(), atol=1e-5)


def test_same_sense_is_closer_than_different_sense():
    m1, m2, r = word_vectors([MONEY_1, MONEY_2, RIVER], "bank")
    assert cosine(m1, m2) > cosine(m1, r)
    assert cosine(m1, m2) > cosine(m2, r)


PIECES = "Contextual embeddings are surprisingly useful."   # embeddings = em ##bed ##ding ##s


@pytest.fixture(scope="module")
def by_hand(encoder):
    """The model run directly: every hidden state of PIECES and the pieces of 'embeddings'."""
    inputs = encoder.tokenizer(PIECES, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder.model(**inputs, output_hidden_states=True).hidden_states
    pieces = [i for i, w in enumerate(inputs.word_ids()) if w == 1]
    assert [inputs.tokens()[i] for i in pieces] == ["em", "##bed", "##ding", "##s"]
    return [h[0, pieces].numpy() for h in hidden]     # per hidden state: (4 pieces, H)


def test_pieces_of_a_split_word_are_pooled_as_asked(by_hand):
    last = by_hand[-1]
    assert not np.allclose(last[0], last.mean(axis=0), atol=1e-3)   # the poolings can differ
    expected = {"mean": last.mean(axis=0), "first": last[0], "max": last.max(axis=0),
                "sum": last.sum(axis=0)}
    for pieces, want in expected.items():
        np.testing.assert_allclose(word_vector(PIECES, "embeddings", pieces=pieces), want,
                                   atol=1e-5, err_msg=f"pieces={pieces!r}")


def test_layer_choices_match_the_hidden_states_of_the_model(by_hand, encoder):
    def vector(layers, pieces="mean"):
        return word_vector(PIECES, "embeddings", layers=layers, pieces=pieces)

    n = encoder.num_layers
    concat = np.concatenate([by_hand[-4], by_hand[-3], by_hand[-2], by_hand[-1]], axis=-1)
    np.testing.assert_allclose(vector("concat_last4"), concat.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(vector("concat_last4", "first"), concat[0], atol=1e-5)
    np.testing.assert_allclose(vector("sum_last4"), sum(by_hand[-4:]).mean(axis=0), atol=1e-4)
    for layer in (0, 2, n, -2):
        np.testing.assert_allclose(vector(layer), by_hand[layer].mean(axis=0), atol=1e-5,
                                   err_msg=f"layers={layer}")
    every = np.stack([h.mean(axis=0) for h in by_hand])
    np.testing.assert_allclose(vector("all"), every, atol=1e-5)
    np.testing.assert_allclose(vector("last"), every[-1], atol=1e-5)


def test_repeated_word_choose_occurrence():
    sentence = "The bank by the river is not the bank that holds my money."
    first, second, last = (word_vector(sentence, "bank", k) for k in (0, 1, -1))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(second, last)
    with pytest.raises(WordNotFoundError, match="occurs 2 time"):
        word_vector(sentence, "bank", 2)


def test_case_and_punctuation_do_not_matter_for_finding():
    a = word_vector("Bank, river, water.", "bank")
    b = word_vector("Bank, river, water.", "BANK")
    np.testing.assert_array_equal(a, b)
    assert ctxembed.find_word("(bank)", "bank") == (1, 5)


def test_absent_word_is_a_clear_error():
    with pytest.raises(WordNotFoundError, match="Did you mean 'banks'"):
        word_vector("The banks are shut.", "bank")
    with pytest.raises(WordNotFoundError, match="does not occur"):
        word_vector("A river.", "bank")


@pytest.mark.parametrize("args, says", [
    (("", "bank"), "[Ss]entence (0 )?is empty"), (("   ", "bank"), "[Ss]entence (0 )?is empty"),
    (("The bank.", ""), "word to look up is empty"), (("The bank.", "  "), "word to look up"),
])
def test_empty_inputs_are_clear_errors(args, says):
    with pytest.raises(EmptyInputError, match=says):
        word_vector(*args)


@pytest.mark.parametrize("call", [
    lambda: ctxembed.tokenize(""), lambda: token_states(["A bank.", " "]),
    lambda: sentence_vectors(["\n"]), lambda: word_vectors(["A bank.", ""], "bank"),
], ids=["tokenize", "token_states", "sentence_vectors", "word_vectors"])
def test_empty_text_anywhere_is_a_clear_error(call):
    with pytest.raises(EmptyInputError, match="empty: every sentence needs at least one word"):
        call()


def test_empty_list_of_sentences():
    with pytest.raises(EmptyInputError):
        sentence_vectors([])
    with pytest.raises(TypeError, match="list of sentences"):
        sentence_vectors("one string")


def test_too_long_text_warns_and_truncates(encoder):
    long = "The bank. " + "word " * 600 + "final bank."
    with pytest.warns(UserWarning, match="truncated"):
        [states] = token_states([long], use_cache=False)
    assert states.truncated and len(states.tokens) == encoder.max_length
    assert states.tokens[-1] == "[SEP]"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert word_vector(long, "bank").shape == (encoder.hidden_size,)
        with pytest.raises(WordNotFoundError, match="truncated"):
            word_vector(long, "bank", -1)


def test_layer_choices_shapes_and_bad_choices(encoder):
    h, n = encoder.hidden_size, encoder.num_layers
    s = [MONEY_1]
    assert word_vectors(s, "bank", layers="last").shape == (1, h)
    assert word_vectors(s, "bank", layers="concat_last4").shape == (1, 4 * h)
    assert word_vectors(s, "bank", layers="all").shape == (1, n + 1, h)
    with pytest.raises(ValueError, match="does not exist"):
        word_vectors(s, "bank", layers=n + 1)
    with pytest.raises(ValueError, match="not understood.*'sum_last4'"):
        word_vectors(s, "bank", layers="middle")


def test_sentence_pooling_ignores_padding():
    short, long = "The bank is closed.", "A much longer sentence about the bank of a wide river."
    for pooling in ("cls", "mean", "max"):
        alone = sentence_vectors([short], pooling=pooling)
        in_batch = sentence_vectors([long, short], pooling=pooling)[1]
        np.testing.assert_allclose(in_batch, alone[0], atol=1e-5)
    unit = sentence_vectors([short, long], normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)


def test_bad_pooling_names_are_refused_before_any_work():
    ctxembed.clear_cache()
    with pytest.raises(ValueError, match="pooling='avg': use one of 'cls', 'mean', 'max'"):
        sentence_vectors(["A sentence nobody has encoded yet."], pooling="avg")
    assert ctxembed.cache_info()["misses"] == 0, "the encoder ran before the name was checked"
    with pytest.raises(ValueError, match="pieces='last': use one of 'mean', 'first', 'max', 'sum'"):
        word_vector(MONEY_1, "bank", pieces="last")
    with pytest.raises(ValueError, match="use one of cls, mean, max"):
        ctxembed.pool_tokens(torch.zeros(1, 2, 3), torch.ones(1, 2), "avg")


def test_cosine_of_a_zero_vector_is_an_error_saying_which():
    with pytest.raises(ValueError, match="the second vector is all zeros"):
        cosine([1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="both vectors are all zeros"):
        cosine(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="differ in size"):
        cosine([1.0, 0.0], [1.0, 0.0, 0.0])
    assert cosine([3.0, 0.0], [1.0, 0.0]) == pytest.approx(1.0)
    assert cosine([1.0, 0.0], [-2.0, 0.0]) == pytest.approx(-1.0)


def test_cosine_matrix_gives_zero_for_a_zero_row():
    m = ctxembed.cosine_matrix([[1.0, 0.0], [0.0, 0.0]], [[2.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(m, [[1.0, 2 ** -0.5], [0.0, 0.0]], atol=1e-12)


def test_pool_tokens_by_hand():
    h = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert ctxembed.pool_tokens(h, mask, "mean").tolist() == [[2.0, 3.0]]
    assert ctxembed.pool_tokens(h, mask, "max").tolist() == [[3.0, 4.0]]
    assert ctxembed.pool_tokens(h, mask, "cls").tolist() == [[1.0, 2.0]]


def test_repeated_calls_are_served_from_cache():
    ctxembed.clear_cache()
    word_vectors([MONEY_1, RIVER], "bank")
    before = ctxembed.cache_info()
    word_vectors([MONEY_1, RIVER], "bank")
    after = ctxembed.cache_info()
    assert after["hits"] - before["hits"] == 2 and after["misses"] == before["misses"]


def test_cached_states_cannot_be_modified_by_accident():
    [states] = token_states([MONEY_1])
    with pytest.raises(ValueError):
        states.states[0, 0] = 1.0


def test_unit_vectors_scales_each_row_and_leaves_a_zero_row_zero():
    from ctxembed.core.similarity import unit_vectors

    u = unit_vectors([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]])
    assert u.tolist() == [[0.6, 0.8], [0.0, 0.0], [0.0, -1.0]]
    stacked = unit_vectors(np.random.default_rng(0).normal(size=(4, 3, 5)), dtype=np.float32)
    assert stacked.dtype == np.float32
    assert np.allclose(np.linalg.norm(stacked, axis=-1), 1.0)


def test_mean_pairwise_cosine_leaves_out_each_vector_with_itself():
    from ctxembed.core.similarity import mean_pairwise_cosine

    assert mean_pairwise_cosine(np.eye(4)) == pytest.approx(0.0)
    assert mean_pairwise_cosine(np.ones((3, 2)) * [[1], [2], [3]]) == pytest.approx(1.0)
    x = np.random.default_rng(0).normal(size=(6, 3))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    brute = np.mean([u[i] @ u[j] for i in range(6) for j in range(6) if i != j])
    assert mean_pairwise_cosine(x) == pytest.approx(brute)
    with pytest.raises(ValueError, match="two or more"):
        mean_pairwise_cosine(x[:1])


def test_mean_pairwise_cosine_of_uses_at_several_layers_is_one_mean_per_layer():
    from ctxembed.core.similarity import mean_pairwise_cosine

    uses = np.random.default_rng(1).normal(size=(5, 3, 4))        # 5 uses, 3 layers
    per_layer = mean_pairwise_cosine(uses)
    assert per_layer.shape == (3,)
    for layer in range(3):
        assert per_layer[layer] == pytest.approx(mean_pairwise_cosine(uses[:, layer]))


def test_a_layer_choice_means_the_same_states_for_any_number_of_layers():
    from ctxembed.core.embeddings import layer_selection

    assert layer_selection("last", 7) == ([6], "one")
    assert layer_selection(-2, 7) == ([5], "one") and layer_selection(0, 7) == ([0], "one")
    assert layer_selection("concat_last4", 7) == ([3, 4, 5, 6], "concat")
    assert layer_selection("all", 3) == ([0, 1, 2], "all")
    # a model with fewer than four hidden states sums (or joins) all of them, once each
    assert layer_selection("sum_last4", 3) == ([0, 1, 2], "sum")
    with pytest.raises(ValueError, match="does not exist"):
        layer_selection(7, 7)


def test_the_sentence_cache_counts_hits_and_forgets_least_recently_used_first(monkeypatch):
    import cachetools

    from ctxembed.core import embeddings

    monkeypatch.setattr(embeddings, "_CACHE", cachetools.LRUCache(maxsize=2))
    embeddings.clear_cache()
    embeddings.token_states(["One bank.", "Two banks."])
    embeddings.token_states(["One bank."])                       # a hit, and now the most recent
    embeddings.token_states(["Three banks."])                    # pushes out "Two banks."
    assert embeddings.cache_info() == {"entries": 2, "hits": 1, "misses": 3}
    embeddings.token_states(["Two banks.", "One bank."])
    assert embeddings.cache_info()["hits"] == 2 and embeddings.cache_info()["misses"] == 4
    embeddings.clear_cache()
