"""What fine-tuning changes inside the encoder (chapter 4, section 9).

Two questions about the shipped fine-tuned encoders of chapter 4 (the packaged MiniLM with a
task's LoRA adapter):

- **Where did the representations move?** :func:`linear_cka` (Kornblith et al. 2019) compares
  two sets of vectors of the same inputs, 1 for the same geometry up to rotation and scale,
  lower the more they differ; :func:`cka_by_layer` applies it layer by layer. Merchant et al.
  (2020) found that fine-tuning BERT changes mostly the top layers.
- **What was forgotten?** Use :func:`fine_tuned_encoder` wherever the library takes an
  ``encoder=`` (``ctxembed.word_vectors``...) to measure a fine-tuned encoder on another task,
  e.g. chapter 1's nearest-sense test; :func:`wsd_forgetting` measures chapter 5's WSD
  system with each tuned encoder (``python -m ctxembed.finetune prepare`` caches it at set-up).

Example
-------
>>> import numpy as np
>>> X = np.random.default_rng(0).normal(size=(50, 8))
>>> rotation, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(8, 8)))
>>> round(linear_cka(X, 3 * X @ rotation), 6)          # same geometry: 1
1.0
"""

from __future__ import annotations

import numpy as np


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear centred kernel alignment of two representations of the same n inputs.

    ``x`` is (n, d1), ``y`` is (n, d2), row i of each describing input i. Both are centred;
    the result is ``||yᵀx||²_F / (||xᵀx||_F ||yᵀy||_F)``, in [0, 1]: invariant to rotations
    and to scaling of either side, 1 when one is a rotated, scaled copy of the other.

    Raises
    ------
    ValueError
        When the two do not describe the same number of inputs, or fewer than two.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or len(x) < 2:
        raise ValueError(f"linear_cka compares two (n, d) arrays of the same n >= 2 inputs; "
                         f"got shapes {x.shape} and {y.shape}.")
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    cross = np.linalg.norm(y.T @ x) ** 2
    return float(cross / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


def cka_by_layer(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """:func:`linear_cka` at each layer of two (n, layers, d) arrays of the same inputs."""
    before, after = np.asarray(before), np.asarray(after)
    if before.ndim != 3 or before.shape[:2] != after.shape[:2]:
        raise ValueError(f"cka_by_layer takes two (n, layers, d) arrays of the same inputs and "
                         f"layers; got {before.shape} and {after.shape}.")
    return np.array([linear_cka(before[:, k], after[:, k]) for k in range(before.shape[1])])


def fine_tuned_encoder(task: str, way: str = "lora"):
    """The packaged encoder as chapter 4 fine-tuned it for ``task``, as a ``ctxembed.Encoder``.

    Its name (``"all-MiniLM-L6-v2+pos-lora-1a2b3c4d"``, ending with the adapter file's digest)
    keeps its vectors apart from the pretrained encoder's, and from an older adapter's, in the
    library's caches. Only ``way="lora"`` changes the encoder among the
    shipped artefacts (the frozen ways leave it as it was; full fine-tuning is not shipped).
    """
    from ..core.models import Encoder, load_encoder
    from .tasks import ARTEFACTS, artefact_digest, load_trained

    if way != "lora":
        raise ValueError(f"way={way!r}: the shipped fine-tuned encoders are the LoRA ones "
                         "(way='lora'); the frozen ways leave the encoder unchanged, and full "
                         "fine-tuning is too large to ship (train it with "
                         "`python -m ctxembed.finetune train`).")
    tokenizer, model = load_trained(task, way)
    encoder = model.get_base_model().base_model     # the BertModel, with the adapter inside
    digest = artefact_digest(ARTEFACTS / f"{task}-{way}.safetensors")
    name = f"{load_encoder().name}+{task}-{way}-{digest}"
    return Encoder(name, tokenizer, encoder, source=f"fine-tuned for {task} ({way})")


TUNED_TASKS = ("sentiment", "pos", "qa")


def wsd_forgetting(tasks=TUNED_TASKS) -> dict[str, np.ndarray]:
    """Chapter 5's WSD system (sense centroids, last layer) on its held-out WordNet uses, with
    the pretrained encoder and with each LoRA-tuned one: ``{name: 0/1 per test use}``, the
    same uses in the same order for every encoder, so any two can be compared pair by pair.

    Each result is cached on disk by :func:`ctxembed.wsd.evaluation.evaluate_wordnet` under
    its encoder's name; ``python -m ctxembed.finetune prepare`` fills the cache at set-up
    (about a minute per encoder on 2 cores, where nothing is cached: on Colab or Binder).
    Only the system is evaluated, not chapter 5's baselines; its pretrained row is the same
    as chapter 5's.
    """
    from ..wsd.evaluation import evaluate_wordnet

    def centroid_correct(evaluation) -> np.ndarray:
        rows = evaluation.predictions
        return rows.loc[rows.method == "centroid", "correct"].to_numpy(float)

    def system_only(encoder=None):
        return centroid_correct(evaluate_wordnet(("centroid",), baselines=(), encoder=encoder))

    scores = {"pretrained": system_only()}
    for task in tasks:
        scores[task] = system_only(fine_tuned_encoder(task))
    return scores
