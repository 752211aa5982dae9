"""Every WordNet word's fitted senses in one compact file, read a word at a time.

``python -m ctxembed.wsd prepare`` computes, once, the training vectors of every WordNet
word (the sentences :func:`~ctxembed.wsd.inventory.training_sentences` gives the ready-made
system, encoded the way :class:`~ctxembed.wsd.wordnet_system.WordNetWSD` encodes them) and
writes them, with each word's senses, glosses and SemCor counts and WordNet's irregular
forms, into one SQLite file (:func:`sense_table_path`, about 140 MB: float16 vectors).
Opening it reads nothing; asking about a word reads that word's row (milliseconds).

Two readers use it:

- :class:`~ctxembed.wsd.wordnet_system.WordNetWSD` (``default_system()``, the HTTP service)
  fits a word from its row instead of encoding its training sentences;
- :class:`QuickWSD`, the command line's path: NumPy, SQLite and the TorchScript encoder
  (``load_encoder(runtime="torchscript")``), no pandas, scikit-learn or transformers' model
  code, so ``ctxembed-wsd`` answers about as fast as Python can import torch.

The file is named by a hash of everything its content depends on (the code that computes
the vectors and fits the senses, library versions, the model, the options, the WordNet
files), like every WSD cache (:mod:`ctxembed.wsd.caching`).

Example
-------
>>> table = SenseTable.open()          # after `python -m ctxembed.wsd prepare`
>>> table.lemma_of("Barked")
'bark'
>>> QuickWSD(table).disambiguate("The bark sailed at dawn.", "bark").sense
'bark.n.03'
"""

from __future__ import annotations

import difflib
import json
import sqlite3
from pathlib import Path

import numpy as np

from ..core.defaults import DEFAULT_MODEL
from ..core.errors import EmptyInputError, UnknownWordError
from ..core.similarity import unit_vectors
from ..core.words import find_word
from . import lemmas
from .caching import (
    EVALUATION_CODE,
    EVALUATION_LIBRARIES,
    WORDS_CODE,
    cache_dir,
    code_version,
    digest,
    store,
    wordnet_version,
)
from .word_model import (
    DEFAULT_TEMPERATURE,
    SensePrediction,
    fit_word,
    word_predictions,
)

#: The options of the ready-made system, which the table holds the vectors of.
TABLE_OPTIONS = {"layers": "last", "pieces": "mean", "features": "contextual",
                 "sources": {"examples": True, "glosses": True, "course": True}}
VECTOR_DTYPE = np.float16
#: The code the table's content depends on: the vectors, the fitting, and the evaluation
#: that chose the unknown-sense threshold it records.
TABLE_CODE = tuple(dict.fromkeys(WORDS_CODE + EVALUATION_CODE + (
    "ctxembed.wsd.sense_table", "ctxembed.wsd.word_model", "ctxembed.wsd.lemmas",
    "ctxembed.core.words")))


def sense_table_path() -> Path:
    """The table's file for the code, libraries and WordNet files installed now."""
    key = digest([code_version(TABLE_CODE, EVALUATION_LIBRARIES), DEFAULT_MODEL, TABLE_OPTIONS,
                  wordnet_version()], 16)
    return cache_dir() / f"senses-{key}.sqlite"


class SenseTableMissingError(FileNotFoundError):
    """The sense table has not been built for the code and data installed."""


