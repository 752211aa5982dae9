"""Fine-tuning helpers on the real packaged MiniLM: heads, alignment, QA spans, the loop."""

import dataclasses

import numpy as np
import pytest
import torch

from ctxembed.data.brown_pos import UNIVERSAL_TAGS, brown_pos_splits
from ctxembed.data.squad import QAExample, squad_splits
from ctxembed.finetune import (
    AnswerNotInContextError,
    LabelMismatchError,
    TrainConfig,
    align_labels,
    batch_order,
    best_span,
    decode_answers,
    encode_tagged,
    first_piece_labels,
    head_parameters,
    load_task_model,
    predict,
    prepare_qa_features,
    tasks,
    train,
    word_predictions,
)

LABEL2ID = {t: i for i, t in enumerate(UNIVERSAL_TAGS)}


@pytest.fixture(scope="module")
def token_model():
    return load_task_model("token", labels=UNIVERSAL_TAGS)


@pytest.fixture(scope="module")
def qa_model():
    return load_task_model("qa")


# ------------------------------------------------------------------ heads
@pytest.mark.parametrize("task, labels, shapes", [
    ("sequence", ("negative", "positive"), {"classifier.weight": (2, 384), "classifier.bias": (2,)}),
    ("token", UNIVERSAL_TAGS, {"classifier.weight": (12, 384), "classifier.bias": (12,)}),
    ("qa", None, {"qa_outputs.weight": (2, 384), "qa_outputs.bias": (2,)}),
])
def test_each_head_adds_one_small_linear_layer(task, labels, shapes):
    _, model = load_task_model(task, labels=labels)
    assert {k: tuple(v.shape) for k, v in head_parameters(model).items()} == shapes
    assert model.config.num_hidden_layers == 6


def test_head_needs_labels_and_a_known_task():
    with pytest.raises(ValueError, match="label names"):
        load_task_model("sequence")
    with pytest.raises(ValueError, match="choose one of"):
        load_task_model("regression", labels=("a",))


# ------------------------------------------------------------------ alignment
def test_align_labels_puts_labels_on_first_pieces():
    assert align_labels([None, 0, 1, 1, 2, None], [5, 6, 7]) == [-100, 5, 6, -100, 7, -100]


def test_alignment_round_trips_on_real_sentences_with_split_words(token_model):
    tok, _ = token_model
    sentences = brown_pos_splits()["test"][:200]
    split_words = 0
    for s in sentences:
        f = encode_tagged(tok, s.words, s.tags, LABEL2ID)
        assert len(f["labels"]) == len(f["input_ids"])
        assert first_piece_labels(f["labels"], f["word_ids"]) == [LABEL2ID[t] for t in s.tags]
        assert sum(l != -100 for l in f["labels"]) == len(s.words)
        split_words += len(f["input_ids"]) - 2 - len(s.words)
        one_hot = np.eye(len(UNIVERSAL_TAGS))[[max(l, 0) for l in f["labels"]]]
        assert word_predictions(one_hot, f["word_ids"]) == [LABEL2ID[t] for t in s.tags]
    assert split_words > 100                        # the check did meet words of several pieces
    f = encode_tagged(tok, ["Hippopotamuses", "swim", "."], ["NOUN", "VERB", "."], LABEL2ID)
    assert tok.convert_ids_to_tokens(f["input_ids"])[1:3] == ["hip", "##pop"]
    assert f["labels"][1] == LABEL2ID["NOUN"] and f["labels"][2] == -100


@pytest.mark.parametrize("words, tags, message", [
    (["The", "bank"], ["DET"], "2 words but 1 tags"),
    ([], [], "empty sentence"),
    (["The", "bank"], ["DET", "NOUNISH"], "not in the label set"),
    (["word"] * 300, ["NOUN"] * 300, "max_length"),
])
def test_bad_tagged_input_gets_a_clear_error(token_model, words, tags, message):
    with pytest.raises(LabelMismatchError, match=message):
        encode_tagged(token_model[0], words, tags, LABEL2ID)


def test_align_labels_refuses_labels_for_the_wrong_number_of_words():
    with pytest.raises(LabelMismatchError, match="one label per word"):
        align_labels([None, 0, 1, 2, None], [1, 2])


