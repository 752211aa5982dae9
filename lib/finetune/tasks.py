"""The three tasks of chapter 4, each four ways, and the artefacts the training command ships.

Tasks (data from :mod:`ctxembed.data`; sizes kept small for a 2-core CPU):

- ``"sentiment"``: movie-review sentences, negative/positive; accuracy.
- ``"pos"``: Brown corpus sentences, 12 universal tags; accuracy per word.
- ``"qa"``: SQuAD v1.1 questions; exact match and F1.

Ways: a static baseline, frozen MiniLM + a linear head, full fine-tuning, LoRA
(low-rank adapters on the attention's query and value projections, with
``peft``; the head is trained too); for QA also a two-layer span head trained on
the frozen encoder's cached states (:mod:`ctxembed.finetune.feature_head`). ``python -m ctxembed.finetune train``
trains the last three, seeded, and writes the LoRA adapters and frozen-encoder
heads (float16, small) and a JSON record of metrics, times and learning curves
to ``lib/finetune/artefacts/``.

Example
-------
>>> data = task_data("sentiment")
>>> tok, model = load_trained("sentiment", "lora")            # shipped adapter
>>> evaluate("sentiment", model, tok, data["test"])["accuracy"]   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import DataCollatorForTokenClassification, DataCollatorWithPadding

from .alignment import encode_tagged, word_predictions
from .heads import count_parameters, freeze_encoder, load_task_model
from .qa import QA_WINDOW, decode_answers, prepare_qa_features
from .training import TrainConfig, frozen_batches, predict, train

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
RECORD = ARTEFACTS / "record.json"


@dataclass(frozen=True)
class Task:
    """One of chapter 4's tasks: every setting the library and the training command use.

    ``lrs`` holds, for each way the training command trains, the default learning rate of a
    single run (``lr``, a usual value for small data) and the grid the command chooses from
    on dev with the first seed (``grid``).
    """

    name: str
    head: str                  # the transformers head (:data:`ctxembed.finetune.heads.HEADS`)
    metric: str                # the headline metric: "accuracy" or "f1"
    sizes: dict                # train / dev / test examples
    eval_every: int            # steps between dev evaluations: about eight per epoch
    lrs: dict                  # {way: {"lr": default, "grid": (rates chosen on dev)}}
    epochs: float = 1.0        # the training command's schedule
    batch_size: int = 16

    @property
    def plan(self) -> dict:
        """The training command's schedule, as :func:`train_way` takes it."""
        return {"epochs": self.epochs, "batch_size": self.batch_size, "eval_every": self.eval_every}

    @property
    def ways(self) -> tuple[str, ...]:
        """The ways the training command trains, in the order it trains them."""
        return tuple(w for w in ("frozen", "lora", "full") if w in self.lrs)

    def labels(self):
        """The label names of the task's head (None for QA's start/end head)."""
        if self.name == "sentiment":
            from ..data.sentiment import LABELS
            return LABELS
        if self.name == "pos":
            from ..data.brown_pos import UNIVERSAL_TAGS
            return UNIVERSAL_TAGS
        return None


TASKS = {task.name: task for task in (
    Task("sentiment", head="sequence", metric="accuracy",
         sizes={"train": 7072, "dev": 300, "test": 1000}, eval_every=55,   # every training sentence
         lrs={"lora": {"lr": 2e-3, "grid": (1e-3, 2e-3, 5e-3)},
              "full": {"lr": 1e-4, "grid": (5e-5, 1e-4, 2e-4)}}),
    Task("pos", head="token", metric="accuracy",
         sizes={"train": 1500, "dev": 100, "test": 500}, eval_every=12,
         lrs={"lora": {"lr": 3e-3, "grid": (1e-3, 3e-3, 1e-2)},
              "full": {"lr": 1e-4, "grid": (5e-5, 1e-4, 2e-4)}}),
    Task("qa", head="qa", metric="f1",
         sizes={"train": 4000, "dev": 150, "test": 400}, eval_every=40,
         lrs={"frozen": {"lr": 1e-2, "grid": (3e-3, 1e-2, 3e-2)},
              "lora": {"lr": 2e-3, "grid": (1e-3, 2e-3, 5e-3)},
              "full": {"lr": 1e-4, "grid": (5e-5, 1e-4, 2e-4)}}),
)}
# training-set sizes of the extra sentiment runs (fine-tuning against the amount of data)
DATA_CURVE_SIZES = (100, 300, 1000, 3000)
CURVE_MIN_STEPS = 150   # every size of the data curve trains for at least this many steps
SEEDS = (0, 1, 2)      # every trained cell of chapter 4's tables: the first seed picks the rate


