"""The three tasks of chapter 4, each four ways, and the artefacts the training command ships.

Tasks (data from :mod:`ctxembed.data`; sizes kept small for a 2-core CPU):

- ``"sentiment"``: movie-review sentences, negative/positive; accuracy.
- ``"pos"``: Brown corpus sentences, 12 universal tags; accuracy per word.
- ``"qa"``: SQuAD v1.1 questions; exact match and F1.

Ways: a static baseline, frozen MiniLM + a linear head, full fine-tuning, LoRA
(low-rank adapters on the attention's query and value projections, with
``peft``; the head is trained too). ``python -m ctxembed.finetune train``
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

import json
import re
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from transformers import DataCollatorForTokenClassification, DataCollatorWithPadding

from .alignment import encode_tagged, word_predictions
from .heads import count_parameters, freeze_encoder, load_task_model
from .qa import decode_answers, prepare_qa_features
from .training import TrainConfig, predict, train

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
RECORD = ARTEFACTS / "record.json"
HEAD_KIND = {"sentiment": "sequence", "pos": "token", "qa": "qa"}
SIZES = {"sentiment": {"train": 7072, "dev": 300, "test": 1000},   # every training sentence
         "pos": {"train": 1500, "dev": 100, "test": 500},
         "qa": {"train": 4000, "dev": 150, "test": 400}}
# the training command's schedule: one epoch, batches of 16, about eight dev evaluations
PLAN = {"sentiment": {"epochs": 1.0, "batch_size": 16, "eval_every": 55},
        "pos": {"epochs": 1.0, "batch_size": 16, "eval_every": 12},
        "qa": {"epochs": 1.0, "batch_size": 16, "eval_every": 40}}
# training-set sizes of the extra sentiment runs (fine-tuning against the amount of data)
DATA_CURVE_SIZES = (100, 300, 1000, 3000)
QA_WINDOW = {"max_length": 192, "stride": 64}
# usual values for small data, not tuned: full fine-tuning 1e-4; LoRA and a lone head 2e-3..1e-2
RECIPES = {
    "sentiment": {"full": {"lr": 1e-4}, "lora": {"lr": 2e-3}, "frozen": None},
    "pos": {"full": {"lr": 1e-4}, "lora": {"lr": 3e-3}, "frozen": None},
    "qa": {"full": {"lr": 1e-4}, "lora": {"lr": 2e-3}, "frozen": {"lr": 1e-2}},
}


def labels_of(task: str):
    from ..data.brown_pos import UNIVERSAL_TAGS
    from ..data.sentiment import LABELS
    return {"sentiment": LABELS, "pos": UNIVERSAL_TAGS, "qa": None}[task]


def task_data(task: str, seed: int = 0, sizes: dict[str, int] | None = None) -> dict[str, list]:
    """The fixed train/dev/test examples of ``task`` (sizes in :data:`SIZES`).

    ``sizes`` (e.g. ``{"train": 32}``) takes fewer examples, the first ones of each split.
    """
    n = {**SIZES[task], **(sizes or {})}
    if task == "sentiment":
        from ..data.sentiment import movie_review_splits
        full = movie_review_splits(seed)
    elif task == "pos":
        from ..data.brown_pos import brown_pos_splits
        full = brown_pos_splits(seed)
    elif task == "qa":
        from ..data.squad import squad_splits
        full = squad_splits(seed, n_train=n["train"], n_dev=n["dev"], n_test=n["test"])
    else:
        raise ValueError(f"Unknown task {task!r}: choose one of {sorted(HEAD_KIND)}.")
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
        label2id = {t: i for i, t in enumerate(labels_of("pos"))}
        feats = [encode_tagged(tokenizer, e.words, e.tags, label2id) for e in examples]
        return feats, [f.pop("word_ids") for f in feats]
    return prepare_qa_features(tokenizer, examples, **QA_WINDOW)


def collator(task: str, tokenizer, pad_to: int | None = None):
    """Dynamic padding (``pad_to=None``) or padding to a fixed length, with transformers' collators."""
    kw = {"padding": "max_length", "max_length": pad_to} if pad_to else {}
    cls = DataCollatorForTokenClassification if task == "pos" else DataCollatorWithPadding
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
        tags = labels_of("pos")
        pred = [[tags[i] for i in word_predictions(o["logits"], w)] for o, w in zip(outs, meta)]
        gold = [t for e in examples for t in e.tags]
        flat = [t for p in pred for t in p]
        return {"accuracy": 100 * float(np.mean(np.array(flat) == np.array(gold))), "pred": pred}
    from ..data.squad import squad_metrics
    answers = decode_answers(outs, meta, examples)
    return {**squad_metrics([a.text for a in answers], examples), "pred": [a.text for a in answers],
            "outputs": outs, "meta": meta}