class SenseTable:
    """Read access to the file of :func:`build_sense_table` (a word at a time)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        uri = f"file:{self.path}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.meta = {k: json.loads(v) for k, v in self._db.execute("SELECT name, value FROM meta")}

    @classmethod
    def open(cls, path: Path | None = None) -> SenseTable:
        """The table for the installed code and data; a clear error when it is not built."""
        path = Path(path) if path is not None else sense_table_path()
        if not path.exists():
            raise SenseTableMissingError(
                f"The table of fitted senses is not built yet ({path}). Run `python -m "
                "ctxembed.wsd prepare` once (about ten minutes; the course's set-up does it).")
        return cls(path)

    # --------------------------------------------------------------- words
    def knows(self, lemma: str, pos: str | None = None) -> bool:
        """Whether the table has ``lemma`` (as part of speech ``pos``: ``n``, ``v``, ``a``, ``r``)."""
        row = self._db.execute("SELECT senses FROM words WHERE lemma = ?", (lemma,)).fetchone()
        if row is None or pos is None:
            return row is not None
        return any(lemmas.part_of_speech(name) == pos for name, _ in json.loads(row[0]))

    def irregular(self, form: str, pos: str) -> list[str]:
        """The lemmas of irregular ``form`` as part of speech ``pos`` (WordNet's exception lists)."""
        return [r[0] for r in self._db.execute("SELECT lemma FROM irregular WHERE form = ? AND pos = ?",
                                               (form, pos))]

    def words(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT lemma FROM words ORDER BY lemma")]

    def lemma_of(self, word: str) -> str:
        """The WordNet word ``word`` is a form of (the one SemCor tagged most often when
        several fit); the same answer and errors as :func:`ctxembed.wsd.inventory.lemma_of`."""
        if not isinstance(word, str) or not word.strip():
            raise EmptyInputError(lemmas.EMPTY_WORD)
        found = lemmas.candidate_lemmas(word, self.knows, self.irregular)
        if not found:
            close = difflib.get_close_matches(word.strip().lower(), self.words(), n=3)
            raise UnknownWordError(lemmas.unknown_word_message(word, close))
        tagged = dict(self._db.execute(
            f"SELECT lemma, tagged FROM words WHERE lemma IN ({','.join('?' * len(found))})",
            found))
        return lemmas.likeliest_lemma(found, tagged)

    def word(self, lemma: str) -> tuple[np.ndarray, list[str], dict[str, str]]:
        """``lemma``'s training vectors (n, d) float32, their n sense labels, and its
        senses' glosses (synset name -> definition)."""
        row = self._db.execute("SELECT senses, labels, vectors FROM words WHERE lemma = ?",
                               (lemma,)).fetchone()
        if row is None:
            raise UnknownWordError(lemmas.unknown_word_message(lemma, []))
        senses, labels = json.loads(row[0]), json.loads(row[1])
        X = np.frombuffer(row[2], dtype=VECTOR_DTYPE).reshape(len(labels), -1).astype(np.float32)
        return X, [senses[i][0] for i in labels], dict(senses)


def build_sense_table(path: Path | None = None, *, words=None, chunk: int = 4096,
                      progress: bool = True) -> Path:
    """Encode every WordNet word's training sentences and write the table (once; ~10 min
    on two cores). Returns its path; does nothing when it exists. ``words`` (lemmas)
    builds a table of those words only, at a path you give (the tests do)."""
    import pandas as pd
    from tqdm.auto import tqdm

    from ..data.wordnet import PARTS_OF_SPEECH, exception_forms
    from .inventory import training_sentences, wordnet_inventory
    from .threshold import calibrated_unknown_threshold
    from .vectors import use_vectors

    if words is not None and path is None:
        raise ValueError("A table of some words only needs its own path (path=...).")
    path = Path(path) if path is not None else sense_table_path()
    if path.exists():
        return path
    inventory = wordnet_inventory()
    words = sorted(inventory) if words is None else sorted(set(words))
    rows = training_sentences(words, **TABLE_OPTIONS["sources"])
    # length-sorted chunks: similar lengths pad little; each chunk is encoded as the
    # ready-made system encodes (use_vectors, no disk cache of its own)
    order = np.argsort(rows.sentence.str.len().to_numpy(), kind="stable")
    parts = []
    bar = tqdm(total=len(rows), desc="encoding WordNet's training sentences", disable=not progress)
    for start in range(0, len(order), chunk):
        idx = order[start:start + chunk]
        part = use_vectors(list(rows.sentence.iloc[idx]), list(rows.word.iloc[idx]),
                           layers=TABLE_OPTIONS["layers"], pieces=TABLE_OPTIONS["pieces"],
                           cache=False)
        parts.append((idx, part.astype(VECTOR_DTYPE)))
        bar.update(len(idx))
    bar.close()
    X = np.zeros((len(rows), parts[0][1].shape[1]), dtype=VECTOR_DTYPE)
    for idx, part in parts:
        X[idx] = part

    def write(tmp: Path) -> None:
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE words (lemma TEXT PRIMARY KEY, tagged INTEGER, senses TEXT, "
                   "labels TEXT, vectors BLOB)")
        db.execute("CREATE TABLE irregular (form TEXT, pos TEXT, lemma TEXT)")
        db.execute("CREATE INDEX irregular_form ON irregular (form)")
        meta = {**TABLE_OPTIONS, "dim": int(X.shape[1]), "dtype": np.dtype(VECTOR_DTYPE).name,
                "rows": len(rows), "unknown_threshold": calibrated_unknown_threshold()}
        db.executemany("INSERT INTO meta VALUES (?, ?)",
                       [(k, json.dumps(v)) for k, v in meta.items()])
        grouped = pd.Series(np.arange(len(rows))).groupby(rows.lemma.to_numpy()).agg(list)
        records = []
        for lemma in words:
            senses = inventory[lemma]
            names = [s.name for s in senses]
            idx = grouped.get(lemma, [])
            labels = [names.index(s) for s in rows.sense.iloc[idx]]
            records.append((lemma, sum(s.count for s in senses),
                            json.dumps([[s.name, s.definition] for s in senses]),
                            json.dumps(labels), X[idx].tobytes()))
        db.executemany("INSERT INTO words VALUES (?, ?, ?, ?, ?)", records)
        db.executemany("INSERT INTO irregular VALUES (?, ?, ?)",
                       [(form, pos, lemma) for pos in PARTS_OF_SPEECH
                        for form, bases in exception_forms(pos).items() for lemma in bases])
        db.commit()
        db.execute("VACUUM")
        db.close()

    return store(path, write)


class QuickWSD:
    """The ready-made system's centroid classifier, answered from the sense table.

    It gives what ``default_system().disambiguate`` gives (a test compares them), reading
    one word's row and running the TorchScript encoder. Refusals (an empty sentence, a word
    the sentence lacks, a word WordNet lacks) come before any model is loaded.
    """

    def __init__(self, table: SenseTable | None = None, *, encoder=None,
                 threads: int | None = None):
        self.table = table if table is not None else SenseTable.open()
        self.encoder, self.threads = encoder, threads
        self._models: dict = {}

    def disambiguate(self, sentence: str, word: str, occurrence: int = 0) -> SensePrediction:
        find_word(sentence, word, occurrence)        # a clear error, before any model loads
        lemma = self.table.lemma_of(word)
        if lemma not in self._models:
            X, labels, glosses = self.table.word(lemma)
            self._models[lemma] = (fit_word(unit_vectors(X), np.asarray(labels)), glosses)
        model, glosses = self._models[lemma]
        import torch

        from ..core.models import load_encoder
        from .vectors import use_vectors

        if self.threads:
            torch.set_num_threads(min(self.threads, torch.get_num_threads()))
        encoder = self.encoder if self.encoder is not None else load_encoder(runtime="torchscript")
        x = use_vectors([sentence], [word.strip()], [occurrence], layers=self.table.meta["layers"],
                        pieces=self.table.meta["pieces"], encoder=encoder, cache=False)
        [pred] = word_predictions(model, unit_vectors(x), lemma, sentences=[sentence],
                                  words=[word.strip()], temperature=DEFAULT_TEMPERATURE,
                                  glosses=glosses,
                                  unknown_threshold=self.table.meta["unknown_threshold"])
        return pred


def table_ready() -> bool:
    """Is the table built for what is installed now? (Never raises.)"""
    try:
        return sense_table_path().exists()
    except (OSError, ModuleNotFoundError):
        return False


__all__ = ["QuickWSD", "SenseTable", "SenseTableMissingError", "build_sense_table",
           "sense_table_path", "table_ready"]