def task_settings(task: str) -> Task:
    """The :class:`Task` called ``task``; an unknown name says which there are."""
    try:
        return TASKS[task]
    except KeyError:
        raise ValueError(f"Unknown task {task!r}: choose one of {sorted(TASKS)}.") from None


def task_data(task: str, seed: int = 0, sizes: dict[str, int] | None = None) -> dict[str, list]:
    """The fixed train/dev/test examples of ``task`` (sizes in its :class:`Task`).

    ``sizes`` (e.g. ``{"train": 32}``) takes fewer examples, the first ones of each split.
    """
    n = {**task_settings(task).sizes, **(sizes or {})}
    if task == "sentiment":
        from ..data.sentiment import movie_review_splits
        full = movie_review_splits(seed)
    elif task == "pos":
        from ..data.brown_pos import brown_pos_splits
        full = brown_pos_splits(seed)
    else:
        from ..data.squad import squad_splits
        full = squad_splits(seed, n_train=n["train"], n_dev=n["dev"], n_test=n["test"])
    return {k: v[:n[k]] for k, v in full.items()}


def features(task: str, tokenizer, examples) -> tuple[list[dict], list | None]:
    """Model features for ``examples`` and, for QA, the windows' metadata."""
    if not examples:
        raise ValueError(f"No {task} examples given.")
    if task == "sentiment":
        enc = tokenizer([e.text for e in examples], truncation=True, max_length=96)
        return [{"input_ids": ids, "token_type_ids": tt, "attention_mask": am, "labels": e.label}
                for ids, tt, am, e in zip(enc["input_ids"], enc["token_type_ids"],
                                          enc["attention_mask"], examples)], None
    if task == "pos":
        label2id = {t: i for i, t in enumerate(TASKS["pos"].labels())}
        feats = [encode_tagged(tokenizer, e.words, e.tags, label2id) for e in examples]
        return feats, [f.pop("word_ids") for f in feats]
    return prepare_qa_features(tokenizer, examples, **QA_WINDOW)


def collator(task: str, tokenizer, pad_to: int | None = None):
    """Dynamic padding (``pad_to=None``) or padding to a fixed length, with transformers' collators."""
    kw = {"padding": "max_length", "max_length": pad_to} if pad_to else {}
    token = task_settings(task).head == "token"
    cls = DataCollatorForTokenClassification if token else DataCollatorWithPadding
    return cls(tokenizer, return_tensors="pt", **kw)


def evaluate(task: str, model, tokenizer, examples, batch_size: int = 64) -> dict:
    """The task's metric on ``examples``: accuracy (%), or exact match and F1 (%) for QA."""
    feats, meta = features(task, tokenizer, examples)
    outs = predict(model, feats, collator(task, tokenizer), batch_size=batch_size)
    if task == "sentiment":
        logits = np.stack([o["logits"] for o in outs])
        prob = np.exp(logits - logits.max(1, keepdims=True))
        prob = prob[:, 1] / prob.sum(1)
        pred = logits.argmax(1)
        return {"accuracy": 100 * float(np.mean(pred == [e.label for e in examples])), "pred": pred,
                "prob_positive": prob}
    if task == "pos":
        tags = TASKS["pos"].labels()
        pred = [[tags[i] for i in word_predictions(o["logits"], w)] for o, w in zip(outs, meta)]
        gold = [t for e in examples for t in e.tags]
        flat = [t for p in pred for t in p]
        return {"accuracy": 100 * float(np.mean(np.array(flat) == np.array(gold))), "pred": pred}
    from ..data.squad import squad_metrics
    answers = decode_answers(outs, meta, examples)
    return {**squad_metrics([a.text for a in answers], examples), "pred": [a.text for a in answers],
            "outputs": outs, "meta": meta}


