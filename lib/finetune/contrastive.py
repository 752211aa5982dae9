"""A sentence encoder trained with in-batch negatives (chapter 4, section 10).

MiniLM, the course's encoder, *is* a sentence encoder: after its language-model
pretraining it was trained on about a billion pairs of texts that belong together
(question and answer, title and abstract...) so that the mean of its last layer puts
them close. The objective is contrastive with **in-batch negatives**: in a batch of B
pairs ``(q_i, k_i)``, every other ``k_j`` is a negative for ``q_i``, and the loss is
the cross-entropy of picking ``k_i`` among the B keys by scaled cosine
(:func:`in_batch_negatives_loss`; sentence-transformers calls it
``MultipleNegativesRankingLoss``).

This module runs that objective once more, on pairs the course builds offline:
a WordNet synset's **example sentence** (the query) and its **definition** (the key).
Synsets are split three ways (:func:`gloss_example_split`): training synsets, dev
synsets that choose the learning rate, and test synsets held out for the retrieval
test: for each test example, is its own definition the nearest of all the test
definitions (:func:`retrieval_correct`)? The encoder gets LoRA adapters (as in
chapter 4's tasks) and is trained by :func:`ctxembed.finetune.training.train`, the
course's one training loop, through :class:`InBatchNegatives`, which turns a batch of
pairs into that loss.

``python -m ctxembed.finetune contrastive`` trains the shipped adapters (seeded; the
learning rate is chosen on dev with the first seed) and writes them with a record of
dev choices, curves, times and per-example test results to ``artefacts/``;
:func:`contrastive_encoder` loads one as a ``ctxembed.Encoder``.

Example
-------
>>> import torch
>>> q = torch.eye(3)                          # three queries, each on its own key
>>> round(float(in_batch_negatives_loss(q, q, scale=20.0)), 6)
0.0
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from ..core.pooling import POOLING_CHOICES, pool_tokens
from ..core.similarity import cosine_matrix
from ..data.wordnet import SynsetText, synset_texts

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
RECORD_NAME = "gloss-contrastive.json"
SCALE = 20.0            # cosine x 20, i.e. temperature 0.05: sentence-transformers' default
MAX_LENGTH = 64         # pieces per text; WordNet's definitions and examples are short
LR_GRID = (5e-4, 1e-3, 2e-3, 5e-3)
SEEDS = (0, 1, 2)
STEPS, BATCH_SIZE, EVAL_EVERY = 300, 32, 100
N_DEV, N_TEST = 1000, 1000


@dataclass(frozen=True)
class GlossSplit:
    """WordNet synsets that have a definition and at least one example, split by synset."""

    train: tuple[SynsetText, ...]
    dev: tuple[SynsetText, ...]
    test: tuple[SynsetText, ...]


def gloss_example_split(n_dev: int = N_DEV, n_test: int = N_TEST, seed: int = 0) -> GlossSplit:
    """Split the synsets with an example into train, dev and test (seeded; no synset in two).

    Raises
    ------
    ValueError
        When ``n_dev + n_test`` leaves no synset to train on.
    """
    synsets = [s for s in synset_texts() if s.definition and s.examples]
    if n_dev < 1 or n_test < 1 or n_dev + n_test >= len(synsets):
        raise ValueError(f"n_dev={n_dev} and n_test={n_test} must be at least 1 and leave "
                         f"training synsets among the {len(synsets)} that have an example.")
    order = np.random.default_rng(seed).permutation(len(synsets))
    pick = [synsets[i] for i in order]
    return GlossSplit(tuple(pick[n_dev + n_test:]), tuple(pick[:n_dev]),
                      tuple(pick[n_dev:n_dev + n_test]))


def retrieval_texts(synsets) -> tuple[list[str], list[str]]:
    """The retrieval test's queries (each synset's first example) and keys (its definition)."""
    return [s.examples[0] for s in synsets], [s.definition for s in synsets]


def in_batch_negatives_loss(queries: torch.Tensor, keys: torch.Tensor,
                            scale: float = SCALE) -> torch.Tensor:
    """Contrastive loss with in-batch negatives: row i's positive is key i, the rest negatives.

    ``queries`` and ``keys`` are (B, H). Their cosine similarities, times ``scale``, are the
    logits of a B-way classification whose right answer for query i is key i:
    ``mean_i -log softmax_j(scale * cos(q_i, k_j))[i]``.
    """
    if queries.ndim != 2 or queries.shape != keys.shape:
        raise ValueError(f"queries and keys must both be (batch, hidden); got "
                         f"{tuple(queries.shape)} and {tuple(keys.shape)}.")
    q = torch.nn.functional.normalize(queries, dim=-1)
    k = torch.nn.functional.normalize(keys, dim=-1)
    logits = scale * q @ k.T
    return torch.nn.functional.cross_entropy(logits, torch.arange(len(q), device=q.device))


class InBatchNegatives(torch.nn.Module):
    """An encoder and a pooling, returning the in-batch-negatives loss of a batch of pairs.

    Called with the padded query and key pieces (see :func:`pair_collator`), it returns an
    object with ``.loss``, which is what :func:`ctxembed.finetune.training.train` needs.
    """

    def __init__(self, encoder, pooling: str = "mean", scale: float = SCALE):
        super().__init__()
        if pooling not in POOLING_CHOICES:
            raise ValueError(f"pooling={pooling!r}: use one of {', '.join(POOLING_CHOICES)}.")
        self.encoder, self.pooling, self.scale = encoder, pooling, scale

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return pool_tokens(hidden, attention_mask, self.pooling)

    def forward(self, input_ids, attention_mask, key_input_ids, key_attention_mask):
        queries = self.embed(input_ids, attention_mask)
        keys = self.embed(key_input_ids, key_attention_mask)
        return SimpleNamespace(loss=in_batch_negatives_loss(queries, keys, self.scale))


def pair_features(tokenizer, synsets, seed: int = 0) -> list[dict]:
    """One training pair per synset: a seeded choice among its examples, and its definition.

    One pair per synset means no batch holds two pairs with the same definition, which
    would make a right answer count as a negative.
    """
    rng = np.random.default_rng(seed)
    examples = [s.examples[int(rng.integers(len(s.examples)))] for s in synsets]
    queries = tokenizer(examples, truncation=True, max_length=MAX_LENGTH)["input_ids"]
    keys = tokenizer([s.definition for s in synsets], truncation=True,
                     max_length=MAX_LENGTH)["input_ids"]
    return [{"input_ids": q, "key_input_ids": k} for q, k in zip(queries, keys)]


def pair_collator(tokenizer):
    """Pad a list of :func:`pair_features` into the tensors :class:`InBatchNegatives` takes."""
    def collate(features: list[dict]) -> dict[str, torch.Tensor]:
        q = tokenizer.pad({"input_ids": [f["input_ids"] for f in features]}, return_tensors="pt")
        k = tokenizer.pad({"input_ids": [f["key_input_ids"] for f in features]},
                          return_tensors="pt")
        return {"input_ids": q["input_ids"], "attention_mask": q["attention_mask"],
                "key_input_ids": k["input_ids"], "key_attention_mask": k["attention_mask"]}
    return collate


def retrieval_correct(query_vectors: np.ndarray, key_vectors: np.ndarray) -> np.ndarray:
    """1 where query i's nearest key by cosine is key i, else 0 (a tie counts as a miss).

    With n keys, guessing scores 1/n.
    """
    q, k = np.asarray(query_vectors, dtype=np.float64), np.asarray(key_vectors, dtype=np.float64)
    if q.ndim != 2 or q.shape != k.shape:
        raise ValueError(f"retrieval needs one key per query, both (n, H); got {q.shape} "
                         f"and {k.shape}.")
    sims = cosine_matrix(q, k)
    own = np.diag(sims)
    rivals = np.where(np.eye(len(q), dtype=bool), -np.inf, sims).max(axis=1)
    return (own > rivals).astype(float)


def _model_retrieval(model: InBatchNegatives, tokenizer, synsets, batch_size: int = 128):
    """:func:`retrieval_correct` of the model being trained (its own pooling, no cache)."""
    vectors = []
    with torch.no_grad():
        for side in retrieval_texts(synsets):
            parts = []
            for i in range(0, len(side), batch_size):
                batch = tokenizer(side[i:i + batch_size], padding=True, truncation=True,
                                  max_length=MAX_LENGTH, return_tensors="pt")
                parts.append(model.embed(batch["input_ids"], batch["attention_mask"]))
            vectors.append(torch.cat(parts).numpy())
    return retrieval_correct(*vectors)


def new_contrastive_model(seed: int = 0):
    """The packaged MiniLM with fresh LoRA adapters, inside :class:`InBatchNegatives`."""
    from .heads import load_task_model
    from .tasks import add_lora

    tokenizer, encoder = load_task_model("encoder", seed=seed)
    return tokenizer, InBatchNegatives(add_lora(encoder, "contrastive"))


def train_contrastive(split: GlossSplit, *, lr: float, seed: int = 0, steps: int = STEPS,
                      batch_size: int = BATCH_SIZE, eval_every: int = EVAL_EVERY,
                      threads: int | None = None, progress: bool = False):
    """One seeded run: returns ``(tokenizer, model, log)``; ``log.evals`` are dev accuracies."""
    from .training import TrainConfig, train

    tokenizer, model = new_contrastive_model(seed)
    features = pair_features(tokenizer, split.train, seed=seed)
    config = TrainConfig(max_steps=steps, batch_size=batch_size, lr=lr, seed=seed, bucket=False,
                         eval_every=eval_every, threads=threads, progress=progress)

    def dev_accuracy(m):
        return {"accuracy": float(_model_retrieval(m, tokenizer, split.dev).mean())}

    log = train(model, features, pair_collator(tokenizer), config, evaluate=dev_accuracy)
    return tokenizer, model, log


def adapter_path(seed: int, folder: Path | str = ARTEFACTS) -> Path:
    return Path(folder) / f"gloss-contrastive-s{seed}.safetensors"


def load_record(folder: Path | str = ARTEFACTS) -> dict:
    """The training command's record: the dev choice, every run's curve, time and test results."""
    path = Path(folder) / RECORD_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m ctxembed.finetune contrastive`.")
    return json.loads(path.read_text())


def contrastive_encoder(seed: int = 0, folder: Path | str = ARTEFACTS):
    """The packaged MiniLM with a shipped contrastive adapter, as a ``ctxembed.Encoder``.

    Named ``"all-MiniLM-L6-v2+gloss-contrastive-s0-1a2b3c4d"`` (by seed and the adapter
    file's digest), so the library's caches keep its vectors apart from the pretrained
    encoder's and from an older adapter's.
    """
    from ..core.models import Encoder, load_encoder
    from .tasks import artefact_digest, load_trainable

    path = adapter_path(seed, folder)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m ctxembed.finetune "
                                f"contrastive --seeds {seed}` (shipped seeds: {SEEDS}).")
    tokenizer, model = new_contrastive_model()
    encoder = load_trainable(model.encoder, path).eval().get_base_model()   # adapters inside
    name = f"{load_encoder().name}+gloss-contrastive-s{seed}-{artefact_digest(path)}"
    return Encoder(name, tokenizer, encoder, source=f"contrastive gloss-example adapter, seed {seed}")


def main_contrastive(seeds=SEEDS, lrs=LR_GRID, *, steps: int = STEPS, batch_size: int = BATCH_SIZE,
                     eval_every: int = EVAL_EVERY, threads: int | None = 2,
                     out: Path | str = ARTEFACTS, n_dev: int = N_DEV, n_test: int = N_TEST,
                     progress: bool = True) -> dict:
    """Choose the learning rate on dev with the first seed, train every seed at it, and write
    the adapters and the record (test results are computed after training, never used to choose)."""
    from ..evaluation.selection import select_then_seeds
    from .tasks import encode_scores, save_trainable

    split = gloss_example_split(n_dev=n_dev, n_test=n_test)
    threads_before = torch.get_num_threads()

    def run(lr, seed):
        tokenizer, model, log = train_contrastive(split, lr=lr, seed=seed, steps=steps,
                                                  batch_size=batch_size, eval_every=eval_every,
                                                  threads=threads, progress=progress)
        model.eval()
        test = _model_retrieval(model, tokenizer, split.test)
        save_trainable(model.encoder, adapter_path(seed, Path(out) / f"lr{lr:g}"))
        print(f"lr {lr:g} seed {seed}: dev {log.evals[-1]['accuracy']:.3f}, "
              f"{log.seconds:.0f} s", flush=True)
        return {"lr": lr, "seed": seed, "dev_accuracy": log.evals[-1]["accuracy"],
                "test_scores": encode_scores(test), "seconds": round(log.seconds, 1),
                "loss_steps": log.steps, "losses": [round(x, 4) for x in log.losses],
                "dev_steps": log.eval_steps, "dev_curve": [e["accuracy"] for e in log.evals]}

    try:
        chosen = select_then_seeds(list(lrs), list(seeds), run, lambda r: r["dev_accuracy"])
    finally:
        torch.set_num_threads(threads_before)
    lr = chosen.selection.choice
    for seed in seeds:        # keep the chosen rate's adapters, drop the others
        adapter_path(seed, Path(out) / f"lr{lr:g}").replace(adapter_path(seed, out))
    for other in Path(out).glob("lr*"):
        for f in other.iterdir():
            f.unlink()
        other.rmdir()
    record = {
        "command": "python -m ctxembed.finetune contrastive",
        "pairs": {"train": len(split.train), "dev": len(split.dev), "test": len(split.test)},
        "steps": steps, "batch_size": batch_size, "scale": SCALE, "pooling": "mean",
        "lr_grid": list(lrs), "lr": lr,
        "dev_by_lr": {f"{c:g}": v for c, v in chosen.selection.dev_scores},
        "torch_threads": threads, "torch_version": torch.__version__,
        "runs": {str(s): r for s, r in chosen.runs.items()},
        "written": time.strftime("%Y-%m-%d"),
    }
    path = Path(out) / RECORD_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record