def headline(task: str, metrics: dict) -> float:
    """The one number the table shows: accuracy, or F1 for QA."""
    return metrics["f1" if task == "qa" else "accuracy"]


# ----------------------------------------------------------------------------- LoRA
LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.1, "target_modules": ["query", "value"]}


def add_lora(model, task: str):
    """Wrap ``model`` with LoRA adapters (peft); the head stays fully trainable."""
    from peft import LoraConfig, TaskType, get_peft_model
    kind = {"sentiment": TaskType.SEQ_CLS, "pos": TaskType.TOKEN_CLS, "qa": TaskType.QUESTION_ANS}[task]
    head = {"sentiment": ["classifier"], "pos": ["classifier"], "qa": ["qa_outputs"]}[task]
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


def _trainable_state(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().to(torch.float16).clone() for n, p in model.named_parameters() if p.requires_grad}


def save_small(model, task: str, way: str, folder: Path = ARTEFACTS) -> Path:
    """Save only the trained parameters (adapter + head), float16, as ``folder/task-way.safetensors``."""
    from safetensors.torch import save_file
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{task}-{way}.safetensors"
    save_file(_trainable_state(model), str(path))
    return path


def build_model(task: str, way: str, seed: int = 0):
    """A fresh model set up for ``way`` ("full", "lora", "frozen") before training."""
    tokenizer, model = load_task_model(HEAD_KIND[task], labels=labels_of(task), seed=seed)
    if way == "lora":
        model = add_lora(model, task)
    elif way == "frozen":
        freeze_encoder(model)
    return tokenizer, model