def example_scores(task: str, result: dict, examples) -> np.ndarray:
    """Per-example scores behind :func:`evaluate`'s metric, for intervals and paired tests.

    Sentiment: 1/0 per sentence; POS: 1/0 per word (sentences in order); QA: F1 in [0, 1]
    per question. Their mean is the headline metric / 100.
    """
    if task == "sentiment":
        return (np.asarray(result["pred"]) == np.array([e.label for e in examples])).astype(float)
    if task == "pos":
        gold = [t for e in examples for t in e.tags]
        pred = result["pred"]
        if len(pred) and isinstance(pred[0], (list, tuple)):     # one list of tags per sentence
            pred = [t for sentence in pred for t in sentence]
        return (np.asarray(pred) == np.array(gold)).astype(float)
    from ..data.squad import f1_score
    return np.array([f1_score(p, e.answers) for p, e in zip(result["pred"], examples)])


def encode_scores(scores) -> str:
    """Per-example scores as compact text for the JSON record: 0/1 scores as a string of
    digits, others as space-separated numbers with 4 decimals. :func:`decode_scores` inverts."""
    scores = np.asarray(scores, dtype=float)
    if np.all((scores == 0) | (scores == 1)):
        return "".join("1" if v else "0" for v in scores)
    return " ".join(f"{v:.4f}" for v in scores)


def decode_scores(text: str) -> np.ndarray:
    """The per-example scores that :func:`encode_scores` wrote."""
    if " " in text or "." in text:
        return np.array([float(v) for v in text.split()])
    return np.array([c == "1" for c in text], dtype=float)


def headline(task: str, metrics: dict) -> float:
    """The one number the table shows: accuracy, or F1 for QA."""
    return metrics[task_settings(task).metric]


# ----------------------------------------------------------------------------- LoRA
LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.1, "target_modules": ["query", "value"]}


def add_lora(model, task: str):
    """Wrap ``model`` with LoRA adapters (peft); the head, if any, stays fully trainable."""
    from peft import LoraConfig, TaskType, get_peft_model
    kind = {"sentiment": TaskType.SEQ_CLS, "pos": TaskType.TOKEN_CLS, "qa": TaskType.QUESTION_ANS,
            "contrastive": TaskType.FEATURE_EXTRACTION}[task]
    head = {"sentiment": ["classifier"], "pos": ["classifier"], "qa": ["qa_outputs"],
            "contrastive": None}[task]
    with warnings.catch_warnings():   # peft 0.21 calls an API transformers 5 renamed (harmless)
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
        return get_peft_model(model, LoraConfig(task_type=kind, modules_to_save=head, **LORA))


def fit_logistic(X, y, max_iter: int = 2000):
    """scikit-learn's logistic regression, fitted; not converging to full precision is not an error here."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(max_iter=max_iter).fit(X, y)


def save_trainable(model, path: Path | str) -> Path:
    """Save only ``model``'s trainable parameters (adapters, head), float16, to ``path``."""
    from safetensors.torch import save_file
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {n: p.detach().to(torch.float16).clone()
             for n, p in model.named_parameters() if p.requires_grad}
    save_file(state, str(path))
    return path


def load_trainable(model, path: Path | str):
    """Load what :func:`save_trainable` wrote into ``model``'s trainable parameters.

    Raises
    ------
    ValueError
        When the file's parameters are not exactly the model's trainable ones.
    """
    from safetensors.torch import load_file
    path = Path(path)
    state = {k: v.float() for k, v in load_file(str(path)).items()}
    params = dict(model.named_parameters())
    missing = set(state) ^ {n for n, p in params.items() if p.requires_grad}
    if missing:
        raise ValueError(f"{path.name} does not match the model: {sorted(missing)[:4]}")
    with torch.no_grad():
        for k, v in state.items():
            params[k].copy_(v)
    return model


def save_small(model, task: str, way: str, folder: Path = ARTEFACTS) -> Path:
    """Save only the trained parameters (adapter + head), float16, as ``folder/task-way.safetensors``."""
    return save_trainable(model, Path(folder) / f"{task}-{way}.safetensors")


def build_model(task: str, way: str, seed: int = 0):
    """A fresh model set up for ``way`` ("full", "lora", "frozen") before training."""
    settings = task_settings(task)
    tokenizer, model = load_task_model(settings.head, labels=settings.labels(), seed=seed)
    if way == "lora":
        model = add_lora(model, task)
    elif way == "frozen":
        freeze_encoder(model)
    return tokenizer, model