# ------------------------------------------------------------------ QA spans
def test_answer_spans_map_back_to_the_exact_answer_text(qa_model):
    tok, _ = qa_model
    examples = squad_splits()["train"][:300]
    feats, meta = prepare_qa_features(tok, examples, max_length=192, stride=64)
    exact = found = 0
    for f, m in zip(feats, meta):
        ex = examples[m["example"]]
        if f["start_positions"] == 0:
            continue
        found += 1
        a, b = m["offsets"][f["start_positions"]][0], m["offsets"][f["end_positions"]][1]
        exact += ex.context[a:b] == ex.answer
        assert ex.answer in ex.context[a - 3:b + 3] or ex.context[a:b] in ex.answer
    assert found >= 290 and exact / found > 0.99


def test_long_contexts_are_windowed_with_a_stride_and_the_answer_recovered(qa_model):
    tok, _ = qa_model
    filler = " ".join(f"Sentence number {i} says nothing of interest." for i in range(60))
    context = filler + " The treaty was signed in Utrecht in 1713. " + filler
    ex = QAExample("x", "t", context, "Where was the treaty signed?", ("Utrecht",),
                   (context.index("Utrecht"),))
    feats, meta = prepare_qa_features(tok, [ex], max_length=128, stride=32)
    assert len(feats) > 5 and all(len(f["input_ids"]) <= 128 for f in feats)
    holding = [i for i, f in enumerate(feats) if f["start_positions"] > 0]
    assert holding
    # fake logits that point at the answer in one window: decoding returns exactly "Utrecht"
    outs = []
    for i, f in enumerate(feats):
        s, e = np.zeros(len(f["input_ids"])), np.zeros(len(f["input_ids"]))
        if i == holding[0]:
            s[f["start_positions"]], e[f["end_positions"]] = 10, 10
        outs.append({"start_logits": s, "end_logits": e})
    [answer] = decode_answers(outs, meta, [ex])
    assert answer.text == "Utrecht" and context[answer.start:answer.end] == "Utrecht"


def test_best_span_is_valid_start_before_end_inside_the_context():
    offsets = [None, None, (0, 3), (4, 6), (7, 9), None]
    assert best_span([0, 0, 5, 1, 0, 0], [0, 0, 0, 2, 9, 0], offsets) == (2, 4, 14.0)
    # the best unconstrained pair would end before it starts, or use the question: refused
    i, j, _ = best_span([0, 50, 0, 1, 9, 0], [0, 50, 8, 0, 0, 50], offsets)
    assert offsets[i] and offsets[j] and i <= j
    i, j, _ = best_span([0, 0, 9, 0, 0, 0], [0, 0, 0, 0, 9, 0], offsets, max_answer_pieces=2)
    assert j - i < 2
    with pytest.raises(ValueError, match="differ in length"):
        best_span([0, 1], [0], [None, (0, 1)])


def best_span_by_brute_force(start, end, offsets, max_answer_pieces):
    """Every valid (i, j): both in the context, i <= j, at most max_answer_pieces pieces."""
    spans = [(start[i] + end[j], i, j) for i in range(len(offsets)) for j in range(len(offsets))
             if offsets[i] is not None and offsets[j] is not None
             and i <= j and j - i + 1 <= max_answer_pieces]
    score, i, j = max(spans)
    return i, j, score


def test_best_span_is_the_highest_scoring_valid_span_on_random_logits():
    rng = np.random.default_rng(0)
    limits_hit = 0
    for _ in range(400):
        question, context = int(rng.integers(1, 6)), int(rng.integers(1, 25))
        offsets = ([None] * (question + 2) + [(k, k + 1) for k in range(context)] + [None]
                   + [None] * int(rng.integers(0, 4)))            # [CLS] q [SEP] c [SEP] pad
        start, end = rng.normal(0, 3, len(offsets)), rng.normal(0, 3, len(offsets))
        limit = int(rng.integers(1, context + 3))
        got = best_span(start, end, offsets, max_answer_pieces=limit)
        want = best_span_by_brute_force(start, end, offsets, limit)
        assert got[:2] == want[:2] and got[2] == pytest.approx(want[2]), (offsets, limit)
        unlimited = best_span_by_brute_force(start, end, offsets, len(offsets))
        limits_hit += unlimited[2] > want[2]
    assert limits_hit > 40            # the length limit did decide many of the cases


