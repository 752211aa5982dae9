"""The ready-made WSD system: every WordNet word, its senses learnt on first use.

:class:`WordNetWSD` is a :class:`~ctxembed.wsd.system.WSDSystem` whose senses are WordNet
3.0's synsets. The first time a word is asked about, it is fitted on that word's
training sentences from the stated sources of :func:`ctxembed.wsd.inventory.training_sentences`
(WordNet examples, WordNet glosses, the course's sentences) and the vectors are kept
under ``~/.cache/ctxembed/wsd/words/`` so the next process reuses them.
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
import hashlib
import json
import threading

import numpy as np

from ..core.models import load_encoder
from .inventory import _cache_dir, lemma_of, training_sentences, wordnet_inventory
from .system import WSDSystem

#: Unknown-sense threshold of :func:`default_system`, used when no calibration is cached.
#: ``python -m ctxembed.wsd prepare`` replaces it by the one chosen on held-out data.
FALLBACK_UNKNOWN_THRESHOLD = 0.2


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
        super().__init__(method, **options)
        self.sources = dict(examples=examples, glosses=glosses, course=course)
        self.exclude_sentences = frozenset(exclude_sentences)
        self.cache = cache and not self.exclude_sentences
        self._lock = threading.RLock()

    def lemma_for(self, word: str) -> str:
        lemma = lemma_of(word)              # clear errors for empty / unknown words
        if lemma not in self._models:
            self.fit_words([lemma])
        return lemma

    def _cache_folder(self):
        enc = load_encoder(self.encoder)
        key = json.dumps([enc.name, str(self.layers), self.pieces, self.features, self.sources, 1])
        folder = _cache_dir() / "words" / hashlib.sha1(key.encode()).hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def fit_words(self, words) -> "WordNetWSD":
        """Fit these WordNet words now (one batch), e.g. every word a chapter will ask about."""
        with self._lock:
            lemmas = list(dict.fromkeys(lemma_of(w) for w in words))
            todo, cached = [], {}
            folder = self._cache_folder() if self.cache else None
            for lemma in lemmas:
                path = folder / f"{lemma}.npz" if folder else None
                if path is not None and path.exists():
                    with np.load(path, allow_pickle=False) as f:
                        cached[lemma] = (f["X"], f["senses"].tolist())
                else:
                    todo.append(lemma)
            X_parts, lemma_parts, sense_parts = [], [], []
            if todo:
                rows = training_sentences(todo, exclude_sentences=self.exclude_sentences,
                                          **self.sources)
                X = self.vectors(list(rows.sentence), list(rows.word))
                for lemma in todo:
                    sel = (rows.lemma == lemma).to_numpy()
                    Xl, sl = X[sel], rows.sense[sel].tolist()
                    if folder is not None:
                        tmp = folder / f"{lemma}.partial.npz"
                        np.savez(tmp, X=Xl.astype(np.float32), senses=np.array(sl))
                        tmp.replace(folder / f"{lemma}.npz")
                    cached[lemma] = (Xl, sl)
            for lemma, (Xl, sl) in cached.items():
                X_parts.append(Xl)
                lemma_parts += [lemma] * len(sl)
                sense_parts += sl
            inventory = wordnet_inventory()
            glosses = {s.name: s.definition for lemma in lemmas for s in inventory[lemma]}
            if X_parts:
                self.fit_vectors(np.concatenate(X_parts), lemma_parts, sense_parts, glosses=glosses)
        return self


def _threshold_file():
    return _cache_dir() / "unknown_threshold_v2.json"


def calibrated_unknown_threshold() -> float:
    """The unknown-sense threshold chosen on held-out WordNet data, if it was computed
    (``python -m ctxembed.wsd prepare``); otherwise :data:`FALLBACK_UNKNOWN_THRESHOLD`."""
    path = _threshold_file()
    if path.exists():
        return float(json.loads(path.read_text())["threshold"])
    return FALLBACK_UNKNOWN_THRESHOLD


@functools.lru_cache(maxsize=4)
def default_system(method: str = "centroid") -> WordNetWSD:
    """The course's ready-made WSD system (cached per process): MiniLM's last layer, mean
    of WordPieces, nearest sense centroid over every WordNet sense, trained on all the
    stated sources, with the calibrated unknown-sense threshold.

    Example
    -------
    >>> default_system().disambiguate("Spring is the season of blossom.", "spring").sense
    'spring.n.01'
    """
    return WordNetWSD(method, unknown_threshold=calibrated_unknown_threshold())