def load_trained(task: str, way: str, folder: Path = ARTEFACTS):
    """A shipped model: the packaged encoder with the saved adapter / head loaded into it.

    ``folder`` holds the artefacts (default: the shipped ones; else a training command's ``--out``).
    """
    path = Path(folder) / f"{task}-{way}.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m ctxembed.finetune train --task {task}`.")
    tokenizer, model = build_model(task, way)
    return tokenizer, load_trainable(model, path).eval()


def artefact_digest(path: Path | str) -> str:
    """The first 8 hex digits of a file's SHA-256: part of a tuned encoder's name, so that a
    retrained artefact never reads vectors cached for the old one."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:8]


def task_artefacts(folder: Path = ARTEFACTS) -> list[str]:
    """The file names of the task artefacts in ``folder`` (``pos-lora.safetensors``...): the
    ones ``record.json`` describes. Section 10's contrastive adapters, also kept there, have
    a record of their own (:mod:`ctxembed.finetune.contrastive`)."""
    return sorted(p.name for p in Path(folder).glob("*.safetensors")
                  if p.name.split("-")[0] in TASKS)


def load_record(folder: Path = ARTEFACTS) -> dict:
    """The training record: per task and way, metrics, seconds, parameters, curves."""
    path = Path(folder) / RECORD.name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m ctxembed.finetune train`.")
    return json.loads(path.read_text())


# ----------------------------------------------------------------------------- static baselines
def glove_features(texts, glove) -> np.ndarray:
    """Average GloVe vector of each text's known words: (len(texts), 50)."""
    out = np.zeros((len(texts), glove.vector_size), dtype=np.float32)
    for i, t in enumerate(texts):
        words = [w for w in re.findall(r"[a-z]+(?:'[a-z]+)?|[^\sa-z]", t.lower()) if w in glove.key_to_index]
        if words:
            out[i] = glove[words].mean(0)
    return out


def glove_logistic_regression(train_rows, test_rows, glove=None) -> tuple[dict, object]:
    """Static baseline for sentiment: average GloVe vector + logistic regression."""
    from ..static import load_glove
    glove = glove or load_glove()
    t = time.perf_counter()
    clf = fit_logistic(glove_features([r.text for r in train_rows], glove), [r.label for r in train_rows])
    seconds = time.perf_counter() - t
    pred = clf.predict(glove_features([r.text for r in test_rows], glove))
    return {"accuracy": 100 * float(np.mean(pred == [r.label for r in test_rows])), "pred": pred,
            "seconds": seconds, "trainable": int(clf.coef_.size + clf.intercept_.size)}, clf


def bag_of_words_logistic_regression(train_rows, test_rows) -> dict:
    """Static baseline for sentiment without embeddings: TF-IDF of words and word pairs
    (scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2))``) + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    t = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    clf = fit_logistic(vectorizer.fit_transform([r.text for r in train_rows]),
                       [r.label for r in train_rows])
    seconds = time.perf_counter() - t
    pred = clf.predict(vectorizer.transform([r.text for r in test_rows]))
    return {"accuracy": 100 * float(np.mean(pred == [r.label for r in test_rows])), "pred": pred,
            "seconds": seconds, "trainable": int(clf.coef_.size + clf.intercept_.size)}


def most_frequent_tag(train_rows, test_rows) -> dict:
    """Static baseline for POS: each word's most frequent tag in train (unseen words: the most frequent tag)."""
    t = time.perf_counter()
    counts: dict[str, Counter] = {}
    for s in train_rows:
        for w, tag in zip(s.words, s.tags):
            counts.setdefault(w.lower(), Counter())[tag] += 1
    overall = Counter(t for s in train_rows for t in s.tags).most_common(1)[0][0]
    table = {w: c.most_common(1)[0][0] for w, c in counts.items()}
    seconds = time.perf_counter() - t
    pred = [[table.get(w.lower(), overall) for w in s.words] for s in test_rows]
    gold = [t for s in test_rows for t in s.tags]
    acc = 100 * float(np.mean(np.array([t for p in pred for t in p]) == np.array(gold)))
    return {"accuracy": acc, "pred": pred, "seconds": seconds, "trainable": len(table)}


_STOP = {"a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or", "is", "was", "were", "are", "be", "been", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "that", "this", "these", "those", "it", "its", "as", "into", "than"}
_WORD = re.compile(r"\w+(?:[-']\w+)*")