def test_lexical_overlap_baseline_answers_from_the_best_matching_sentence():
    context = "The bridge opened in 1937. It was painted orange by Irving Morrow."
    assert tasks.lexical_overlap_answer("When did the bridge open?", context) == "opened in 1937"
    # no content word of the question in the paragraph: still an answer, never an error
    assert tasks.lexical_overlap_answer("What is Zanzibar's capital?", context)


def test_answer_not_in_context_is_refused(qa_model):
    ex = QAExample("x", "t", "The cat sat on the mat.", "Where?", ("mat",), (3,))
    with pytest.raises(AnswerNotInContextError, match="fix answer_start"):
        prepare_qa_features(qa_model[0], [ex])
    ex = dataclasses.replace(ex, answers=("sofa",))
    with pytest.raises(AnswerNotInContextError, match="not occur"):
        prepare_qa_features(qa_model[0], [ex])


# ------------------------------------------------------------------ batch == single
@pytest.mark.parametrize("task", ["sentiment", "pos", "qa"])
def test_a_padded_batch_gives_the_same_logits_as_one_example_at_a_time(task):
    tok, model = tasks.build_model(task, "full")
    model.eval()
    data = tasks.task_data(task)["test"][:6]
    feats, _ = tasks.features(task, tok, data)
    collate = tasks.collator(task, tok)
    together = predict(model, feats, collate, batch_size=8)
    for f, t in zip(feats, together):
        alone = predict(model, [f], collate)[0]
        assert alone.keys() == t.keys()
        for k in alone:
            assert alone[k].shape == t[k].shape
            np.testing.assert_allclose(alone[k], t[k], atol=2e-5)


# ------------------------------------------------------------------ the training loop
def test_batch_order_covers_every_example_once_and_bucketing_cuts_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=1000).tolist()
    for bucket in (True, False):
        batches = batch_order(lengths, 16, seed=3, bucket=bucket)
        assert sorted(i for b in batches for i in b) == list(range(1000))
        assert batches == batch_order(lengths, 16, seed=3, bucket=bucket)      # seeded
    padded = lambda bs: sum(max(lengths[i] for i in b) * len(b) for b in bs)
    assert padded(batch_order(lengths, 16, bucket=True)) < 0.6 * padded(batch_order(lengths, 16, bucket=False))


def test_training_refuses_empty_data_and_fully_frozen_models():
    tok, model = tasks.build_model("sentiment", "full")
    with pytest.raises(ValueError, match="empty"):
        train(model, [], tasks.collator("sentiment", tok))
    for p in model.parameters():
        p.requires_grad_(False)
    feats, _ = tasks.features("sentiment", tok, tasks.task_data("sentiment")["train"][:4])
    with pytest.raises(ValueError, match="no trainable parameters"):
        train(model, feats, tasks.collator("sentiment", tok))


@pytest.mark.slow
def test_a_short_seeded_run_lowers_the_loss_and_repeats_exactly():
    torch.set_num_threads(1)
    rows = tasks.task_data("sentiment")["train"][:16]
    losses = []
    for _ in range(2):
        tok, model = tasks.build_model("sentiment", "full")
        feats, _ = tasks.features("sentiment", tok, rows)
        log = train(model, feats, tasks.collator("sentiment", tok),
                    TrainConfig(max_steps=8, batch_size=8, lr=1e-4, log_every=4, warmup_ratio=0))
        losses.append(log.losses)
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)
    assert losses[0][-1] < losses[0][0]


def test_every_task_has_its_settings_in_one_task_record():
    """Chapter 4's tasks keep head, metric, sizes, schedule and learning rates in one Task each,
    and the shipped record was trained the ways and at the rates those settings name."""
    from ctxembed.finetune.heads import HEADS
    from ctxembed.finetune.tasks import TASKS, load_record, task_settings

    record = load_record()
    for name, task in TASKS.items():
        assert task.head in HEADS and task.metric in ("accuracy", "f1")
        assert set(task.sizes) == {"train", "dev", "test"}
        for way, rates in task.lrs.items():
            assert rates["lr"] in rates["grid"], (name, way)   # a single run uses a grid value
            assert record[name][way]["lr"] in rates["grid"], (name, way)
        assert set(task.ways) == set(task.lrs)
        assert task.plan == {"epochs": task.epochs, "batch_size": task.batch_size,
                             "eval_every": task.eval_every}
    assert TASKS["pos"].labels() == UNIVERSAL_TAGS and TASKS["qa"].labels() is None
    with pytest.raises(ValueError, match="choose one of"):
        task_settings("ner")
