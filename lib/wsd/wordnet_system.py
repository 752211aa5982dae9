"""The ready-made WSD system: every WordNet word, its senses learnt on first use.

:class:`WordNetWSD` is a :class:`~ctxembed.wsd.system.WSDSystem` whose senses are WordNet
3.0's synsets. The first time a word is asked about, it is fitted on that word's
training sentences from the stated sources of :func:`ctxembed.wsd.inventory.training_sentences`
(WordNet examples, WordNet glosses, the course's sentences) and the vectors are kept
under ``~/.cache/ctxembed/wsd/words/`` so the next process reuses them, in a file named by
a hash of those sentences and their senses (:meth:`WordNetWSD.word_cache_path`).
:func:`default_system` is the one the command line and the HTTP service use.

Example
-------
>>> wsd = default_system()
>>> p = wsd.disambiguate("The bark of the old oak was rough.", "bark")
>>> p.sense, p.gloss
('bark.n.01', 'tough protective covering of the woody stems and roots of trees and other woody plants')
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.models import DEFAULT_MODEL, load_encoder
from .caching import (
    VECTOR_LIBRARIES,
    WORDS_CODE,
    cache_dir,
    code_version,
    digest,
    store,
    touch,
)
from .inventory import lemma_of, training_sentences, wordnet_inventory
from .system import WSDSystem
from .threshold import calibrated_unknown_threshold


class WordNetWSD(WSDSystem):
    """A :class:`WSDSystem` over WordNet's senses, fitted word by word on demand.

    Parameters
    ----------
    examples, glosses, course : bool
        Which sources of training sentences to use (all by default).
    exclude_sentences : collection of str
        Sentences never to train on (an evaluation's test set).
    cache : bool
        Keep each word's training vectors on disk.
    **options
        Passed to :class:`WSDSystem` (``method``, ``layers``, ``pieces``, ...).
    """

    def __init__(self, method: str = "centroid", *, examples: bool = True, glosses: bool = True,
                 course: bool = True, exclude_sentences=(), cache: bool = True, **options):
        if method == "auto":
            raise ValueError("WordNetWSD fits each word on demand, on a handful of sentences: "
                             "too few to choose a configuration per word. Choose one on "
                             "WordNet's training sentences (ctxembed.wsd.wordnet_configuration()) "
                             "and pass its method, layers and pieces.")
        super().__init__(method, **options)
        self.examples, self.glosses, self.course = examples, glosses, course
        self.exclude_sentences = frozenset(exclude_sentences)
        self.cache = cache
        self._lock = threading.RLock()
        self._start_fitting()           # no word yet: each is fitted on demand

    @property
    def sources(self) -> dict:
        return {"examples": self.examples, "glosses": self.glosses, "course": self.course}

    @property
    def _caching(self) -> bool:
        """Word vectors are cached on disk unless some sentences are excluded."""
        return self.cache and not self.exclude_sentences

    def lemma_for(self, word: str) -> str:
        lemma = lemma_of(word)              # clear errors for empty / unknown words
        if lemma not in self._models:
            self.fit_words([lemma])
        return lemma

    def word_cache_path(self, lemma: str, rows: pd.DataFrame) -> Path:
        """The file of ``lemma``'s cached training vectors: named by this system's options,
        the model, the code, and a hash of ``rows`` (the word's training sentences as
        :func:`~ctxembed.wsd.inventory.training_sentences` returns them, senses included)."""
        enc = load_encoder(self.encoder)
        options = digest([code_version(WORDS_CODE, VECTOR_LIBRARIES), enc.name, str(self.layers),
                          self.pieces, self.features, self.sources], 16)
        data = digest(rows[["sentence", "word", "lemma", "sense", "source"]].values.tolist(), 16)
        folder = cache_dir() / "words" / options
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{lemma}-{data}.npz"

    def _sense_table(self):
        """The compact table of every word's vectors (:mod:`ctxembed.wsd.sense_table`), when it
        is built and holds what this system would compute; else None (fit as usual)."""
        from .sense_table import TABLE_OPTIONS, SenseTable, table_ready

        same = (self._caching and str(self.layers) == TABLE_OPTIONS["layers"]
                and self.pieces == TABLE_OPTIONS["pieces"]
                and self.features == TABLE_OPTIONS["features"]
                and self.sources == TABLE_OPTIONS["sources"]
                and load_encoder(self.encoder).name == DEFAULT_MODEL)
        if not same or not table_ready():
            return None
        if getattr(self, "_table", None) is None:
            self._table = SenseTable.open()
        return self._table

    def fit_words(self, words) -> WordNetWSD:
        """Fit these WordNet words now (one batch), e.g. every word a chapter will ask about."""
        with self._lock:
            lemmas = list(dict.fromkeys(lemma_of(w) for w in words))
            table = self._sense_table()
            fitted: dict[str, tuple] = {}
            if table is not None:       # every word's vectors, computed once at set-up
                fitted = {lemma: table.word(lemma)[:2] for lemma in lemmas if table.knows(lemma)}
            todo = [lemma for lemma in lemmas if lemma not in fitted]
            rows = training_sentences(todo, exclude_sentences=self.exclude_sentences,
                                      **self.sources) if todo else None
            rows_of = {lemma: rows[(rows.lemma == lemma).to_numpy()] for lemma in todo}
            for lemma in list(todo):
                path = self.word_cache_path(lemma, rows_of[lemma]) if self._caching else None
                if path is not None and path.exists():
                    with np.load(touch(path), allow_pickle=False) as f:
                        fitted[lemma] = (f["X"], f["senses"].tolist())
                    todo.remove(lemma)
            if todo:
                new = pd.concat([rows_of[lemma] for lemma in todo])
                X = self.vectors(list(new.sentence), list(new.word))
                for lemma in todo:
                    sel = (new.lemma == lemma).to_numpy()
                    Xl, sl = X[sel].astype(np.float32), new.sense[sel].tolist()
                    if self._caching:
                        store(self.word_cache_path(lemma, rows_of[lemma]),
                              lambda tmp, Xl=Xl, sl=sl: np.savez(tmp, X=Xl, senses=np.array(sl)))
                    fitted[lemma] = (Xl, sl)
            X_parts, lemma_parts, sense_parts = [], [], []
            for lemma in lemmas:
                if lemma in fitted:
                    Xl, sl = fitted[lemma]
                    X_parts.append(Xl)
                    lemma_parts += [lemma] * len(sl)
                    sense_parts += sl
            inventory = wordnet_inventory()
            glosses = {s.name: s.definition for lemma in lemmas for s in inventory[lemma]}
            if X_parts:
                self.fit_vectors(np.concatenate(X_parts), lemma_parts, sense_parts, glosses=glosses)
        return self


def default_system(method: str = "centroid", precision: str = "fp32") -> WordNetWSD:
    """The course's ready-made WSD system (one per method and process): MiniLM's last layer,
    mean of WordPieces, nearest sense centroid over every WordNet sense, trained on all the
    stated sources, with the calibrated unknown-sense threshold. ``precision="bf16"``: the
    encoder in bfloat16 (see :func:`~ctxembed.core.models.load_encoder`); its words are
    fitted afresh rather than read from the sense table of full precision vectors.

    Example
    -------
    >>> default_system().disambiguate("Spring is the season of blossom.", "spring").sense
    'spring.n.01'
    """
    return _default_system(method, precision)


@functools.lru_cache(maxsize=4)
def _default_system(method: str, precision: str = "fp32") -> WordNetWSD:
    encoder = None if precision == "fp32" else load_encoder(precision=precision)
    return WordNetWSD(method, unknown_threshold=calibrated_unknown_threshold(), encoder=encoder)