def lexical_overlap_answer(question: str, context: str, max_words: int = 4) -> str:
    """Lexical-overlap span baseline for QA (no training).

    Pick the context sentence sharing most content words with the question;
    in it, answer with the run of at most ``max_words`` words that are not in the
    question, nearest to the shared words.
    """
    qwords = {w.lower() for w in _WORD.findall(question)}
    content = qwords - _STOP
    sentences = [m for m in re.finditer(r"[^.!?]+[.!?]*", context)]
    best = max(sentences, key=lambda m: len(content & {w.lower() for w in _WORD.findall(m.group())}))
    words = [(m.start() + best.start(), m.end() + best.start(), m.group())
             for m in _WORD.finditer(best.group())]
    hits = [i for i, (_, _, w) in enumerate(words) if w.lower() in content]
    if not words:
        return ""
    runs, cur = [], []
    for i, (_, _, w) in enumerate(words):
        if w.lower() in qwords:
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append(i)
    if cur:
        runs.append(cur)
    if not runs:
        return words[0][2]
    def distance(run):   # no shared word: every run is as near as any other
        return min(abs(i - h) for i in run for h in hits) if hits else 0
    run = min(runs, key=lambda r: (distance(r), len(r)))
    run = run[:max_words] if not hits or run[0] > max(hits) else run[-max_words:]
    return context[words[run[0]][0]:words[run[-1]][1]]


# ----------------------------------------------------------------------------- frozen features
def frozen_token_features(tokenizer, model, examples, task: str, batch_size: int = 64) -> np.ndarray:
    """Frozen MiniLM vectors: mean-pooled sentence vectors (sentiment) or first-piece vectors (pos).

    Rows follow ``examples`` (for pos: their words, in order). Batches are formed from
    examples of similar length (as in :func:`ctxembed.finetune.predict`), so little of the
    computation is padding.
    """
    from ..core.pooling import pool_tokens
    feats, meta = features(task, tokenizer, examples)
    rows: list[np.ndarray | None] = [None] * len(feats)
    for idx, batch, out in frozen_batches(model.base_model, feats, collator(task, tokenizer),
                                          batch_size):
        h = out.last_hidden_state
        if task == "sentiment":
            pooled = pool_tokens(h, batch["attention_mask"], "mean").numpy()
            for row, j in enumerate(idx):
                rows[j] = pooled[row][None]
        else:
            for row, j in enumerate(idx):
                w = meta[j]
                first = [t for t, x in enumerate(w) if x is not None and (t == 0 or w[t - 1] != x)]
                rows[j] = h[row, first].numpy()
    return np.concatenate(rows)


def frozen_logistic_regression(task: str, train_rows, test_rows, tokenizer=None, model=None) -> dict:
    """Frozen MiniLM features + logistic regression (sentiment, pos)."""
    if model is None:
        tokenizer, model = build_model(task, "frozen")
    t0 = time.perf_counter()
    Xtr = frozen_token_features(tokenizer, model, train_rows, task)
    extract = time.perf_counter() - t0
    if task == "sentiment":
        ytr = [r.label for r in train_rows]
    else:
        ytr = [t for r in train_rows for t in r.tags]
    t1 = time.perf_counter()
    clf = fit_logistic(Xtr, ytr)
    fit = time.perf_counter() - t1
    Xte = frozen_token_features(tokenizer, model, test_rows, task)
    pred = clf.predict(Xte)
    gold = [r.label for r in test_rows] if task == "sentiment" else [t for r in test_rows for t in r.tags]
    return {"accuracy": 100 * float(np.mean(pred == np.array(gold))), "pred": pred, "clf": clf,
            "seconds": extract + fit, "trainable": int(clf.coef_.size + clf.intercept_.size),
            "X_train": Xtr, "y_train": np.array(ytr), "X_test": Xte, "y_test": np.array(gold)}


