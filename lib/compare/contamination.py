"""What the packaged encoder was trained on, read from the model's own files (chapter 5).

sentence-transformers' ``all-MiniLM-L6-v2`` ships ``data_config.json``: every dataset of its
contrastive fine-tuning, with its number of training pairs. Reading it tells a course what
its test sets may have in common with the encoder's training data, one form of *data
contamination*. (What MiniLM's own pretraining read, before that fine-tuning, is described in
its paper, not in these files.)

Example
-------
>>> sets = training_sets()
>>> sum(s.pairs for s in sets) > 1_000_000_000      # over a billion training pairs
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrainingSet:
    """One dataset of the encoder's fine-tuning: its file name and number of pairs."""

    name: str
    pairs: int


def training_sets(model_folder: Path | str | None = None) -> list[TrainingSet]:
    """The datasets listed in ``data_config.json`` of the packaged encoder (or of ``model_folder``).

    Raises
    ------
    FileNotFoundError
        When the folder has no ``data_config.json`` (only sentence-transformers' "all-*"
        models ship one): the message says so.
    """
    if model_folder is None:
        from ..core.models import packaged_model_path

        model_folder = packaged_model_path()
    path = Path(model_folder) / "data_config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: this model does not list its training "
                                "data (sentence-transformers' all-* models do).")
    return [TrainingSet(entry["name"], int(entry["lines"]))
            for entry in json.loads(path.read_text())]


def sets_named(sets: list[TrainingSet], fragment: str) -> list[TrainingSet]:
    """The training sets whose file name contains ``fragment`` (case-insensitive)."""
    return [s for s in sets if fragment.lower() in s.name.lower()]