def load_trained(task: str, way: str, folder: Path = ARTEFACTS):
    """A shipped model: the packaged encoder with the saved adapter / head loaded into it.

    ``folder`` holds the artefacts (default: the shipped ones; else a training command's ``--out``).
    """
    from safetensors.torch import load_file
    path = Path(folder) / f"{task}-{way}.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m ctxembed.finetune train --task {task}`.")
    tokenizer, model = build_model(task, way)
    state = {k: v.float() for k, v in load_file(str(path)).items()}
    params = dict(model.named_parameters())
    missing = set(state) ^ {n for n, p in params.items() if p.requires_grad}
    if missing:
        raise ValueError(f"{path.name} does not match the model: {sorted(missing)[:4]}")
    with torch.no_grad():
        for k, v in state.items():
            params[k].copy_(v)
    return tokenizer, model.eval()


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
    base = model.base_model
    col = collator(task, tokenizer)
    order = np.argsort([len(f["input_ids"]) for f in feats], kind="stable")
    rows: list[np.ndarray | None] = [None] * len(feats)
    with torch.no_grad():
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size].tolist()
            batch = col([{k: v for k, v in feats[j].items() if k != "labels"} for j in idx])
            h = base(**batch).last_hidden_state
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
              progress: bool = True, max_steps: int | None = None) -> tuple[object, object, dict]:
    """Train one way of one task; returns (tokenizer, model, record entry).

    ``max_steps`` stops after that many batches (a quick trial run), whatever ``epochs`` says.
    """
    tokenizer, model = build_model(task, way, seed=seed)
    rows = data["train"][:n_train] if n_train else data["train"]
    feats, _ = features(task, tokenizer, rows)
    dev = data["dev"]
    cfg = TrainConfig(epochs=epochs, max_steps=max_steps, batch_size=batch_size, seed=seed, log_every=5,
                      eval_every=eval_every, progress=progress, **RECIPES[task][way])

    def on_dev(m):
        r = evaluate(task, m, tokenizer, dev)
        return {k: v for k, v in r.items() if isinstance(v, float)}

    log = train(model, feats, collator(task, tokenizer), cfg, evaluate=on_dev)
    test = evaluate(task, model, tokenizer, data["test"])
    entry = {"test": {k: v for k, v in test.items() if isinstance(v, float)},
             "dev": log.evals[-1], "train_seconds": log.seconds, "steps": log.steps[-1],
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


def main_train(tasks, threads: int = 1, seed: int = 0, ways=None, out: Path = ARTEFACTS,
               max_steps: int | None = None, n_train: int | None = None,
               n_eval: int | None = None) -> dict:
    """Train ``tasks`` the ways asked and write artefacts and the record into ``out``.

    ``max_steps``, ``n_train`` (training examples) and ``n_eval`` (dev, test and change-of-domain
    examples) shrink a run for a quick trial; the defaults are the shipped run's.
    """
    torch.set_num_threads(threads)
    trial = {"--max-steps": max_steps, "--n-train": n_train, "--n-eval": n_eval}
    flags = "".join(f" {k} {v}" for k, v in trial.items() if v is not None)
    sizes = {k: v for k, v in (("train", n_train), ("dev", n_eval), ("test", n_eval)) if v}
    record = {}
    for task in tasks:
        data = task_data(task, seed, sizes)
        todo = [w for w in ("frozen", "lora", "full") if RECIPES[task][w] is not None
                and (not ways or w in ways)]
        for way in todo:
            t = time.perf_counter()
            print(f"[train] {task} / {way}", flush=True)
            tokenizer, model, result = train_way(task, way, data, seed=seed, max_steps=max_steps,
                                                 **PLAN[task])
            if task == "sentiment":
                result["domains"] = domain_accuracy(model, tokenizer, n=n_eval or 500)
            if way != "full":
                result["artefact"] = save_small(model, task, way, out).name
            result["command"] = (f"python -m ctxembed.finetune train --task {task} "
                                 f"--threads {threads}{flags}")
            result["torch_threads"] = threads
            record = _save_entry(task, way, result, out)
            print(f"[train] {task} / {way}: test {result['test']} in {time.perf_counter() - t:.0f} s",
                  flush=True)
        if task == "sentiment" and (not ways or "curve" in ways):
            sizes_run = [n for n in DATA_CURVE_SIZES if n < len(data["train"])]
            curve = data_curve(task, data, sizes=sizes_run, seed=seed, max_steps=max_steps)
            record = _save_entry(task, "data_curve", curve, out)
    return record


def domain_accuracy(model, tokenizer, n: int = 500) -> dict[str, float]:
    """Test accuracy (%) of a movie-review sentiment model on the other sources' sentences."""
    from ..data.sentiment import domain_test_sets
    return {source: evaluate("sentiment", model, tokenizer, rows)["accuracy"]
            for source, rows in domain_test_sets(n).items()}


def data_curve(task: str, data: dict, sizes=DATA_CURVE_SIZES, ways=("lora", "full"),
               seed: int = 0, max_steps: int | None = None) -> dict:
    """Test metric of fine-tuning on the first ``n`` training examples, for each ``n``.

    One seeded run per size and way, with the schedule of :data:`PLAN` (the full-size
    point is the main run). Returns ``{way: {"n": [...], "test": [...], "seconds": [...]}}``.
    """
    plan = {**PLAN[task], "eval_every": None}     # dev only at the end of each run
    out = {}
    for way in ways:
        runs = {"n": [], "test": [], "seconds": []}
        for n in sizes:
            print(f"[train] {task} / {way} on {n} examples", flush=True)
            _, _, entry = train_way(task, way, data, n_train=n, seed=seed, max_steps=max_steps,
                                    **plan)
            runs["n"].append(entry["n_train"])
            runs["test"].append(headline(task, entry["test"]))
            runs["seconds"].append(entry["train_seconds"])
        out[way] = runs
    return out