# ----------------------------------------------------------------------------- the train command
def train_way(task: str, way: str, data: dict, *, epochs: float = 1.0, batch_size: int = 16,
              eval_every: int | None = None, n_train: int | None = None, seed: int = 0,
              progress: bool = True, max_steps: int | None = None,
              lr: float | None = None) -> tuple[object, object, dict]:
    """Train one way of one task; returns (tokenizer, model, record entry).

    ``max_steps`` stops after that many batches (a quick trial run), whatever ``epochs`` says.
    ``lr`` replaces the recipe's learning rate. The entry holds the test metrics and, as
    ``test_scores``, the per-example scores (:func:`encode_scores`).
    """
    tokenizer, model = build_model(task, way, seed=seed)
    rows = data["train"][:n_train] if n_train else data["train"]
    feats, _ = features(task, tokenizer, rows)
    dev = data["dev"]
    lr = task_settings(task).lrs[way]["lr"] if lr is None else lr
    cfg = TrainConfig(epochs=epochs, max_steps=max_steps, batch_size=batch_size, seed=seed, log_every=5,
                      eval_every=eval_every, progress=progress, lr=lr)

    def on_dev(m):
        r = evaluate(task, m, tokenizer, dev)
        return {k: v for k, v in r.items() if isinstance(v, float)}

    log = train(model, feats, collator(task, tokenizer), cfg, evaluate=on_dev)
    test = evaluate(task, model, tokenizer, data["test"])
    entry = {"test": {k: v for k, v in test.items() if isinstance(v, float)},
             "test_scores": encode_scores(example_scores(task, test, data["test"])),
             "dev": log.evals[-1], "seed": seed, "train_seconds": log.seconds, "steps": log.steps[-1],
             "n_train": len(rows), "trainable": count_parameters(model, trainable_only=True),
             "total": count_parameters(model), "lr": cfg.lr, "epochs": epochs,
             "batch_size": batch_size, "examples_per_second": log.examples_per_second,
             "curve": {"steps": log.steps, "loss": log.losses, "eval_steps": log.eval_steps,
                       "dev": log.evals}}
    return tokenizer, model, entry


