"""Tables, figures and explorers of chapter 4 (fine-tuning four ways).

Example
-------
>>> four_way_table({"static": {"metric": 70.1, "seconds": 0.2, "trainable": 51}})  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..viz.explorers import view_switcher


def four_way_table(rows: Mapping[str, Mapping], metric: str = "accuracy (%)") -> pd.DataFrame:
    """One row per way: ``{"way": {"metric", "seconds", "trainable"}}`` -> a DataFrame.

    Optional keys add columns: ``interval`` (an :class:`~ctxembed.evaluation.Interval` of
    fractions) -> "95% CI", ``seed_values`` (each seed's metric) -> "per seed".
    """
    from ..evaluation import format_number
    df = pd.DataFrame({way: {metric: float(r["metric"]), "training time (s)": float(r["seconds"]),
                             "trainable parameters": int(r["trainable"])}
                       for way, r in rows.items()}).T
    df = df.astype({metric: float, "training time (s)": float, "trainable parameters": int})
    if any("interval" in r for r in rows.values()):
        df.insert(1, "95% CI", [f"{format_number(100 * r['interval'].low)}–"
                                f"{format_number(100 * r['interval'].high)}" if r.get("interval")
                                else "not recorded" for r in rows.values()])
    if any("seed_values" in r for r in rows.values()):
        df.insert(2, "per seed", [" / ".join(format_number(v) for v in r["seed_values"])
                                  if len(r.get("seed_values") or []) > 1 else
                                  ("one run" if r.get("seed_values") else "no seed (a fixed fit)")
                                  for r in rows.values()])
    return df


def style_table(df: pd.DataFrame, caption: str):
    """A four-way table formatted for the page."""
    fmt = {c: "{:.1f}" for c in df.columns if "(" in c and df[c].dtype.kind == "f"}
    fmt["trainable parameters"] = "{:,}"
    return df.style.format(fmt).set_caption(caption)


# ----------------------------------------------------------------------------- noise and seeds
def trained_scores(entry: Mapping) -> tuple[np.ndarray | None, list[float]]:
    """A trained way's per-example test scores averaged over its seeds, and each seed's
    headline metric (%).

    Reads the record entry of ``python -m ctxembed.finetune train``: its ``seeds`` (every
    seed's ``test_scores``), or for a single-run entry its own ``test_scores``. Scores are
    None when the record holds no per-example scores.
    """
    from .tasks import decode_scores
    runs = list((entry.get("seeds") or {"0": entry}).values())
    values = [100 * float(decode_scores(r["test_scores"]).mean()) if "test_scores" in r
              else float(r["test"].get("accuracy", r["test"].get("f1"))) for r in runs]
    if not all("test_scores" in r for r in runs):
        return None, values
    return np.mean([decode_scores(r["test_scores"]) for r in runs], axis=0), values


def trained_domain_scores(entry: Mapping) -> dict[str, np.ndarray]:
    """A sentiment way's per-sentence scores on each change-of-domain source, averaged over
    the recorded seeds: ``{source: array}`` (empty for a record without them)."""
    from .tasks import decode_scores
    runs = [r for r in (entry.get("seeds") or {}).values() if "domain_scores" in r]
    if not runs:
        return {}
    return {source: np.mean([decode_scores(r["domain_scores"][source]) for r in runs], axis=0)
            for source in runs[0]["domain_scores"]}


def _sentence_totals(task: str, test: Sequence) -> np.ndarray | None:
    """Words per test sentence for POS (the unit the bootstrap resamples), else None."""
    return np.array([len(r.words) for r in test]) if task == "pos" else None


def _per_unit(scores: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.add.reduceat(np.asarray(scores, dtype=float), starts)


def score_interval(task: str, scores, test: Sequence, seed: int = 0):
    """95% bootstrap interval of a system's mean score over ``test``.

    Test examples are resampled; for POS the unit is the sentence (its words are not
    independent draws), and the metric the per-word accuracy of the resampled sentences.
    """
    from ..evaluation import bootstrap_interval, bootstrap_metric_interval
    lengths = _sentence_totals(task, test)
    if lengths is None:
        return bootstrap_interval(scores, seed=seed)
    sums = _per_unit(scores, lengths)
    return bootstrap_metric_interval(lambda idx: sums[idx].sum() / lengths[idx].sum(),
                                     len(lengths), seed=seed)


def paired_difference(task: str, a_scores, b_scores, test: Sequence, seed: int = 0):
    """95% paired bootstrap interval of system A's mean score minus B's on the same ``test``
    (for POS, sentences are resampled)."""
    from ..evaluation import paired_bootstrap_difference, paired_metric_difference
    lengths = _sentence_totals(task, test)
    if lengths is None:
        return paired_bootstrap_difference(a_scores, b_scores, seed=seed)
    a, b = _per_unit(a_scores, lengths), _per_unit(b_scores, lengths)
    return paired_metric_difference(lambda idx: a[idx].sum() / lengths[idx].sum(),
                                    lambda idx: b[idx].sum() / lengths[idx].sum(),
                                    len(lengths), seed=seed)


def comparison_sentence(task: str, name_a: str, a_scores, name_b: str, b_scores,
                        test: Sequence, metric: str) -> tuple[str, object]:
    """The page's sentence on A against B ("ahead" only when the paired interval excludes
    zero, else "indistinguishable here"), and the interval it rests on."""
    from ..evaluation import difference_sentence
    difference = paired_difference(task, a_scores, b_scores, test)
    return difference_sentence(name_a, name_b, difference, metric), difference


def plot_curves(record: Mapping, task: str, metric: str, ways=("full", "lora", "frozen"), ax=None):
    """Training loss and dev metric against steps, from the training record of ``task``."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 2.8), dpi=80) if ax is None else (None, ax)
    for way in ways:
        entry = record[task].get(way)
        if not entry:
            continue
        c = entry["curve"]
        left.plot(c["steps"], c["loss"], label=way)
        right.plot(c["eval_steps"], [d[metric] for d in c["dev"]], "o-", label=way)
    left.set_xlabel("step"); left.set_ylabel("training loss"); left.legend(fontsize=8)
    right.set_xlabel("step"); right.set_ylabel(f"dev {metric}"); right.legend(fontsize=8)
    left.set_title(f"{task}: loss", fontsize=9); right.set_title(f"{task}: dev {metric}", fontsize=9)
    if fig is not None:
        fig.tight_layout()
    return fig


def per_tag_table(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 (%) and support per tag (scikit-learn's definitions)."""
    from sklearn.metrics import precision_recall_fscore_support
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=list(labels), zero_division=0)
    return pd.DataFrame({"precision": 100 * p, "recall": 100 * r, "F1": 100 * f, "support": n},
                        index=list(labels))


def plot_confusion(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str], title: str = ""):
    """Row-normalised confusion matrix (rows: true tag, columns: predicted tag)."""
    from sklearn.metrics import confusion_matrix
    cm = confusion_matrix(gold, pred, labels=list(labels)).astype(float)
    cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(4.6, 4), dpi=80)
    ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if cm[i, j] >= 0.01:
                ax.text(j, i, f"{100 * cm[i, j]:.0f}", ha="center", va="center", fontsize=6,
                        color="white" if cm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted"); ax.set_ylabel("true"); ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def sentiment_explorer(texts: Sequence[str], probs: Mapping[str, np.ndarray], gold: Sequence[int]):
    """Pick a sentence; see each model's probability that it is positive (precomputed views)."""
    def draw(i):
        fig, ax = plt.subplots(figsize=(5.5, 1.9), dpi=70)
        names = list(probs)
        ax.barh(names, [probs[n][i] for n in names], color="tab:green")
        ax.axvline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xlim(0, 1); ax.set_xlabel("P(positive)")
        ax.set_title(("human label: positive" if gold[i] else "human label: negative"), fontsize=9)
        fig.tight_layout()
        return fig
    views = {(t if len(t) < 90 else t[:87] + "..."): i for i, t in enumerate(texts)}
    return view_switcher(views, draw, description="Sentence:", width="60em")


def qa_explorer(examples: Sequence, outputs: Sequence[dict], meta: Sequence[dict], tokenizer,
                predictions: Sequence[str]):
    """Pick a question; see the start and end scores over the pieces of its context."""
    first = {}
    for out, m in zip(outputs, meta):
        first.setdefault(m["example"], (out, m))

    def draw(k):
        out, m = first[k]
        ex = examples[k]
        idx = [i for i, o in enumerate(m["offsets"]) if o is not None]
        pieces = [ex.context[m["offsets"][i][0]:m["offsets"][i][1]] for i in idx]
        fig, ax = plt.subplots(figsize=(9, 2.6), dpi=70)
        ax.plot(range(len(idx)), out["start_logits"][idx], label="start score")
        ax.plot(range(len(idx)), out["end_logits"][idx], label="end score")
        a = ex.answer_start
        gold = [j for j, i in enumerate(idx) if m["offsets"][i][0] < a + len(ex.answer)
                and m["offsets"][i][1] > a]
        if gold:
            ax.axvspan(gold[0] - 0.5, gold[-1] + 0.5, color="gold", alpha=0.4, label="true answer")
        step = max(1, len(idx) // 40)
        ax.set_xticks(range(0, len(idx), step), pieces[::step], rotation=90, fontsize=6)
        ax.legend(fontsize=7, loc="upper right")
        ax.set_title(f"Q: {ex.question[:70]}  |  true: {ex.answer[:30]!r}  predicted: "
                     f"{predictions[k][:30]!r}", fontsize=8)
        fig.tight_layout()
        return fig
    views = {f"{i + 1}. {examples[k].question[:70]}": k for i, k in enumerate(sorted(first))}
    return view_switcher(views, draw, description="Question:", width="60em")


def frozen_feature_head(test, entry: Mapping, tokenizer, encoder) -> dict:
    """QA's shipped feature-based head (:mod:`ctxembed.finetune.feature_head`) evaluated on
    ``test`` with the given frozen ``encoder``, and its training record's size and time."""
    from . import feature_head, tasks
    head = feature_head.load_head(tasks.ARTEFACTS / entry["artefact"])
    return {**feature_head.evaluate_examples(head, test, tokenizer, encoder, entry["layers_summed"]),
            "trainable": entry["trainable"], "seconds": entry["encode_seconds"] + entry["train_seconds"]}


def compare_four_ways(task: str, data: Mapping, record: Mapping) -> dict:
    """Chapter 4's four ways on one task, evaluated on its test set.

    The static baselines (for sentiment also a bag of words) and the frozen encoder +
    linear model are fitted here; the shipped LoRA adapter (and, for QA, the frozen-encoder
    linear head and the feature-based two-layer head) are loaded and re-evaluated, and must
    match the training record's first seed.
    A trained way's figure is the mean over the record's seeds (full fine-tuning comes
    from the record only: that model is not shipped). Every row gets a 95% bootstrap
    interval over the test examples (sentences for POS) when per-example scores exist.

    Returns
    -------
    dict
        ``table`` (DataFrame, one row per way: metric, "95% CI", "per seed", time,
        trainable parameters), ``static``, ``frozen``, ``lora`` (each the evaluation dict
        of the model fitted or shipped: metric, predictions...), ``lora_model`` (tokenizer,
        model), ``scores`` (per-example test scores of each row, seed-averaged; None where
        not recorded), ``rows`` and ``names`` (the static and frozen rows' names; for QA
        also the feature-based head's row).
    """
    from ..data.squad import squad_metrics
    from . import tasks
    rec = record[task]
    train_rows, test = data["train"], data["test"]
    after_static, after_frozen = {}, {}      # more rows: static baselines, other frozen heads
    if task == "sentiment":
        static, clf = tasks.glove_logistic_regression(train_rows, test)
        static["clf"] = clf
        after_static["static: bag of words (TF-IDF of 1-2-grams) + logistic regression"] = \
            tasks.bag_of_words_logistic_regression(train_rows, test)
        frozen = tasks.frozen_logistic_regression(task, train_rows, test)
        names = ("static: GloVe average + logistic regression",
                 "frozen MiniLM (mean pooling) + logistic regression")
    elif task == "pos":
        static = tasks.most_frequent_tag(train_rows, test)
        frozen = tasks.frozen_logistic_regression(task, train_rows, test)
        names = ("static: most frequent tag of the word",
                 "frozen MiniLM (first piece) + logistic regression")
    else:
        import time
        t = time.perf_counter()
        answers = [tasks.lexical_overlap_answer(e.question, e.context) for e in test]
        static = {**squad_metrics(answers, test), "pred": answers, "trainable": 0,
                  "seconds": 0.0, "run_seconds": time.perf_counter() - t}
        tok, model = tasks.load_trained(task, "frozen")
        frozen = {**tasks.evaluate(task, model, tok, test), "seconds": rec["frozen"]["train_seconds"],
                  "trainable": rec["frozen"]["trainable"]}
        names = ("static: lexical-overlap span (no training)", "frozen MiniLM + linear start/end head",
                 "frozen MiniLM (sum of last 4 layers) + two-layer span head")
        after_frozen[names[2]] = feature = frozen_feature_head(test, rec["feature"], tok,
                                                               model.base_model)
    tok, model = tasks.load_trained(task, "lora")
    lora = tasks.evaluate(task, model, tok, test)
    key = tasks.task_settings(task).metric
    checks = [("lora", lora)] + ([("frozen", frozen), ("feature", feature)] if task == "qa" else [])
    for way, got in checks:
        if abs(got[key] - rec[way]["test"][key]) > 0.2:
            raise AssertionError(f"shipped {task}/{way} gives {got[key]:.2f}, the record says "
                                 f"{rec[way]['test'][key]:.2f}: retrain or fix the artefact")
    rows = {names[0]: static, **after_static, names[1]: frozen, **after_frozen,
            "full fine-tuning": {**rec["full"]["test"], "seconds": rec["full"]["train_seconds"],
                                 "trainable": rec["full"]["trainable"]},
            "LoRA r=8 + head": {**lora, "seconds": rec["lora"]["train_seconds"],
                                "trainable": rec["lora"]["trainable"]}}
    # per-example scores: fixed fits scored here; trained ways averaged over the recorded seeds
    # (the rows are copies: the evaluation dicts returned below stay those of the shipped models)
    rows = {name: dict(result) for name, result in rows.items()}
    scores = {}
    for name, result in rows.items():
        way = {"full fine-tuning": "full", "LoRA r=8 + head": "lora"}.get(name)
        if task == "qa" and name in names[1:]:
            way = "frozen" if name == names[1] else "feature"
        if way is None:
            scores[name] = tasks.example_scores(task, result, test)
            continue
        entry = rec[way]
        scores[name], result["seed_values"] = trained_scores(entry)
        if scores[name] is None and way != "full":     # an old single-run record: re-scored here
            scores[name] = tasks.example_scores(task, result, test)
        if scores[name] is not None:
            result[key] = 100 * float(scores[name].mean())
        if task == "qa" and entry.get("seeds"):     # exact match: the seeds' mean as well
            result["exact_match"] = float(np.mean([r["test"]["exact_match"]
                                                   for r in entry["seeds"].values()]))
        if "lr" in entry:
            result["lr"] = entry["lr"]
    for name, result in rows.items():
        if scores[name] is not None:
            result["interval"] = score_interval(task, scores[name], test)
    label = {"f1": "test F1 (%)", "accuracy": "test accuracy (%)"}[key]
    table = four_way_table({k: {"metric": v[key], **v} for k, v in rows.items()}, label)
    if task == "qa":
        table.insert(0, "test exact match (%)", [v["exact_match"] for v in rows.values()])
    return {"table": table, "static": static, "frozen": frozen, "lora": lora, "lora_model": (tok, model),
            "scores": scores, "rows": rows, "names": names}