def _save_entry(task: str, key: str, value: dict, folder: Path = ARTEFACTS) -> dict:
    """Read, update and write the record (so that runs of different tasks can share it)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RECORD.name
    record = json.loads(path.read_text()) if path.exists() else {}
    record.setdefault(task, {})[key] = value
    tmp = path.with_suffix(f".{task}.tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(path)
    return record


def main_train(tasks, threads: int = 1, seeds=SEEDS, ways=None, out: Path = ARTEFACTS,
               max_steps: int | None = None, n_train: int | None = None,
               n_eval: int | None = None, lrs: dict | None = None) -> dict:
    """Train ``tasks`` the ways asked and write artefacts and the record into ``out``.

    For each trained way: one run per learning rate of its task's grid (:class:`Task`, or ``lrs``, a
    ``{way: rates}`` dict) with the first seed; the rate with the best **dev** score is
    chosen (:func:`ctxembed.evaluation.select_then_seeds`; test scores play no part), its model is
    the shipped artefact and the way's main entry; the other ``seeds`` are trained at that
    rate. The entry keeps every rate's dev score (``lr_grid``) and every seed's test metrics
    and per-example scores (``seeds``). ``max_steps``, ``n_train`` (training examples) and
    ``n_eval`` (dev, test and change-of-domain examples) shrink a run for a quick trial; the
    defaults are the shipped run's.
    """
    from ..evaluation import select_then_seeds

    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"give distinct seeds, e.g. 0 1 2 (got {seeds})")
    torch.set_num_threads(threads)
    trial = {"--max-steps": max_steps, "--n-train": n_train, "--n-eval": n_eval}
    flags = "".join(f" {k} {v}" for k, v in trial.items() if v is not None)
    sizes = {k: v for k, v in (("train", n_train), ("dev", n_eval), ("test", n_eval)) if v}
    record = {}
    for task in tasks:
        data = task_data(task, 0, sizes)
        settings = task_settings(task)
        todo = [w for w in settings.ways if not ways or w in ways]
        for way in todo:
            t = time.perf_counter()
            grid = tuple((lrs or {}).get(way) or settings.lrs[way]["grid"])

            def run(lr, seed, task=task, way=way, data=data, settings=settings):
                print(f"[train] {task} / {way}, lr {lr:g}, seed {seed}", flush=True)
                return train_way(task, way, data, seed=seed, max_steps=max_steps, lr=lr,
                                 progress=False, **settings.plan)

            chosen_runs = select_then_seeds(grid, seeds, run,
                                            lambda r, task=task: headline(task, r[2]["dev"]))
            chosen, grid_dev = chosen_runs.selection.choice, dict(chosen_runs.selection.dev_scores)
            runs = chosen_runs.runs
            _, model, result = runs[seeds[0]]
            per_seed = {}
            for seed, (tok, m, entry) in runs.items():
                keep = {k: entry[k] for k in ("test", "test_scores", "dev", "train_seconds", "steps")}
                if task == "sentiment":
                    keep["domains"], keep["domain_scores"] = domain_results(m, tok, n=n_eval or 500)
                per_seed[str(seed)] = keep
            result = {**result, "lr_grid": {f"{lr:g}": dev for lr, dev in grid_dev.items()},
                      "lr_chosen_on": "dev", "seeds": per_seed}
            if task == "sentiment":          # the main entry is the first seed's run
                result["domains"] = per_seed[str(seeds[0])]["domains"]
            if way != "full":
                result["artefact"] = save_small(model, task, way, out).name
            seed_flag = " ".join(str(s) for s in seeds)
            result["command"] = (f"python -m ctxembed.finetune train --task {task} --ways {way} "
                                 f"--seeds {seed_flag} --threads {threads}{flags}")
            result["torch_threads"] = threads
            record = _save_entry(task, way, result, out)
            print(f"[train] {task} / {way}: lr {chosen:g} chosen on dev; test "
                  f"{[round(headline(task, e['test']), 2) for e in per_seed.values()]} over seeds "
                  f"{seed_flag} in {time.perf_counter() - t:.0f} s", flush=True)
        if task == "qa" and (not ways or "feature" in ways):
            t = time.perf_counter()
            entry = train_feature_head(data, seeds, out, max_steps=max_steps,
                                       lrs=(lrs or {}).get("feature"))
            seed_flag = " ".join(str(s) for s in seeds)
            entry["command"] = (f"python -m ctxembed.finetune train --task qa --ways feature "
                                f"--seeds {seed_flag} --threads {threads}{flags}")
            entry["torch_threads"] = threads
            record = _save_entry(task, "feature", entry, out)
            print(f"[train] qa / feature: lr {entry['lr']:g} chosen on dev; test "
                  f"{[round(e['test']['f1'], 2) for e in entry['seeds'].values()]} over seeds "
                  f"{seed_flag} in {time.perf_counter() - t:.0f} s", flush=True)
        if task == "sentiment" and (not ways or "curve" in ways):
            sizes_run = [n for n in DATA_CURVE_SIZES if n < len(data["train"])]
            # the rates chosen on dev, from this run or an earlier one into the same folder
            known = load_record(out).get(task, {}) if (Path(out) / RECORD.name).exists() else {}
            chosen = {w: known.get(w, {}).get("lr") for w in ("lora", "full")}
            curve = data_curve(task, data, sizes=sizes_run, seeds=seeds, max_steps=max_steps,
                               lrs={w: lr for w, lr in chosen.items() if lr})
            record = _save_entry(task, "data_curve", curve, out)
    return record


def train_feature_head(data: dict, seeds=SEEDS, out: Path = ARTEFACTS, *, max_steps: int | None = None,
                       lrs=None) -> dict:
    """QA's feature-based way: a two-layer span head on cached frozen states
    (:mod:`ctxembed.finetune.feature_head`), its learning rate chosen on dev with the first
    seed, the other seeds at that rate; the first seed's head is saved into ``out``.

    Returns the record entry (same keys as a fine-tuned way's, plus ``encode_seconds``, the
    one pass of the frozen encoder over every window, and ``best_epoch``).
    """
    from ..evaluation import select_then_seeds
    from . import feature_head as fh

    t = time.perf_counter()
    tokenizer, encoder = fh.frozen_encoder()
    cached = {}
    for split in ("train", "dev", "test"):
        feats, meta = features("qa", tokenizer, data[split])
        cached[split] = (fh.frozen_states(encoder, tokenizer, feats), feats, meta)
    encode_seconds = time.perf_counter() - t
    epochs = 1 if max_steps else fh.EPOCHS
    dev = (cached["dev"][0], cached["dev"][2], data["dev"])

    def run(lr, seed):
        print(f"[train] qa / feature, lr {lr:g}, seed {seed}", flush=True)
        head, log = fh.train_head(cached["train"][0], cached["train"][1], dev, lr=lr, seed=seed,
                                  epochs=epochs, max_steps=max_steps)
        test = fh.evaluate_head(head, cached["test"][0], cached["test"][2], data["test"])
        return head, {"test": {k: v for k, v in test.items() if isinstance(v, float)},
                      "test_scores": encode_scores(example_scores("qa", test, data["test"])),
                      "dev": log["dev"], "train_seconds": log["train_seconds"], "steps": log["steps"],
                      "best_epoch": log["best_epoch"], "dev_by_epoch": log["dev_by_epoch"]}

    chosen_runs = select_then_seeds(tuple(lrs or fh.LR_GRID), seeds, run,
                                    lambda r: r[1]["dev"]["f1"])
    chosen, grid_dev = chosen_runs.selection.choice, dict(chosen_runs.selection.dev_scores)
    head, first = chosen_runs.runs[seeds[0]]
    per_seed = {str(seed): entry for seed, (_, entry) in chosen_runs.runs.items()}
    path = fh.save_head(head, Path(out) / fh.ARTEFACT)
    trainable = sum(p.numel() for p in head.parameters())
    return {**first, "seed": seeds[0], "n_train": len(data["train"]), "trainable": trainable,
            "total": trainable + sum(p.numel() for p in encoder.parameters()), "lr": chosen,
            "epochs": epochs, "batch_size": fh.BATCH_SIZE, "layers_summed": fh.LAYERS,
            "head": dict(fh.HEAD), "encode_seconds": encode_seconds,
            "lr_grid": {f"{lr:g}": dev for lr, dev in grid_dev.items()}, "lr_chosen_on": "dev",
            "seeds": per_seed, "artefact": path.name}


def domain_results(model, tokenizer, n: int = 500) -> tuple[dict[str, float], dict[str, str]]:
    """A movie-review sentiment model on the other sources' sentences: accuracy (%) per source,
    and per source the per-sentence 0/1 scores (:func:`encode_scores`)."""
    from ..data.sentiment import domain_test_sets
    accuracy, scores = {}, {}
    for source, rows in domain_test_sets(n).items():
        result = evaluate("sentiment", model, tokenizer, rows)
        accuracy[source] = result["accuracy"]
        scores[source] = encode_scores(example_scores("sentiment", result, rows))
    return accuracy, scores


def data_curve(task: str, data: dict, sizes=DATA_CURVE_SIZES, ways=("lora", "full"),
               seeds=SEEDS, lrs: dict | None = None, min_steps: int = CURVE_MIN_STEPS,
               max_steps: int | None = None) -> dict:
    """Test metric of fine-tuning on the first ``n`` training examples, for each ``n``.

    Every size gets the same schedule (the task's batch size) and **at least**
    ``min_steps`` optimiser steps (more epochs for small ``n``; one epoch once that is longer),
    so that a small training set is not also a short training run. Each size and way is
    trained with every seed, at the way's learning rate ``lrs[way]`` (the one chosen on dev
    for the full training set; the recipe's when not given).

    Returns
    -------
    dict
        ``{way: {"lr", "min_steps", "runs": [{"n", "seed", "steps", "test", "test_scores",
        "dev", "seconds"}, ...]}}``, ``test`` and ``dev`` being the headline metric (%).
    """
    plan = {**task_settings(task).plan, "eval_every": None}     # dev only at the end of each run
    out = {}
    for way in ways:
        lr = (lrs or {}).get(way) or task_settings(task).lrs[way]["lr"]
        runs = []
        for n in sizes:
            per_epoch = math.ceil(min(n, len(data["train"])) / plan["batch_size"])
            epochs = max(1.0, math.ceil(min_steps / per_epoch))
            for seed in seeds:
                print(f"[train] {task} / {way} on {n} examples, {epochs:g} epochs, seed {seed}",
                      flush=True)
                _, _, entry = train_way(task, way, data, n_train=n, seed=seed, lr=lr,
                                        max_steps=max_steps, progress=False,
                                        **{**plan, "epochs": epochs})
                runs.append({"n": entry["n_train"], "seed": seed, "steps": entry["steps"],
                             "test": headline(task, entry["test"]), "test_scores": entry["test_scores"],
                             "dev": headline(task, entry["dev"]), "seconds": entry["train_seconds"]})
        out[way] = {"lr": lr, "min_steps": min_steps, "runs": runs}
    return out
